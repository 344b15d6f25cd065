package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/flow"
)

// This file owns the business exceptions: their rules, their evaluation on
// an order's state and their delivery to the hook, once per occurrence.

// Rule names a business exception rule. It is a plain value, safe for
// concurrent use; the zero value is no rule.
type Rule string

// The rules Rules configures.
const (
	RuleOnHold          Rule = "on_hold_too_long"
	RuleBackordered     Rule = "backordered_past_promise"
	RuleNotAllocated    Rule = "released_not_allocated"
	RuleNoTracking      Rule = "shipped_without_tracking"
	RuleInvoiceMismatch Rule = "invoice_amount_differs"
)

// Rules configures the business exception rules. The zero value evaluates
// none; each set field turns one rule on. It is a plain value, safe for
// concurrent reads.
type Rules struct {
	// OnHold raises RuleOnHold for an order on hold for longer.
	OnHold time.Duration
	// Backordered raises RuleBackordered for a line with a backordered
	// quantity past its promised date.
	Backordered bool
	// NotAllocated raises RuleNotAllocated for a fulfilment order
	// released longer ago that the WMS has not answered: its lines have
	// nothing allocated, backordered, picked, shipped or cancelled.
	NotAllocated time.Duration
	// NoTracking raises RuleNoTracking for a shipment with no tracking
	// number (on it or on a package).
	NoTracking bool
	// InvoiceMismatch raises RuleInvoiceMismatch for an order invoiced
	// in full whose invoices' totals do not add up to the ERP's order
	// total.
	InvoiceMismatch bool
}

// Validate reports a configuration error, matching ErrInvalidConfig.
func (r Rules) Validate() error {
	if r.OnHold < 0 || r.NotAllocated < 0 {
		return fmt.Errorf("%w: Rules durations must not be negative", ErrInvalidConfig)
	}
	return nil
}

// Exception is one business exception: an order that hurts a customer.
// It is a plain value, safe for concurrent reads. The zero value is no
// exception.
type Exception struct {
	Rule    Rule   `json:"rule"`
	OrderID string `json:"orderId"`
	Detail  string `json:"detail"`
	// Since is when the situation began (the hold placed, the promised
	// date, the release, the shipment, the last invoice).
	Since time.Time `json:"since"`
	// key tells occurrences apart: the rule, the order and the entity.
	key string
}

// exceptions evaluates the rules on one order.
func (r *Reconciler) exceptions(rep *Report, v flow.OrderView, erpView *canonical.Order) {
	rs, now, id := r.cfg.Rules, rep.At, v.Order.ID
	add := func(rule Rule, entity, detail string, since time.Time) {
		rep.Exceptions = append(rep.Exceptions, Exception{Rule: rule, OrderID: id, Detail: detail, Since: since,
			key: string(rule) + "\x00" + id + "\x00" + entity})
	}
	if rs.OnHold > 0 && v.Phase == "on_hold" {
		for _, h := range v.Order.Holds {
			if h.ReleasedAt.IsZero() && !h.PlacedAt.IsZero() && now.Sub(h.PlacedAt) > rs.OnHold {
				add(RuleOnHold, string(h.Kind)+h.PlacedAt.String(), fmt.Sprintf("%s hold for %s", h.Kind, age(now.Sub(h.PlacedAt))), h.PlacedAt)
			}
		}
	}
	if rs.Backordered {
		for _, l := range v.Order.Lines {
			b := l.Buckets.Get(canonical.BucketBackordered)
			if b.IsPos() && !l.PromisedDate.IsZero() && now.After(l.PromisedDate) {
				add(RuleBackordered, l.ID, fmt.Sprintf("line %s: %s backordered, promised %s", l.ID, b.Trim(), l.PromisedDate.Format(time.DateOnly)), l.PromisedDate)
			}
		}
	}
	if rs.NotAllocated > 0 {
		lines := map[string]*canonical.OrderLine{}
		for i := range v.Order.Lines {
			lines[v.Order.Lines[i].ID] = &v.Order.Lines[i]
		}
		for _, fo := range v.FulfillmentOrders {
			if fo.ReleasedAt.IsZero() || now.Sub(fo.ReleasedAt) <= rs.NotAllocated {
				continue
			}
			moved := false
			for _, fl := range fo.Lines {
				if l := lines[fl.OrderLineID]; l != nil {
					for _, b := range []canonical.Bucket{canonical.BucketAllocated, canonical.BucketBackordered, canonical.BucketPicked, canonical.BucketShipped, canonical.BucketCancelled} {
						moved = moved || l.Buckets.Get(b).IsPos()
					}
				}
			}
			if !moved {
				add(RuleNotAllocated, fo.ID, fmt.Sprintf("fulfilment order %s at %s released %s ago, nothing allocated", fo.ID, fo.Warehouse, age(now.Sub(fo.ReleasedAt))), fo.ReleasedAt)
			}
		}
	}
	if rs.NoTracking {
		for _, s := range v.Shipments {
			tracked := len(s.TrackingNumbers) > 0
			for _, p := range s.Packages {
				tracked = tracked || p.TrackingNumber != ""
			}
			if !tracked {
				add(RuleNoTracking, s.ID, fmt.Sprintf("shipment %s from %s has no tracking number", s.ID, s.Warehouse), s.ShippedAt)
			}
		}
	}
	if rs.InvoiceMismatch && erpView != nil && erpView.Totals != nil && v.Status.Billing == canonical.BillingInvoiced && len(v.Invoices) > 0 {
		var sum canonical.Decimal
		var last time.Time
		for _, inv := range v.Invoices {
			sum, _ = sum.Add(inv.Totals.Total.Amount)
			last = inv.InvoiceDate
		}
		if want := erpView.Totals.Total.Amount; sum.Cmp(want) != 0 {
			add(RuleInvoiceMismatch, "", fmt.Sprintf("invoiced %s, order total %s", sum.Trim(), want.Trim()), last)
		}
	}
}

// deliver hands the exceptions not delivered yet to the hook, and forgets
// those that cleared, so that they are delivered again when they recur. It
// marks an exception delivered before calling the hook, without the run
// lock, so that a concurrent run does not deliver it too, and unmarks it when
// the hook fails.
func (r *Reconciler) deliver(ctx context.Context, rep *Report) {
	r.run.Lock()
	present := map[string]bool{}
	var pending []Exception
	for _, e := range rep.Exceptions {
		present[e.key] = true
		if r.delivered[e.key] || r.cfg.Hook == nil {
			continue
		}
		r.delivered[e.key] = true
		pending = append(pending, e)
	}
	if !rep.Cost.Truncated { // else the orders not reached keep their deliveries
		for k := range r.delivered {
			if !present[k] {
				delete(r.delivered, k)
			}
		}
	}
	r.run.Unlock()
	for _, e := range pending {
		if err := r.cfg.Hook(ctx, e); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: %v", e.Rule, e.OrderID, err))
			r.run.Lock()
			delete(r.delivered, e.key)
			r.run.Unlock()
		}
	}
}

// age rounds a duration for an exception's detail: to the minute, or to
// the second under a minute (a rule of seconds would read "0s").
func age(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Minute)
}
