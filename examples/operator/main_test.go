package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/ops"
	"github.com/distsync/distsync/reconcile"
)

const testToken = "test-token-0123"

// client talks to the live example over loopback.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

// do sends a request and returns the status, the content type and the body.
func (c *client) do(method, path, body string, header ...string) (int, string, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err, "%s %s", method, path)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err, "%s %s", method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err, "%s %s: read body", method, path)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// getJSON GETs path and decodes its JSON answer into v.
func (c *client) getJSON(path string, v any) {
	c.t.Helper()
	code, _, body := c.do("GET", path, "")
	require.Equal(c.t, http.StatusOK, code, "GET %s: %s", path, body)
	require.NoError(c.t, json.Unmarshal([]byte(body), v), "GET %s: %s", path, body)
}

// eventually polls cond every 50ms until it holds or 30s have passed: the
// live run has no other signal for "the order reached this state".
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLive runs the example on 127.0.0.1:0, reads every page and the JSON
// API over HTTP, replays the permanent dead letter with the demo token,
// checks the audit trail and the reconciliation findings, and stops it
// with no goroutine left behind.
func TestLive(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer // written by run only through demo.printf; read after run returned
	ready := make(chan string, 1)
	cfg := config{addr: "127.0.0.1:0", orders: 5, faults: 0.05, reconcile: 100 * time.Millisecond, hold: time.Second,
		seed: 1, token: testToken, ready: func(base, token string) {
			assert.Equal(t, testToken, token)
			ready <- base
		}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, &out, cfg) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("run returned before it served: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start within 30s")
	}
	tr := &http.Transport{}
	c := &client{t: t, base: base, http: &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	// The order of the unstocked item is dead-lettered as permanent.
	const held, dead = "ORD-000001", "ORD-000002"
	var dl ops.DeadLetterView
	eventually(t, "the dead letter of "+dead, func() bool {
		var page ops.DeadLettersPage
		c.getJSON("/api/deadletters?state=dead", &page)
		for _, d := range page.DeadLetters {
			if d.OrderID == dead {
				dl = d
				return true
			}
		}
		return false
	})
	assert.Equal(t, "permanent", dl.Reason, "reason of %s: %s", dead, dl.Error)
	// The held order shows as a business exception on the overview.
	var ov ops.Overview
	eventually(t, "the exception of "+held+" on the overview", func() bool {
		c.getJSON("/api/overview", &ov)
		for _, f := range ov.Findings {
			if f.Kind == "exception:"+string(reconcile.RuleOnHold) && f.Subject == held {
				assert.Regexp(t, `^credit hold for [1-9][0-9]*s$`, f.Detail, "detail of the exception")
				return true
			}
		}
		return false
	})
	assert.Equal(t, 1, ov.Dead+ov.Replaying, "dead letters on the overview: %+v", ov.DeadByReason)
	assert.Len(t, ov.Breakers, 3, "breakers tracked")

	pages := []struct {
		path, contentType string
		contains          []string
	}{
		{"/", "text/html", []string{"Drift and exceptions", "exception:on_hold_too_long", `<a href="/orders/` + held + `">`}},
		{"/orders/" + dead, "text/html", []string{dead, "SKU-900", "Dead letters"}},
		{"/orders/" + held, "text/html", []string{held, "hold"}},
		{"/deadletters", "text/html", []string{"permanent", dead}},
		{fmt.Sprintf("/deadletters/%d", dl.ID), "text/html", []string{"SKU-900", "permanent", "Replay", "Discard"}},
		{"/inventory?key=SKU-100@WH-EAST", "text/html", []string{"SKU-100", "WH-EAST"}},
		{"/api/orders/" + dead, "application/json", []string{`"id": "` + dead + `"`}},
		{"/api/deadletters?reason=permanent", "application/json", []string{`"orderId": "` + dead + `"`}},
		{fmt.Sprintf("/api/deadletters/%d", dl.ID), "application/json", []string{`"reason": "permanent"`}},
		{"/api/inventory?key=SKU-100@WH-EAST", "application/json", []string{`"sku": "SKU-100"`}},
	}
	for _, p := range pages {
		code, ct, body := c.do("GET", p.path, "")
		require.Equal(t, http.StatusOK, code, "GET %s: %s", p.path, body)
		assert.Contains(t, ct, p.contentType, "GET %s: content type", p.path)
		for _, s := range p.contains {
			assert.Contains(t, body, s, "GET %s", p.path)
		}
	}

	// Actions: refused without the token or with a wrong one; done with
	// it, as a bearer token or as the cookie /login sets.
	replay := fmt.Sprintf("/api/deadletters/%d/replay", dl.ID)
	const why = `{"why":"SKU-900 added to WH-EAST's item master"}`
	actions := []struct {
		name   string
		header []string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong bearer token", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"wrong cookie", []string{"Cookie", tokenCookie + "=nope"}, http.StatusUnauthorized},
		{"bearer token", []string{"Authorization", "Bearer " + testToken}, http.StatusOK},
	}
	for _, a := range actions {
		code, _, body := c.do("POST", replay, why, a.header...)
		assert.Equal(t, a.want, code, "replay with %s: %s", a.name, body)
	}
	var got ops.DeadLetterView
	c.getJSON(fmt.Sprintf("/api/deadletters/%d", dl.ID), &got)
	require.NotEmpty(t, got.Audit, "audit of dead letter %d", dl.ID)
	var replays int
	for _, a := range got.Audit {
		if a.Action == "replay" {
			replays++
			assert.Equal(t, principal, a.By, "who replayed")
			assert.Equal(t, "SKU-900 added to WH-EAST's item master", a.Why, "why")
		}
	}
	assert.Equal(t, 1, replays, "one replay in the audit trail: %+v", got.Audit)

	code, _, _ := c.do("GET", "/login?token=nope", "")
	assert.Equal(t, http.StatusUnauthorized, code, "login with a wrong token")
	req, err := http.NewRequest("GET", base+"/login?token="+testToken, nil)
	require.NoError(t, err)
	resp, err := c.http.Do(req)
	require.NoError(t, err, "login")
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "login")
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == tokenCookie {
			cookie = ck
		}
	}
	require.NotNil(t, cookie, "login sets %s", tokenCookie)
	assert.True(t, cookie.HttpOnly, "cookie HttpOnly")
	assert.Equal(t, http.SameSiteStrictMode, cookie.SameSite, "cookie SameSite")
	// The replayed letter fails again (the item is still unknown to the
	// warehouses); once it is dead again, the cookie authenticates a
	// discard.
	eventually(t, "the replayed dead letter dead again", func() bool {
		c.getJSON(fmt.Sprintf("/api/deadletters/%d", dl.ID), &got)
		return got.State == "dead"
	})
	code, _, body := c.do("POST", fmt.Sprintf("/api/deadletters/%d/discard", dl.ID), `{"why":"drop-shipped by hand"}`,
		"Cookie", tokenCookie+"="+cookie.Value)
	assert.Equal(t, http.StatusOK, code, "discard with the login cookie: %s", body)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "run after cancel")
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of the cancel")
	}
	tr.CloseIdleConnections()
	assert.Contains(t, out.String(), "operator page: "+base+"/")
	assert.Contains(t, out.String(), "/login?token="+testToken)
	assert.Contains(t, out.String(), "stopped")
	assert.Equal(t, 1, strings.Count(out.String(), "exception hook: on_hold_too_long "+held+": credit hold for "),
		"the hook is called once for the held order:\n%s", out.String())
	noLeak(t, before)
}

