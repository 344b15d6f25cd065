package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/reconcile"
)

// This file holds the read commands: where, lag and reconcile.

func whereCmd(fs *flag.FlagSet) func(*env, []string) int {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: distsync where ORDER\n\nShows the order as the flow's state holds it (phase, status, quantities per\nline, fulfilment orders, shipments, invoices) and its dead letters. It reads\nthe store only: what the ERP, WMS and CRM show is not asked. Exit 1 when the\nstore holds no such order.")
	}
	return func(e *env, args []string) int {
		if len(args) != 1 {
			fs.Usage()
			return exitUsage
		}
		v, err := flow.StoredOrder(e.ctx, e.state, args[0])
		if errors.Is(err, flow.ErrUnknownOrder) {
			fmt.Fprintf(e.errw, "distsync where: no order %q in the flow's state\n", args[0])
			return exitFindings
		}
		if err != nil {
			return e.fail(err)
		}
		if v.CorrelationID != "" {
			if v.DeadLetters, err = e.log.List(e.ctx, eventlog.Filter{CorrelationID: v.CorrelationID}); err != nil {
				return e.fail(err)
			}
		}
		if e.json {
			e.printJSON(v)
			return exitOK
		}
		fmt.Fprintf(e.out, "order %s  phase %s  status %s/%s/%s  correlation %s\n\n", v.Order.ID, v.Phase,
			v.Status.Commercial, v.Status.Fulfillment, v.Status.Billing, v.CorrelationID)
		var lines [][]string
		for _, l := range v.Order.Lines {
			b := l.Buckets
			lines = append(lines, []string{l.ID, l.Item.SKU, q(b, canonical.BucketOrdered), q(b, canonical.BucketAllocated),
				q(b, canonical.BucketBackordered), q(b, canonical.BucketShipped), q(b, canonical.BucketInvoiced), q(b, canonical.BucketCancelled)})
		}
		e.table("LINE\tSKU\tORDERED\tALLOCATED\tBACKORDERED\tSHIPPED\tINVOICED\tCANCELLED", lines)
		var docs [][]string
		for _, fo := range v.FulfillmentOrders {
			docs = append(docs, []string{"fulfilment", fo.ID, fo.Warehouse, ts(fo.ReleasedAt)})
		}
		for _, s := range v.Shipments {
			docs = append(docs, []string{"shipment", s.ID, s.Warehouse + " " + strings.Join(s.TrackingNumbers, ","), ts(s.ShippedAt)})
		}
		for _, i := range v.Invoices {
			docs = append(docs, []string{"invoice", i.Number, i.Totals.Total.Amount.String() + " " + string(i.Totals.Total.Currency), ts(i.InvoiceDate)})
		}
		if len(docs) > 0 {
			fmt.Fprintln(e.out)
			e.table("DOCUMENT\tID\tDETAIL\tAT", docs)
		}
		if len(v.DeadLetters) > 0 {
			fmt.Fprintln(e.out)
			var rows [][]string
			for _, d := range v.DeadLetters {
				rows = append(rows, []string{strconv.FormatInt(d.ID, 10), string(d.State), string(d.Reason), shortType(string(d.Event.Type)), trunc(d.Error, 60)})
			}
			e.table("DEAD LETTER\tSTATE\tREASON\tTYPE\tERROR", rows)
		}
		return exitOK
	}
}

func q(b canonical.Buckets, k canonical.Bucket) string { return b.Get(k).Trim().String() }

// lagRow is one group's lag.
type lagRow struct {
	Group  string `json:"group"`
	Cursor uint64 `json:"cursor"`
	Behind int    `json:"behind"`
	// More reports that more events than counted are behind (-max).
	More     bool      `json:"more,omitempty"`
	Retrying int       `json:"retrying"`
	Oldest   time.Time `json:"oldestUnhandled,omitzero"`
	AgeSec   float64   `json:"oldestAgeSeconds"`
}

