package sapemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/sap/sapemu"
)

const user, password = "U", "P"

// session starts the emulator and returns an HTTP client whose jar holds
// a session, and the session's CSRF token.
func session(t *testing.T) (*httptest.Server, *http.Client, string) {
	t.Helper()
	m, err := erp.New(erp.Config{})
	require.NoError(t, err)
	emu, err := sapemu.New(sapemu.Config{ERP: m, User: user, Password: password})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar}
	req, err := http.NewRequest(http.MethodHead, srv.URL+sapemu.Root+sapemu.SalesOrderService+"/", nil)
	require.NoError(t, err)
	req.SetBasicAuth(user, password)
	req.Header.Set("X-CSRF-Token", "Fetch")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	tok := resp.Header.Get("X-CSRF-Token")
	require.NotEmpty(t, tok, "HEAD with X-CSRF-Token: Fetch returns a token")
	return srv, hc, tok
}

type sapError struct {
	Error struct {
		Code    string `json:"code"`
		Message struct {
			Value string `json:"value"`
		} `json:"message"`
		InnerError struct {
			ErrorDetails []struct {
				PropertyRef string `json:"propertyref"`
			} `json:"errordetails"`
		} `json:"innererror"`
	} `json:"error"`
}

func TestServerAnswers(t *testing.T) {
	srv, hc, tok := session(t)
	order := `{"SalesOrderType":"OR","SoldToParty":"C-1","PurchaseOrderByCustomer":"o-1","TransactionCurrency":"USD",
		"YY1_IdempotencyKey_SDH":"k-1","to_Item":{"results":[{"SalesOrderItem":"10","Material":"SKU-100","RequestedQuantity":"1",
		"RequestedQuantityUnit":"EA","RequestedQuantityISOUnit":"EA","YY1_CanonicalLineID_SDI":"L1"}]}}`
	tests := []struct {
		name, method, path, body string
		noAuth, noToken          bool
		status                   int
		code, propertyRef        string
	}{
		{name: "no credentials", method: "GET", path: "API_SALES_ORDER_SRV/A_SalesOrder", noAuth: true, status: 401, code: "/IWFND/CM_CONSUMER/101"},
		{name: "unknown service", method: "GET", path: "NO_SUCH_SRV/X", status: 404, code: "/IWBEP/CM_MGW_RT/020"},
		{name: "write without token", method: "POST", path: "API_SALES_ORDER_SRV/A_SalesOrder", body: order, noToken: true, status: 403, code: "/IWFND/CM_COS/059"},
		{name: "created", method: "POST", path: "API_SALES_ORDER_SRV/A_SalesOrder", body: order, status: 201},
		{name: "same key again", method: "POST", path: "API_SALES_ORDER_SRV/A_SalesOrder", body: order, status: 400, code: "YY1/DUPLICATE_REFERENCE", propertyRef: "YY1_IdempotencyKey_SDH"},
		{name: "not JSON", method: "POST", path: "API_SALES_ORDER_SRV/A_SalesOrder", body: `{"SoldToParty":`, status: 400, code: "/IWBEP/CM_MGW_RT/022"},
		{name: "decimal as number", method: "POST", path: "API_SALES_ORDER_SRV/A_SalesOrder", body: strings.Replace(strings.Replace(order, `"RequestedQuantity":"1"`, `"RequestedQuantity":1`, 1), "k-1", "k-2", 1), status: 400, code: "/IWBEP/CM_MGW_RT/022"},
		{name: "zero quantity", method: "POST", path: "API_SALES_ORDER_SRV/A_SalesOrder", body: strings.Replace(strings.Replace(order, `"RequestedQuantity":"1"`, `"RequestedQuantity":"0"`, 1), "k-1", "k-3", 1), status: 400, code: "SD/INVALID", propertyRef: "to_Item/0/RequestedQuantity"},
		{name: "read by number", method: "GET", path: "API_SALES_ORDER_SRV/A_SalesOrder('1000000')", status: 200},
		{name: "unknown number", method: "GET", path: "API_SALES_ORDER_SRV/A_SalesOrder('9')", status: 404, code: "/IWBEP/CM_MGW_RT/020"},
		{name: "bad skiptoken", method: "GET", path: "API_SALES_ORDER_SRV/A_SalesOrder?$skiptoken=x", status: 400, code: "/IWBEP/CM_MGW_RT/004"},
		{name: "unsupported filter", method: "GET", path: "API_SALES_ORDER_SRV/A_SalesOrder?$filter=SoldToParty%20eq%20'C-1'", status: 400, code: "/IWBEP/CM_MGW_RT/004"},
		{name: "goods issue of unknown delivery", method: "POST", path: "API_OUTBOUND_DELIVERY_SRV;v=0002/PostGoodsIssue?DeliveryDocument='1'", status: 404, code: "/IWBEP/CM_MGW_RT/020"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+sapemu.Root+tt.path, strings.NewReader(tt.body))
		require.NoError(t, err)
		if !tt.noAuth {
			req.SetBasicAuth(user, password)
		}
		if !tt.noToken {
			req.Header.Set("X-CSRF-Token", tok)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err, tt.name)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, "%s: status; body %s", tt.name, body)
		if tt.code == "" {
			continue
		}
		var e sapError
		require.NoError(t, json.Unmarshal(body, &e), "%s: the error body is SAP's JSON: %s", tt.name, body)
		assert.Equal(t, tt.code, e.Error.Code, "%s: error code", tt.name)
		assert.NotEmpty(t, e.Error.Message.Value, "%s: error message", tt.name)
		if tt.propertyRef != "" {
			require.NotEmpty(t, e.Error.InnerError.ErrorDetails, "%s: error details", tt.name)
			assert.Equal(t, tt.propertyRef, e.Error.InnerError.ErrorDetails[0].PropertyRef, "%s: propertyref", tt.name)
		}
	}
}

func TestReject(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter time.Duration
		header     string
	}{
		{http.StatusTooManyRequests, time.Millisecond, "1"},
		{http.StatusTooManyRequests, 2500 * time.Millisecond, "3"},
		{http.StatusServiceUnavailable, 0, ""},
		{http.StatusUnauthorized, 0, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		sapemu.Reject(w, httptest.NewRequest("GET", "/", nil), tt.status, tt.retryAfter)
		assert.Equal(t, tt.status, w.Code)
		assert.Equal(t, tt.header, w.Header().Get("Retry-After"), "Retry-After of %d after %v", tt.status, tt.retryAfter)
		var e sapError
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		assert.NotEmpty(t, e.Error.Code, "SAP error code of %d", tt.status)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := sapemu.New(sapemu.Config{})
	assert.ErrorIs(t, err, sapemu.ErrInvalidConfig)
	m, err := erp.New(erp.Config{})
	require.NoError(t, err)
	_, err = sapemu.New(sapemu.Config{ERP: m, PageSize: -1})
	assert.ErrorIs(t, err, sapemu.ErrInvalidConfig)
}
