package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// This file owns the configuration, the report types and one
// reconciliation run.

// DefaultMaxCalls is the connector calls one run makes at most when
// Config.MaxCalls is zero.
const DefaultMaxCalls = 10000

// DefaultGrace is how long a difference may be in flight before it is
// reported, when Config.Grace is zero.
const DefaultGrace = 5 * time.Minute

// ErrInvalidConfig is matched by the error of New and Config.Validate.
var ErrInvalidConfig = errors.New("reconcile: invalid configuration")

// Kind names a kind of difference. It is a plain value, safe for concurrent
// use; the zero value is no kind.
type Kind string

// The kinds of difference a run reports.
const (
	// KindUnknownToWMS: the order is accepted in the ERP but the WMS
	// knows no fulfilment order of it after Config.ReleaseGrace.
	KindUnknownToWMS Kind = "unknown_to_wms"
	// KindShipped: the shipped quantity of a line differs between
	// systems.
	KindShipped Kind = "shipped_quantity"
	// KindCancelled: the cancelled quantity of a line differs between
	// the ERP and the flow, as an edit made in the ERP by hand leaves it.
	KindCancelled Kind = "cancelled_quantity"
	// KindMissingInvoice: the ERP shipped more of a line than it
	// invoiced.
	KindMissingInvoice Kind = "missing_invoice"
	// KindAvailability: the CRM shows an availability that differs from
	// the WMS's by more than Config.Tolerance.
	KindAvailability Kind = "availability"
)

// The system names a Difference uses.
const (
	SystemERP  = "erp"
	SystemWMS  = "wms"
	SystemCRM  = "crm"
	SystemFlow = "flow"
)

// Difference is one place where systems disagree. It is a plain value,
// safe for concurrent reads. The zero value is no difference.
type Difference struct {
	Kind    Kind   `json:"kind"`
	OrderID string `json:"orderId,omitempty"`
	LineID  string `json:"lineId,omitempty"`
	// SKU and Location name the item and warehouse of an inventory
	// difference (and the item of an order line).
	SKU      string `json:"sku,omitempty"`
	Location string `json:"location,omitempty"`
	// Systems are the systems compared, in the order Detail names them.
	Systems []string `json:"systems"`
	// Detail says what each system shows.
	Detail string `json:"detail"`
	// Since is when the difference began, as far as is known: the time
	// the data gives, else the first run that saw it.
	Since time.Time `json:"since"`
	// Repair says what the run did about it: "" when it only reported,
	// "re-appended N event(s)", or "none: ..." when nothing it can do
	// repairs it.
	Repair string `json:"repair,omitempty"`
}

// Age returns how long the difference has lasted at t.
func (d Difference) Age(t time.Time) time.Duration { return t.Sub(d.Since) }

// Cost is what a run spent. It is a plain value, safe for concurrent reads.
type Cost struct {
	// Calls counts the connector calls made.
	Calls int `json:"calls"`
	// Orders counts the orders compared; Positions the inventory
	// positions.
	Orders    int `json:"orders"`
	Positions int `json:"positions"`
	// Appended counts the events a repair appended.
	Appended int `json:"appended"`
	// Truncated reports that the run stopped at Config.MaxCalls: the next
	// run goes on with the orders it did not reach.
	Truncated bool `json:"truncated,omitempty"`
}

// Report is the result of one run. It is a plain value, safe for
// concurrent reads. The zero value is an empty report.
type Report struct {
	At          time.Time    `json:"at"`
	Differences []Difference `json:"differences"`
	Exceptions  []Exception  `json:"exceptions"`
	Cost        Cost         `json:"cost"`
	// Counts counts the differences by kind and the exceptions by rule,
	// for metrics: keys "difference/KIND" and "exception/RULE".
	Counts map[string]int `json:"counts"`
	// Errors are the reads that failed (what they would have shown is not
	// compared) and the errors of Config.Hook (those exceptions are
	// delivered again at the next run).
	Errors []string `json:"errors,omitempty"`
}

