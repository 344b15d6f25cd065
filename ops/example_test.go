package ops_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/ops"
)

// Example serves the operator API over an event log alone (no flow) and
// replays a dead letter as an authenticated operator.
func Example() {
	ctx := context.Background()
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	id, _ := log.Put(ctx, eventlog.DeadLetter{Consumer: "billing", Reason: eventlog.ReasonPermanent,
		Error: "erp: PostShipment: invalid: tax code missing", Attempts: 1, FirstFailure: at, LastFailure: at,
		Event: canonical.Event{ID: "ev-1", Source: "urn:example", SpecVersion: "1.0", Type: "com.example.shipped", Time: at}})

	h, err := ops.New(ops.Config{DeadLetters: log, Groups: log, Log: log, GroupNames: []string{"billing"},
		Authenticate: func(r *http.Request) (string, bool) {
			// The service's own check; here a fixed bearer token.
			return "alice", r.Header.Get("Authorization") == "Bearer s3cret"
		}})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(auth string) {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/deadletters/%d/replay", srv.URL, id),
			strings.NewReader(`{"why":"tax code added in the ERP"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	post("")
	post("Bearer s3cret")
	d, _ := log.Get(ctx, id)
	last := d.Audit[len(d.Audit)-1]
	fmt.Println(d.State, last.Action, last.By, last.Why)
	// Output:
	// 401 Unauthorized
	// 200 OK
	// replaying replay alice tax code added in the ERP
}
