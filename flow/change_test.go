package flow_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// revise has the CRM deliver a new version of an order: each spec is
// "LINE:QTY" (a new quantity, or a line added with SKU "LINE=SKU:QTY"), or
// "-LINE" (the line removed).
func (w *world) revise(t testing.TB, id string, specs ...string) canonical.Order {
	t.Helper()
	o, err := w.crm.ReviseOrder(context.Background(), id, func(o *canonical.Order) error {
		for _, s := range specs {
			if line, ok := strings.CutPrefix(s, "-"); ok {
				o.Lines = slices.DeleteFunc(o.Lines, func(l canonical.OrderLine) bool { return l.ID == line })
				continue
			}
			line, q, _ := strings.Cut(s, ":")
			line, sku, added := strings.Cut(line, "=")
			if added {
				o.Lines = append(o.Lines, canonical.OrderLine{ID: line, Item: canonical.ItemRef{SKU: sku},
					Quantity: canonical.MustParseQuantity(q, "EA"), UnitPrice: canonical.MustParseMoney("6.40", "USD")})
				continue
			}
			i := slices.IndexFunc(o.Lines, func(l canonical.OrderLine) bool { return l.ID == line })
			require.GreaterOrEqual(t, i, 0, "order %s has line %s", id, line)
			o.Lines[i].Quantity = canonical.MustParseQuantity(q, "EA")
		}
		return nil
	})
	require.NoError(t, err, "ReviseOrder %s %v", id, specs)
	return o
}

// steps drains the flow and steps the warehouses n times.
func (w *world) steps(t testing.TB, n int) {
	t.Helper()
	for range n {
		require.NoError(t, w.flow.Drain(context.Background()), "Drain")
		w.step(t)
	}
	require.NoError(t, w.flow.Drain(context.Background()), "Drain")
}

// changeResult returns "outcome applied/refused reason" of a line's field
// in the results, "" when there is none.
func changeResult(rs []canonical.ChangeResult, line, field string) string {
	for _, r := range rs {
		if r.LineID != line || r.Field != field {
			continue
		}
		s := string(r.Outcome)
		if r.Applied != nil {
			s += " " + r.Applied.Value.String() + "/" + r.Refused.Value.String()
		}
		if r.Reason != "" {
			s += " " + string(r.Reason)
		}
		return s
	}
	return ""
}

