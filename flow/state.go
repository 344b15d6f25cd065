package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/jsonfast"
)

// ErrStateConflict is matched by the error of StateStore.SaveState when
// the order's stored version is not the one before the state saved:
// another flow (another process over the same database) saved the order
// since this one loaded it. The flow then drops its copy, and the event
// is handled again from the stored state.
var ErrStateConflict = errors.New("flow: order state saved by another flow")

// ErrBadState is matched by the error of loading an order's stored state
// that does not decode: bad bytes, an unknown encoding version, or a state
// that names another order or does not fold.
var ErrBadState = errors.New("flow: bad stored order state")

// StateVersion is the version of the encoding of an order's state that the
// flow writes in [StoredState.Data]. Decoding reads it and version 1 (which
// stores every planned fulfilment order whole, even when it is stored
// again as released), and refuses other versions. A build that knows
// only version 1 refuses the states this one saves (ErrBadState): when
// several processes share one store, stop the older ones before the
// newer ones handle orders, not one process at a time while both run.
const StateVersion = 2

// DefaultStateRetention is how long a [MemoryState] keeps a final order
// when its Retention is zero.
const DefaultStateRetention = 24 * time.Hour

// StoredState is one order's state as a [StateStore] keeps it. It is a
// plain value. The zero value names no order. It is safe for concurrent
// reads.
type StoredState struct {
	// OrderID names the order.
	OrderID string
	// Data is the order's state in the flow's versioned encoding
	// (StateVersion). A store keeps it as it is.
	Data []byte
	// Held reports that the order waits on hold for the ERP to release it:
	// StateStore.HeldOrders lists it.
	Held bool
	// Final reports that the order is complete (rejected, cancelled, or
	// shipped and invoiced in full): a store may forget it after a
	// retention.
	Final bool
	// Version counts the saves of the order's state: LoadState returns the
	// stored one, and SaveState stores a state of version v only over
	// version v−1 (over none for version 1), failing with
	// ErrStateConflict otherwise.
	Version int64
}

// StateStore keeps the flow's state of each order, encoded, so that the
// flow can drop completed orders from memory and a restarted flow resumes
// every order where it stopped. Implementations must be safe for
// concurrent use. [MemoryState] and [SQLState] implement it.
// The zero value, nil, is no implementation; a field of this type says what
// nil means there.
type StateStore interface {
	// LoadState returns the stored state of the order, and false when none
	// is stored.
	LoadState(ctx context.Context, orderID string) (StoredState, bool, error)
	// SaveState stores s, replacing the order's previous state, if that
	// is of version s.Version−1; else it fails with an error matching
	// ErrStateConflict and stores nothing.
	SaveState(ctx context.Context, s StoredState) error
	// HeldOrders returns the IDs of the orders whose stored state has Held
	// set.
	HeldOrders(ctx context.Context) ([]string, error)
}

// stateRecord is the encoding of orderState, version StateVersion. Every
// field of orderState that must survive a restart has its field here, and
// only encodeState and decodeState convert between the two.
type stateRecord struct {
	V        int                          `json:"v"`
	Corr     string                       `json:"corr"`
	Order    canonical.Order              `json:"order"`
	Phase    string                       `json:"phase"`
	Decision bool                         `json:"decision,omitempty"`
	Resumed  bool                         `json:"resumed,omitempty"`
	QEvents  []canonical.QuantityEvent    `json:"qevents,omitempty"`
	Seq      int64                        `json:"seq"`
	Dirty    bool                         `json:"dirty,omitempty"`
	Messages []string                     `json:"messages,omitempty"`
	Plan     []canonical.FulfillmentOrder `json:"plan,omitempty"`
	// PlanIDs (version 2) are the IDs of the plan's fulfilment orders in
	// plan order, when Plan holds only those that Released does not hold
	// as planned: a fulfilment order whose released copy, without its
	// Refs and ReleasedAt, encodes as the planned one is stored once.
	// Without PlanIDs, Plan is the whole plan.
	PlanIDs  []string                               `json:"planIds,omitempty"`
	Released map[string]canonical.FulfillmentOrder  `json:"released,omitempty"`
	Alloc    map[string]*canonical.AllocationUpdate `json:"alloc,omitempty"`
	Shipped  []string                               `json:"shipped,omitempty"`
	Ships    []canonical.Shipment                   `json:"ships,omitempty"`
	Invoices map[string]canonical.Invoice           `json:"invoices,omitempty"`
	InvOrder []string                               `json:"invOrder,omitempty"`
	// Cancels are the cancel requests seen, by source and request ID.
	Cancels map[string]cancelRecord `json:"cancels,omitempty"`
	// Returns are the order's returns in the order they were authorized.
	Returns []returnRecord `json:"returns,omitempty"`
	// HoldLines are the ERP's per-line decisions of an order on hold.
	HoldLines []canonical.AckLine `json:"holdLines,omitempty"`
	// FP is the fingerprint of the order as submitted.
	FP string `json:"fp,omitempty"`
	// Change is the order's latest change after the ERP's decision.
	Change *changeRecord `json:"change,omitempty"`
	// Amend is the ERP's latest amendment taken up.
	Amend *amendState `json:"amend,omitempty"`
}

