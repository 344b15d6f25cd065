package flow_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/flow"
)

// amendLine is an amended line: "L2" with the fields set.
func amended(line string, edit func(*canonical.AmendedLine)) canonical.AmendedLine {
	l := canonical.AmendedLine{LineID: line}
	edit(&l)
	return l
}

func eaPtr(v string) *canonical.Quantity {
	q := canonical.MustParseQuantity(v, "EA")
	return &q
}

// TestAmendmentScenarios checks that the ERP's own changes of an accepted
// order reach the CRM and, where they change what ships, the warehouse:
// a rejection takes the backorder away, a reduced confirmation withholds
// the rest, a rejection of picked goods is refused (the goods ship and the
// ERP takes the rejection back), a price correction and a new promised
// date are shown.
func TestAmendmentScenarios(t *testing.T) {
	promised := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	usd := func(s string) *canonical.Money { m := canonical.MustParseMoney(s, "USD"); return &m }
	type want struct {
		status                       canonical.FulfillmentStatus
		shipped, rejected, confirmed []string // per line, "L1:5"
		wmsChanges                   int      // ChangeRelease calls that changed something
		message                      string
		erpRejected                  []string // the ERP's rejected bucket per line
		promised                     time.Time
	}
	tests := []struct {
		name  string
		lines []string
		// before runs before the amendment, after the order was
		// submitted; it settles the world or steps it.
		before func(t *testing.T, w *world)
		amend  []canonical.AmendedLine
		// after runs after the amendment was handled.
		after func(t *testing.T, w *world)
		want  want
	}{
		{name: "backordered line rejected in full", lines: []string{"SKU-100:5", "SKU-105:7"},
			before: func(t *testing.T, w *world) { w.settle(t) },
			amend:  []canonical.AmendedLine{amended("L2", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("7") })},
			want: want{status: canonical.FulfillmentShipped, shipped: []string{"L1:5", "L2:0"}, rejected: []string{"L1:0", "L2:7"},
				wmsChanges: 1, message: "L2: 7 EA rejected by the ERP", erpRejected: []string{"L1:0", "L2:7"}}},
		{name: "backordered line rejected in part, the rest arrives and ships", lines: []string{"SKU-100:5", "SKU-105:7"},
			before: func(t *testing.T, w *world) { w.settle(t) },
			amend:  []canonical.AmendedLine{amended("L2", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("3") })},
			after:  func(t *testing.T, w *world) { w.adjust(t, "ADJ-A1", "SKU-105", "WH-EAST", "9") },
			want: want{status: canonical.FulfillmentShipped, shipped: []string{"L1:5", "L2:4"}, rejected: []string{"L2:3"},
				wmsChanges: 1, message: "L2: 3 EA rejected by the ERP", erpRejected: []string{"L2:3"}}},
		{name: "confirmed quantity reduced: the rest is withheld", lines: []string{"SKU-105:7"},
			before: func(t *testing.T, w *world) { w.settle(t) },
			amend:  []canonical.AmendedLine{amended("L1", func(l *canonical.AmendedLine) { l.Confirmed = eaPtr("2") })},
			after:  func(t *testing.T, w *world) { w.adjust(t, "ADJ-A2", "SKU-105", "WH-EAST", "9") },
			want: want{status: canonical.FulfillmentPartiallyShipped, shipped: []string{"L1:2"}, rejected: []string{"L1:0"}, confirmed: []string{"L1:2"},
				wmsChanges: 1, message: "L1: the ERP confirmed 2 EA", erpRejected: []string{"L1:0"}}},
		{name: "rejection of picked goods is refused", lines: []string{"SKU-100:5"},
			before: func(t *testing.T, w *world) {
				require.NoError(t, w.flow.Drain(context.Background()), "Drain: release")
				w.step(t) // allocates
				w.step(t) // picks
				require.NoError(t, w.flow.Drain(context.Background()), "Drain: picked")
			},
			amend: []canonical.AmendedLine{amended("L1", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("5") })},
			want: want{status: canonical.FulfillmentShipped, shipped: []string{"L1:5"}, rejected: []string{"L1:0"},
				wmsChanges: 0, message: "L1: the ERP rejected 5 EA; 5 EA stays to ship (picked)", erpRejected: []string{"L1:0"}}},
		{name: "price correction and new promised date after shipment", lines: []string{"SKU-100:5"},
			before: func(t *testing.T, w *world) { w.settle(t) },
			amend: []canonical.AmendedLine{amended("L1", func(l *canonical.AmendedLine) {
				l.UnitPrice, l.PromisedDate = usd("11.90"), &promised
			})},
			want: want{status: canonical.FulfillmentShipped, shipped: []string{"L1:5"}, rejected: []string{"L1:0"},
				message: "L1: unit price corrected from 12.50 USD to 11.90 USD", erpRejected: []string{"L1:0"}, promised: promised}},
		{name: "rejection on an accepted order not released yet", lines: []string{"SKU-103:600", "SKU-100:2"},
			before: func(t *testing.T, w *world) { w.settle(t) }, // on credit hold
			amend:  []canonical.AmendedLine{amended("L1", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("600") })},
			after: func(t *testing.T, w *world) {
				n, err := w.flow.CheckHolds(context.Background())
				require.NoError(t, err, "CheckHolds")
				assert.Zero(t, n, "still on hold")
			},
			want: want{status: canonical.FulfillmentUnfulfilled, shipped: []string{"L1:0"}, rejected: []string{"L1:600"},
				message: "L1: 600 EA rejected by the ERP", erpRejected: []string{"L1:600"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				w := newWorld(t, nil)
				id := w.submit(t, "ACC-0001", tt.lines...)
				tt.before(t, w)
				changesBefore := w.wms.Counts().Changes
				_, err := w.erp.AmendOrder(ctx, id, tt.amend, "kit")
				require.NoError(t, err, "AmendOrder")
				if tt.after != nil {
					require.NoError(t, w.flow.Drain(ctx), "Drain: the amendment")
					tt.after(t, w)
				}
				w.settle(t)
				v := w.agree(t, id)
				assert.Equal(t, tt.want.status, v.Status.Fulfillment, "fulfilment status")
				for _, s := range tt.want.shipped {
					line, q, _ := strings.Cut(s, ":")
					assert.Equal(t, q, bucket(t, v, line, canonical.BucketShipped), "shipped of %s", line)
				}
				for _, s := range tt.want.rejected {
					line, q, _ := strings.Cut(s, ":")
					assert.Equal(t, q, bucket(t, v, line, canonical.BucketRejected), "rejected of %s", line)
				}
				for _, s := range tt.want.confirmed {
					line, q, _ := strings.Cut(s, ":")
					assert.Equal(t, q, bucket(t, v, line, canonical.BucketConfirmed), "confirmed of %s", line)
				}
				eo, err := w.erp.GetOrder(ctx, id)
				require.NoError(t, err, "ERP GetOrder")
				for _, s := range tt.want.erpRejected {
					line, q, _ := strings.Cut(s, ":")
					assert.Equal(t, q, eo.Line(line).Buckets.Get(canonical.BucketRejected).String(), "ERP rejected of %s", line)
				}
				assert.Equal(t, tt.want.wmsChanges, w.wms.Counts().Changes-changesBefore, "WMS release changes")
				assert.True(t, slices.ContainsFunc(v.CRM.Messages, func(m string) bool { return strings.Contains(m, tt.want.message) }),
					"CRM messages %q say %q", v.CRM.Messages, tt.want.message)
				if !tt.want.promised.IsZero() {
					assert.True(t, tt.want.promised.Equal(v.CRM.PromisedDate), "CRM promised date %s", v.CRM.PromisedDate)
				}
				assert.Empty(t, v.DeadLetters, "dead letters")
			})
		})
	}
}

