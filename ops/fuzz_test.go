package ops_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/ops"
)

func fuzzHandler(f *testing.F) (*ops.Handler, *eventlog.Memory) {
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, r := range []eventlog.Reason{eventlog.ReasonPermanent, eventlog.ReasonExhausted} {
		_, err := log.Put(context.Background(), eventlog.DeadLetter{Consumer: "g", Reason: r, Error: "boom", CorrelationID: "c",
			FirstFailure: at, LastFailure: at.Add(time.Duration(i) * time.Hour),
			Event: canonical.Event{ID: "ev" + string(rune('a'+i)), Source: "urn:x", SpecVersion: "1.0", Type: "t", Time: at, Data: []byte(`{"a":1}`)}})
		if err != nil {
			f.Fatal(err)
		}
	}
	h, err := ops.New(ops.Config{DeadLetters: log, Groups: log, Log: log,
		Authenticate: func(*http.Request) (string, bool) { return "fuzz", true }})
	if err != nil {
		f.Fatal(err)
	}
	return h, log
}

// checkAnswer fails unless the answer is a success or a problem document
// that names what is wrong.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	switch {
	case rec.Code == http.StatusOK:
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: 200 with a body that is not JSON: %q", what, rec.Body.String())
		}
	case rec.Code >= 400 && rec.Code < 500:
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s: %d with content type %q", what, rec.Code, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Detail == "" {
			t.Fatalf("%s: %d with problem %q (%v)", what, rec.Code, rec.Body.String(), err)
		}
	default:
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body.String())
	}
}

// FuzzDeadLetterQuery checks that any query string of the dead letters list
// is answered with the list or a problem naming what is wrong, never a
// server error.
func FuzzDeadLetterQuery(f *testing.F) {
	h, _ := fuzzHandler(f)
	for _, s := range []string{"", "state=dead", "reason=permanent&limit=1", "since=2026-03-02T09:30:00Z&until=2027-01-01T00:00:00Z",
		"limit=0", "reason=x", "state=%zz", "correlation=c&class=&consumer=g", "limit=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest("GET", "/api/deadletters", nil)
		req.URL.RawQuery = q
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, "GET /api/deadletters?"+q)
	})
}

// FuzzReplayBody checks that any body of a bulk replay is answered with a
// count or a problem naming what is wrong, and that a refused body replays
// nothing.
func FuzzReplayBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"all":true}`, `{"filter":{"reason":"exhausted"},"why":"fixed"}`, `{"filter":{"since":"x"}}`,
		`{"filter":{"consumer":"g"}} trailing`, `[]`, `null`, `{"why":1}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		h, log := fuzzHandler(f)
		req := httptest.NewRequest("POST", "/api/deadletters/replay", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, "POST "+body)
		if rec.Code != http.StatusOK {
			ds, err := log.List(context.Background(), eventlog.Filter{State: eventlog.StateReplaying})
			if err != nil || len(ds) != 0 {
				t.Fatalf("refused body %q replayed %d (%v)", body, len(ds), err)
			}
		}
	})
}