// cancelRecord is the encoding of a cancelState.
type cancelRecord struct {
	Folded bool                     `json:"folded,omitempty"`
	ERP    bool                     `json:"erp,omitempty"`
	Done   bool                     `json:"done,omitempty"`
	Lines  []connector.LineQuantity `json:"lines,omitempty"`
}

// returnRecord is the encoding of a returnState.
type returnRecord struct {
	Return   canonical.Return             `json:"return"`
	Received map[string]canonical.Decimal `json:"received,omitempty"`
	Credited map[string]canonical.Decimal `json:"credited,omitempty"`
	Pending  *returnPostRecord            `json:"pending,omitempty"`
	Credits  []returnCreditRecord         `json:"credits,omitempty"`
}

// returnPostRecord is the encoding of a returnPost.
type returnPostRecord struct {
	Key    string           `json:"key"`
	Return canonical.Return `json:"return"`
}

// returnCreditRecord is the encoding of a returnCredit.
type returnCreditRecord struct {
	Return canonical.Return  `json:"return"`
	Memo   canonical.Invoice `json:"memo"`
	Seq    int               `json:"seq"`
}

// encodeState encodes st; the caller holds Flow.mu (or owns st). The
// bytes are json.Marshal's of recordOf(st) (FuzzDecodeState checks it),
// written in a pooled buffer and returned in one allocation of their size.
// The record and the copies of the documents its maps hold are made in a
// pooled stateScratch too: the encoders take documents by pointer, as an
// interface that escapes, so each would otherwise be an allocation.
func encodeState(st *orderState) ([]byte, error) {
	s := stateScratches.Get().(*stateScratch)
	s.r = recordOf(st, s)
	b, err := s.appendJSON(s.buf[:0])
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	// Cleared so that the pool keeps no order alive.
	*s = stateScratch{buf: s.buf, planned: s.planned[:0], released: s.released[:0]}
	if cap(b) <= maxPooledState {
		s.buf = b
	}
	stateScratches.Put(s)
	if err != nil {
		return nil, fmt.Errorf("flow: encode state of order %q: %w", st.order.ID, err)
	}
	return out, nil
}

// stateScratch is what encodeState works in: the record, a copy of each
// kind of document a map of the record holds (a map's value has no
// address), and the buffer the JSON is written in.
type stateScratch struct {
	r   stateRecord
	fo  canonical.FulfillmentOrder
	inv canonical.Invoice
	buf []byte
	// The record's compacted plan (see compactPlan): its IDs, the
	// fulfilment orders stored whole, and the buffers the planned and
	// released ones are encoded in to be compared.
	ids               [8]string
	plan              [4]canonical.FulfillmentOrder
	planned, released []byte
}

// stateScratches holds the stateScratch values encodeState works in, so
// that the states of most orders encode without allocating but the
// result; a buffer that grew beyond maxPooledState is left to the
// collector.
var stateScratches = sync.Pool{New: func() any {
	return &stateScratch{buf: make([]byte, 0, 8192)}
}}

