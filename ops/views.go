// This file owns what the pages and the API show: the overview, an order,
// the dead letters and the inventory, as JSON documents that the HTML
// templates render too.

package ops

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/tracing"
)

// Query is a dead letter filter as the list's query string (consumer,
// reason, class, correlation, state, since, until, limit) and the bulk
// replay's JSON body (its field names) give it, unparsed: the times in RFC
// 3339, the limit from 1 to MaxLimit (DefaultLimit when empty). It is a plain
// value, safe for concurrent reads; the zero value selects every dead letter.
type Query struct {
	Consumer      string `json:"consumer,omitempty"`
	Reason        string `json:"reason,omitempty"`
	ErrorClass    string `json:"errorClass,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
	State         string `json:"state,omitempty"`
	Since         string `json:"since,omitempty"`
	Until         string `json:"until,omitempty"`
	Limit         string `json:"limit,omitempty"`
}

func (f Query) isZero() bool {
	return f.Consumer == "" && f.Reason == "" && f.ErrorClass == "" && f.CorrelationID == "" && f.Since == "" && f.Until == ""
}

func filterFromValues(q url.Values) (Query, bool) {
	f := Query{Consumer: q.Get("consumer"), Reason: q.Get("reason"), ErrorClass: q.Get("class"),
		CorrelationID: q.Get("correlation"), State: q.Get("state"), Since: q.Get("since"), Until: q.Get("until"), Limit: q.Get("limit")}
	return f, !f.isZero()
}

// DefaultLimit is how many dead letters a list shows when the request does
// not say; MaxLimit the most it shows.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

func (f Query) filter() (eventlog.Filter, error) {
	out := eventlog.Filter{Consumer: f.Consumer, ErrorClass: f.ErrorClass, CorrelationID: f.CorrelationID, Limit: DefaultLimit}
	switch r := eventlog.Reason(f.Reason); r {
	case "", eventlog.ReasonPermanent, eventlog.ReasonExhausted, eventlog.ReasonUndecodable, eventlog.ReasonRetryAfter:
		out.Reason = r
	default:
		return out, badInput("reason", "reason %q is not one of permanent, exhausted, undecodable, retry-after", f.Reason)
	}
	switch s := eventlog.State(f.State); s {
	case "", eventlog.StateDead, eventlog.StateReplaying, eventlog.StateResolved, eventlog.StateDiscarded:
		out.State = s
	default:
		return out, badInput("state", "state %q is not one of dead, replaying, resolved, discarded", f.State)
	}
	for _, p := range []struct {
		name, v string
		t       *time.Time
	}{{"since", f.Since, &out.Since}, {"until", f.Until, &out.Until}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.v)
		if err != nil {
			return out, badInput(p.name, "%s %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", p.name, p.v)
		}
		*p.t = t
	}
	if f.Limit != "" {
		n, err := strconv.Atoi(f.Limit)
		if err != nil || n < 1 || n > MaxLimit {
			return out, badInput("limit", "limit %q is not a number from 1 to %d", f.Limit, MaxLimit)
		}
		out.Limit = n
	}
	return out, nil
}

// GroupView is one consumer group on the overview: its cursor, what is
// pending behind it and how old the oldest pending event is. It is a plain
// value, safe for concurrent reads; the zero value names no group.
type GroupView struct {
	Name   string `json:"name"`
	Cursor uint64 `json:"cursor"`
	// Pending is how many events of the log are after the cursor;
	// PendingCapped reports that there are more than Pending.
	Pending       int  `json:"pending"`
	PendingCapped bool `json:"pendingCapped,omitempty"`
	// Oldest is the time of the oldest pending event; LagSec how many
	// seconds ago that was, by Config.Now.
	Oldest time.Time `json:"oldest,omitzero"`
	LagSec float64   `json:"lagSeconds,omitempty"`
	// Retrying is how many events after the cursor wait for a retry.
	Retrying int `json:"retrying"`
	// Error is why the group's state or the log could not be read.
	Error string `json:"error,omitempty"`
}

// ReasonCount is how many dead letters of one consumer and reason are dead.
// It is a plain value, safe for concurrent reads.
type ReasonCount struct {
	Consumer string `json:"consumer"`
	Reason   string `json:"reason"`
	Count    int    `json:"count"`
}

// Overview is the overview page's content, as GET /api/overview returns it.
// It is a plain value, safe for concurrent reads. The Has fields say which
// optional parts the configuration provides; they are not in the JSON.
type Overview struct {
	Groups        []GroupView   `json:"groups"`
	Breakers      []Breaker     `json:"breakers,omitempty"`
	DeadByReason  []ReasonCount `json:"deadByReason"`
	Dead          int           `json:"dead"`
	Replaying     int           `json:"replaying"`
	Findings      []Finding     `json:"findings,omitempty"`
	FindingsError string        `json:"findingsError,omitempty"`
	HasFindings   bool          `json:"-"`
	HasOrders     bool          `json:"-"`
	HasInventory  bool          `json:"-"`
	HasBreakers   bool          `json:"-"`
	Orders        int           `json:"orders,omitempty"`
}

func (h *Handler) overview(ctx context.Context) (Overview, error) {
	ov := Overview{HasFindings: h.cfg.Findings != nil, HasOrders: h.cfg.Orders != nil,
		HasInventory: h.cfg.Inventory != nil, HasBreakers: h.cfg.Breakers != nil, DeadByReason: []ReasonCount{}, Groups: []GroupView{}}
	if h.cfg.Groups != nil {
		for _, g := range h.cfg.GroupNames {
			ov.Groups = append(ov.Groups, h.group(ctx, g))
		}
	}
	if h.cfg.Breakers != nil {
		ov.Breakers = h.cfg.Breakers.Breakers()
	}
	dead, err := h.cfg.DeadLetters.List(ctx, eventlog.Filter{State: eventlog.StateDead})
	if err != nil {
		return ov, err
	}
	counts := map[[2]string]int{}
	for i := range dead {
		counts[[2]string{dead[i].Consumer, string(dead[i].Reason)}]++
	}
	for k, n := range counts {
		ov.DeadByReason = append(ov.DeadByReason, ReasonCount{Consumer: k[0], Reason: k[1], Count: n})
	}
	slices.SortFunc(ov.DeadByReason, func(a, b ReasonCount) int {
		return strings.Compare(a.Consumer+"\x00"+a.Reason, b.Consumer+"\x00"+b.Reason)
	})
	ov.Dead = len(dead)
	replaying, err := h.cfg.DeadLetters.List(ctx, eventlog.Filter{State: eventlog.StateReplaying})
	if err != nil {
		return ov, err
	}
	ov.Replaying = len(replaying)
	if h.cfg.Findings != nil {
		fs, err := h.cfg.Findings(ctx)
		if err != nil {
			ov.FindingsError = err.Error()
		}
		ov.Findings = fs
	}
	if h.cfg.Orders != nil {
		ov.Orders = len(h.cfg.Orders.Orders())
	}
	return ov, nil
}

// lengther is the optional ability of a log to tell how many events it
// holds (eventlog.Memory has it).
type lengther interface{ Len() int }

func (h *Handler) group(ctx context.Context, name string) GroupView {
	gv := GroupView{Name: name}
	st, err := h.cfg.Groups.Group(ctx, name)
	if err != nil {
		gv.Error = err.Error()
		return gv
	}
	gv.Cursor, gv.Retrying = st.Cursor, len(st.Retries)
	if h.cfg.Log == nil {
		return gv
	}
	if l, ok := h.cfg.Log.(lengther); ok {
		gv.Pending = max(0, l.Len()-int(st.Cursor))
	}
	// Read the first pending event for its time, and, without Len, count
	// up to MaxLag of them.
	limit := 1
	if _, ok := h.cfg.Log.(lengther); !ok {
		limit = h.cfg.MaxLag + 1
	}
	es, err := h.cfg.Log.Read(ctx, st.Cursor, limit)
	if err != nil {
		gv.Error = err.Error()
		return gv
	}
	if _, ok := h.cfg.Log.(lengther); !ok {
		gv.Pending = min(len(es), h.cfg.MaxLag)
		gv.PendingCapped = len(es) > h.cfg.MaxLag
	}
	if len(es) > 0 && !es[0].Event.Time.IsZero() {
		gv.Oldest = es[0].Event.Time
		gv.LagSec = h.now().Sub(gv.Oldest).Seconds()
	}
	return gv
}

// DeadLetterView is a dead letter as the pages and the API show it: the
// event redacted (Config.Redact), OrderID or InventoryKey naming what its
// event is about. It is a plain value, safe for concurrent reads.
type DeadLetterView struct {
	ID            int64            `json:"id"`
	Consumer      string           `json:"consumer"`
	Offset        uint64           `json:"offset,omitempty"`
	Event         *EventView       `json:"event,omitempty"`
	Raw           string           `json:"raw,omitempty"`
	Reason        string           `json:"reason"`
	Error         string           `json:"error"`
	ErrorClass    string           `json:"errorClass,omitempty"`
	Attempts      int              `json:"attempts"`
	FirstFailure  time.Time        `json:"firstFailure,omitzero"`
	LastFailure   time.Time        `json:"lastFailure,omitzero"`
	CorrelationID string           `json:"correlationId,omitempty"`
	State         string           `json:"state"`
	Replays       int              `json:"replays"`
	Audit         []eventlog.Audit `json:"audit"`
	OrderID       string           `json:"orderId,omitempty"`
	InventoryKey  string           `json:"inventoryKey,omitempty"`
	Dead          bool             `json:"-"`
}

// EventView is an event's envelope with its data, after Config.Redact.
// It is a plain value, safe for concurrent reads.
type EventView struct {
	ID        string          `json:"id"`
	Source    string          `json:"source"`
	Type      string          `json:"type"`
	Subject   string          `json:"subject,omitempty"`
	Time      time.Time       `json:"time,omitzero"`
	Partition string          `json:"partition,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	// Pretty is Data indented, for the HTML page.
	Pretty string `json:"-"`
}