// FulfillmentReader is an optional role of a WMS, found with connector.As,
// that reads one fulfilment order (as wms.Memory does); CodeNotFound when
// the WMS does not know it.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use.
type FulfillmentReader interface {
	FulfillmentOrder(ctx context.Context, id string) (canonical.FulfillmentOrder, error)
}

// AvailabilityViewer is an optional role of a CRM, found with connector.As,
// that returns the availability it shows of a SKU at a location (as
// crm.Memory does), and false when it shows none.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use.
type AvailabilityViewer interface {
	ShownAvailability(sku, location string) (connector.Availability, bool)
}

// Config configures a Reconciler. State is required; the zero values of
// the other fields are their documented defaults. New reads it once.
type Config struct {
	// State is the flow's state store, the one given to
	// flow.Config.State (a flow without one keeps its open orders in
	// memory, where no reconciler sees them); it must implement
	// flow.StateLister (flow.SQLState and flow.MemoryState do). Required.
	State flow.StateStore
	// ERP is read with its OrderReader role; nil skips the ERP's view.
	ERP connector.OrderReader
	// WMS is read with its optional roles: connector.InventoryReader,
	// connector.EventFeed and FulfillmentReader. Nil skips the WMS.
	WMS any
	// CRM is read with its optional roles flow.StatusViewer and
	// AvailabilityViewer. Nil skips the CRM.
	CRM any
	// Log is the flow's event log, where a repair appends. Required when
	// Repair is set.
	Log eventlog.Log
	// Repair, when set, re-appends the lost source events it finds (see
	// the package documentation). Otherwise a run only reports.
	Repair bool
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Recent is how long closed orders stay compared after they closed.
	// Zero means 24 hours.
	Recent time.Duration
	// Grace is how long a difference may be in flight before it is
	// reported (the flow's normal lag). Zero means DefaultGrace.
	Grace time.Duration
	// ReleaseGrace is how long an order accepted in the ERP may stay
	// unknown to the WMS. Zero means 15 minutes.
	ReleaseGrace time.Duration
	// Tolerance is the availability difference that is not reported.
	// The zero value reports any difference.
	Tolerance canonical.Decimal
	// MaxCalls bounds the connector calls of one run. Zero means
	// DefaultMaxCalls.
	MaxCalls int
	// Rate is the connector calls per second a run makes at most (a token
	// bucket of Burst). Zero means no limit.
	Rate float64
	// Burst is the token bucket's size. Zero means 1.
	Burst int
	// PageSize is the events one read of the WMS feed asks for. Zero
	// means 500.
	PageSize int
	// Rules are the business exception rules; the zero value evaluates
	// none.
	Rules Rules
	// Hook, when not nil, receives each exception once per occurrence.
	// It is called from the goroutine of the run, never with a lock held.
	Hook func(ctx context.Context, e Exception) error
	// Interval is the time between runs of Run. Zero means 5 minutes.
	Interval time.Duration
	// OnReport, when not nil, receives the report of each run of Run.
	OnReport func(Report)
}

// Validate reports a configuration error, matching ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.State == nil:
		return fmt.Errorf("%w: Config.State is required", ErrInvalidConfig)
	case c.Repair && c.Log == nil:
		return fmt.Errorf("%w: Config.Log is required with Config.Repair", ErrInvalidConfig)
	case c.Recent < 0, c.Grace < 0, c.ReleaseGrace < 0, c.Interval < 0:
		return fmt.Errorf("%w: Config durations must not be negative", ErrInvalidConfig)
	case c.MaxCalls < 0, c.Burst < 0, c.PageSize < 0, c.Rate < 0:
		return fmt.Errorf("%w: Config.MaxCalls, Burst, PageSize and Rate must not be negative", ErrInvalidConfig)
	case c.Tolerance.IsNeg():
		return fmt.Errorf("%w: Config.Tolerance %s is negative", ErrInvalidConfig, c.Tolerance)
	}
	if _, ok := c.State.(flow.StateLister); !ok {
		return fmt.Errorf("%w: Config.State %T does not list its orders (flow.StateLister)", ErrInvalidConfig, c.State)
	}
	return c.Rules.Validate()
}

