package sfemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	crm   *crm.Memory
	emu   *sfemu.Server
	srv   *httptest.Server
	token string
	clock *fakeClock
}

func newEnv(t *testing.T, cfg sfemu.Config, orders int) *env {
	t.Helper()
	m, err := crm.New(crm.Config{})
	require.NoError(t, err)
	clock := &fakeClock{t: time.Date(2026, 7, 9, 10, 0, 0, 0, time.UTC)}
	cfg.CRM, cfg.ClientID, cfg.ClientSecret, cfg.Clock = m, "app", "secret", clock.now
	emu, err := sfemu.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	e := &env{crm: m, emu: emu, srv: srv, clock: clock}
	for i := range orders {
		opp, err := m.OpenOpportunity(context.Background(), crm.Opportunity{AccountID: "ACC-0001", Lines: []crm.OpportunityLine{
			{SKU: fmt.Sprintf("SKU-%d", i), Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
		require.NoError(t, err)
		_, err = m.ConvertOpportunity(context.Background(), opp.ID)
		require.NoError(t, err)
	}
	status, body := e.form(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"secret"}})
	require.Equal(t, http.StatusOK, status, "token: %s", body)
	var tok map[string]string
	require.NoError(t, json.Unmarshal(body, &tok))
	e.token = tok["access_token"]
	return e
}

func (e *env) form(t *testing.T, v url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.PostForm(e.srv.URL+sfemu.TokenPath, v)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func (e *env) call(t *testing.T, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func query(soql string) string { return "/services/data/v62.0/query?q=" + url.QueryEscape(soql) }

// errorCode returns the errorCode of a Salesforce error array.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var errs []struct{ ErrorCode string }
	require.NoError(t, json.Unmarshal(body, &errs), "error body %s", body)
	require.NotEmpty(t, errs, "error body %s", body)
	return errs[0].ErrorCode
}

func TestToken(t *testing.T) {
	e := newEnv(t, sfemu.Config{}, 0)
	tests := []struct {
		name   string
		form   url.Values
		status int
		error  string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"x"}}, 400, "invalid_client"},
		{"wrong client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}, "client_secret": {"secret"}}, 400, "invalid_client_id"},
		{"wrong grant", url.Values{"grant_type": {"password"}, "client_id": {"app"}, "client_secret": {"secret"}}, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		status, body := e.form(t, tt.form)
		assert.Equal(t, tt.status, status, tt.name)
		var o map[string]string
		require.NoError(t, json.Unmarshal(body, &o), tt.name)
		assert.Equal(t, tt.error, o["error"], tt.name)
	}
	status, body := e.form(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"secret"}})
	require.Equal(t, http.StatusOK, status)
	var tok map[string]string
	require.NoError(t, json.Unmarshal(body, &tok))
	assert.Equal(t, e.srv.URL, tok["instance_url"])
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.True(t, strings.HasSuffix(tok["id"], "/"+sfemu.DefaultIntegrationUserID), "id %q names the integration user", tok["id"])
}

func TestSessionAndLimit(t *testing.T) {
	e := newEnv(t, sfemu.Config{APILimit: 3, LimitWindow: time.Hour}, 0)
	for i := 1; i <= 3; i++ {
		resp, body := e.call(t, http.MethodGet, "/services/data/v62.0/limits", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, fmt.Sprintf("api-usage=%d/3", i), resp.Header.Get("Sforce-Limit-Info"))
	}
	resp, body := e.call(t, http.MethodGet, "/services/data/v62.0/limits", nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "REQUEST_LIMIT_EXCEEDED", errorCode(t, body))
	assert.Equal(t, "api-usage=4/3", resp.Header.Get("Sforce-Limit-Info"))

	e.clock.add(time.Hour) // a new window
	resp, _ = e.call(t, http.MethodGet, "/services/data/v62.0/limits", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "api-usage=1/3", resp.Header.Get("Sforce-Limit-Info"))

	e.emu.RevokeTokens()
	resp, body = e.call(t, http.MethodGet, "/services/data/v62.0/limits", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "INVALID_SESSION_ID", errorCode(t, body))
	assert.Equal(t, 1, e.emu.Counts().LimitExceeded)
}

