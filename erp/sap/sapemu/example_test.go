package sapemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/sap/sapemu"
)

// Example speaks to the emulator as any OData v2 client would: fetch a
// CSRF token (the cookie jar keeps the session cookie), then deep-insert a
// sales order with its items.
func Example() {
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	m, _ := erp.New(erp.Config{Clock: clock})
	emu, _ := sapemu.New(sapemu.Config{ERP: m, Now: clock})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	base := srv.URL + sapemu.Root + sapemu.SalesOrderService + "/"

	fetch, _ := http.NewRequest(http.MethodGet, base, nil)
	fetch.Header.Set("X-CSRF-Token", "Fetch")
	resp, err := hc.Do(fetch)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	token := resp.Header.Get("X-CSRF-Token")

	body := `{"SalesOrderType":"OR","SalesOrganization":"1010","DistributionChannel":"10","OrganizationDivision":"00",
	  "SoldToParty":"C-1","PurchaseOrderByCustomer":"ord-7","TransactionCurrency":"USD","YY1_IdempotencyKey_SDH":"key-7",
	  "to_Item":{"results":[{"SalesOrderItem":"10","Material":"SKU-100","RequestedQuantity":"2","RequestedQuantityUnit":"EA",
	    "RequestedQuantityISOUnit":"EA","YY1_CanonicalLineID_SDI":"L1"}]}}`
	post, _ := http.NewRequest(http.MethodPost, base+"A_SalesOrder", strings.NewReader(body))
	post.Header.Set("X-CSRF-Token", token)
	post.Header.Set("Content-Type", "application/json")
	resp, err = hc.Do(post)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var out struct {
		D struct {
			SalesOrder             string
			OverallSDProcessStatus string
			TotalNetAmount         string
			Metadata               struct{ ETag string } `json:"__metadata"`
		} `json:"d"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	fmt.Println(resp.StatusCode, out.D.SalesOrder, out.D.OverallSDProcessStatus, out.D.TotalNetAmount, out.D.Metadata.ETag != "")
	// Output: 201 1000000 A 25.00 true
}