const maxPooledState = 64 << 10

// recordOf returns the record of st; the caller holds Flow.mu (or owns
// st). Its compacted plan is made in s when s is not nil (encodeState's
// scratch, which the record then points into).
func recordOf(st *orderState, s *stateScratch) stateRecord {
	r := stateRecord{V: StateVersion, Corr: st.corr, Order: st.order, Phase: st.phase.String(), Decision: st.decision,
		Resumed: st.resumed, QEvents: st.qevents, Seq: max(st.seq, st.seqMark), Dirty: st.dirty, Messages: st.messages, Plan: st.plan,
		Released: st.released, Alloc: st.alloc, Ships: st.ships, Invoices: st.invoices, InvOrder: st.invOrder,
		HoldLines: st.holdLines, FP: st.fp, Change: changeRecordOf(st.change), Amend: st.amend}
	compactPlan(&r, st, s)
	if len(st.shipped) > 0 {
		r.Shipped = make([]string, 0, len(st.shipped))
	}
	for id, ok := range st.shipped {
		if ok {
			r.Shipped = append(r.Shipped, id)
		}
	}
	sort.Strings(r.Shipped)
	if len(st.cancels) > 0 {
		r.Cancels = make(map[string]cancelRecord, len(st.cancels))
		for k, cs := range st.cancels {
			r.Cancels[k] = cancelRecord{Folded: cs.folded, ERP: cs.erp, Done: cs.done, Lines: cs.lines}
		}
	}
	for _, id := range st.retOrder {
		rs := st.returns[id]
		rr := returnRecord{Return: rs.ret, Received: rs.received, Credited: rs.credited}
		if rs.pending != nil {
			rr.Pending = &returnPostRecord{Key: rs.pending.key, Return: rs.pending.ret}
		}
		for _, c := range rs.credits {
			rr.Credits = append(rr.Credits, returnCreditRecord{Return: c.ret, Memo: c.memo, Seq: c.seq})
		}
		r.Returns = append(r.Returns, rr)
	}
	return r
}

// compactPlan sets r.Plan to the fulfilment orders of st's plan that
// st.released does not hold as planned, and r.PlanIDs to the plan's IDs,
// when that leaves any out: a planned fulfilment order is left out when
// its released copy without its Refs and ReleasedAt (which the WMS sets)
// encodes to the same bytes, so that decoding either gives the same
// document (decodeState decodes it from the released copy's encoding). A
// plan whose IDs repeat is stored whole. The buffers and arrays are s's
// when s is not nil.
func compactPlan(r *stateRecord, st *orderState, s *stateScratch) {
	if len(st.plan) == 0 || len(st.released) == 0 {
		return
	}
	for i := range st.plan {
		for j := range i {
			if st.plan[j].ID == st.plan[i].ID {
				return
			}
		}
	}
	if s == nil {
		s = &stateScratch{}
	}
	ids, plan := s.ids[:0], s.plan[:0]
	for i := range st.plan {
		fo := &st.plan[i]
		ids = append(ids, fo.ID)
		if rel, ok := st.released[fo.ID]; !ok || !s.asPlanned(fo, rel) {
			plan = append(plan, *fo)
		}
	}
	if len(plan) < len(st.plan) {
		r.Plan, r.PlanIDs = plan, ids
	}
}

// asPlanned reports whether rel, a released fulfilment order, encodes as
// fo, the planned one, once its Refs and ReleasedAt are cleared. rel is
// copied into s.fo (on the heap already) to be encoded.
func (s *stateScratch) asPlanned(fo *canonical.FulfillmentOrder, rel canonical.FulfillmentOrder) bool {
	rel.Refs, rel.ReleasedAt = nil, time.Time{}
	s.fo = rel
	var err1, err2 error
	s.planned, err1 = canonical.AppendEncode(s.planned[:0], fo)
	s.released, err2 = canonical.AppendEncode(s.released[:0], &s.fo)
	s.fo = canonical.FulfillmentOrder{}
	return err1 == nil && err2 == nil && bytes.Equal(s.planned, s.released)
}

