package d365emu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365/d365emu"
)

// Example speaks to the emulator as any OData v4 client would: a token by
// client credentials, then a cross-company read of the sales order headers
// of one company with a type-qualified enum filter.
func Example() {
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	m, _ := erp.New(erp.Config{Clock: clock})
	emu, _ := d365emu.New(d365emu.Config{ERP: m, ClientID: "app", ClientSecret: "secret", Now: clock})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	resp, err := http.PostForm(srv.URL+d365emu.TokenPath("contoso"), url.Values{"grant_type": {"client_credentials"},
		"client_id": {"app"}, "client_secret": {"secret"}, "scope": {srv.URL + "/.default"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	q := url.Values{"cross-company": {"true"},
		"$filter": {"dataAreaId eq 'usmf' and SalesOrderStatus eq Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'"}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+d365emu.DataRoot+"SalesOrderHeadersV2?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&page)
	fmt.Println(tok.ExpiresIn, resp.StatusCode, len(page.Value))
	// Output: 3599 200 0
}
