package sap_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/sap"
	"github.com/distsync/distsync/erp/sap/sapemu"
)

// recorder is an http.RoundTripper that records each request's method,
// path and answer status, and may run a hook before a request goes out.
type recorder struct {
	mu     sync.Mutex
	calls  []string
	before func(*http.Request)
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.before != nil {
		r.before(req)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	r.calls = append(r.calls, fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, status))
	return resp, err
}

func (r *recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func recordingClient(t *testing.T, url string, rec *recorder) *sap.Client {
	t.Helper()
	c, err := sap.New(sap.Config{BaseURL: url, User: user, Password: password, Transport: rec})
	require.NoError(t, err)
	return c
}

func TestCSRFRefetchOnExpiredSession(t *testing.T) {
	emu, srv := emulator(t, nil)
	rec := &recorder{}
	c := recordingClient(t, srv.URL, rec)
	o := kitOrder(1)
	_, err := c.AcceptOrder(t.Context(), "k1", &o)
	require.NoError(t, err)
	emu.ExpireSessions()
	o2 := kitOrder(2)
	_, err = c.AcceptOrder(t.Context(), "k2", &o2)
	require.NoError(t, err, "a write after the session expired must refetch the token and succeed")
	calls := strings.Join(rec.Calls(), "\n")
	assert.Equal(t, 2, strings.Count(calls, "GET /sap/opu/odata/sap/API_SALES_ORDER_SRV/ 200"), "token fetches:\n%s", calls)
	assert.Equal(t, 1, strings.Count(calls, "POST /sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder 403"), "refused writes:\n%s", calls)
	assert.Equal(t, 2, strings.Count(calls, "POST /sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder 201"), "created:\n%s", calls)
}

func TestEmulatorRefusesWritesWithoutToken(t *testing.T) {
	_, srv := emulator(t, nil)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "Required", resp.Header.Get("X-CSRF-Token"))
}

func TestCancelResolvesStaleETag(t *testing.T) {
	_, srv := emulator(t, nil)
	other := newClient(t, srv.URL)
	o := kitOrder(1)
	_, err := other.AcceptOrder(t.Context(), "accept", &o)
	require.NoError(t, err)
	line := o.Lines[0]
	one := canonical.MustParseQuantity("1", string(line.Quantity.Unit))
	var raced atomic.Bool
	rec := &recorder{}
	rec.before = func(req *http.Request) {
		// Between this client's read and its update, another client
		// cancels on the same order, so the ETag read is stale.
		if req.Method == http.MethodPatch && raced.CompareAndSwap(false, true) {
			_, err := other.CancelOrderLines(context.Background(), "other", connector.OrderCancellation{OrderID: o.ID,
				Lines: []connector.LineQuantity{{LineID: line.ID, Quantity: one}}})
			assert.NoError(t, err, "the concurrent cancellation")
		}
	}
	c := recordingClient(t, srv.URL, rec)
	got, err := c.CancelOrderLines(t.Context(), "mine", connector.OrderCancellation{OrderID: o.ID,
		Lines: []connector.LineQuantity{{LineID: line.ID, Quantity: one}}})
	require.NoError(t, err, "a 412 must be resolved by rereading and updating once more")
	calls := strings.Join(rec.Calls(), "\n")
	assert.Contains(t, calls, "PATCH /sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder('1000000') 412")
	assert.Contains(t, calls, "PATCH /sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder('1000000') 204")
	l := got.Line(line.ID)
	require.NotNil(t, l)
	assert.Equal(t, "2", l.Buckets.Get(canonical.BucketCancelled).String(), "both cancellations count")
}