func (h *Handler) deadLetterView(d eventlog.DeadLetter) DeadLetterView {
	v := DeadLetterView{ID: d.ID, Consumer: d.Consumer, Offset: d.Offset, Reason: string(d.Reason), Error: d.Error,
		ErrorClass: d.ErrorClass, Attempts: d.Attempts, FirstFailure: d.FirstFailure, LastFailure: d.LastFailure,
		CorrelationID: d.CorrelationID, State: string(d.State), Replays: d.Replays, Audit: d.Audit,
		Dead: d.State == eventlog.StateDead}
	if v.Audit == nil {
		v.Audit = []eventlog.Audit{}
	}
	if d.Event.ID != "" || d.Event.Type != "" {
		ev := d.Event
		if h.cfg.Redact != nil {
			ev = h.cfg.Redact(ev)
		}
		e := &EventView{ID: ev.ID, Source: ev.Source, Type: string(ev.Type), Subject: ev.Subject, Time: ev.Time,
			Partition: ev.Partition()}
		if len(ev.Data) > 0 {
			if json.Valid(ev.Data) {
				e.Data = json.RawMessage(ev.Data)
				var buf strings.Builder
				if b, err := json.MarshalIndent(json.RawMessage(ev.Data), "", "  "); err == nil {
					buf.Write(b)
				}
				e.Pretty = buf.String()
			} else {
				e.Pretty = string(ev.Data)
			}
		}
		if t := string(ev.Type); strings.HasPrefix(t, "distsync.inventory.") {
			v.InventoryKey = ev.Partition()
		} else if strings.HasPrefix(t, "distsync.") {
			v.OrderID = ev.Partition()
		}
		v.Event = e
	} else if len(d.Raw) > 0 {
		if h.cfg.Redact != nil {
			v.Raw = "(withheld: an undecodable payload cannot be redacted)"
		} else {
			v.Raw = string(d.Raw)
		}
	}
	return v
}

