package d365emu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365/d365emu"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// session starts the emulator and returns its URL and an access token.
func session(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	m, err := erp.New(erp.Config{})
	require.NoError(t, err)
	emu, err := d365emu.New(d365emu.Config{ERP: m, ClientID: "app", ClientSecret: "pw"})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	resp, err := http.PostForm(srv.URL+d365emu.TokenPath("t"), url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"},
		"client_secret": {"pw"}, "scope": {srv.URL + "/.default"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	require.NotEmpty(t, tok.AccessToken)
	return srv, tok.AccessToken
}

func do(t *testing.T, method, u, token, contentType string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const header = `{"dataAreaId":"usmf","OrderingCustomerAccountNumber":"C-1","InvoiceCustomerAccountNumber":"C-1","CurrencyCode":"USD",
	"CustomersOrderReference":"o-1","CustomerRequisitionNumber":"k-1","DSyncOrderVersion":1}`

func order(t *testing.T, srv *httptest.Server, token, head, line string) []odata.PartResponse {
	t.Helper()
	var buf bytes.Buffer
	ct, err := odata.WriteBatch(&buf, []odata.Part{{ContentID: "1", Method: "POST", Target: "SalesOrderHeadersV2", Body: []byte(head)},
		{ContentID: "2", Method: "POST", Target: "$1/SalesOrderLines", Body: []byte(line)}})
	require.NoError(t, err)
	resp, body := do(t, "POST", srv.URL+d365emu.DataRoot+"$batch", token, ct, buf.Bytes(), nil)
	require.Equal(t, 200, resp.StatusCode, "%s", body)
	parts, err := odata.ReadBatchResponse(body, resp.Header.Get("Content-Type"))
	require.NoError(t, err)
	return parts
}

func TestServerAnswers(t *testing.T) {
	srv, token := session(t)
	line := `{"dataAreaId":"usmf","ItemNumber":"SKU-100","OrderedSalesQuantity":2,"SalesUnitSymbol":"EA","SalesPrice":12.50,"DSyncLineId":"L1"}`

	resp, _ := do(t, "GET", srv.URL+d365emu.DataRoot+"SalesOrderHeadersV2", "", "", nil, nil)
	assert.Equal(t, 401, resp.StatusCode, "no token")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")

	parts := order(t, srv, token, header, line)
	require.Len(t, parts, 2, "the header and its line")
	assert.Equal(t, 201, parts[0].Status)
	var h odata.SalesOrderHeader
	require.NoError(t, odata.Unmarshal(parts[0].Body, &h))
	assert.Equal(t, "SO-001000", h.SalesOrderNumber)
	assert.Equal(t, "Backorder", h.SalesOrderStatus)
	assert.Equal(t, "None", h.ReleaseStatus)
	assert.NotEmpty(t, h.ETag)
	var l odata.SalesOrderLine
	require.NoError(t, odata.Unmarshal(parts[1].Body, &l))
	assert.Equal(t, "25.00", l.LineAmount.String())
	assert.NotEmpty(t, l.InventoryLotID)

	parts = order(t, srv, token, header, line)
	require.Len(t, parts, 1, "a failed changeset answers one part")
	assert.Equal(t, 400, parts[0].Status)
	p, err := odata.DecodeError(parts[0].Body)
	require.NoError(t, err)
	assert.Empty(t, p.Code, "F&O leaves the code empty")
	assert.Equal(t, "SalesOrderHeaderV2Entity", p.Entity())
	assert.Contains(t, p.Infolog(), "Customer requisition 'k-1' is already used on sales order SO-001000")

	zero := strings.Replace(strings.Replace(line, `"OrderedSalesQuantity":2`, `"OrderedSalesQuantity":0`, 1), "L1", "L2", 1)
	parts = order(t, srv, token, strings.Replace(strings.Replace(header, "k-1", "k-2", 1), "o-1", "o-2", 1), zero)
	require.Len(t, parts, 1)
	p, err = odata.DecodeError(parts[0].Body)
	require.NoError(t, err)
	assert.Equal(t, "SalesOrderLineV2Entity", p.Entity(), "%s", parts[0].Body)
	assert.Contains(t, p.Infolog(), "lines[0].quantity")

	key := "SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='SO-001000')"
	resp, body := do(t, "GET", srv.URL+d365emu.DataRoot+key, token, "", nil, nil)
	require.Equal(t, 200, resp.StatusCode, "%s", body)
	etag := resp.Header.Get("ETag")
	assert.Equal(t, h.ETag, etag)
	patch := []byte(`{"DSyncCancellationKey":"c-1","DSyncCancellationRequest":"` + l.InventoryLotID + `:1"}`)
	resp, _ = do(t, "PATCH", srv.URL+d365emu.DataRoot+key, token, "application/json", patch, nil)
	assert.Equal(t, 428, resp.StatusCode, "PATCH without If-Match")
	resp, _ = do(t, "PATCH", srv.URL+d365emu.DataRoot+key, token, "application/json", patch, http.Header{"If-Match": {`W/"stale"`}})
	assert.Equal(t, 412, resp.StatusCode, "PATCH with a stale ETag")
	resp, _ = do(t, "PATCH", srv.URL+d365emu.DataRoot+key, token, "application/json", patch, http.Header{"If-Match": {etag}})
	assert.Equal(t, 204, resp.StatusCode, "PATCH with the current ETag")
	assert.NotEqual(t, etag, resp.Header.Get("ETag"), "the ETag changes with the order")

	resp, _ = do(t, "GET", srv.URL+d365emu.DataRoot+"SalesOrderHeadersV2(SalesOrderNumber='SO-001000')", token, "", nil, nil)
	assert.Equal(t, 400, resp.StatusCode, "a key without dataAreaId")
	resp, _ = do(t, "POST", srv.URL+d365emu.DataRoot+"$batch", token, "application/json", []byte("{}"), nil)
	assert.Equal(t, 400, resp.StatusCode, "a batch that is not multipart")
}

func TestTokenEndpoint(t *testing.T) {
	srv, _ := session(t)
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"x"}, "scope": {srv.URL + "/.default"}}, 401, "invalid_client"},
		{"wrong scope", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"pw"}, "scope": {"https://other/.default"}}, 400, "invalid_scope"},
		{"wrong grant", url.Values{"grant_type": {"password"}, "client_id": {"app"}, "client_secret": {"pw"}, "scope": {srv.URL + "/.default"}}, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		resp, err := http.PostForm(srv.URL+d365emu.TokenPath("t"), tt.form)
		require.NoError(t, err, tt.name)
		var out struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, tt.name)
		assert.Equal(t, tt.code, out.Error, tt.name)
	}
}

func TestNewValidates(t *testing.T) {
	m, err := erp.New(erp.Config{})
	require.NoError(t, err)
	for _, cfg := range []d365emu.Config{{}, {ERP: m, PageSize: -1}, {ERP: m, RequestLimit: -1}, {ERP: m, TokenLifetime: -1}} {
		_, err := d365emu.New(cfg)
		assert.ErrorIs(t, err, d365emu.ErrInvalidConfig, "New(%+v)", cfg)
	}
}