func TestEmulatorETagPreconditions(t *testing.T) {
	_, srv := emulator(t, nil)
	c := newClient(t, srv.URL)
	o := kitOrder(1)
	_, err := c.AcceptOrder(t.Context(), "accept", &o)
	require.NoError(t, err)
	// Fetch a token and session.
	fetch, err := http.NewRequest(http.MethodGet, srv.URL+"/sap/opu/odata/sap/API_SALES_ORDER_SRV/", nil)
	require.NoError(t, err)
	fetch.SetBasicAuth(user, password)
	fetch.Header.Set("X-CSRF-Token", "Fetch")
	resp, err := http.DefaultClient.Do(fetch)
	require.NoError(t, err)
	resp.Body.Close()
	tok, cookies := resp.Header.Get("X-CSRF-Token"), resp.Cookies()
	for _, tt := range []struct {
		ifMatch string
		want    int
	}{{"", http.StatusPreconditionRequired}, {`W/"datetimeoffset'2000-01-01T00%3A00%3A00.0000000Z'"`, http.StatusPreconditionFailed}} {
		req, err := http.NewRequest(http.MethodPatch, srv.URL+"/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder('1000000')",
			strings.NewReader(`{"YY1_CancellationKey_SDH":"k","YY1_CancellationRequest_SDH":"10:1"}`))
		require.NoError(t, err)
		req.SetBasicAuth(user, password)
		req.Header.Set("X-CSRF-Token", tok)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		if tt.ifMatch != "" {
			req.Header.Set("If-Match", tt.ifMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tt.want, resp.StatusCode, "PATCH with If-Match %q", tt.ifMatch)
	}
}

// TestErrorMapping checks that SAP Gateway error bodies become connector
// codes, and that error details name the canonical fields they refer to.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		code   connector.Code
		field  string
	}{
		{"field detail", http.StatusBadRequest, nil, `{"error":{"code":"SD/1","message":{"value":"bad"},"innererror":{"errordetails":[{"code":"SD/1","message":"must be > 0","propertyref":"to_Item/1/RequestedQuantity"}]}}}`,
			connector.CodeInvalid, "lines[1].quantity"},
		{"header field", http.StatusBadRequest, nil, `{"error":{"code":"SD/2","message":{"value":"bad"},"innererror":{"errordetails":[{"code":"SD/2","message":"unknown","propertyref":"SoldToParty"}]}}}`,
			connector.CodeInvalid, "soldTo"},
		{"not found", http.StatusNotFound, nil, `{"error":{"code":"/IWBEP/CM_MGW_RT/020","message":{"value":"nope"}}}`, connector.CodeNotFound, ""},
		{"rate limited", http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}, `{"error":{"code":"/IWFND/CM_BEC/026","message":{"value":"slow down"}}}`, connector.CodeRateLimited, ""},
		{"csrf twice", http.StatusForbidden, map[string]string{"X-CSRF-Token": "Required"}, `{"error":{"code":"/IWFND/CM_COS/059","message":{"value":"CSRF token validation failed"}}}`, connector.CodeUnauthorized, ""},
		{"not json", http.StatusBadRequest, nil, `<html>oops</html>`, connector.CodeInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && r.Header.Get("X-CSRF-Token") == "Fetch" {
					w.Header().Set("X-CSRF-Token", "tok")
					_, _ = w.Write([]byte(`{"d":{}}`))
					return
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := sap.New(sap.Config{BaseURL: srv.URL, MaxRetryAfter: time.Millisecond})
			require.NoError(t, err)
			o := kitOrder(1)
			_, err = c.ValidateOrder(t.Context(), &o)
			require.Error(t, err)
			assert.Equal(t, tt.code, connector.CodeOf(err), "code of %v", err)
			if tt.field != "" {
				var ve *canonical.ValidationError
				require.True(t, errors.As(err, &ve), "error %v carries no ValidationError", err)
				assert.True(t, ve.Has(tt.field), "error %v names %q", err, tt.field)
				var se *sap.Error
				require.True(t, errors.As(err, &se))
				assert.NotEmpty(t, se.Details)
			}
		})
	}
}

