package sfemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

// Example opens a session with the client credentials grant, as a
// Salesforce connected app does, and asks for the API limits with it.
func Example() {
	sim, _ := crm.New(crm.Config{})
	emu, _ := sfemu.New(sfemu.Config{CRM: sim, ClientID: "app", ClientSecret: "secret", APILimit: 1000})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	resp, err := http.PostForm(srv.URL+sfemu.TokenPath, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"wrong"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("wrong secret:", resp.StatusCode)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("no session:", resp.StatusCode)

	resp, err = http.PostForm(srv.URL+sfemu.TokenPath, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"secret"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, tok.InstanceURL+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("session:", resp.StatusCode, resp.Header.Get("Sforce-Limit-Info"))
	// Output:
	// wrong secret: 400
	// no session: 401
	// session: 200 api-usage=1/1000
}
