package d365_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365"
	"github.com/distsync/distsync/erp/d365/d365emu"
)

// recorder is an http.RoundTripper that records the requests it sends
// and may run a hook before each.
type recorder struct {
	mu     sync.Mutex
	reqs   []string
	before func(*http.Request)
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.RequestURI())
	hook := r.before
	r.mu.Unlock()
	if hook != nil {
		hook(req)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// rawToken fetches an access token from the emulator as any client would.
func rawToken(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.PostForm(base+d365emu.TokenPath(tenant), url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {secret}, "scope": {base + "/.default"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	require.Equal(t, 200, resp.StatusCode)
	assert.InDelta(t, 3600, tok.ExpiresIn, 60, "a token lives about an hour")
	return tok.AccessToken
}

func rawGet(t *testing.T, base, token, ref string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+d365.DataPath+ref, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func accept(t *testing.T, c *d365.Client, n int) canonical.Order {
	t.Helper()
	o := kitOrder(n)
	_, err := c.AcceptOrder(t.Context(), "accept-"+o.ID, &o)
	require.NoError(t, err)
	return o
}

// TestCompanyInEveryURL checks that every request names the company: a
// dataAreaId in the $filter with cross-company=true, or in the key;
// without cross-company=true the user's default company ("dat") would hide
// the orders of "usmf".
func TestCompanyInEveryURL(t *testing.T) {
	_, srv := emulator(t, nil)
	rec := &recorder{}
	cfg := config(srv.URL)
	cfg.Transport = rec
	c, err := d365.New(cfg)
	require.NoError(t, err)
	o := accept(t, c, 1)
	s := connectortest.ShipAll(o, 1)
	_, err = c.PostShipment(t.Context(), "ship-1", s)
	require.NoError(t, err)
	_, err = c.CancelOrderLines(t.Context(), "cancel-1", connector.OrderCancellation{OrderID: "kit-ord-2", Lines: []connector.LineQuantity{{LineID: "x", Quantity: canonical.MustParseQuantity("1", "EA")}}})
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err))
	for _, r := range rec.requests() {
		u, err := url.ParseRequestURI(strings.SplitN(r, " ", 2)[1])
		require.NoError(t, err)
		switch {
		case strings.HasSuffix(u.Path, "/token"), strings.HasSuffix(u.Path, "$batch"):
		case strings.Contains(u.Path, "("):
			assert.Contains(t, u.Path, "(dataAreaId='usmf',", "key of %s", r)
		default:
			assert.Contains(t, u.Query().Get("$filter"), "dataAreaId eq 'usmf'", "filter of %s", r)
			assert.Equal(t, "true", u.Query().Get("cross-company"), "cross-company of %s", r)
		}
	}

	tok := rawToken(t, srv.URL)
	status, _, body := rawGet(t, srv.URL, tok, "SalesOrderHeadersV2")
	require.Equal(t, 200, status)
	assert.Contains(t, body, `"value":[]`, "without cross-company=true only the default company is seen")
	status, _, body = rawGet(t, srv.URL, tok, "SalesOrderHeadersV2?cross-company=true&$expand=SalesOrderLines")
	require.Equal(t, 200, status)
	assert.Contains(t, body, `"dataAreaId":"usmf"`)
	assert.Contains(t, body, `"DSyncShipComplete":"No"`, "booleans are NoYes strings")
	assert.Contains(t, body, `"SalesPrice":12.50`, "prices are JSON numbers with their scale")
	assert.Contains(t, body, `"ShippingWarehouseId":"`+s.Warehouse+`"`)
}

// TestEnumFilter checks the type-qualified enum literal: the connector's
// status query works, and a bare string literal is refused as F&O does.
func TestEnumFilter(t *testing.T) {
	_, srv := emulator(t, nil)
	c := newClient(t, srv.URL)
	o1, o2 := accept(t, c, 1), accept(t, c, 2)
	_, err := c.PostShipment(t.Context(), "ship", connectortest.ShipAll(o2, 1))
	require.NoError(t, err)
	count := func(status d365.SalesStatus) []string {
		var ids []string
		for o, err := range c.Orders(t.Context(), status) {
			require.NoError(t, err)
			ids = append(ids, o.ID)
		}
		return ids
	}
	assert.Equal(t, []string{o1.ID}, count(d365.StatusBackorder), "open orders")
	assert.Equal(t, []string{o2.ID}, count(d365.StatusInvoiced), "shipped and invoiced orders")
	assert.Equal(t, []string{o1.ID, o2.ID}, count(""), "all orders")

	tok := rawToken(t, srv.URL)
	status, _, body := rawGet(t, srv.URL, tok, "SalesOrderHeadersV2?cross-company=true&$filter="+url.QueryEscape("SalesOrderStatus eq 'Backorder'"))
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "Microsoft.Dynamics.DataEntities.SalesStatus")
}

// TestPaging checks server paging by @odata.nextLink with $top and $skip.
func TestPaging(t *testing.T) {
	m, err := erp.New(erp.Config{Clock: func() time.Time { return t0 }})
	require.NoError(t, err)
	emu, err := d365emu.New(d365emu.Config{ERP: m, ClientID: clientID, ClientSecret: secret, PageSize: 2, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	rec := &recorder{}
	cfg := config(srv.URL)
	cfg.Transport = rec
	c, err := d365.New(cfg)
	require.NoError(t, err)
	for n := range 5 {
		accept(t, c, n)
	}
	before := len(rec.requests())
	n := 0
	for _, err := range c.Orders(t.Context(), "") {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 5, n, "every order, across pages")
	assert.Len(t, rec.requests()[before:], 3, "three pages of two")

	tok := rawToken(t, srv.URL)
	status, _, body := rawGet(t, srv.URL, tok, "SalesOrderHeadersV2?cross-company=true&$top=3&$select=SalesOrderNumber,dataAreaId")
	require.Equal(t, 200, status)
	var page struct {
		Value []map[string]any `json:"value"`
		Next  string           `json:"@odata.nextLink"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	assert.Len(t, page.Value, 2)
	assert.NotContains(t, page.Value[0], "CurrencyCode", "$select keeps only the selected properties")
	assert.Contains(t, page.Value[0], "@odata.etag")
	next, err := url.Parse(page.Next)
	require.NoError(t, err)
	assert.Equal(t, "2", next.Query().Get("$skip"))
	assert.Equal(t, "1", next.Query().Get("$top"), "the rest of $top")
}

// TestInfologError checks that a refusal whose code is empty and whose
// text is in innererror.message becomes an error naming the Infolog and
// the entity.
func TestInfologError(t *testing.T) {
	_, srv := emulator(t, nil)
	c := newClient(t, srv.URL)
	o := accept(t, c, 1)
	_, err := c.PostShipment(t.Context(), "ship", connectortest.ShipAll(o, 1))
	require.NoError(t, err)
	o.Version = 2
	_, err = c.AcceptOrder(t.Context(), "accept-v2", &o)
	require.Error(t, err)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "%v", err)
	var de *d365.Error
	require.True(t, errors.As(err, &de), "a *d365.Error in %v", err)
	assert.Empty(t, de.Code)
	assert.Equal(t, "SalesOrderHeaderV2Entity", de.Entity)
	assert.Contains(t, de.Infolog, "has shipped")
	assert.Contains(t, err.Error(), "SalesOrderHeaderV2Entity")
	assert.Contains(t, err.Error(), "has shipped")

	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value 'Local' in field 'Customer group' is not found","type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException","stacktrace":"at X"}}}`)
	}))
	defer stub.Close()
	sc, err := d365.New(d365.Config{BaseURL: stub.URL, Company: company})
	require.NoError(t, err)
	_, err = sc.GetOrder(t.Context(), "o")
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	assert.Contains(t, err.Error(), "CustCustomerV3Entity: Write failed")
	assert.Contains(t, err.Error(), "'Customer group' is not found")
}

