package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/ops"
)

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Param  string `json:"param"`
}

// do sends a request and returns the response with its body read.
func do(t testing.TB, c *http.Client, method, u, ctype, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err, "%s %s", method, u)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	require.NoError(t, err, "%s %s", method, u)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "body of %s %s", method, u)
	return resp, string(b)
}

func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	resp, body := do(t, nil, "GET", u, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", u, body)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"), "GET %s", u)
	require.NoError(t, json.Unmarshal([]byte(body), v), "GET %s: %s", u, body)
}

func TestAPIReads(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t, w.config(headerAuth))
	d := w.deadLetter(t)

	var ov ops.Overview
	getJSON(t, srv.URL+"/api/overview", &ov)
	require.Len(t, ov.Groups, 1, "groups")
	assert.Equal(t, "ordertocash", ov.Groups[0].Name)
	assert.Equal(t, 0, ov.Groups[0].Pending, "a settled flow has nothing pending")
	assert.Positive(t, ov.Groups[0].Cursor, "cursor")
	assert.Equal(t, 1, ov.Dead, "dead letters")
	assert.Equal(t, []ops.ReasonCount{{Consumer: "ordertocash", Reason: "permanent", Count: 1}}, ov.DeadByReason)
	require.Len(t, ov.Breakers, 3, "breakers tracked")
	assert.Equal(t, "closed", ov.Breakers[0].State, "breaker %s", ov.Breakers[0].Name)

	var orders struct{ Orders []string }
	getJSON(t, srv.URL+"/api/orders", &orders)
	assert.ElementsMatch(t, w.orders, orders.Orders, "orders")

	var ok ops.OrderPage
	getJSON(t, srv.URL+"/api/orders/"+w.orders[0], &ok)
	assert.Equal(t, "accepted/shipped/invoiced", ok.Status, "status of %s", w.orders[0])
	assert.Empty(t, ok.DeadLetters, "dead letters of %s", w.orders[0])
	kinds := map[string]int{}
	for _, d := range ok.Documents {
		kinds[d.Kind]++
	}
	assert.Equal(t, map[string]int{"fulfillment_order": 1, "shipment": 1, "invoice": 1}, kinds, "documents of %s: %+v", w.orders[0], ok.Documents)
	require.Len(t, ok.Lines, 1, "lines")
	assert.Equal(t, "5", ok.Lines[0].Buckets["shipped"], "shipped bucket of %s", w.orders[0])
	systems := map[string]string{}
	for _, s := range ok.Systems {
		systems[s.System] = s.Status
	}
	assert.Equal(t, "accepted/shipped/invoiced", systems["crm"], "CRM status in %v", ok.Systems)
	assert.Equal(t, "accepted/shipped/invoiced", systems["erp"], "ERP status in %v", ok.Systems)
	assert.NotEmpty(t, ok.Timeline, "timeline of %s", w.orders[0])
	// The warehouse was down for the first release: one order's timeline
	// shows the outage and the retry.
	retried := 0
	for _, id := range w.orders {
		var p ops.OrderPage
		getJSON(t, srv.URL+"/api/orders/"+id, &p)
		for _, s := range p.Timeline {
			if s.System == "wms" && s.Operation == "Release" && s.Outcome == "retry" && s.ErrorClass == "unavailable" {
				retried++
			}
		}
	}
	assert.Equal(t, 1, retried, "release retries in the timelines")

	var bad ops.OrderPage
	getJSON(t, srv.URL+"/api/orders/"+w.refused, &bad)
	require.Len(t, bad.DeadLetters, 1, "dead letters of %s", w.refused)
	assert.Equal(t, d.ID, bad.DeadLetters[0].ID)
	assert.Equal(t, "accepted", bad.Phase, "phase of %s", w.refused)

	var list ops.DeadLettersPage
	getJSON(t, srv.URL+"/api/deadletters?state=dead&reason=permanent", &list)
	require.Len(t, list.DeadLetters, 1, "dead letters")
	getJSON(t, srv.URL+"/api/deadletters?state=resolved", &list)
	assert.Empty(t, list.DeadLetters, "resolved dead letters")

	var one ops.DeadLetterView
	getJSON(t, srv.URL+"/api/deadletters/"+strconv.FormatInt(d.ID, 10), &one)
	assert.Equal(t, "dead", one.State)
	assert.Equal(t, w.refused, one.OrderID)
	require.NotNil(t, one.Event, "event")
	assert.NotEmpty(t, one.Event.Data, "event data")
	require.NotEmpty(t, one.Audit, "audit")
	assert.Equal(t, eventlog.ActionDeadLettered, one.Audit[0].Action)

	var inv ops.InventoryView
	getJSON(t, srv.URL+"/api/inventory?key=SKU-101@WH-EAST", &inv)
	assert.Equal(t, ops.InventoryView{SKU: "SKU-101", Location: "WH-EAST"}, ops.InventoryView{SKU: inv.SKU, Location: inv.Location})

	// The HTML pages render.
	for _, p := range []string{"/", "/orders", "/orders/" + w.refused, "/deadletters", "/deadletters/" + strconv.FormatInt(d.ID, 10), "/inventory", "/inventory?key=SKU-101@WH-EAST"} {
		resp, body := do(t, nil, "GET", srv.URL+p, "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", p, body)
		assert.Contains(t, body, `name="viewport"`, "GET %s", p)
		assert.NotContains(t, body, "<script", "GET %s has no script", p)
	}
}