// noLeak fails when goroutines started since before are still running
// after 5 seconds (closing connections and timers take a moment).
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var b strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines left running (%d before):\n%s", runtime.NumGoroutine(), before, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDuration: -duration stops the run on its own, cleanly.
func TestDuration(t *testing.T) {
	before := runtime.NumGoroutine()
	var out bytes.Buffer
	err := run(context.Background(), &out, config{addr: "127.0.0.1:0", orders: 2, reconcile: 50 * time.Millisecond,
		hold: time.Second, duration: 500 * time.Millisecond})
	require.NoError(t, err)
	assert.Contains(t, out.String(), "stopped")
	assert.Regexp(t, `/login\?token=[0-9a-f]{32}\)\n`, out.String(), "a random token is printed")
	noLeak(t, before)
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string // "" for valid
	}{
		{nil, ""},
		{[]string{"-orders", "-1"}, "-orders -1: must be between 0 and 1000"},
		{[]string{"-faults", "0.6"}, "-faults 0.6: must be between 0 and 0.5"},
		{[]string{"-duration", "-1s"}, "-duration -1s: must not be negative"},
		{[]string{"-reconcile", "0s"}, "-reconcile 0s: must be positive"},
		{[]string{"-hold", "0s"}, "-hold 0s: must be positive"},
	}
	for _, tt := range tests {
		cfg, err := parseFlags(tt.args, io.Discard)
		require.NoError(t, err, "parse %q", tt.args)
		err = cfg.validate()
		if tt.want == "" {
			assert.NoError(t, err, "%q", tt.args)
			continue
		}
		assert.EqualError(t, err, tt.want, "%q", tt.args)
	}
	// A listen address in use is an error naming -addr.
	err := run(context.Background(), io.Discard, config{addr: "256.0.0.1:0", reconcile: time.Second, hold: time.Second})
	assert.ErrorContains(t, err, "-addr 256.0.0.1:0")
}

func TestFindings(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rep := reconcile.Report{At: at,
		Differences: []reconcile.Difference{
			{Kind: reconcile.KindShipped, OrderID: "ORD-1", LineID: "L1", SKU: "SKU-100", Systems: []string{"flow", "erp"},
				Detail: "flow 2, erp 3", Since: at.Add(-time.Hour)},
			{Kind: reconcile.KindAvailability, SKU: "SKU-101", Location: "WH-EAST", Systems: []string{"wms", "crm"},
				Detail: "wms 5, crm 7", Since: at, Repair: "re-appended 1 event(s)"},
		},
		Exceptions: []reconcile.Exception{{Rule: reconcile.RuleOnHold, OrderID: "ORD-2", Detail: "credit hold for 3h0m0s", Since: at}},
		Errors:     []string{"order ORD-3: ERP: unavailable"},
	}
	want := []ops.Finding{
		{Kind: "shipped_quantity", Subject: "ORD-1", System: "flow/erp", Detail: "line L1 SKU-100: flow 2, erp 3", Since: at.Add(-time.Hour)},
		{Kind: "availability", Subject: "SKU-101@WH-EAST", System: "wms/crm", Detail: "wms 5, crm 7; repair: re-appended 1 event(s)", Since: at},
		{Kind: "exception:on_hold_too_long", Subject: "ORD-2", Detail: "credit hold for 3h0m0s", Since: at},
		{Kind: "reconcile_error", Detail: "order ORD-3: ERP: unavailable", Since: at},
	}
	assert.Equal(t, want, findings(rep))
	assert.Empty(t, findings(reconcile.Report{}), "an empty report")
}