// TestAmendmentOrdered delivers the ERP's amendments twice and out of
// order: a duplicate or an older revision changes nothing, and the
// duplicate is counted as one.
func TestAmendmentOrdered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, nil)
		id := w.submit(t, "ACC-0001", "SKU-100:5", "SKU-105:7")
		w.settle(t)
		_, err := w.erp.AmendOrder(ctx, id, []canonical.AmendedLine{amended("L2", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("2") })}, "first")
		require.NoError(t, err, "AmendOrder 1")
		_, err = w.erp.AmendOrder(ctx, id, []canonical.AmendedLine{amended("L2", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("5") })}, "second")
		require.NoError(t, err, "AmendOrder 2")
		w.settle(t)
		before := w.agree(t, id)
		require.Equal(t, "5", bucket(t, before, "L2", canonical.BucketRejected), "rejected after both")
		changes := w.wms.Counts().Changes

		page, err := w.erp.PollEvents(ctx, "", 100)
		require.NoError(t, err, "erp PollEvents")
		var evs []canonical.Event
		for _, e := range page.Events {
			if e.Type == canonical.EventOrderAmended {
				evs = append(evs, e)
			}
		}
		require.Len(t, evs, 2, "amendments on the ERP's feed")
		dups := w.metrics.get(flow.CounterDuplicate)
		for _, e := range []canonical.Event{evs[1], evs[0]} { // the latest again, then the older one
			e.PartitionKey, e.CorrelationID = e.Subject, before.CorrelationID
			require.NoError(t, w.log.Append(ctx, e), "append %s again", e.ID)
		}
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, dups+2, w.metrics.get(flow.CounterDuplicate), "both are duplicates")
		assert.Equal(t, "5", bucket(t, v, "L2", canonical.BucketRejected), "rejected after the duplicates")
		assert.Equal(t, changes, w.wms.Counts().Changes, "no WMS change for the duplicates")
		assert.Empty(t, v.DeadLetters, "dead letters")
	})
}