// TestETagConflictRereads checks that a PATCH answered 412 (the order
// changed since it was read) is sent again after a reread.
func TestETagConflictRereads(t *testing.T) {
	_, srv := emulator(t, nil)
	other := newClient(t, srv.URL)
	rec := &recorder{}
	cfg := config(srv.URL)
	cfg.Transport = rec
	c, err := d365.New(cfg)
	require.NoError(t, err)
	o := accept(t, c, 1)
	var once atomic.Bool
	rec.before = func(r *http.Request) {
		if r.Method == http.MethodPatch && once.CompareAndSwap(false, true) {
			// Another user cancels the second line between the read and
			// the write.
			_, err := other.CancelOrderLines(t.Context(), "other", connector.OrderCancellation{OrderID: o.ID,
				Lines: []connector.LineQuantity{{LineID: o.Lines[1].ID, Quantity: canonical.MustParseQuantity("1", "XCS")}}})
			assert.NoError(t, err)
		}
	}
	got, err := c.CancelOrderLines(t.Context(), "mine", connector.OrderCancellation{OrderID: o.ID,
		Lines: []connector.LineQuantity{{LineID: o.Lines[0].ID, Quantity: canonical.MustParseQuantity("1", "EA")}}})
	require.NoError(t, err)
	patches := 0
	for _, r := range rec.requests() {
		if strings.HasPrefix(r, "PATCH ") {
			patches++
		}
	}
	assert.Equal(t, 2, patches, "the 412 and the PATCH after the reread")
	assert.Equal(t, "1", got.Line(o.Lines[0].ID).Buckets.Get(canonical.BucketCancelled).String())
	assert.Equal(t, "1", got.Line(o.Lines[1].ID).Buckets.Get(canonical.BucketCancelled).String())
}

