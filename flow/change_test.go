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
	}{
		{name: "increase applied in the same warehouse", lines: []string{"SKU-102:10"},
			before: func(t *testing.T, w *world) { w.steps(t, 1) }, // allocated
			change: []string{"L1:15"},
			results: map[string]string{"L1/quantity": "applied 5/0"},
			buckets: map[string]string{"L1/ordered": "15", "L1/shipped": "15", "L1/cancelled": "0"},
			status:  shipped, warehouses: []string{"WH-EAST"}},
		{name: "increase re-sourced to another warehouse", lines: []string{"SKU-100:100"},
			before: func(t *testing.T, w *world) { w.steps(t, 1) },
			change: []string{"L1:150"},
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
			before:  func(t *testing.T, w *world) { w.steps(t, 1) },
			change:  []string{"L1:100"},
			results: map[string]string{"L1/quantity": "held 0/90 credit"},
			buckets: map[string]string{"L1/ordered": "10", "L1/shipped": "10"},
			status:  canonical.Status{Commercial: canonical.CommercialOnHold, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced},
			warehouses: []string{"WH-EAST"}, held: true},
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
				assert.Empty(t, v.DeadLetters, "dead letters")
				assert.True(t, slices.ContainsFunc(v.CRM.Messages, func(m string) bool { return strings.HasPrefix(m, "change to version 2") }),
					"CRM messages %q tell of the change", v.CRM.Messages)
			})
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var _ = connector.OrderStatus{}
var _ = flow.CounterDeadLettered
