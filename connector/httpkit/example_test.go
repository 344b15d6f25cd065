package httpkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
)

// A paged list and a vendor error body decoded into the message, against a
// vendor-shaped server on loopback.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "":
			fmt.Fprint(w, `{"value":[{"id":"SO-1"},{"id":"SO-2"}],"@odata.nextLink":"/orders?page=2"}`)
		case "2":
			fmt.Fprint(w, `{"value":[{"id":"SO-3"}]}`)
		default:
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"error":{"code":"E_QTY","target":"lines[0].quantity"}}`)
		}
	}))
	defer srv.Close()

	c, err := httpkit.New(httpkit.Config{
		System:  "erp",
		BaseURL: srv.URL,
		DecodeError: func(status int, _ http.Header, body []byte) error {
			var v struct {
				Error struct{ Code, Target string }
			}
			if json.Unmarshal(body, &v) != nil || v.Error.Code == "" {
				return nil
			}
			return fmt.Errorf("vendor code %s on %s", v.Error.Code, v.Error.Target)
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	type order struct{ ID string }
	for o, err := range httpkit.PagesByLink[order](ctx, c, "ListOrders", "/orders", httpkit.Paging{Items: "/value", Next: "/@odata.nextLink"}) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(o.ID)
	}

	req, _ := c.NewRequest("AcceptOrder", http.MethodPost, "/orders?page=bad", map[string]int{"qty": -1})
	_, err = c.Do(httpkit.WithIdempotencyKey(ctx, "erp:AcceptOrder:SO-4"), "AcceptOrder", req)
	fmt.Println(connector.CodeOf(err), httpkit.Status(err))
	fmt.Println(err)
	// Output:
	// SO-1
	// SO-2
	// SO-3
	// invalid 422
	// connector: erp AcceptOrder: invalid: HTTP 422: vendor code E_QTY on lines[0].quantity
}