// replayJSON posts a replay of d through the API as who.
func TestActionsDeniedByDefault(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t, w.config(nil))
	d := w.deadLetter(t)
	id := strconv.FormatInt(d.ID, 10)
	for _, tc := range []struct{ name, path, ctype, body string }{
		{"api replay", "/api/deadletters/" + id + "/replay", "application/json", `{}`},
		{"api discard", "/api/deadletters/" + id + "/discard", "application/json", `{"why":"x"}`},
		{"api replay all", "/api/deadletters/replay", "application/json", `{"all":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, nil, "POST", srv.URL+tc.path, tc.ctype, tc.body, "X-Operator", "mallory")
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "POST %s: %s", tc.path, body)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			assert.Contains(t, body, "Authenticate")
			assert.Contains(t, body, ops.ProblemActionsDisabled)
		})
	}
	// The HTML form with a valid CSRF token is refused too.
	c := browserClient(t)
	tok := csrfFrom(t, c, srv.URL+"/deadletters/"+id)
	resp, body := do(t, c, "POST", srv.URL+"/deadletters/"+id+"/replay", "application/x-www-form-urlencoded",
		url.Values{"csrf": {tok}}.Encode())
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "form replay: %s", body)
	after, err := w.log.Get(context.Background(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, eventlog.StateDead, after.State, "nothing changed")
	assert.Len(t, after.Audit, len(d.Audit), "no audit entry")
	// Without a principal: 401.
	srv2 := w.server(t, w.config(headerAuth))
	resp, body = do(t, nil, "POST", srv2.URL+"/api/deadletters/"+id+"/replay", "application/json", `{}`)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no principal: %s", body)
}

func browserClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfFrom loads a page with c and returns the CSRF token of its forms.
func csrfFrom(t testing.TB, c *http.Client, u string, hdr ...string) string {
	t.Helper()
	resp, body := do(t, c, "GET", u, "", "", hdr...)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", u)
	m := csrfInput.FindStringSubmatch(body)
	if m != nil {
		return m[1]
	}
	// A page without forms (no Authenticate) still sets the cookie.
	pu, err := url.Parse(u)
	require.NoError(t, err)
	for _, ck := range c.Jar.Cookies(pu) {
		if ck.Name == ops.CSRFCookie {
			return ck.Value
		}
	}
	t.Fatalf("no CSRF token in %s", u)
	return ""
}

func TestFormCSRF(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t, w.config(headerAuth))
	d := w.deadLetter(t)
	id := strconv.FormatInt(d.ID, 10)
	action := srv.URL + "/deadletters/" + id + "/replay"
	form := "application/x-www-form-urlencoded"
	c := browserClient(t)
	tok := csrfFrom(t, c, srv.URL+"/deadletters/"+id, "X-Operator", "alice")

	for _, tc := range []struct {
		name   string
		client *http.Client
		body   string
		hdr    []string
	}{
		{"no cookie", browserClient(t), url.Values{"csrf": {tok}}.Encode(), nil},
		{"no token", c, "", nil},
		{"wrong token", c, url.Values{"csrf": {strings.Repeat("A", 43)}}.Encode(), nil},
		{"cross-origin Origin", c, url.Values{"csrf": {tok}}.Encode(), []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", c, url.Values{"csrf": {tok}}.Encode(), []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := append([]string{"X-Operator", "alice"}, tc.hdr...)
			resp, body := do(t, tc.client, "POST", action, form, tc.body, hdr...)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: %s", tc.name, body)
			assert.Contains(t, body, "Forbidden", "%s: an HTML error page", tc.name)
			after, err := w.log.Get(context.Background(), d.ID)
			require.NoError(t, err)
			require.Equal(t, eventlog.StateDead, after.State, "%s changed nothing", tc.name)
		})
	}

	resp, body := do(t, c, "POST", action, form, url.Values{"csrf": {tok}, "why": {"address fixed"}}.Encode(),
		"X-Operator", "alice", "Origin", srv.URL, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "valid form: %s", body)
	assert.Equal(t, "/deadletters/"+id+"?replayed=1", resp.Header.Get("Location"))
	after, err := w.log.Get(context.Background(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, eventlog.StateReplaying, after.State)
	last := after.Audit[len(after.Audit)-1]
	assert.Equal(t, eventlog.Audit{At: last.At, Action: eventlog.ActionReplay, By: "alice", Why: "address fixed"}, last)

	// Replaying it again is a conflict: it is no longer dead.
	resp, body = do(t, c, "POST", action, form, url.Values{"csrf": {tok}}.Encode(), "X-Operator", "alice")
	require.Equal(t, http.StatusConflict, resp.StatusCode, "second replay: %s", body)
}

func TestAPIReplayResolves(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t, w.config(headerAuth))
	d := w.deadLetter(t)
	w.gate.setRefuse(w.refused, false)

	resp, body := do(t, nil, "POST", srv.URL+"/api/deadletters/replay", "application/json",
		`{"filter":{"correlationId":"`+d.CorrelationID+`"},"why":"address fixed in the CRM"}`, "X-Operator", "bob")
	require.Equal(t, http.StatusOK, resp.StatusCode, "replay: %s", body)
	assert.JSONEq(t, `{"replayed":1}`, body)
	w.settle(t)

	got, err := w.log.Get(context.Background(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, eventlog.StateResolved, got.State)
	actions := []string{}
	for _, a := range got.Audit {
		actions = append(actions, a.Action+" "+a.By+" "+a.Why)
	}
	assert.Contains(t, actions, "replay bob address fixed in the CRM", "audit %v", actions)

	var v ops.OrderPage
	getJSON(t, srv.URL+"/api/orders/"+w.refused, &v)
	assert.Equal(t, "accepted/shipped/invoiced", v.Status, "status of %s after the replay", w.refused)
	assert.Equal(t, "resolved", v.DeadLetters[0].State)
}

func TestAPIDiscard(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t, w.config(headerAuth))
	d := w.deadLetter(t)
	u := srv.URL + "/api/deadletters/" + strconv.FormatInt(d.ID, 10) + "/discard"

	resp, body := do(t, nil, "POST", u, "application/json", `{}`, "X-Operator", "carol")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "discard without why: %s", body)
	var p problem
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	assert.Equal(t, "why", p.Param)

	resp, body = do(t, nil, "POST", u, "application/json", `{"why":"customer cancelled by phone"}`, "X-Operator", "carol")
	require.Equal(t, http.StatusOK, resp.StatusCode, "discard: %s", body)
	got, err := w.log.Get(context.Background(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, eventlog.StateDiscarded, got.State)
	last := got.Audit[len(got.Audit)-1]
	assert.Equal(t, [3]string{eventlog.ActionDiscard, "carol", "customer cancelled by phone"}, [3]string{last.Action, last.By, last.Why})

	resp, body = do(t, nil, "POST", u, "application/json", `{"why":"again"}`, "X-Operator", "carol")
	require.Equal(t, http.StatusConflict, resp.StatusCode, "second discard: %s", body)
}

func TestBadInput(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t, w.config(headerAuth))
	id := strconv.FormatInt(w.deadLetter(t).ID, 10)
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		param                           string
	}{
		{"unknown reason", "GET", "/api/deadletters?reason=nope", "", "", 400, "reason"},
		{"unknown state", "GET", "/api/deadletters?state=gone", "", "", 400, "state"},
		{"limit zero", "GET", "/api/deadletters?limit=0", "", "", 400, "limit"},
		{"limit huge", "GET", "/api/deadletters?limit=100000", "", "", 400, "limit"},
		{"bad since", "GET", "/api/deadletters?since=yesterday", "", "", 400, "since"},
		{"bad until", "GET", "/api/deadletters?until=2026-13-01", "", "", 400, "until"},
		{"bad id", "GET", "/api/deadletters/abc", "", "", 400, "id"},
		{"negative id", "GET", "/api/deadletters/-4", "", "", 400, "id"},
		{"unknown id", "GET", "/api/deadletters/999999", "", "", 404, "id"},
		{"unknown order", "GET", "/api/orders/NO-SUCH-ORDER", "", "", 404, "id"},
		{"bad inventory key", "GET", "/api/inventory?key=SKU-101", "", "", 400, "key"},
		{"unknown route", "GET", "/api/nothing", "", "", 404, ""},
		{"form content type", "POST", "/api/deadletters/" + id + "/replay", "application/x-www-form-urlencoded", "why=x", 415, "Content-Type"},
		{"replay everything unasked", "POST", "/api/deadletters/replay", "application/json", `{}`, 400, "all"},
		{"unknown body field", "POST", "/api/deadletters/" + id + "/replay", "application/json", `{"whom":"x"}`, 400, "body"},
		{"trailing data", "POST", "/api/deadletters/" + id + "/replay", "application/json", `{} {}`, 400, "body"},
		{"body not JSON", "POST", "/api/deadletters/" + id + "/replay", "application/json", `why=x`, 400, "body"},
		{"bad filter in body", "POST", "/api/deadletters/replay", "application/json", `{"filter":{"reason":"bored"}}`, 400, "reason"},
		{"replay unknown id", "POST", "/api/deadletters/999999/replay", "application/json", `{}`, 404, "id"},
		{"discard bad id", "POST", "/api/deadletters/x/discard", "application/json", `{"why":"y"}`, 400, "id"},
		{"long replay reason", "POST", "/api/deadletters/" + id + "/replay", "application/json", `{"why":"` + strings.Repeat("x", 1001) + `"}`, 400, "why"},
		{"long reason", "POST", "/api/deadletters/" + id + "/discard", "application/json", `{"why":"` + strings.Repeat("x", 1001) + `"}`, 400, "why"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, nil, tc.method, srv.URL+tc.path, tc.ctype, tc.body, "X-Operator", "dave")
			require.Equal(t, tc.status, resp.StatusCode, "%s %s: %s", tc.method, tc.path, body)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "%s %s", tc.method, tc.path)
			var p problem
			require.NoError(t, json.Unmarshal([]byte(body), &p), "%s %s: %s", tc.method, tc.path, body)
			assert.Equal(t, tc.status, p.Status, "status field")
			assert.Equal(t, map[int]string{400: ops.ProblemBadInput, 404: ops.ProblemNotFound, 415: ops.ProblemMediaType}[tc.status], p.Type, "type")
			assert.Equal(t, tc.param, p.Param, "param of %s: %s", tc.name, p.Detail)
			assert.NotEmpty(t, p.Detail, "detail")
		})
	}
	got, err := w.log.Get(context.Background(), w.deadLetter(t).ID)
	require.NoError(t, err)
	assert.Equal(t, eventlog.StateDead, got.State, "bad input changed nothing")
}

func TestRedact(t *testing.T) {
	w := newWorld(t)
	cfg := w.config(headerAuth)
	cfg.Redact = func(ev canonical.Event) canonical.Event {
		ev.Data = []byte(`{"redacted":true}`)
		return ev
	}
	srv := w.server(t, cfg)
	d := w.deadLetter(t)
	require.Contains(t, string(d.Event.Data), "ACC-0002", "the raw event names the customer")
	id := strconv.FormatInt(d.ID, 10)
	for _, p := range []string{"/api/deadletters/" + id, "/api/deadletters", "/api/orders/" + w.refused, "/deadletters/" + id,
		"/api/orders/" + w.orders[0], "/orders/" + w.orders[0]} {
		resp, body := do(t, nil, "GET", srv.URL+p, "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", p)
		assert.NotContains(t, body, "ACC-0002", "GET %s shows the customer", p)
		if strings.Contains(p, "deadletters") {
			assert.Contains(t, body, "redacted", "GET %s", p)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	for _, tc := range []struct {
		name string
		cfg  ops.Config
		want string
	}{
		{"no dead letters", ops.Config{}, "DeadLetters"},
		{"base path without slash", ops.Config{DeadLetters: log, BasePath: "ops"}, "BasePath"},
		{"base path with trailing slash", ops.Config{DeadLetters: log, BasePath: "/ops/"}, "BasePath"},
		{"negative MaxLag", ops.Config{DeadLetters: log, MaxLag: -1}, "MaxLag"},
		{"empty group", ops.Config{DeadLetters: log, GroupNames: []string{""}}, "GroupNames[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ops.New(tc.cfg)
			require.ErrorIs(t, err, ops.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestBasePath mounts the handler under /ops and the backend alone, as a
// service without a flow does: no order pages, links under the prefix.
func TestBasePath(t *testing.T) {
	w := newWorld(t)
	h, err := ops.New(ops.Config{DeadLetters: w.log, Groups: w.log, Log: w.log, BasePath: "/ops", Authenticate: headerAuth})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/ops/", http.StripPrefix("/ops", h))
	srv := httptestServer(t, mux)
	resp, body := do(t, nil, "GET", srv+"/ops/", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, `href="/ops/deadletters?state=dead"`)
	resp, body = do(t, nil, "GET", srv+"/ops/api/orders/"+w.refused, "", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no Orders: %s", body)
	c := browserClient(t)
	id := strconv.FormatInt(w.deadLetter(t).ID, 10)
	tok := csrfFrom(t, c, srv+"/ops/deadletters/"+id, "X-Operator", "erin")
	resp, body = do(t, c, "POST", srv+"/ops/deadletters/"+id+"/discard", "application/x-www-form-urlencoded",
		url.Values{"csrf": {tok}, "why": {"duplicate of a manual order"}}.Encode(), "X-Operator", "erin")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(t, "/ops/deadletters/"+id+"?discarded=1", resp.Header.Get("Location"))
}

func TestFindings(t *testing.T) {
	w := newWorld(t)
	cfg := w.config(headerAuth)
	cfg.Findings = func(context.Context) ([]ops.Finding, error) {
		return []ops.Finding{{Kind: "inventory_drift", Subject: "SKU-101@WH-EAST", System: "erp", Detail: "erp 40 EA, wms 38 EA"},
			{Kind: "exception:on_hold_too_long", Subject: "ORD-000007", Detail: "credit hold for 3h0m0s"},
			{Kind: "reconcile_error", Detail: "order ORD-000008: ERP: unavailable"}}, nil
	}
	srv := w.server(t, cfg)
	var ov ops.Overview
	getJSON(t, srv.URL+"/api/overview", &ov)
	require.Len(t, ov.Findings, 3)
	_, body := do(t, nil, "GET", srv.URL+"/", "", "")
	assert.Contains(t, body, "erp 40 EA, wms 38 EA")
	assert.Contains(t, body, "Drift and exceptions")
	// A subject links to its page: an order ID to the order, a key to the
	// inventory; without the reader for that page, it is plain text.
	assert.Contains(t, body, `<a href="/inventory?key=SKU-101%40WH-EAST">SKU-101@WH-EAST</a>`)
	assert.Contains(t, body, `<a href="/orders/ORD-000007">ORD-000007</a>`)
	assert.Contains(t, body, "<td></td><td></td><td>order ORD-000008: ERP: unavailable</td>", "no link without a subject")
	cfg.Orders, cfg.Inventory = nil, nil
	srv = w.server(t, cfg)
	_, body = do(t, nil, "GET", srv.URL+"/", "", "")
	assert.Contains(t, body, "<td>ORD-000007</td>", "no order link without Config.Orders")
	assert.Contains(t, body, "<td>SKU-101@WH-EAST</td>", "no inventory link without Config.Inventory")
}

func TestFormReplayFilter(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t, w.config(headerAuth))
	c := browserClient(t)
	tok := csrfFrom(t, c, srv.URL+"/deadletters?reason=permanent", "X-Operator", "frank")
	form := "application/x-www-form-urlencoded"
	resp, body := do(t, c, "POST", srv.URL+"/deadletters/replay", form, url.Values{"csrf": {tok}}.Encode(), "X-Operator", "frank")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "no filter, no all: %s", body)
	assert.Contains(t, body, "all=true")
	resp, body = do(t, c, "POST", srv.URL+"/deadletters/replay", form,
		url.Values{"csrf": {tok}, "reason": {"exhausted"}}.Encode(), "X-Operator", "frank")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(t, "/deadletters?state=replaying&replayed=0", resp.Header.Get("Location"), "nothing exhausted")
	resp, body = do(t, c, "POST", srv.URL+"/deadletters/replay", form,
		url.Values{"csrf": {tok}, "reason": {"permanent"}, "why": {"warehouse fixed"}}.Encode(), "X-Operator", "frank")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(t, "/deadletters?state=replaying&replayed=1", resp.Header.Get("Location"))
	resp, body = do(t, c, "GET", srv.URL+resp.Header.Get("Location"), "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Replay requested for 1 dead letter(s)")
	assert.Contains(t, body, `<td>replaying</td>`)
}

// TestLinksEscapedOnce: a link's query parameter is escaped once, so that
// following it gives the value back: a SKU@WAREHOUSE key (the @ becomes
// %40, not %2540) and a consumer or reason with a space.
func TestLinksEscapedOnce(t *testing.T) {
	ctx := context.Background()
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	id, err := log.Put(ctx, eventlog.DeadLetter{Consumer: "stock sync", Reason: eventlog.ReasonPermanent, Error: "boom", Attempts: 1,
		FirstFailure: at, LastFailure: at, Event: canonical.Event{ID: "ev-1", Source: "urn:example", SpecVersion: "1.0",
			Type: canonical.EventInventoryAdjusted, Time: at, PartitionKey: "SKU-101@WH-EAST"}})
	require.NoError(t, err, "Put")
	h, err := ops.New(ops.Config{DeadLetters: log, Groups: log, GroupNames: []string{"stock sync"}})
	require.NoError(t, err, "New")
	base := httptestServer(t, h)
	_, body := do(t, nil, "GET", fmt.Sprintf("%s/deadletters/%d", base, id), "", "")
	assert.Contains(t, body, `href="/inventory?key=SKU-101%40WH-EAST"`, "dead letter page's inventory link")
	_, body = do(t, nil, "GET", base+"/", "", "")
	assert.Contains(t, body, `consumer=stock%20sync&amp;reason=permanent"`, "overview's dead letters link")
}