// Reconciler runs reconciliations. It remembers, between runs, where it
// read the WMS feed, when each difference was first seen, the events it
// appended and the exceptions it delivered. It is safe for concurrent use;
// runs take turns. The zero value is not usable; create it with New.
type Reconciler struct {
	cfg  Config
	list flow.StateLister

	run sync.Mutex // one run at a time; guards the fields below (deliver takes it briefly)

	feedCur    connector.Cursor
	feedDone   bool                        // the feed was read to its end once
	shipEvents map[string][]shipEvent      // by order ID
	invEvents  map[string]canonical.Event  // latest inventory event by SKU@location
	firstSeen  map[string]time.Time        // difference key → first run that saw it
	appended   map[canonical.EventKey]bool // events a repair appended
	delivered  map[string]bool             // exception keys delivered and still present
	resumeFrom string                      // first order of the next run after a truncated one
	tokens     float64
	last       time.Time

	latest struct { // the report of the latest completed run, for Last
		sync.Mutex
		rep Report
		ok  bool
	}
}

type shipEvent struct {
	ev canonical.Event
	s  canonical.Shipment
}

// New returns a Reconciler. The error matches ErrInvalidConfig.
func New(cfg Config) (*Reconciler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recent == 0 {
		cfg.Recent = 24 * time.Hour
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.ReleaseGrace == 0 {
		cfg.ReleaseGrace = 15 * time.Minute
	}
	if cfg.MaxCalls == 0 {
		cfg.MaxCalls = DefaultMaxCalls
	}
	if cfg.Burst == 0 {
		cfg.Burst = 1
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 500
	}
	if cfg.Interval == 0 {
		cfg.Interval = 5 * time.Minute
	}
	return &Reconciler{
		cfg: cfg, list: cfg.State.(flow.StateLister),
		shipEvents: map[string][]shipEvent{}, invEvents: map[string]canonical.Event{},
		firstSeen: map[string]time.Time{}, appended: map[canonical.EventKey]bool{}, delivered: map[string]bool{},
		tokens: float64(cfg.Burst),
	}, nil
}

// Run reconciles every Config.Interval until ctx is done, handing each
// report to Config.OnReport; a run that fails is reported there too, with
// the error in Errors. It returns context.Cause(ctx).
func (r *Reconciler) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		rep, err := r.Reconcile(ctx)
		if err != nil && ctx.Err() == nil {
			rep.Errors = append(rep.Errors, err.Error())
		}
		if r.cfg.OnReport != nil && ctx.Err() == nil {
			r.cfg.OnReport(rep)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// errBudget stops a run that spent Config.MaxCalls.
var errBudget = errors.New("reconcile: call budget spent")

// call spends one call of the run's budget, waiting on the token bucket.
func (r *Reconciler) call(ctx context.Context, rep *Report) error {
	if rep.Cost.Calls >= r.cfg.MaxCalls {
		return errBudget
	}
	if r.cfg.Rate > 0 {
		now := r.cfg.Now()
		if !r.last.IsZero() {
			r.tokens = min(float64(r.cfg.Burst), r.tokens+now.Sub(r.last).Seconds()*r.cfg.Rate)
		}
		r.last = now
		if r.tokens < 1 {
			wait := time.Duration((1 - r.tokens) / r.cfg.Rate * float64(time.Second))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return context.Cause(ctx)
			case <-t.C:
			}
			r.tokens = 1
			r.last = r.last.Add(wait)
		}
		r.tokens--
	}
	rep.Cost.Calls++
	return nil
}

// Reconcile runs one reconciliation and returns its report. An error is
// returned when the state store cannot be listed or a repair cannot append;
// a connector that fails for one order is reported in that order's
// differences' place as an error only when nothing else can be compared,
// and the run goes on.
func (r *Reconciler) Reconcile(ctx context.Context) (Report, error) {
	rep, err := r.compare(ctx)
	if err != nil {
		return rep, err
	}
	r.deliver(ctx, &rep) // without the lock: the hook may take its time
	for _, e := range rep.Exceptions {
		rep.Counts["exception/"+string(e.Rule)]++
	}
	r.latest.Lock()
	if !r.latest.ok || !rep.At.Before(r.latest.rep.At) {
		r.latest.rep, r.latest.ok = rep, true
	}
	r.latest.Unlock()
	return rep, nil
}

// Last returns the report of the latest run that completed (by Reconcile
// or Run), and false when no run has completed yet. A run that failed
// leaves the previous report in place. The report is shared: callers must
// not modify its slices and map. Last is safe to call concurrently with a
// run, as the operator page does on every request.
func (r *Reconciler) Last() (Report, bool) {
	r.latest.Lock()
	defer r.latest.Unlock()
	return r.latest.rep, r.latest.ok
}

// compare makes the comparisons of one run, holding the run lock.
func (r *Reconciler) compare(ctx context.Context) (Report, error) {
	r.run.Lock()
	defer r.run.Unlock()
	now := r.cfg.Now()
	rep := Report{At: now, Counts: map[string]int{}}
	seen := map[string]bool{}
	err := r.reconcile(ctx, &rep, seen)
	if errors.Is(err, errBudget) {
		rep.Cost.Truncated, err = true, nil
	}
	if err != nil {
		return rep, err
	}
	// Forget what cleared, so that it is new again when it comes back.
	if !rep.Cost.Truncated {
		for k := range r.firstSeen {
			if !seen[k] {
				delete(r.firstSeen, k)
			}
		}
	}
	for _, d := range rep.Differences {
		rep.Counts["difference/"+string(d.Kind)]++
	}
	return rep, nil
}

func (r *Reconciler) reconcile(ctx context.Context, rep *Report, seen map[string]bool) error {
	if err := r.readFeed(ctx, rep); err != nil {
		return err
	}
	ids, err := r.list.ListOrders(ctx, rep.At.Add(-r.cfg.Recent))
	if err != nil {
		return fmt.Errorf("reconcile: list orders: %w", err)
	}
	// Resume after a truncated run with the orders it did not reach.
	if i, ok := slices.BinarySearch(ids, r.resumeFrom); ok || i > 0 {
		ids = append(ids[i:], ids[:i]...)
	}
	r.resumeFrom = ""
	for _, id := range ids {
		if err := r.order(ctx, rep, seen, id); err != nil {
			if errors.Is(err, errBudget) {
				r.resumeFrom = id
			}
			return err
		}
	}
	return r.inventory(ctx, rep, seen)
}

// readFeed reads the WMS feed from where the last run stopped.
func (r *Reconciler) readFeed(ctx context.Context, rep *Report) error {
	feed, ok := connector.As[connector.EventFeed](r.cfg.WMS)
	if !ok {
		return nil
	}
	for {
		if err := r.call(ctx, rep); err != nil {
			return err
		}
		page, err := feed.PollEvents(ctx, r.feedCur, r.cfg.PageSize)
		if err != nil {
			return fmt.Errorf("reconcile: read the WMS feed: %w", err)
		}
		for _, ev := range page.Events {
			switch {
			case ev.Type == canonical.EventFulfillmentShipped:
				s, err := canonical.DecodeData[canonical.Shipment](ev)
				if err != nil || s.OrderID == "" {
					continue // the flow dead-letters it; nothing to compare
				}
				ev.PartitionKey = s.OrderID
				r.shipEvents[s.OrderID] = append(r.shipEvents[s.OrderID], shipEvent{ev: ev, s: s})
			case ev.Type == canonical.EventInventoryAdjusted:
				a, err := canonical.DecodeData[canonical.InventoryAdjustment](ev)
				if err == nil {
					r.keepInventory(ev, a.Item.SKU, a.Location, a.Sequence)
				}
			case ev.Type == canonical.EventInventorySnapshot:
				p, err := canonical.DecodeData[canonical.InventoryPosition](ev)
				if err == nil {
					r.keepInventory(ev, p.Item.SKU, p.Location, p.Sequence)
				}
			}
		}
		if page.Next != "" {
			r.feedCur = page.Next
		}
		if len(page.Events) < r.cfg.PageSize {
			r.feedDone = true
			return nil
		}
	}
}

func (r *Reconciler) keepInventory(ev canonical.Event, sku, location string, seq int64) {
	k := sku + "@" + location
	if old, ok := r.invEvents[k]; ok {
		if oa, err := canonical.DecodeData[canonical.InventoryAdjustment](old); err == nil && oa.Sequence > seq {
			return
		}
	}
	r.invEvents[k] = ev
}

// add records a difference, keeping the first time it was seen.
func (r *Reconciler) add(rep *Report, seen map[string]bool, d Difference) *Difference {
	k := strings.Join([]string{string(d.Kind), d.OrderID, d.LineID, d.SKU, d.Location}, "\x00")
	seen[k] = true
	if first, ok := r.firstSeen[k]; ok {
		if d.Since.IsZero() || first.Before(d.Since) {
			d.Since = first
		}
	} else {
		r.firstSeen[k] = rep.At
		if d.Since.IsZero() {
			d.Since = rep.At
		}
	}
	rep.Differences = append(rep.Differences, d)
	return &rep.Differences[len(rep.Differences)-1]
}

// order compares one order.
func (r *Reconciler) order(ctx context.Context, rep *Report, seen map[string]bool, id string) error {
	v, err := flow.StoredOrder(ctx, r.cfg.State, id)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	rep.Cost.Orders++
	now := rep.At
	var erpView *canonical.Order
	if r.cfg.ERP != nil && (v.Phase == "accepted" || v.Phase == "released" || v.Phase == "on_hold") {
		if err := r.call(ctx, rep); err != nil {
			return err
		}
		o, err := r.cfg.ERP.GetOrder(ctx, id)
		switch {
		case err == nil:
			erpView = &o
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case connector.CodeOf(err) != connector.CodeNotFound:
			rep.Errors = append(rep.Errors, fmt.Sprintf("order %s: ERP: %v", id, err))
		}
	}
	var crmView *connector.OrderStatus
	if sv, ok := connector.As[flow.StatusViewer](r.cfg.CRM); ok {
		if err := r.call(ctx, rep); err != nil {
			return err
		}
		if s, ok := sv.ShownStatus(id); ok {
			crmView = &s
		}
	}
	r.exceptions(rep, v, erpView)

	// Accepted in the ERP, unknown to the WMS.
	if erpView != nil {
		accepted := erpView.AcceptedAt
		if accepted.IsZero() {
			accepted = v.Order.AcceptedAt
		}
		if v.Phase == "accepted" && !accepted.IsZero() && now.Sub(accepted) >= r.cfg.ReleaseGrace {
			d := r.add(rep, seen, Difference{Kind: KindUnknownToWMS, OrderID: id, Systems: []string{SystemERP, SystemWMS},
				Detail: "accepted in the ERP, no fulfilment order released to the WMS", Since: accepted})
			r.noRepair(d, "replay the order's dead letters or release it again")
		}
	}
	if fr, ok := connector.As[FulfillmentReader](r.cfg.WMS); ok {
		for _, fo := range v.FulfillmentOrders {
			if err := r.call(ctx, rep); err != nil {
				return err
			}
			_, err := fr.FulfillmentOrder(ctx, fo.ID)
			if err != nil && connector.CodeOf(err) != connector.CodeNotFound {
				rep.Errors = append(rep.Errors, fmt.Sprintf("order %s: WMS: %v", id, err))
			}
			if connector.CodeOf(err) == connector.CodeNotFound {
				d := r.add(rep, seen, Difference{Kind: KindUnknownToWMS, OrderID: id, Systems: []string{SystemFlow, SystemWMS},
					Detail: fmt.Sprintf("fulfilment order %s released by the flow, unknown to the WMS", fo.ID), Since: fo.ReleasedAt})
				r.noRepair(d, "release it again")
			}
		}
	}

	// Per line: shipped, cancelled and invoiced quantities.
	wmsShipped, lost, lastShip := r.wmsShipments(v, now)
	erpLines := map[string]*canonical.OrderLine{}
	if erpView != nil {
		for i := range erpView.Lines {
			erpLines[erpView.Lines[i].ID] = &erpView.Lines[i]
		}
	}
	crmLines := map[string]connector.LineStatus{}
	if crmView != nil {
		for _, l := range crmView.Lines {
			crmLines[l.LineID] = l
		}
	}
	repairedShip := false
	for i := range v.Order.Lines {
		l := &v.Order.Lines[i]
		fs := l.Buckets.Get(canonical.BucketShipped)
		systems, vals := []string{SystemFlow}, []canonical.Decimal{fs}
		// The WMS feed's sum is a lower bound (a feed may have trimmed
		// old events): it is compared when it shows more than the flow.
		if w := wmsShipped[l.ID]; r.feedDone && w.Cmp(fs) > 0 {
			systems, vals = append(systems, SystemWMS), append(vals, w)
		}
		el := erpLines[l.ID]
		if el != nil {
			systems, vals = append(systems, SystemERP), append(vals, el.Buckets.Get(canonical.BucketShipped))
		}
		if cl, ok := crmLines[l.ID]; ok {
			systems, vals = append(systems, SystemCRM), append(vals, cl.Shipped.Value)
		}
		if differ(vals) && now.Sub(lastShip) >= r.cfg.Grace {
			d := r.add(rep, seen, Difference{Kind: KindShipped, OrderID: id, LineID: l.ID, SKU: l.Item.SKU,
				Systems: systems, Detail: detail(systems, vals), Since: lastShip})
			if r.cfg.Repair && len(lost) > 0 && !repairedShip {
				n, err := r.appendEvents(ctx, rep, lost, v.CorrelationID)
				if err != nil {
					return err
				}
				repairedShip = true
				d.Repair = fmt.Sprintf("re-appended %d event(s)", n)
			} else if r.cfg.Repair && len(lost) > 0 {
				d.Repair = "re-appended with the order's first line that differs"
			} else {
				r.noRepair(d, "no lost WMS event explains it")
			}
		}
		if el != nil {
			fc, ec := l.Buckets.Get(canonical.BucketCancelled), el.Buckets.Get(canonical.BucketCancelled)
			if fc.Cmp(ec) != 0 {
				d := r.add(rep, seen, Difference{Kind: KindCancelled, OrderID: id, LineID: l.ID, SKU: l.Item.SKU,
					Systems: []string{SystemFlow, SystemERP}, Detail: detail([]string{SystemFlow, SystemERP}, []canonical.Decimal{fc, ec})})
				r.noRepair(d, "changed in the ERP outside the flow; cancel it through the CRM or correct the ERP")
			}
			es, ei := el.Buckets.Get(canonical.BucketShipped), el.Buckets.Get(canonical.BucketInvoiced)
			if es.Cmp(ei) > 0 && now.Sub(lastShip) >= r.cfg.Grace {
				d := r.add(rep, seen, Difference{Kind: KindMissingInvoice, OrderID: id, LineID: l.ID, SKU: l.Item.SKU,
					Systems: []string{SystemERP}, Detail: fmt.Sprintf("erp shipped %s, invoiced %s", es, ei), Since: lastShip})
				r.noRepair(d, "replay the shipment's dead letter")
			}
		}
	}
	return nil
}

func (r *Reconciler) noRepair(d *Difference, why string) {
	if r.cfg.Repair {
		d.Repair = "none: " + why
	}
}

// wmsShipments sums the shipped quantities of the WMS feed's shipments of
// the order by line, and returns the shipment events the flow does not
// know and the time of the latest shipment.
func (r *Reconciler) wmsShipments(v flow.OrderView, now time.Time) (map[string]canonical.Decimal, []canonical.Event, time.Time) {
	known := map[string]bool{}
	var last time.Time
	for _, s := range v.Shipments {
		known[s.ID] = true
		if s.ShippedAt.After(last) {
			last = s.ShippedAt
		}
	}
	sums := map[string]canonical.Decimal{}
	var lost []canonical.Event
	for _, se := range r.shipEvents[v.Order.ID] {
		for _, l := range se.s.Lines {
			if s, err := sums[l.OrderLineID].Add(l.Quantity.Value); err == nil {
				sums[l.OrderLineID] = s
			}
		}
		if se.s.ShippedAt.After(last) {
			last = se.s.ShippedAt
		}
		if !known[se.s.ID] {
			lost = append(lost, se.ev)
		}
	}
	if last.IsZero() {
		last = now.Add(-r.cfg.Grace)
	}
	return sums, lost, last
}

// appendEvents re-appends the source events not appended before.
func (r *Reconciler) appendEvents(ctx context.Context, rep *Report, evs []canonical.Event, corr string) (int, error) {
	var out []canonical.Event
	for _, ev := range evs {
		k := canonical.EventKey{Source: ev.Source, ID: ev.ID}
		if r.appended[k] {
			continue
		}
		if corr != "" {
			ev.CorrelationID = corr
		}
		out = append(out, ev)
	}
	if len(out) == 0 {
		return 0, nil
	}
	if err := r.cfg.Log.Append(ctx, out...); err != nil {
		return 0, fmt.Errorf("reconcile: repair: append: %w", err)
	}
	for _, ev := range out {
		r.appended[canonical.EventKey{Source: ev.Source, ID: ev.ID}] = true
	}
	rep.Cost.Appended += len(out)
	return len(out), nil
}

// inventory compares the WMS's availability with the CRM's.
func (r *Reconciler) inventory(ctx context.Context, rep *Report, seen map[string]bool) error {
	ir, ok := connector.As[connector.InventoryReader](r.cfg.WMS)
	if !ok {
		return nil
	}
	av, ok := connector.As[AvailabilityViewer](r.cfg.CRM)
	if !ok {
		return nil
	}
	if err := r.call(ctx, rep); err != nil {
		return err
	}
	pos, err := ir.Inventory(ctx, connector.InventoryQuery{})
	if err != nil {
		return fmt.Errorf("reconcile: read WMS inventory: %w", err)
	}
	type key struct{ sku, loc string }
	sums := map[key]canonical.Decimal{}
	var keys []key
	for _, p := range pos {
		if p.Status != canonical.InventoryAvailable {
			continue
		}
		k := key{p.Item.SKU, p.Location}
		if _, ok := sums[k]; !ok {
			keys = append(keys, k)
		}
		if s, err := sums[k].Add(p.Available.Value); err == nil {
			sums[k] = s
		}
	}
	for _, k := range keys {
		if err := r.call(ctx, rep); err != nil {
			return err
		}
		rep.Cost.Positions++
		shown, ok := av.ShownAvailability(k.sku, k.loc)
		if !ok {
			continue // the CRM shows nothing of it: not published yet
		}
		diff, err := sums[k].Sub(shown.Available.Value)
		if err != nil || diff.Abs().Cmp(r.cfg.Tolerance) <= 0 {
			continue
		}
		ev, hasEv := r.invEvents[k.sku+"@"+k.loc]
		since := shown.AsOf
		if hasEv {
			if rep.At.Sub(ev.Time) < r.cfg.Grace {
				continue // in flight
			}
			since = ev.Time
		}
		d := r.add(rep, seen, Difference{Kind: KindAvailability, SKU: k.sku, Location: k.loc,
			Systems: []string{SystemWMS, SystemCRM}, Detail: detail([]string{SystemWMS, SystemCRM}, []canonical.Decimal{sums[k], shown.Available.Value}),
			Since: since})
		switch {
		case r.cfg.Repair && hasEv:
			n, err := r.appendEvents(ctx, rep, []canonical.Event{ev}, "")
			if err != nil {
				return err
			}
			d.Repair = fmt.Sprintf("re-appended %d event(s)", n)
		default:
			r.noRepair(d, "no WMS inventory event of it in the feed")
		}
	}
	return nil
}

func differ(vals []canonical.Decimal) bool {
	for _, v := range vals[1:] {
		if v.Cmp(vals[0]) != 0 {
			return true
		}
	}
	return false
}

func detail(systems []string, vals []canonical.Decimal) string {
	var b strings.Builder
	for i, s := range systems {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", s, vals[i].Trim())
	}
	return b.String()
}