func TestChangeScenarios(t *testing.T) {
	shipped := canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}
	tests := []struct {
		name    string
		account string
		lines   []string
		// before runs after the submission, before the change.
		before func(t *testing.T, w *world)
		change []string
		// after runs after the change is settled (stock arriving).
		after func(t *testing.T, w *world)
		// results per "LINE/field" as changeResult formats them.
		results map[string]string
		// buckets per "LINE/bucket": ordered, cancelled, shipped, rejected.
		buckets    map[string]string
		status     canonical.Status
		warehouses []string // of the fulfilment orders, in plan order
		held       bool
		// accepted: the ERP's acceptance after the change (of an order
		// on hold) replaces the CRM's messages with its own.
		accepted bool
	}{
		{name: "increase applied in the same warehouse", lines: []string{"SKU-102:10"},
			before:  func(t *testing.T, w *world) { w.steps(t, 1) }, // allocated
			change:  []string{"L1:15"},
			results: map[string]string{"L1/quantity": "applied 5/0"},
			buckets: map[string]string{"L1/ordered": "15", "L1/shipped": "15", "L1/cancelled": "0"},
			status:  shipped, warehouses: []string{"WH-EAST"}},
		{name: "increase re-sourced to another warehouse", lines: []string{"SKU-100:100"},
			before:  func(t *testing.T, w *world) { w.steps(t, 1) },
			change:  []string{"L1:150"},
			results: map[string]string{"L1/quantity": "applied 50/0"},
			buckets: map[string]string{"L1/ordered": "150", "L1/shipped": "150"},
			status:  shipped, warehouses: []string{"WH-EAST", "WH-WEST"}},
		{name: "decrease after a partial shipment takes the backorder", lines: []string{"SKU-100:5", "SKU-105:7"},
			before: func(t *testing.T, w *world) {
				w.settle(t)
				w.adjust(t, "ADJ-1", "SKU-105", "WH-EAST", "2") // 2 of 7 ship
				w.settle(t)
			},
			change:  []string{"L2:4"},
			after:   func(t *testing.T, w *world) { w.adjust(t, "ADJ-2", "SKU-105", "WH-EAST", "2") },
			results: map[string]string{"L2/quantity": "applied -3/0"},
			buckets: map[string]string{"L2/ordered": "7", "L2/cancelled": "3", "L2/shipped": "4"},
			status:  shipped, warehouses: []string{"WH-EAST"}},
		{name: "decrease refused for what is picked", lines: []string{"SKU-100:10"},
			before:  func(t *testing.T, w *world) { w.steps(t, 2) }, // allocated, picked
			change:  []string{"L1:4"},
			results: map[string]string{"L1/quantity": "refused 0/-6 picked"},
			buckets: map[string]string{"L1/ordered": "10", "L1/cancelled": "0", "L1/shipped": "10"},
			status:  shipped, warehouses: []string{"WH-EAST"}},
		{name: "decrease after shipment refused", lines: []string{"SKU-100:10"},
			before:  func(t *testing.T, w *world) { w.settle(t) },
			change:  []string{"L1:4"},
			results: map[string]string{"L1/quantity": "refused 0/-6 shipped"},
			buckets: map[string]string{"L1/cancelled": "0", "L1/shipped": "10"},
			status:  shipped, warehouses: []string{"WH-EAST"}},
		{name: "line removed before picking, line added", lines: []string{"SKU-100:10", "SKU-104:4"},
			before:  func(t *testing.T, w *world) { w.steps(t, 1) },
			change:  []string{"-L2", "L3=SKU-104:6"},
			results: map[string]string{"L2/quantity": "applied -4/0", "L3/quantity": "applied 6/0"},
			buckets: map[string]string{"L1/shipped": "10", "L2/cancelled": "4", "L2/shipped": "0", "L3/ordered": "6", "L3/shipped": "6"},
			status:  shipped, warehouses: []string{"WH-EAST", "WH-EAST"}},
		{name: "increase refused in part for stock", lines: []string{"SKU-103:5"},
			before:  func(t *testing.T, w *world) { w.steps(t, 1) },
			change:  []string{"L1:30"},
			results: map[string]string{"L1/quantity": "partially_applied 15/10 stock"},
			buckets: map[string]string{"L1/ordered": "30", "L1/rejected": "10", "L1/shipped": "20"},
			status:  shipped, warehouses: []string{"WH-EAST", "WH-SOUTH", "WH-WEST"}},
		{name: "increase held for credit", account: "ACC-0003", lines: []string{"SKU-100:10"},
			before:     func(t *testing.T, w *world) { w.steps(t, 1) },
			change:     []string{"L1:100"},
			results:    map[string]string{"L1/quantity": "held 0/90 credit"},
			buckets:    map[string]string{"L1/ordered": "10", "L1/shipped": "10"},
			status:     canonical.Status{Commercial: canonical.CommercialOnHold, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced},
			warehouses: []string{"WH-EAST"}, held: true},
		{name: "reduced while on credit hold, shipped once released", account: "ACC-0003", lines: []string{"SKU-103:15"},
			before: func(t *testing.T, w *world) { w.settle(t) }, // on hold
			change: []string{"L1:5"},
			after: func(t *testing.T, w *world) {
				_, err := w.erp.ReleaseHold(context.Background(), w.crmOrder(t), canonical.HoldCredit)
				require.NoError(t, err, "ReleaseHold")
			},
			results: map[string]string{"L1/quantity": "applied -10/0"},
			buckets: map[string]string{"L1/ordered": "15", "L1/cancelled": "10", "L1/shipped": "5"},
			status:  shipped, warehouses: []string{"WH-EAST"}, accepted: true},
		{name: "change before the release", lines: []string{"SKU-100:10"},
			change:  []string{"L1:12"},
			results: map[string]string{"L1/quantity": "applied 2/0"},
			buckets: map[string]string{"L1/ordered": "12", "L1/shipped": "12"},
			status:  shipped, warehouses: []string{"WH-EAST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil)
				id := w.submit(t, cmpOr(tt.account, "ACC-0001"), tt.lines...)
				if tt.before != nil {
					tt.before(t, w)
				}
				w.revise(t, id, tt.change...)
				w.settle(t)
				if tt.after != nil {
					tt.after(t, w)
					w.settle(t)
				}
				v := w.agree(t, id)
				for k, want := range tt.results {
					line, field, _ := strings.Cut(k, "/")
					assert.Equal(t, want, changeResult(v.CRM.Changes, line, field), "CRM's change result of %s", k)
				}
				for k, want := range tt.buckets {
					line, b, _ := strings.Cut(k, "/")
					var bk canonical.Bucket
					require.NoError(t, bk.UnmarshalText([]byte(b)), "bucket %s", b)
					assert.Equal(t, want, bucket(t, v, line, bk), "%s", k)
				}
				assert.Equal(t, tt.status, v.Status, "status")
				var whs []string
				for _, fo := range v.FulfillmentOrders {
					whs = append(whs, fo.Warehouse)
				}
				assert.Equal(t, tt.warehouses, whs, "warehouses of the fulfilment orders")
				assert.Equal(t, int64(2), v.Order.Version, "order version")
				assert.Equal(t, tt.held, slices.ContainsFunc(v.Order.Holds, canonical.Hold.Active), "an active hold")
				assert.Empty(t, v.DeadLetters, "dead letters")
				if !tt.accepted {
					assert.True(t, slices.ContainsFunc(v.CRM.Messages, func(m string) bool { return strings.HasPrefix(m, "change to version 2") }),
						"CRM messages %q tell of the change", v.CRM.Messages)
				}
			})
		})
	}
}

