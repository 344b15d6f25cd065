package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/webhook"
)

// An intake for a WMS that signs with Standard Webhooks: a delivery is
// recorded once, its retry is acknowledged again, and a forged one refused.
func ExampleHandler() {
	secret := webhook.MustParseSecret("whsec_c2hpcGJvYi1kZW1vLXNlY3JldA==")
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	store, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	defer store.Close()
	h, err := webhook.NewHandler(webhook.Config{
		Source:   "urn:distsync:wms:shipbob",
		Verifier: &webhook.Standard{Secrets: []webhook.Secret{secret}},
		Log:      log,
		Dedupe:   store,
		Map: func(_ context.Context, d webhook.Delivery) ([]canonical.Event, error) {
			var p struct {
				OrderID string `json:"order_id"`
			}
			if err := json.Unmarshal(d.Body, &p); err != nil {
				return nil, err
			}
			return []canonical.Event{{SpecVersion: canonical.EventSpecVersion,
				Type: canonical.EventShipmentConfirmed, Subject: p.OrderID, Data: d.Body}}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(id string, key webhook.Secret) {
		body := []byte(`{"order_id":"SO-1001"}`)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		webhook.SetHeaders(req.Header, id, time.Now(), body, key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(id, resp.StatusCode, "replayed:", resp.Header.Get(idempotency.ReplayedHeader) == "true")
	}
	send("msg_1", secret)
	send("msg_1", secret) // the sender's retry
	send("msg_2", webhook.Secret("forged"))

	entries, _ := log.Read(context.Background(), 0, 10)
	for _, e := range entries {
		fmt.Println("recorded", e.Event.Source, e.Event.ID, e.Event.Subject)
	}
	// Output:
	// msg_1 204 replayed: false
	// msg_1 204 replayed: true
	// msg_2 401 replayed: false
	// recorded urn:distsync:wms:shipbob msg_1 SO-1001
}

// Signing a message for the Standard Webhooks headers.
func ExampleSign() {
	body := []byte("{}")
	fmt.Println(webhook.Sign(webhook.Secret("secret-key"), "msg_1", time.Unix(1700000000, 0), body))
	// Output:
	// v1,TpMXpgJuEDtGUWHqKf6XWi0wxEzYiEcb+5b+I3hEmU4=
}