// expandPlan returns the plan of a record whose plan is compacted (see
// compactPlan): each fulfilment order of r.PlanIDs from r.Plan, where it
// is next, else decoded from the encoding of its released copy without its
// Refs and ReleasedAt, as a plan stored whole was decoded.
func expandPlan(r *stateRecord) ([]canonical.FulfillmentOrder, error) {
	out := make([]canonical.FulfillmentOrder, 0, len(r.PlanIDs))
	k := 0
	for _, id := range r.PlanIDs {
		if k < len(r.Plan) && r.Plan[k].ID == id {
			out = append(out, r.Plan[k])
			k++
			continue
		}
		rel, ok := r.Released[id]
		if !ok {
			return nil, fmt.Errorf("the plan names fulfilment order %q, neither stored nor released", id)
		}
		rel.Refs, rel.ReleasedAt = nil, time.Time{}
		b, err := canonical.AppendEncode(nil, &rel)
		if err != nil {
			return nil, fmt.Errorf("fulfilment order %q: %w", id, err)
		}
		var fo canonical.FulfillmentOrder
		if err := json.Unmarshal(b, &fo); err != nil {
			return nil, fmt.Errorf("fulfilment order %q: %w", id, err)
		}
		out = append(out, fo)
	}
	if k != len(r.Plan) {
		return nil, fmt.Errorf("%d planned fulfilment orders are not in the plan's IDs", len(r.Plan)-k)
	}
	return out, nil
}

// appendJSON appends the JSON encoding of s.r to b: the bytes json.Marshal
// gives, but with the documents encoded by canonical.AppendEncode and the
// other members by a jsonfast.Writer, without reflection for most of them.
// The documents of the record's maps are copied into s to be encoded.
func (s *stateScratch) appendJSON(b []byte) ([]byte, error) {
	r := &s.r
	w := jsonfast.Writer{B: b}
	w.Open()
	w.Int("v", int64(r.V))
	w.Str("corr", r.Corr)
	w.Key("order")
	doc(&w, &r.Order)
	w.Str("phase", r.Phase)
	w.BoolOmit("decision", r.Decision)
	w.BoolOmit("resumed", r.Resumed)
	if len(r.QEvents) > 0 {
		w.Key("qevents")
		qevents(&w, r.QEvents)
	}
	w.Int("seq", r.Seq)
	w.BoolOmit("dirty", r.Dirty)
	w.Strings("messages", r.Messages)
	if len(r.Plan) > 0 {
		w.Key("plan")
		docList(&w, r.Plan)
	}
	w.Strings("planIds", r.PlanIDs)
	if len(r.Released) > 0 {
		w.Key("released")
		docMap(&w, r.Released, &s.fo)
	}
	if len(r.Alloc) > 0 {
		w.Key("alloc")
		docPtrMap(&w, r.Alloc)
	}
	w.Strings("shipped", r.Shipped)
	if len(r.Ships) > 0 {
		w.Key("ships")
		docList(&w, r.Ships)
	}
	if len(r.Invoices) > 0 {
		w.Key("invoices")
		docMap(&w, r.Invoices, &s.inv)
	}
	w.Strings("invOrder", r.InvOrder)
	if len(r.Cancels) > 0 {
		w.Key("cancels")
		marshal(&w, r.Cancels)
	}
	if len(r.Returns) > 0 {
		w.Key("returns")
		marshal(&w, r.Returns)
	}
	if len(r.HoldLines) > 0 {
		w.Key("holdLines")
		marshal(&w, r.HoldLines)
	}
	w.StrOmit("fp", r.FP)
	if r.Change != nil {
		w.Key("change")
		marshal(&w, r.Change)
	}
	if r.Amend != nil {
		w.Key("amend")
		marshal(&w, r.Amend)
	}
	w.Close()
	return w.B, w.Err
}

// marshal appends v as json.Marshal encodes it: the members the flow
// rarely stores (cancels, returns, holds).
func marshal(w *jsonfast.Writer, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		w.Fail(err)
		return
	}
	w.BeginValue()
	w.B = append(w.B, data...)
	w.EndValue()
}