func lagCmd(fs *flag.FlagSet) func(*env, []string) int {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: distsync lag [-group G1,G2] [-max N]\n\nFor each consumer group: its cursor, how many events of the log are after it\n(counted up to -max), how many wait for a retry, and the age of the oldest\nunhandled event (by its time). Exit 0 whatever the lag.")
		fs.PrintDefaults()
	}
	groups := fs.String("group", flow.DefaultGroup, "comma-separated consumer groups (a flow made by flow.NewInventorySync consumes as "+flow.DefaultInventoryGroup+")")
	max := fs.Int("max", 100000, "count at most N events behind per group")
	return func(e *env, args []string) int {
		if len(args) > 0 || *max <= 0 {
			fs.Usage()
			return exitUsage
		}
		now := time.Now()
		var rows []lagRow
		for _, g := range strings.Split(*groups, ",") {
			st, err := e.log.Group(e.ctx, g)
			if err != nil {
				return e.fail(err)
			}
			r := lagRow{Group: g, Cursor: st.Cursor, Retrying: len(st.Retries)}
			after := st.Cursor
			for r.Behind < *max {
				es, err := e.log.Read(e.ctx, after, min(1000, *max-r.Behind))
				if err != nil {
					return e.fail(err)
				}
				if len(es) == 0 {
					break
				}
				if r.Behind == 0 {
					r.Oldest = es[0].Event.Time
				}
				r.Behind += len(es)
				after = es[len(es)-1].Offset
			}
			if r.Behind == *max {
				if es, err := e.log.Read(e.ctx, after, 1); err == nil && len(es) > 0 {
					r.More = true
				}
			}
			if !r.Oldest.IsZero() {
				r.AgeSec = now.Sub(r.Oldest).Seconds()
			}
			rows = append(rows, r)
		}
		if e.json {
			e.printJSON(rows)
			return exitOK
		}
		var t [][]string
		for _, r := range rows {
			behind := strconv.Itoa(r.Behind)
			if r.More {
				behind += "+"
			}
			age := "-"
			if !r.Oldest.IsZero() {
				age = time.Duration(r.AgeSec * float64(time.Second)).Round(time.Second).String()
			}
			t = append(t, []string{r.Group, strconv.FormatUint(r.Cursor, 10), behind, strconv.Itoa(r.Retrying), age})
		}
		e.table("GROUP\tCURSOR\tBEHIND\tRETRYING\tOLDEST AGE", t)
		return exitOK
	}
}

func reconcileCmd(fs *flag.FlagSet) func(*env, []string) int {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: distsync reconcile [-recent D] [-on-hold D] [-not-allocated D]

From the store alone (no connectors are configured here) it reports, for the
orders the flow's state holds open or closed within -recent:
  - the business exceptions the state shows: on hold longer than -on-hold,
    released but not allocated after -not-allocated, backordered past the
    promised date, shipped without tracking;
  - the orders with dead letters waiting for an operator.
It does not ask the ERP, WMS or CRM, so it cannot see drift between them:
embed the reconcile package (reconcile.New with the connectors) for that.
Exit 1 when it finds anything.`)
		fs.PrintDefaults()
	}
	recent := fs.Duration("recent", 24*time.Hour, "compare orders closed within this window")
	onHold := fs.Duration("on-hold", 24*time.Hour, "on hold longer than this is an exception")
	notAlloc := fs.Duration("not-allocated", 4*time.Hour, "released and not allocated after this is an exception")
	return func(e *env, args []string) int {
		if len(args) > 0 {
			fs.Usage()
			return exitUsage
		}
		r, err := reconcile.New(reconcile.Config{State: e.state, Recent: *recent,
			Rules: reconcile.Rules{OnHold: *onHold, NotAllocated: *notAlloc, Backordered: true, NoTracking: true}})
		if err != nil {
			fmt.Fprintf(e.errw, "distsync reconcile: %v\n", err)
			return exitUsage
		}
		rep, err := r.Reconcile(e.ctx)
		if err != nil {
			return e.fail(err)
		}
		dls, err := e.log.List(e.ctx, eventlog.Filter{State: eventlog.StateDead})
		if err != nil {
			return e.fail(err)
		}
		type stuck struct {
			DeadLetter  int64  `json:"deadLetter"`
			Group       string `json:"group"`
			Subject     string `json:"subject"`
			Correlation string `json:"correlationId"`
			Reason      string `json:"reason"`
		}
		out := struct {
			reconcile.Report
			DeadLetters []stuck `json:"deadLetters"`
		}{Report: rep, DeadLetters: []stuck{}}
		for _, d := range dls {
			out.DeadLetters = append(out.DeadLetters, stuck{d.ID, d.Consumer, d.Event.Subject, d.CorrelationID, string(d.Reason)})
		}
		if out.Differences == nil {
			out.Differences = []reconcile.Difference{}
		}
		if out.Exceptions == nil {
			out.Exceptions = []reconcile.Exception{}
		}
		findings := len(rep.Differences) + len(rep.Exceptions) + len(dls)
		if e.json {
			e.printJSON(out)
		} else {
			fmt.Fprintf(e.out, "orders compared: %d  exceptions: %d  dead letters: %d\n", rep.Cost.Orders, len(rep.Exceptions), len(dls))
			if len(rep.Exceptions) > 0 {
				fmt.Fprintln(e.out)
				var rows [][]string
				for _, x := range rep.Exceptions {
					rows = append(rows, []string{string(x.Rule), x.OrderID, ts(x.Since), x.Detail})
				}
				e.table("RULE\tORDER\tSINCE\tDETAIL", rows)
			}
			if len(dls) > 0 {
				fmt.Fprintln(e.out)
				var rows [][]string
				for _, d := range out.DeadLetters {
					rows = append(rows, []string{strconv.FormatInt(d.DeadLetter, 10), d.Group, d.Subject, d.Reason})
				}
				e.table("DEAD LETTER\tGROUP\tSUBJECT\tREASON", rows)
			}
		}
		if findings > 0 {
			return exitFindings
		}
		return exitOK
	}
}