// clock is a settable clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestThrottlingWindow checks the service protection limit: a user's
// requests over RequestLimit within five minutes get 429 with the
// Retry-After of the sliding window, told by an injected clock.
func TestThrottlingWindow(t *testing.T) {
	var clk clock
	clk.set(t0)
	m, err := erp.New(erp.Config{Clock: clk.now})
	require.NoError(t, err)
	emu, err := d365emu.New(d365emu.Config{ERP: m, ClientID: clientID, ClientSecret: secret, RequestLimit: 3, Now: clk.now})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	tok := rawToken(t, srv.URL)
	for i := range 3 {
		status, _, _ := rawGet(t, srv.URL, tok, "")
		require.Equal(t, 200, status, "request %d", i)
		clk.advance(time.Minute)
	}
	status, h, body := rawGet(t, srv.URL, tok, "")
	assert.Equal(t, 429, status)
	assert.Equal(t, "120", h.Get("Retry-After"), "the first request leaves the 5-minute window in 2 minutes")
	assert.Contains(t, body, `"error"`)
	clk.advance(2*time.Minute + time.Second)
	status, _, _ = rawGet(t, srv.URL, tok, "")
	assert.Equal(t, 200, status, "after the first request left the window")

	cfg := config(srv.URL)
	cfg.MaxRetryAfter = time.Millisecond
	c, err := d365.New(cfg)
	require.NoError(t, err)
	for range 3 {
		_ = c.Health(t.Context())
	}
	err = c.Health(t.Context())
	var ce *connector.Error
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, connector.CodeRateLimited, ce.Code())
	assert.Equal(t, time.Millisecond, ce.RetryAfter(), "Retry-After, capped by MaxRetryAfter")
}

// TestTokenRefresh checks Entra ID client credentials: the token request
// asks for the environment's /.default scope, and a token past its hour is
// answered 401, after which the connector fetches a new one and succeeds.
func TestTokenRefresh(t *testing.T) {
	var clk clock
	clk.set(t0)
	m, err := erp.New(erp.Config{Clock: clk.now})
	require.NoError(t, err)
	emu, err := d365emu.New(d365emu.Config{ERP: m, ClientID: clientID, ClientSecret: secret, Now: clk.now})
	require.NoError(t, err)
	var tokens atomic.Int64
	var scope atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d365emu.IsTokenRequest(r) {
			tokens.Add(1)
			_ = r.ParseForm()
			scope.Store(r.PostForm.Get("scope"))
		}
		emu.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	require.NoError(t, c.Health(t.Context()))
	assert.Equal(t, int64(1), tokens.Load())
	assert.Equal(t, srv.URL+"/.default", scope.Load())
	clk.advance(59 * time.Minute)
	require.NoError(t, c.Health(t.Context()))
	assert.Equal(t, int64(1), tokens.Load(), "the token still lives")
	clk.advance(2 * time.Minute)
	require.NoError(t, c.Health(t.Context()), "401, a new token, and the request again")
	assert.Equal(t, int64(2), tokens.Load())

	bad := config(srv.URL)
	bad.ClientSecret = "wrong"
	bc, err := d365.New(bad)
	require.NoError(t, err)
	assert.Equal(t, connector.CodeUnauthorized, connector.CodeOf(bc.Health(t.Context())))
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []d365.Config{{}, {BaseURL: "ftp://x", Company: "usmf"}, {BaseURL: "http://x"}, {BaseURL: "http://x", Company: "us'mf"},
		{BaseURL: "http://x", Company: "usmf", ClientID: "id"}, {BaseURL: "http://x", Company: "usmf", Timeout: -1}} {
		_, err := d365.New(cfg)
		assert.ErrorIs(t, err, d365.ErrInvalidConfig, "New(%+v)", cfg)
	}
	_, err := d365.New(d365.Config{BaseURL: "https://contoso.operations.dynamics.com", Company: "usmf", Tenant: "contoso.onmicrosoft.com", ClientID: "id"})
	assert.NoError(t, err)
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   connector.Code
	}{
		{"down", http.StatusServiceUnavailable, connector.CodeUnavailable},
		{"wrong credentials", http.StatusUnauthorized, connector.CodeUnauthorized},
		{"no such service", http.StatusNotFound, connector.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) }))
			defer srv.Close()
			c, err := d365.New(d365.Config{BaseURL: srv.URL, Company: company})
			require.NoError(t, err)
			assert.Equal(t, tt.code, connector.CodeOf(c.Health(t.Context())), tt.name)
		})
	}
}