// doc appends d as canonical.AppendEncode encodes it.
func doc[D any, P interface {
	*D
	canonical.Document
}](w *jsonfast.Writer, d P) {
	if w.Err != nil {
		return
	}
	w.BeginValue()
	b, err := canonical.AppendEncode(w.B, d)
	if err != nil {
		w.Fail(err)
		return
	}
	w.B = b
	w.EndValue()
}

// docList appends a JSON array of documents.
func docList[D any, P interface {
	*D
	canonical.Document
}](w *jsonfast.Writer, ds []D) {
	w.OpenArray()
	for i := range ds {
		doc[D, P](w, &ds[i])
	}
	w.CloseArray()
}

// docMap appends a JSON object of documents, keys sorted as json.Marshal
// sorts them. Each document is copied into *d to be encoded.
func docMap[D any, P interface {
	*D
	canonical.Document
}](w *jsonfast.Writer, m map[string]D, d P) {
	w.Open()
	if len(m) == 1 {
		for k, v := range m {
			w.MapKey(k)
			*d = v
			doc[D, P](w, d)
		}
	} else {
		// Sorted in an array on the stack for a map of a few: the
		// iterator of slices.Sorted(maps.Keys(m)) costs allocations.
		var small [8]string
		keys := small[:0]
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			*d = m[k]
			w.MapKey(k)
			doc[D, P](w, d)
		}
	}
	w.Close()
}

// docPtrMap is docMap for a map of documents held by pointer, which are
// encoded where they are. A nil pointer is encoded as null, as
// json.Marshal does (decodeState reads none back).
func docPtrMap[D any, P interface {
	*D
	canonical.Document
}](w *jsonfast.Writer, m map[string]P) {
	w.Open()
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.MapKey(k)
		if m[k] == nil {
			w.Null()
			continue
		}
		doc[D, P](w, m[k])
	}
	w.Close()
}

// qevents appends the ledger as json.Marshal encodes it; an event of an
// invalid bucket or kind is json.Marshal's error.
func qevents(w *jsonfast.Writer, qs []canonical.QuantityEvent) {
	for i := range qs {
		if !qs[i].Bucket.Valid() || qs[i].Kind != canonical.QuantityDelta && qs[i].Kind != canonical.QuantitySnapshot {
			marshal(w, qs)
			return
		}
	}
	w.OpenArray()
	for i := range qs {
		q := &qs[i]
		w.Open()
		w.Str("lineId", q.LineID)
		w.Str("bucket", q.Bucket.String())
		w.Str("kind", q.Kind.String())
		w.Text("value", q.Value.AppendText)
		w.TimeAlways("asOf", q.AsOf)
		w.Str("sourceMessageId", q.SourceMessageID)
		w.Close()
	}
	w.CloseArray()
}