// crmOrder returns the ID of the only order the CRM converted.
func (w *world) crmOrder(t testing.TB) string {
	t.Helper()
	o, ok := w.crm.Order("ORD-000001")
	require.True(t, ok, "the CRM has order ORD-000001")
	return o.ID
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// noChangeERP is an ERP without the optional roles: connector.As finds no
// OrderChanger in it.
type noChangeERP struct{ connector.ERP }

// noChangeWMS is a WMS without the optional roles.
type noChangeWMS struct{ connector.WMS }

// Source returns the source of the WMS's events.
func (w noChangeWMS) Source() string { return w.WMS.(interface{ Source() string }).Source() }

// TestChangeRefused checks that a change the systems cannot make is
// refused in full with its reason, shown in the CRM, and changes nothing:
// of a rejected order, with an ERP without OrderChanger, with a WMS without
// ReleaseChanger.
func TestChangeRefused(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		wrapERP bool
		wrapWMS bool
		reason  canonical.ChangeReason
		message string
	}{
		{name: "rejected order", lines: []string{"SKU-999:1"}, reason: canonical.ChangeReasonClosed, message: "the order is rejected"},
		{name: "ERP without the role", lines: []string{"SKU-100:10"}, wrapERP: true, reason: canonical.ChangeReasonUnsupported,
			message: "the ERP cannot change an order it decided (no connector.OrderChanger)"},
		{name: "WMS without the role", lines: []string{"SKU-100:10"}, wrapWMS: true, reason: canonical.ChangeReasonUnsupported,
			message: "the WMS of WH-EAST cannot change a release (no connector.ReleaseChanger)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newSystems(t)
				w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
				if tt.wrapWMS {
					w.wrapWMS = func(x connector.WMS) connector.WMS { return noChangeWMS{x} }
				}
				var wraps []func(connector.ERP) connector.ERP
				if tt.wrapERP {
					wraps = append(wraps, func(x connector.ERP) connector.ERP { return noChangeERP{x} })
				}
				w.connect(t, nil, flow.Config{Log: w.log}, wraps...)
				id := w.submit(t, "ACC-0001", tt.lines...)
				w.steps(t, 1)
				w.revise(t, id, "L1:4")
				w.settle(t)
				v := w.agree(t, id)
				want := "refused 0/" + map[bool]string{true: "3", false: "-6"}[tt.lines[0] == "SKU-999:1"] + " " + string(tt.reason)
				assert.Equal(t, want, changeResult(v.CRM.Changes, "L1", canonical.ChangeFieldQuantity), "CRM's change result")
				assert.Equal(t, "0", bucket(t, v, "L1", canonical.BucketCancelled), "cancelled")
				assert.True(t, slices.ContainsFunc(v.CRM.Messages, func(m string) bool { return strings.Contains(m, tt.message) }),
					"CRM messages %q say %q", v.CRM.Messages, tt.message)
				assert.Equal(t, int64(2), v.Order.Version, "order version")
				assert.Empty(t, v.DeadLetters, "dead letters")
			})
		})
	}
}