func TestQuery(t *testing.T) {
	e := newEnv(t, sfemu.Config{BatchSize: 2}, 5)
	resp, body := e.call(t, http.MethodGet, query("SELECT Id, Account.AccountNumber, LastModifiedDate, (SELECT Id, Quantity FROM OrderItems) FROM Order ORDER BY LastModifiedDate, Id"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var ids []string
	for {
		var page struct {
			TotalSize      int    `json:"totalSize"`
			Done           bool   `json:"done"`
			NextRecordsURL string `json:"nextRecordsUrl"`
			Records        []struct {
				ID         string `json:"Id"`
				Account    struct{ AccountNumber string }
				OrderItems struct {
					Records []struct{ Quantity json.Number }
				}
			} `json:"records"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		assert.Equal(t, 5, page.TotalSize)
		for _, r := range page.Records {
			ids = append(ids, r.ID)
			assert.Equal(t, "C-1", r.Account.AccountNumber)
			require.Len(t, r.OrderItems.Records, 1)
			assert.Equal(t, "3", r.OrderItems.Records[0].Quantity.String())
		}
		if page.Done {
			assert.Empty(t, page.NextRecordsURL)
			break
		}
		assert.LessOrEqual(t, len(page.Records), 2)
		resp, body = e.call(t, http.MethodGet, page.NextRecordsURL, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	}
	assert.Equal(t, []string{"801000000000001AAA", "801000000000002AAA", "801000000000003AAA", "801000000000004AAA", "801000000000005AAA"}, ids)

	bad := []struct{ path, code string }{
		{query("SELECT Id FROM Account"), "INVALID_TYPE"},
		{query("SELECT Nope__c FROM Order"), "INVALID_FIELD"},
		{query("SELECT Id FROM Order WHERE Nope__c = 1"), "INVALID_FIELD"},
		{query("SELECT Id FROM Order GROUP BY Id"), "MALFORMED_QUERY"},
		{"/services/data/v62.0/query?q=", "MALFORMED_QUERY"},
		{"/services/data/v62.0/query/01gNOPE-2", "INVALID_QUERY_LOCATOR"},
	}
	for _, b := range bad {
		resp, body := e.call(t, http.MethodGet, b.path, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, b.path)
		assert.Equal(t, b.code, errorCode(t, body), b.path)
	}
}

func statusBody(id string, seq int64) map[string]any {
	doc := fmt.Sprintf(`{"orderId":%q,"sequence":%d,"status":{"commercial":"submitted","fulfillment":"unfulfilled","billing":"not_invoiced"},"updatedAt":"2026-07-09T10:00:00Z"}`, id, seq)
	return map[string]any{"DistSync_Sequence__c": seq, "DistSync_Status__c": doc}
}

func TestPatchAndComposite(t *testing.T) {
	e := newEnv(t, sfemu.Config{}, 2)
	// A request makes the emulator read the simulator's orders.
	resp, _ := e.call(t, http.MethodGet, "/services/data/v62.0/limits", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	id1, ok := e.emu.OrderID("ORD-000001")
	require.True(t, ok)
	id2, _ := e.emu.OrderID("ORD-000002")

	resp, body := e.call(t, http.MethodPatch, "/services/data/v62.0/sobjects/Order/"+id1, statusBody(id1, 2))
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
	shown, ok := e.crm.ShownStatus("ORD-000001")
	require.True(t, ok)
	assert.EqualValues(t, 2, shown.Sequence)

	resp, body = e.call(t, http.MethodPatch, "/services/data/v62.0/sobjects/Order/"+id1, statusBody(id1, 2))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "FIELD_CUSTOM_VALIDATION_EXCEPTION", errorCode(t, body))
	resp, body = e.call(t, http.MethodPatch, "/services/data/v62.0/sobjects/Order/"+id1, map[string]any{"Status": "Draft"})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "INVALID_FIELD", errorCode(t, body))
	resp, body = e.call(t, http.MethodPatch, "/services/data/v62.0/sobjects/Order/801000000000099AAA", statusBody("801000000000099AAA", 1))
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "NOT_FOUND", errorCode(t, body))

	// allOrNone: one failing sub-request rolls back the others.
	sub := func(ref, id string, seq int64) map[string]any {
		return map[string]any{"method": "PATCH", "url": "/services/data/v62.0/sobjects/Order/" + id, "referenceId": ref, "body": statusBody(id, seq)}
	}
	req := map[string]any{"allOrNone": true, "compositeRequest": []any{sub("a", id2, 5), sub("b", "801000000000099AAA", 1)}}
	resp, body = e.call(t, http.MethodPost, "/services/data/v62.0/composite", req)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var out struct {
		CompositeResponse []struct {
			Body           json.RawMessage
			HTTPStatusCode int
			ReferenceID    string
		}
	}
	require.NoError(t, json.Unmarshal(body, &out))
	require.Len(t, out.CompositeResponse, 2)
	assert.Equal(t, 400, out.CompositeResponse[0].HTTPStatusCode)
	assert.Equal(t, "PROCESSING_HALTED", errorCode(t, out.CompositeResponse[0].Body))
	assert.Equal(t, 404, out.CompositeResponse[1].HTTPStatusCode)
	_, shownNow := e.crm.ShownStatus("ORD-000002")
	assert.False(t, shownNow, "allOrNone applied a sub-request of a failed batch")

	req["allOrNone"] = false
	resp, body = e.call(t, http.MethodPost, "/services/data/v62.0/composite", req)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.NoError(t, json.Unmarshal(body, &out))
	assert.Equal(t, 204, out.CompositeResponse[0].HTTPStatusCode)
	assert.Equal(t, 404, out.CompositeResponse[1].HTTPStatusCode)
	_, shownNow = e.crm.ShownStatus("ORD-000002")
	assert.True(t, shownNow)

	// The written order is the integration user's now: a query excluding
	// the user's records (the connector's echo filter) leaves it out.
	resp, body = e.call(t, http.MethodGet, query("SELECT Id FROM Order WHERE LastModifiedById != '"+sfemu.DefaultIntegrationUserID+"'"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, string(body), id1)
	assert.NotContains(t, string(body), id2)
}

func TestConfigValidate(t *testing.T) {
	m, err := crm.New(crm.Config{})
	require.NoError(t, err)
	for _, c := range []sfemu.Config{
		{},
		{CRM: m},
		{CRM: m, ClientID: "a", ClientSecret: "b", BatchSize: -1},
		{CRM: m, ClientID: "a", ClientSecret: "b", Version: "62"},
	} {
		_, err := sfemu.New(c)
		assert.ErrorIs(t, err, sfemu.ErrInvalidConfig, "%+v", c)
	}
}