func TestOrdersPagesByNext(t *testing.T) {
	m, srv := emulatorWithPageSize(t, 2)
	c := newClient(t, srv.URL)
	for i := range 5 {
		o := kitOrder(i)
		_, err := c.AcceptOrder(t.Context(), fmt.Sprint("k", i), &o)
		require.NoError(t, err)
	}
	var ids []string
	for o, err := range c.Orders(t.Context()) {
		require.NoError(t, err)
		ids = append(ids, o.ID)
	}
	assert.Equal(t, []string{"kit-ord-0", "kit-ord-1", "kit-ord-2", "kit-ord-3", "kit-ord-4"}, ids, "every order once, in order, over pages of 2")
	assert.Equal(t, 5, m.ERP().Counts().Orders)
}

func TestAcceptOrderReadsStatuses(t *testing.T) {
	_, srv := emulator(t, nil)
	c := newClient(t, srv.URL)
	o := kitOrder(1)
	o.Lines[0].UnitPrice = canonical.MustParseMoney("99.99", "USD") // not the list price
	ack, err := c.AcceptOrder(t.Context(), "k", &o)
	require.NoError(t, err)
	require.NoError(t, ack.Validate())
	assert.Equal(t, canonical.AckAcceptedWithChanges, ack.Outcome)
	assert.Equal(t, canonical.LinePriceChanged, ack.Lines[0].Result)
	assert.Equal(t, "12.50", ack.Lines[0].UnitPrice.Amount.String(), "the PPR0 price")
	require.Len(t, ack.Refs, 1)
	assert.Equal(t, "1000000", ack.Refs[0].Value)

	big := kitOrder(2)
	big.SoldTo.ID = "C-3" // the low credit limit
	big.Lines[0].Quantity = canonical.MustParseQuantity("400", "EA")
	ack, err = c.AcceptOrder(t.Context(), "k-big", &big)
	require.NoError(t, err)
	assert.Equal(t, canonical.AckOnHold, ack.Outcome, "TotalCreditCheckStatus B is a credit hold: %+v", ack)
	got, err := c.GetOrder(t.Context(), big.ID)
	require.NoError(t, err)
	require.NotEmpty(t, got.Holds)
	assert.Equal(t, canonical.HoldCredit, got.Holds[0].Kind)
}

func emulatorWithPageSize(t *testing.T, size int) (*sapemu.Server, *httptest.Server) {
	t.Helper()
	m, err := erp.New(erp.Config{Clock: func() time.Time { return t0 }})
	require.NoError(t, err)
	e, err := sapemu.New(sapemu.Config{ERP: m, User: user, Password: password, PageSize: size, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

// TestAcceptOrderOlderKeyAfterNewerVersion checks that a late replay of
// the first version's key, after a second version was accepted with its own
// key, is answered (with the order's current state) and changes nothing.
func TestAcceptOrderOlderKeyAfterNewerVersion(t *testing.T) {
	emu, srv := emulator(t, nil)
	c := newClient(t, srv.URL)
	v1 := kitOrder(1)
	_, err := c.AcceptOrder(t.Context(), "v1", &v1)
	require.NoError(t, err)
	v2 := kitOrder(1)
	v2.Version = 2
	v2.Lines[0].Quantity = canonical.MustParseQuantity("4", "EA")
	ack2, err := c.AcceptOrder(t.Context(), "v2", &v2)
	require.NoError(t, err)
	assert.Equal(t, int64(2), ack2.OrderVersion)
	before := emu.ERP().Counts()
	again, err := c.AcceptOrder(t.Context(), "v1", &v1)
	require.NoError(t, err, "the late replay of v1's key")
	assert.Equal(t, ack2.Refs, again.Refs, "the same sales order")
	assert.Equal(t, before, emu.ERP().Counts(), "the replay changes nothing")
	_, err = c.AcceptOrder(t.Context(), "v1", &v2)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "v1's key with v2's order")
}