// TestChangeHeldIncreaseResent checks that an increase the ERP held for
// credit is sent again once the ERP releases the hold, and applied then.
func TestChangeHeldIncreaseResent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		id := w.submit(t, "ACC-0003", "SKU-100:10") // C-3: credit limit 1000 USD
		w.settle(t)
		w.revise(t, id, "L1:80")
		w.settle(t)
		v := w.agree(t, id)
		require.Equal(t, "held 0/70 credit", changeResult(v.CRM.Changes, "L1", canonical.ChangeFieldQuantity), "held first")
		require.Equal(t, canonical.CommercialOnHold, v.Status.Commercial, "on hold")
		// The customer pays its open invoice; the credit controller
		// releases the hold; the hold watcher resumes the change.
		acct, ok := w.erp.Account("C-3")
		require.True(t, ok, "account C-3")
		require.NoError(t, w.erp.RecordPayment(ctx, "C-3", canonical.NewMoney(acct.OpenBalance, "USD")), "RecordPayment")
		_, err := w.erp.ReleaseHold(ctx, id, canonical.HoldCredit)
		require.NoError(t, err, "ReleaseHold")
		w.settle(t)
		v = w.agree(t, id)
		assert.Equal(t, "applied 70/0", changeResult(v.CRM.Changes, "L1", canonical.ChangeFieldQuantity), "applied once the hold is released")
		assert.Equal(t, "80", bucket(t, v, "L1", canonical.BucketOrdered), "ordered")
		assert.Equal(t, "80", bucket(t, v, "L1", canonical.BucketShipped), "shipped")
		assert.Equal(t, canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}, v.Status)
		assert.Len(t, v.FulfillmentOrders, 2, "the increase in a fulfilment order of its own (the first one shipped)")
		assert.Empty(t, v.DeadLetters, "dead letters")
	})
}

// TestChangeDuplicateAndOutOfOrder delivers a change twice and the
// earlier version after it: nothing changes more. A version delivered
// again with other content is dead-lettered.
func TestChangeDuplicateAndOutOfOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-100:5", "SKU-105:7")
		w.settle(t)
		w.revise(t, id, "L2:4")
		w.settle(t)
		before := w.agree(t, id)
		require.Equal(t, "3", bucket(t, before, "L2", canonical.BucketCancelled), "cancelled by the change")
		page, err := w.crm.PollOrders(ctx, "", 100)
		require.NoError(t, err, "PollOrders")
		var v1, v2 canonical.Event
		for _, e := range page.Events {
			o, err := canonical.DecodeData[canonical.Order](e)
			require.NoError(t, err, "decode %s", e.ID)
			if o.ID == id && o.Version == 1 {
				v1 = e
			}
			if o.ID == id && o.Version == 2 {
				v2 = e
			}
		}
		changes := w.wms.Counts().Changes
		dups := w.metrics.get(flow.CounterDuplicate)
		for _, e := range []canonical.Event{v2, v1} { // twice, and out of order
			e.PartitionKey, e.CorrelationID = e.Subject, before.CorrelationID
			e.ID += "-again"
			require.NoError(t, w.log.Append(ctx, e), "append %s again", e.ID)
		}
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, dups+2, w.metrics.get(flow.CounterDuplicate), "both are duplicates")
		assert.Equal(t, "3", bucket(t, v, "L2", canonical.BucketCancelled), "cancelled after the duplicates")
		assert.Equal(t, changes, w.wms.Counts().Changes, "no change in the warehouse")
		assert.Equal(t, 1, w.erp.Counts().Changes, "one change in the ERP")

		// Version 2 again with other content.
		o, err := canonical.DecodeData[canonical.Order](v2)
		require.NoError(t, err)
		o.Lines[1].Quantity = canonical.MustParseQuantity("2", "EA")
		e, err := canonical.NewEvent(canonical.EventOrderSubmitted, o)
		require.NoError(t, err)
		e.ID, e.Source, e.Subject, e.PartitionKey, e.CorrelationID = "changed-v2", v2.Source, id, id, before.CorrelationID
		require.NoError(t, w.log.Append(ctx, e), "append changed version 2")
		w.settle(t)
		dls, err := w.flow.DeadLetters(ctx, eventlogFilter())
		require.NoError(t, err)
		require.Len(t, dls, 1, "the changed duplicate is dead-lettered")
		assert.Contains(t, dls[0].Error, flow.ErrChangedDuplicate.Error(), "error of the changed duplicate")
	})
}