// decodeState decodes the stored state of order orderID. The buckets of
// its lines are as stored: the caller folds them. The error matches
// ErrBadState and names the order.
func decodeState(orderID string, data []byte) (*orderState, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: order %q: %s", ErrBadState, orderID, fmt.Sprintf(format, args...))
	}
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, bad("%v", err)
	}
	if head.V == nil || *head.V != StateVersion && *head.V != 1 {
		v := "none"
		if head.V != nil {
			v = fmt.Sprint(*head.V)
		}
		return nil, bad("encoding version %s, want %d or 1", v, StateVersion)
	}
	var r stateRecord
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return nil, bad("%v", err)
	}
	if d.More() {
		return nil, bad("data after the state")
	}
	if r.Order.ID != orderID {
		return nil, bad("the state is of order %q", r.Order.ID)
	}
	if len(r.Order.Lines) == 0 {
		return nil, bad("the order has no lines")
	}
	if r.PlanIDs != nil {
		if *head.V == 1 {
			return nil, bad("plan IDs in a version 1 state")
		}
		plan, err := expandPlan(&r)
		if err != nil {
			return nil, bad("%v", err)
		}
		r.Plan, r.PlanIDs = plan, nil
	}
	st := &orderState{corr: r.Corr, order: r.Order, decision: r.Decision, resumed: r.Resumed, qevents: r.QEvents,
		seq: r.Seq, dirty: r.Dirty, messages: r.Messages, plan: r.Plan, released: r.Released, alloc: r.Alloc,
		shipped: make(map[string]bool, len(r.Shipped)), ships: r.Ships, invoices: r.Invoices, invOrder: r.InvOrder,
		holdLines: r.HoldLines, fp: r.FP, change: r.Change.state(), amend: r.Amend, seqMark: r.Seq}
	switch r.Phase {
	case phaseSubmitted.String():
		st.phase = phaseSubmitted
	case phaseRejected.String():
		st.phase = phaseRejected
	case phaseHeld.String():
		st.phase = phaseHeld
	case phaseAccepted.String():
		st.phase = phaseAccepted
	case phaseReleased.String():
		st.phase = phaseReleased
	default:
		return nil, bad("unknown phase %q", r.Phase)
	}
	if st.phase == phaseAccepted && len(st.plan) > 0 && !slices.ContainsFunc(st.plan, func(fo canonical.FulfillmentOrder) bool {
		_, ok := st.released[fo.ID]
		return !ok
	}) {
		// Every fulfilment order was released and the status was saved to
		// be published: the phase was released, or is about to be.
		st.phase = phaseReleased
	}
	if st.seq < 0 {
		return nil, bad("negative status sequence %d", st.seq)
	}
	for _, id := range r.Shipped {
		st.shipped[id] = true
	}
	if st.released == nil {
		st.released = map[string]canonical.FulfillmentOrder{}
	}
	if st.alloc == nil {
		st.alloc = map[string]*canonical.AllocationUpdate{}
	}
	for k, u := range st.alloc {
		if u == nil {
			// "alloc":{"FO":null}: the zero update, as decoding into a map
			// of updates held in place read it.
			st.alloc[k] = &canonical.AllocationUpdate{}
		}
	}
	if st.invoices == nil {
		st.invoices = map[string]canonical.Invoice{}
	}
	for _, id := range st.invOrder {
		if _, ok := st.invoices[id]; !ok {
			return nil, bad("invoice order names shipment %q without an invoice", id)
		}
	}
	for k, cr := range r.Cancels {
		if st.cancels == nil {
			st.cancels = make(map[string]*cancelState, len(r.Cancels))
		}
		st.cancels[k] = &cancelState{folded: cr.Folded, erp: cr.ERP, done: cr.Done, lines: cr.Lines}
	}
	for i, rr := range r.Returns {
		id := rr.Return.ID
		if id == "" {
			return nil, bad("return %d has no ID", i)
		}
		if st.returns == nil {
			st.returns = make(map[string]*returnState, len(r.Returns))
		}
		if st.returns[id] != nil {
			return nil, bad("return %q stored twice", id)
		}
		rs := &returnState{ret: rr.Return, received: rr.Received, credited: rr.Credited}
		if rs.received == nil {
			rs.received = map[string]canonical.Decimal{}
		}
		if rs.credited == nil {
			rs.credited = map[string]canonical.Decimal{}
		}
		if rr.Pending != nil {
			rs.pending = &returnPost{key: rr.Pending.Key, ret: rr.Pending.Return}
		}
		for _, c := range rr.Credits {
			rs.credits = append(rs.credits, returnCredit{ret: c.Return, memo: c.Memo, seq: c.Seq})
		}
		st.returns[id] = rs
		st.retOrder = append(st.retOrder, id)
	}
	if len(st.invOrder) != len(st.invoices) || len(slices.Compact(slices.Sorted(slices.Values(st.invOrder)))) != len(st.invOrder) {
		return nil, bad("%d invoices in an invoice order of %d shipments", len(st.invoices), len(st.invOrder))
	}
	return st, nil
}