// StepView is one step of an order's timeline: one attempt of one
// operation against one system. It is a plain value, safe for concurrent
// reads.
type StepView struct {
	System     string    `json:"system"`
	Operation  string    `json:"operation"`
	Start      time.Time `json:"start,omitzero"`
	DurationMS float64   `json:"durationMs"`
	Attempt    int       `json:"attempt"`
	Outcome    string    `json:"outcome"`
	ErrorClass string    `json:"errorClass,omitempty"`
	// Failed marks a step that did not succeed (a retry, an outage).
	Failed bool `json:"-"`
}

// LineView is an order line with its quantity buckets; the JSON leaves out
// the buckets at zero (except ordered). It is a plain value, safe for
// concurrent reads.
type LineView struct {
	ID      string            `json:"id"`
	SKU     string            `json:"sku"`
	Unit    string            `json:"unit"`
	Buckets map[string]string `json:"buckets"`
	// Cells are the buckets in canonical order, for the HTML table.
	Cells []string `json:"-"`
}

// SystemStatus is what one system (the flow, the ERP, the CRM, a
// warehouse) shows of an order. It is a plain value, safe for concurrent
// reads.
type SystemStatus struct {
	System string `json:"system"`
	Status string `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// DocumentView sums up one document of an order. It is a plain value, safe
// for concurrent reads.
type DocumentView struct {
	// Kind is "fulfillment_order", "shipment", "invoice", "return" or
	// "credit_memo".
	Kind      string    `json:"kind"`
	ID        string    `json:"id"`
	Warehouse string    `json:"warehouse,omitempty"`
	At        time.Time `json:"at,omitzero"`
	Detail    string    `json:"detail,omitempty"`
}

func documents(v flow.OrderView) []DocumentView {
	out := []DocumentView{}
	for _, fo := range v.FulfillmentOrders {
		out = append(out, DocumentView{Kind: "fulfillment_order", ID: fo.ID, Warehouse: fo.Warehouse, At: fo.ReleasedAt,
			Detail: strconv.Itoa(len(fo.Lines)) + " line(s)"})
	}
	for _, sh := range v.Shipments {
		d := strconv.Itoa(len(sh.Lines)) + " line(s)"
		if len(sh.TrackingNumbers) > 0 {
			d += ", tracking " + strings.Join(sh.TrackingNumbers, " ")
		}
		out = append(out, DocumentView{Kind: "shipment", ID: sh.ID, Warehouse: sh.Warehouse, At: sh.ShippedAt, Detail: d})
	}
	for _, in := range v.Invoices {
		out = append(out, DocumentView{Kind: "invoice", ID: in.Number, At: in.InvoiceDate, Detail: "total " + in.Totals.Total.String()})
	}
	for _, r := range v.Returns {
		out = append(out, DocumentView{Kind: "return", ID: r.RMANumber,
			Detail: strconv.Itoa(len(r.Lines)) + " line(s), " + strconv.Itoa(len(r.Credits)) + " credit(s)"})
	}
	for _, cm := range v.CreditMemos {
		out = append(out, DocumentView{Kind: "credit_memo", ID: cm.Number, At: cm.InvoiceDate, Detail: "total " + cm.Totals.Total.String()})
	}
	return out
}

// OrderPage is an order's page, "where is order X", as GET
// /api/orders/{id} returns it. It is a plain value, safe for concurrent
// reads.
type OrderPage struct {
	ID            string         `json:"id"`
	CorrelationID string         `json:"correlationId"`
	Phase         string         `json:"phase"`
	Status        string         `json:"status"`
	Systems       []SystemStatus `json:"systems"`
	Lines         []LineView     `json:"lines"`
	BucketNames   []string       `json:"-"`
	// Documents are the order's fulfilment orders, shipments, invoices,
	// returns and credit memos, summed up without their parties (no
	// addresses or names): the data a person needs to find them.
	Documents   []DocumentView   `json:"documents"`
	Timeline    []StepView       `json:"timeline"`
	DeadLetters []DeadLetterView `json:"deadLetters"`
}

func (h *Handler) orderView(ctx context.Context, id string) (OrderPage, error) {
	v, err := h.cfg.Orders.Where(ctx, id)
	if err != nil {
		return OrderPage{}, err
	}
	p := OrderPage{ID: v.Order.ID, CorrelationID: v.CorrelationID, Phase: v.Phase, Status: v.Status.String(),
		Documents: documents(v), Timeline: []StepView{}, DeadLetters: []DeadLetterView{}, Lines: []LineView{}}
	if p.ID == "" {
		p.ID = id
	}
	p.Systems = append(p.Systems, SystemStatus{System: "flow", Status: v.Status.String(), Detail: "phase " + v.Phase})
	switch {
	case v.ERPErr != nil:
		p.Systems = append(p.Systems, SystemStatus{System: "erp", Detail: v.ERPErr.Error()})
	case v.ERP != nil:
		p.Systems = append(p.Systems, SystemStatus{System: "erp", Status: v.ERP.Status().String()})
	}
	if v.CRM != nil {
		d := "sequence " + strconv.FormatInt(v.CRM.Sequence, 10)
		if len(v.CRM.TrackingNumbers) > 0 {
			d += ", tracking " + strings.Join(v.CRM.TrackingNumbers, " ")
		}
		p.Systems = append(p.Systems, SystemStatus{System: "crm", Status: v.CRM.Status.String(), Detail: d})
	}
	for _, fo := range v.FulfillmentOrders {
		st := "planned"
		if !fo.ReleasedAt.IsZero() {
			st = "released " + formatTime(fo.ReleasedAt)
		}
		p.Systems = append(p.Systems, SystemStatus{System: "wms " + fo.Warehouse, Status: st,
			Detail: fo.ID + ", " + strconv.Itoa(len(fo.Lines)) + " line(s)"})
	}
	for _, b := range canonical.AllBuckets() {
		p.BucketNames = append(p.BucketNames, b.String())
	}
	for _, l := range v.Order.Lines {
		lv := LineView{ID: l.ID, SKU: l.Item.SKU, Unit: l.Quantity.Unit.String(), Buckets: map[string]string{}}
		for _, b := range canonical.AllBuckets() {
			q := l.Buckets.Get(b)
			s := q.String()
			if b == canonical.BucketOrdered && q.IsZero() {
				s = l.Quantity.Value.String()
			}
			lv.Cells = append(lv.Cells, s)
			if !q.IsZero() || b == canonical.BucketOrdered {
				lv.Buckets[b.String()] = s
			}
		}
		p.Lines = append(p.Lines, lv)
	}
	for _, s := range v.Timeline {
		p.Timeline = append(p.Timeline, StepView{System: s.System, Operation: s.Operation, Start: s.Start,
			DurationMS: float64(s.Duration.Microseconds()) / 1000, Attempt: s.Attempt, Outcome: string(s.Outcome),
			ErrorClass: s.ErrorClass, Failed: s.Outcome != tracing.OutcomeOK && s.Outcome != tracing.OutcomeDuplicate})
	}
	for _, d := range v.DeadLetters {
		p.DeadLetters = append(p.DeadLetters, h.deadLetterView(d))
	}
	return p, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// InventoryView is the inventory page's answer for one SKU@WAREHOUSE.
// It is a plain value, safe for concurrent reads.
type InventoryView struct {
	SKU      string `json:"sku"`
	Location string `json:"location"`
	// Pushed reports that the flow pushed a position for the key;
	// Sequence is the WMS sequence of the last one.
	Pushed   bool  `json:"pushed"`
	Sequence int64 `json:"sequence,omitempty"`
}

func parseKey(q url.Values) (string, string, error) {
	key := strings.TrimSpace(q.Get("key"))
	sku, loc, ok := strings.Cut(key, "@")
	if !ok || sku == "" || loc == "" {
		return "", "", badInput("key", "key %q is not SKU@WAREHOUSE", key)
	}
	return sku, loc, nil
}

// --- page and API handlers ---

func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request) {
	ov, err := h.overview(r.Context())
	if err != nil {
		h.fail(w, r, err, "dead letters")
		return
	}
	h.render(w, r, http.StatusOK, "overview.html", "Overview", ov)
}

func (h *Handler) overviewAPI(w http.ResponseWriter, r *http.Request) {
	ov, err := h.overview(r.Context())
	if err != nil {
		h.fail(w, r, err, "dead letters")
		return
	}
	writeJSON(w, http.StatusOK, ov)
}

func (h *Handler) ordersPage(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Orders == nil {
		h.problem(w, r, http.StatusNotFound, ProblemNotFound, "no order pages: the service configured no Orders", "")
		return
	}
	if id := strings.TrimSpace(r.URL.Query().Get("id")); id != "" {
		http.Redirect(w, r, h.cfg.BasePath+"/orders/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "orders.html", "Orders", h.cfg.Orders.Orders())
}

func (h *Handler) ordersAPI(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Orders == nil {
		h.problem(w, r, http.StatusNotFound, ProblemNotFound, "no order API: the service configured no Orders", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": nonNil(h.cfg.Orders.Orders())})
}

func (h *Handler) order(w http.ResponseWriter, r *http.Request) (OrderPage, bool) {
	if h.cfg.Orders == nil {
		h.problem(w, r, http.StatusNotFound, ProblemNotFound, "no order pages: the service configured no Orders", "")
		return OrderPage{}, false
	}
	id := r.PathValue("id")
	if id == "" || len(id) > 200 {
		h.problem(w, r, http.StatusBadRequest, ProblemBadInput, "order id must be 1 to 200 bytes", "id")
		return OrderPage{}, false
	}
	p, err := h.orderView(r.Context(), id)
	if err != nil {
		h.fail(w, r, err, "order "+strconv.Quote(id))
		return OrderPage{}, false
	}
	return p, true
}

func (h *Handler) orderPage(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.order(w, r); ok {
		h.render(w, r, http.StatusOK, "order.html", "Order "+p.ID, p)
	}
}

func (h *Handler) orderAPI(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.order(w, r); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

// DeadLettersPage is the dead letters list with the filter that selected
// it, as GET /api/deadletters returns it. It is a plain value, safe for
// concurrent reads.
type DeadLettersPage struct {
	Filter      Query            `json:"filter"`
	DeadLetters []DeadLetterView `json:"deadLetters"`
	// HasFilter reports that the filter selects by more than state and
	// limit, for the bulk replay form.
	HasFilter bool `json:"-"`
}

func (h *Handler) deadLetters(w http.ResponseWriter, r *http.Request) (DeadLettersPage, bool) {
	fj, has := filterFromValues(r.URL.Query())
	f, err := fj.filter()
	if err != nil {
		h.actionFailed(w, r, err)
		return DeadLettersPage{}, false
	}
	ds, err := h.cfg.DeadLetters.List(r.Context(), f)
	if err != nil {
		h.fail(w, r, err, "dead letters")
		return DeadLettersPage{}, false
	}
	p := DeadLettersPage{Filter: fj, HasFilter: has, DeadLetters: make([]DeadLetterView, 0, len(ds))}
	for _, d := range ds {
		p.DeadLetters = append(p.DeadLetters, h.deadLetterView(d))
	}
	return p, true
}

func (h *Handler) deadLettersPage(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.deadLetters(w, r); ok {
		h.render(w, r, http.StatusOK, "deadletters.html", "Dead letters", p)
	}
}

func (h *Handler) deadLettersAPI(w http.ResponseWriter, r *http.Request) {
	if p, ok := h.deadLetters(w, r); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (h *Handler) deadLetter(w http.ResponseWriter, r *http.Request) (DeadLetterView, bool) {
	id, err := parseID(r)
	if err != nil {
		h.actionFailed(w, r, err)
		return DeadLetterView{}, false
	}
	d, err := h.cfg.DeadLetters.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err, "dead letter "+strconv.FormatInt(id, 10))
		return DeadLetterView{}, false
	}
	return h.deadLetterView(d), true
}

func (h *Handler) deadLetterPage(w http.ResponseWriter, r *http.Request) {
	if v, ok := h.deadLetter(w, r); ok {
		h.render(w, r, http.StatusOK, "deadletter.html", "Dead letter "+strconv.FormatInt(v.ID, 10), v)
	}
}

func (h *Handler) deadLetterAPI(w http.ResponseWriter, r *http.Request) {
	if v, ok := h.deadLetter(w, r); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

func (h *Handler) inventory(w http.ResponseWriter, r *http.Request) (*InventoryView, bool) {
	if h.cfg.Inventory == nil {
		h.problem(w, r, http.StatusNotFound, ProblemNotFound, "no inventory view: the service configured no Inventory", "")
		return nil, false
	}
	if !r.URL.Query().Has("key") && !strings.HasPrefix(r.URL.Path, "/api/") {
		return nil, true
	}
	sku, loc, err := parseKey(r.URL.Query())
	if err != nil {
		h.actionFailed(w, r, err)
		return nil, false
	}
	v := &InventoryView{SKU: sku, Location: loc}
	v.Sequence, v.Pushed = h.cfg.Inventory.InventorySeq(sku, loc)
	return v, true
}

func (h *Handler) inventoryPage(w http.ResponseWriter, r *http.Request) {
	if v, ok := h.inventory(w, r); ok {
		h.render(w, r, http.StatusOK, "inventory.html", "Inventory", v)
	}
}

func (h *Handler) inventoryAPI(w http.ResponseWriter, r *http.Request) {
	if v, ok := h.inventory(w, r); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func formatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Hour).String()
}