// TestChangeRacesShipment changes an order while the warehouse ships it:
// what the warehouse reports decides.
func TestChangeRacesShipment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-100:10")
		w.steps(t, 1) // allocated
		w.revise(t, id, "L1:4")
		_, err := w.wms.Settle(ctx, 20) // the warehouse ships before the flow sees the change
		require.NoError(t, err, "wms.Settle")
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, "refused 0/-6 shipped", changeResult(v.CRM.Changes, "L1", canonical.ChangeFieldQuantity))
		assert.Equal(t, "10", bucket(t, v, "L1", canonical.BucketShipped))
		assert.Equal(t, "0", bucket(t, v, "L1", canonical.BucketCancelled))
	})
}

// TestChangeTwice changes an order twice: the second change is computed
// against what the systems hold after the first, not against the first
// version asked for.
func TestChangeTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		id := w.submit(t, "ACC-0001", "SKU-100:10", "SKU-105:6")
		w.steps(t, 2) // L1 allocated and picked, L2 backordered
		w.revise(t, id, "L1:4", "L2:2")
		w.settle(t)
		v := w.agree(t, id)
		require.Equal(t, "refused 0/-6 picked", changeResult(v.CRM.Changes, "L1", canonical.ChangeFieldQuantity))
		require.Equal(t, "applied -4/0", changeResult(v.CRM.Changes, "L2", canonical.ChangeFieldQuantity))
		// The systems hold L1 10 and L2 2: version 3 asks L1 4 (unchanged
		// from version 2, but still 6 less than held: shipped, refused)
		// and L2 3 (one more, which the ERP cannot promise: SKU-105 has
		// no stock).
		w.revise(t, id, "L2:3")
		w.settle(t)
		w.adjust(t, "ADJ-1", "SKU-105", "WH-EAST", "3")
		w.settle(t)
		v = w.agree(t, id)
		assert.Equal(t, "refused 0/-6 shipped", changeResult(v.CRM.Changes, "L1", canonical.ChangeFieldQuantity))
		assert.Equal(t, "refused 0/1 stock", changeResult(v.CRM.Changes, "L2", canonical.ChangeFieldQuantity))
		assert.Equal(t, "2", bucket(t, v, "L2", canonical.BucketShipped))
		assert.Equal(t, "7", bucket(t, v, "L2", canonical.BucketOrdered))
		assert.Equal(t, "1", bucket(t, v, "L2", canonical.BucketRejected))
		assert.Equal(t, "10", bucket(t, v, "L1", canonical.BucketShipped))
		assert.Equal(t, int64(3), v.Order.Version)
	})
}

// TestChangeShipTo changes the ship-to address before picking (applied in
// the ERP and the warehouse) and after shipping (refused).
func TestChangeShipTo(t *testing.T) {
	for _, tt := range []struct {
		name  string
		steps int
		want  string
	}{
		{"before picking", 1, "applied"},
		{"after shipping", 5, "refused shipped"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil)
				id := w.submit(t, "ACC-0001", "SKU-100:10")
				w.steps(t, tt.steps)
				_, err := w.crm.ReviseOrder(context.Background(), id, func(o *canonical.Order) error {
					o.ShipTo = canonical.PartyRef{ID: "C-1-STORE", Name: "Acme Hardware Store"}
					return nil
				})
				require.NoError(t, err)
				w.settle(t)
				v := w.agree(t, id)
				assert.Equal(t, tt.want, changeResult(v.CRM.Changes, "", canonical.ChangeFieldShipTo))
				if tt.want == "applied" {
					assert.Equal(t, "C-1-STORE", v.Order.ShipTo.ID, "the flow's order")
					fo, err := w.wms.FulfillmentOrder(context.Background(), v.FulfillmentOrders[0].ID)
					require.NoError(t, err)
					assert.Equal(t, "C-1-STORE", fo.ShipTo.ID, "the warehouse's fulfilment order")
				}
			})
		})
	}
}
