package flow

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
)

// TestPositionsIDStable checks that positionsID writes the text the
// idempotency keys of inventory pushes have always been derived from (the
// fmt form below): a flow restarted after a crash, maybe by a newer
// release, must derive the key of a push it may have made before.
func TestPositionsIDStable(t *testing.T) {
	want := func(ps []canonical.InventoryPosition) string {
		var b strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%s|%d;", p.Lot, p.Status, p.OnHand, p.Allocated, p.Available, p.Inbound,
				p.AsOf.UTC().Format(time.RFC3339Nano), p.Sequence)
		}
		return b.String()
	}
	east := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		name string
		ps   []canonical.InventoryPosition
	}{
		{"none", nil},
		{"zero", []canonical.InventoryPosition{{}}},
		{"one", []canonical.InventoryPosition{{Lot: "L1", Status: canonical.InventoryAvailable,
			OnHand: canonical.MustParseQuantity("12.50", "EA"), Allocated: canonical.MustParseQuantity("-3", "EA"),
			Available: canonical.MustParseQuantity("0.001", "KGM"), Inbound: canonical.MustParseQuantity("100", "XCS"),
			AsOf: time.Date(2026, 3, 1, 9, 30, 0, 123456789, east), Sequence: 42}}},
		{"two", []canonical.InventoryPosition{
			{Status: canonical.InventoryAvailable, OnHand: canonical.MustParseQuantity("1", "EA"),
				AsOf: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), Sequence: 1},
			{Lot: "L|2", Status: canonical.InventoryStatus("damaged"), OnHand: canonical.MustParseQuantity("1e3", "EA"),
				AsOf: time.Date(2026, 3, 1, 9, 30, 0, 500, time.UTC), Sequence: -7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, want(tc.ps), positionsID(tc.ps))
		})
	}
}

// TestAggregate checks the sums of lots per status, which aggregate writes
// over its input: statuses interleaved, so that a sum is written where a
// later lot was before it is read, and units that do not add up.
func TestAggregate(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	pos := func(lot string, st canonical.InventoryStatus, onHand string, seq int64, minute int) canonical.InventoryPosition {
		q := canonical.MustParseQuantity(onHand, "EA")
		zero := canonical.MustParseQuantity("0", "EA")
		return canonical.InventoryPosition{Item: canonical.ItemRef{SKU: "SKU-1"}, Location: "WH-1", Lot: lot, Status: st,
			Kind: canonical.QuantityDelta, OnHand: q, Allocated: zero, Available: q, Inbound: zero,
			AsOf: t0.Add(time.Duration(minute) * time.Minute), Sequence: seq}
	}
	sum := func(st canonical.InventoryStatus, onHand string, seq int64, minute int) canonical.InventoryPosition {
		p := pos("", st, onHand, seq, minute)
		p.Kind = canonical.QuantitySnapshot
		return p
	}
	const avail, hold, damaged = canonical.InventoryAvailable, canonical.InventoryQualityHold, canonical.InventoryDamaged
	for _, tc := range []struct {
		name string
		in   []canonical.InventoryPosition
		want []canonical.InventoryPosition
		err  string
	}{
		{name: "none"},
		{name: "one lot", in: []canonical.InventoryPosition{pos("L1", avail, "5", 3, 1)},
			want: []canonical.InventoryPosition{sum(avail, "5", 3, 1)}},
		{name: "statuses interleaved", in: []canonical.InventoryPosition{
			pos("L1", avail, "1", 1, 4), pos("L1", hold, "2", 2, 1), pos("L2", avail, "3", 5, 2),
			pos("L2", damaged, "4", 1, 3), pos("L3", hold, "5", 1, 5), pos("L3", avail, "6", 2, 0)},
			want: []canonical.InventoryPosition{sum(avail, "10", 5, 4), sum(hold, "7", 2, 5), sum(damaged, "4", 1, 3)}},
		{name: "units differ", in: []canonical.InventoryPosition{pos("L1", avail, "1", 1, 0),
			func() canonical.InventoryPosition {
				p := pos("L2", avail, "1", 1, 0)
				p.OnHand = canonical.MustParseQuantity("1", "KGM")
				return p
			}()}, err: `onHand of lot "L2" in KGM, of another lot in EA`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := aggregate(tc.in)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err, "aggregate of %s", tc.name)
				return
			}
			if assert.NoError(t, err, "aggregate of %s", tc.name) {
				assert.Len(t, got, len(tc.want), "sums of %s", tc.name)
				for i := range min(len(got), len(tc.want)) {
					g, w := got[i], tc.want[i]
					assert.Equal(t, w.Status, g.Status, "status of sum %d of %s", i, tc.name)
					assert.Equal(t, w.OnHand.String(), g.OnHand.String(), "on hand of sum %d of %s", i, tc.name)
					assert.Equal(t, w.Available.String(), g.Available.String(), "available of sum %d of %s", i, tc.name)
					g.OnHand, g.Available, w.OnHand, w.Available = canonical.Quantity{}, canonical.Quantity{}, canonical.Quantity{}, canonical.Quantity{}
					g.Allocated, g.Inbound, w.Allocated, w.Inbound = canonical.Quantity{}, canonical.Quantity{}, canonical.Quantity{}, canonical.Quantity{}
					assert.Equal(t, w, g, "sum %d of %s", i, tc.name)
				}
			}
		})
	}
}