// MemoryState is a [StateStore] in memory: it keeps each order's encoded
// state, and forgets a final order once its retention has passed since it
// was last saved. It does not survive the process. Its zero value keeps
// final orders for [DefaultStateRetention] by time.Now; it is safe for
// concurrent use.
type MemoryState struct {
	// Retention is how long a final order is kept after it was last
	// saved; zero means DefaultStateRetention. Set it before first use.
	Retention time.Duration
	// Now is the clock of the retention; nil means time.Now. Set it before
	// first use.
	Now func() time.Time

	mu     sync.Mutex
	m      map[string]memState
	peak   int // most entries m held since it was last rebuilt
	held   map[string]struct{}
	expiry []memExpiry // final saves in the order of their times
}

type memState struct {
	s     StoredState
	saved time.Time
}

type memExpiry struct {
	id    string
	saved time.Time
}

var _ StateStore = (*MemoryState)(nil)

func (m *MemoryState) clock() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// sweepLocked forgets the final orders whose retention has passed.
func (m *MemoryState) sweepLocked(now time.Time) {
	keep := m.Retention
	if keep == 0 {
		keep = DefaultStateRetention
	}
	i := 0
	for ; i < len(m.expiry) && now.Sub(m.expiry[i].saved) >= keep; i++ {
		e := m.expiry[i]
		if cur, ok := m.m[e.id]; ok && cur.s.Final && cur.saved.Equal(e.saved) {
			delete(m.m, e.id)
		}
	}
	if i == 0 {
		return
	}
	m.expiry = slices.Delete(m.expiry, 0, i)
	if cap(m.expiry) > 64 && len(m.expiry) < cap(m.expiry)/4 {
		// A new array: slicing (slices.Clip too) keeps the old one,
		// with room for the peak, alive.
		m.expiry = slices.Clone(m.expiry)
	}
	// A map does not shrink: rebuild it once it holds a quarter of its
	// peak, so that memory follows what is kept.
	if m.peak > 256 && len(m.m) < m.peak/4 {
		n := make(map[string]memState, len(m.m))
		for id, e := range m.m {
			n[id] = e
		}
		m.m, m.peak = n, len(n)
	}
}

// LoadState implements StateStore.
func (m *MemoryState) LoadState(ctx context.Context, orderID string) (StoredState, bool, error) {
	if err := ctx.Err(); err != nil {
		return StoredState{}, false, context.Cause(ctx)
	}
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	e, ok := m.m[orderID]
	if !ok {
		return StoredState{}, false, nil
	}
	e.s.Data = slices.Clone(e.s.Data)
	return e.s, true, nil
}

// SaveState implements StateStore. It keeps a copy of s.Data.
func (m *MemoryState) SaveState(ctx context.Context, s StoredState) error {
	s.Data = slices.Clone(s.Data)
	return m.saveOwned(ctx, s)
}

// saveOwned is SaveState keeping s.Data itself, which the caller no longer
// uses.
func (m *MemoryState) saveOwned(ctx context.Context, s StoredState) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if s.OrderID == "" {
		return fmt.Errorf("flow: save state: %w: empty order ID", ErrBadState)
	}
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	if m.m == nil {
		m.m, m.held = map[string]memState{}, map[string]struct{}{}
	}
	if cur := m.m[s.OrderID].s.Version; cur != s.Version-1 {
		return fmt.Errorf("%w: order %q at version %d, saved at version %d", ErrStateConflict, s.OrderID, cur, s.Version)
	}
	m.m[s.OrderID] = memState{s: s, saved: now}
	m.peak = max(m.peak, len(m.m))
	if s.Held {
		m.held[s.OrderID] = struct{}{}
	} else {
		delete(m.held, s.OrderID)
	}
	if s.Final {
		m.expiry = append(m.expiry, memExpiry{id: s.OrderID, saved: now})
	}
	return nil
}

// HeldOrders implements StateStore; the IDs are sorted.
func (m *MemoryState) HeldOrders(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.held))
	for id := range m.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// Len returns how many orders the store holds, final ones within their
// retention included.
func (m *MemoryState) Len() int {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	return len(m.m)
}

// ids returns the IDs of the orders the store holds.
func (m *MemoryState) ids() []string {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	out := make([]string, 0, len(m.m))
	for id := range m.m {
		out = append(out, id)
	}
	return out
}