// TestAmendmentBadInput checks that an amendment that does not fit the
// order is dead-lettered with ErrBadEvent naming the field, before it has
// any effect, and that one from a source other than the ERP's is refused.
func TestAmendmentBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(e *canonical.Event, a *canonical.OrderAmendment)
		reason string
	}{
		{"unknown line", func(_ *canonical.Event, a *canonical.OrderAmendment) { a.Lines[0].LineID = "L9" }, `lines[0].lineId`},
		{"unit", func(_ *canonical.Event, a *canonical.OrderAmendment) {
			q := canonical.MustParseQuantity("1", "XCS")
			a.Lines[0].Rejected = &q
		}, "lines[0].rejected.unit"},
		{"rejection taken back", func(_ *canonical.Event, a *canonical.OrderAmendment) { a.Lines[0].Rejected = eaPtr("0") }, "lines[0].rejected.value"},
		{"foreign source", func(e *canonical.Event, _ *canonical.OrderAmendment) { e.Source = "urn:elsewhere" }, "Config.ERPSources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				w := newWorld(t, nil)
				id := w.submit(t, "ACC-0001", "SKU-100:5", "SKU-105:7")
				w.settle(t)
				_, err := w.erp.AmendOrder(ctx, id, []canonical.AmendedLine{amended("L2", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("2") })}, "")
				require.NoError(t, err, "AmendOrder")
				w.settle(t)
				before := w.agree(t, id)
				page, err := w.erp.PollEvents(ctx, "", 100)
				require.NoError(t, err, "erp PollEvents")
				e := page.Events[len(page.Events)-1]
				a, err := canonical.DecodeData[canonical.OrderAmendment](e)
				require.NoError(t, err, "decode")
				a.Revision, a.ID, a.Lines[0].LineID = 2, "EAM-X", "L2"
				tc.edit(&e, &a)
				ne, err := canonical.NewEvent(canonical.EventOrderAmended, a)
				require.NoError(t, err, "NewEvent")
				ne.ID, ne.Source, ne.Subject, ne.PartitionKey, ne.CorrelationID = "bad-"+tc.name, e.Source, id, id, before.CorrelationID
				require.NoError(t, w.log.Append(ctx, ne), "append")
				w.settle(t)
				v := w.agree(t, id)
				require.Len(t, v.DeadLetters, 1, "dead letters")
				assert.Contains(t, v.DeadLetters[0].Error, tc.reason, "dead letter names the cause")
				assert.Equal(t, "2", bucket(t, v, "L2", canonical.BucketRejected), "nothing changed")
			})
		})
	}
}

// TestAmendmentRestart checks that what the flow took up of the ERP's
// amendments survives a restart over the same stores: the amendment
// delivered again after the restart is a duplicate, and the next
// revision goes on from the withheld quantity and the rejection stored.
func TestAmendmentRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, nil)
		state, cursors := &flow.MemoryState{}, &flow.MemoryCursors{}
		restart := func() { w.connect(t, nil, flow.Config{Log: w.log, State: state, Cursors: cursors}) }
		restart()
		id := w.submit(t, "ACC-0001", "SKU-100:5", "SKU-105:7")
		w.settle(t)
		_, err := w.erp.AmendOrder(ctx, id, []canonical.AmendedLine{amended("L2", func(l *canonical.AmendedLine) {
			l.Rejected, l.Confirmed = eaPtr("1"), eaPtr("4")
		})}, "first")
		require.NoError(t, err, "AmendOrder 1")
		w.settle(t)
		before := w.agree(t, id)
		require.Equal(t, "1", bucket(t, before, "L2", canonical.BucketRejected), "rejected before the restart")
		require.Equal(t, "4", bucket(t, before, "L2", canonical.BucketConfirmed), "confirmed before the restart")
		changes := w.wms.Counts().Changes

		restart()
		page, err := w.erp.PollEvents(ctx, "", 100)
		require.NoError(t, err, "erp PollEvents")
		e := page.Events[len(page.Events)-1]
		e.PartitionKey, e.CorrelationID = e.Subject, before.CorrelationID
		dups := w.metrics.get(flow.CounterDuplicate)
		require.NoError(t, w.log.Append(ctx, e), "append the amendment again")
		w.settle(t)
		assert.Equal(t, dups+1, w.metrics.get(flow.CounterDuplicate), "the amendment again after the restart is a duplicate")
		assert.Equal(t, changes, w.wms.Counts().Changes, "no WMS change for the duplicate")

		// Revision 2 rejects 2 in total: 1 more, taken from what is
		// withheld (4 confirmed of 6 open), so the warehouse keeps 4.
		_, err = w.erp.AmendOrder(ctx, id, []canonical.AmendedLine{amended("L2", func(l *canonical.AmendedLine) { l.Rejected = eaPtr("2") })}, "second")
		require.NoError(t, err, "AmendOrder 2")
		w.settle(t)
		w.adjust(t, "ADJ-R1", "SKU-105", "WH-EAST", "9")
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, "2", bucket(t, v, "L2", canonical.BucketRejected), "rejected after revision 2")
		assert.Equal(t, "4", bucket(t, v, "L2", canonical.BucketShipped), "shipped: the confirmed 4")
		assert.Equal(t, changes, w.wms.Counts().Changes, "revision 2 takes nothing more from the warehouse")
		assert.Empty(t, v.DeadLetters, "dead letters")
	})
}