// TestStandardStatuses checks that an environment without the DSync
// quantity fields still gives the buckets its SalesOrderLineStatus tells.
func TestStandardStatuses(t *testing.T) {
	body := `{"value":[{"@odata.etag":"W/\"JzEsNjg3MTk0Nzk4MzUn\"","dataAreaId":"usmf","SalesOrderNumber":"000123","SalesOrderStatus":"Backorder",
		"ReleaseStatus":"PartiallyReleased","OrderingCustomerAccountNumber":"US-001","InvoiceCustomerAccountNumber":"US-001","CurrencyCode":"USD",
		"CustomersOrderReference":"o-1","CustomerRequisitionNumber":"k","RequestedReceiptDate":"1900-01-01T12:00:00Z","DSyncShipComplete":"No",
		"SalesOrderLines":[
		{"dataAreaId":"usmf","InventoryLotId":"LOT1","ItemNumber":"A","OrderedSalesQuantity":2,"SalesUnitSymbol":"EA","SalesPrice":64821.858,"SalesOrderLineStatus":"Invoiced","DSyncLineId":"L1"},
		{"dataAreaId":"usmf","InventoryLotId":"LOT2","ItemNumber":"B","OrderedSalesQuantity":1.5,"SalesUnitSymbol":"KGM","SalesPrice":3,"SalesOrderLineStatus":"Delivered","DSyncLineId":"L2"},
		{"dataAreaId":"usmf","InventoryLotId":"LOT3","ItemNumber":"C","OrderedSalesQuantity":4,"SalesUnitSymbol":"EA","SalesPrice":1,"SalesOrderLineStatus":"Canceled","DSyncLineId":"L3"},
		{"dataAreaId":"usmf","InventoryLotId":"LOT4","ItemNumber":"D","OrderedSalesQuantity":1,"SalesUnitSymbol":"EA","SalesPrice":1,"SalesOrderLineStatus":"Backorder","DSyncLineId":"L4"}]}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	c, err := d365.New(d365.Config{BaseURL: srv.URL, Company: company})
	require.NoError(t, err)
	o, err := c.GetOrder(t.Context(), "o-1")
	require.NoError(t, err)
	require.Len(t, o.Lines, 4)
	tests := []struct {
		line                         string
		shipped, invoiced, cancelled string
	}{
		{"L1", "2", "2", "0"},
		{"L2", "1.5", "0", "0"},
		{"L3", "0", "0", "4"},
		{"L4", "0", "0", "0"},
	}
	for _, tt := range tests {
		b := o.Line(tt.line).Buckets
		assert.Equal(t, tt.shipped, b.Get(canonical.BucketShipped).String(), "%s shipped", tt.line)
		assert.Equal(t, tt.invoiced, b.Get(canonical.BucketInvoiced).String(), "%s invoiced", tt.line)
		assert.Equal(t, tt.cancelled, b.Get(canonical.BucketCancelled).String(), "%s cancelled", tt.line)
	}
	assert.Equal(t, "64821.858", o.Lines[0].UnitPrice.Amount.String(), "the price, exact")
	assert.True(t, o.RequestedDeliveryDate.IsZero(), "1900-01-01 is F&O's empty date")
	assert.Equal(t, "usmf/000123", o.Refs[0].Value)
	assert.Equal(t, `W/"JzEsNjg3MTk0Nzk4MzUn"`, o.Refs[0].Version, "the ETag")
}
