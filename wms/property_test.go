package wms_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
)

// TestRandomOperations drives the demo world with seeded random releases
// (in EA and in cases), steps, cancellations, adjustments and returns, and
// checks what must always hold, reading only the feed and Inventory:
//
//   - stock is conserved: on hand = initial + adjustments − shipped;
//   - nothing is allocated that is not on hand (available ≥ 0);
//   - no line ships or cancels more than was released, and once everything
//     is settled and cancelled, shipped + cancelled = released per line;
//   - every event is valid and per-subject sequences have no gap.
func TestRandomOperations(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			randomRun(t, seed)
		})
	}
}

func randomRun(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 1))
	m := newSim(t, wms.Config{Seed: seed})
	factor := map[string]map[canonical.Unit]int64{}
	for _, it := range wms.DemoItems() {
		factor[it.SKU] = map[canonical.Unit]int64{"EA": 1}
		for _, c := range it.Conversions {
			f, _ := c.Factor.Int64()
			factor[it.SKU][c.Unit] = f
		}
	}
	skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}
	whs := []string{"WH-EAST", "WH-SOUTH", "WH-WEST"}
	led := &ledger{want: stockOf(t, m), shipped: map[string]int64{}, cancelled: map[string]int64{}, seqs: map[string]uint64{}}
	released := map[string]canonical.FulfillmentOrder{}
	var ids []string
	for op := range 300 {
		switch k := rng.IntN(10); {
		case k < 3:
			id := fmt.Sprintf("FO-%d", op)
			var lines []line
			for range 1 + rng.IntN(3) {
				lines = append(lines, line{skus[rng.IntN(len(skus))], fmt.Sprint(1 + rng.IntN(30))})
			}
			fo := makeFO(id, whs[rng.IntN(len(whs))], lines...)
			for i := range fo.Lines {
				fo.Lines[i].OrderLineID = fmt.Sprint(i + 1)
				if _, ok := factor[fo.Lines[i].Item.SKU]["XCS"]; ok && rng.IntN(2) == 0 {
					fo.Lines[i].Quantity = canonical.MustParseQuantity(fmt.Sprint(1+rng.IntN(4)), "XCS")
				}
			}
			// Two lines of one SKU are fine: they are separate order lines.
			_, err := m.Release(ctx, fo)
			require.NoError(t, err, "op %d: Release %+v", op, fo)
			released[id] = fo
			ids = append(ids, id)
		case k < 7:
			step(t, m, 1)
		case k < 8 && len(ids) > 0:
			fo := released[ids[rng.IntN(len(ids))]]
			req := connector.CancelRequest{FulfillmentOrderID: fo.ID}
			if rng.IntN(2) == 0 {
				l := fo.Lines[rng.IntN(len(fo.Lines))]
				req.Lines = []connector.LineQuantity{{LineID: l.ID, Quantity: canonical.NewQuantity(canonical.DecimalFromInt(int64(1+rng.IntN(5))), l.Quantity.Unit)}}
			}
			_, err := m.CancelRelease(ctx, fmt.Sprintf("cancel-%d", op), req)
			require.NoError(t, err, "op %d: CancelRelease %+v", op, req)
		case k < 9:
			delta := int64(1 + rng.IntN(40))
			if rng.IntN(3) == 0 {
				delta = -delta
			}
			_, err := m.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprintf("ADJ-%d", op), Item: canonical.ItemRef{SKU: skus[rng.IntN(len(skus))]},
				Location: whs[rng.IntN(len(whs))], Status: canonical.InventoryAvailable, Delta: canonical.NewQuantity(canonical.DecimalFromInt(delta), "EA"),
				Reason: canonical.AdjustCycleCount, AdjustedAt: wms.DemoEpoch()})
			if err != nil {
				require.Equal(t, connector.CodeConflict, connector.CodeOf(err), "op %d: only a loss below what is allocated may fail: %v", op, err)
			}
		default:
			r := kitReturn(op)
			r.Warehouse = whs[rng.IntN(len(whs))]
			r.Lines[0].Item.SKU = skus[rng.IntN(len(skus))]
			r.Lines[0].Authorized = qty(fmt.Sprint(1 + rng.IntN(5)))
			_, err := m.AuthorizeReturn(ctx, r)
			require.NoError(t, err)
			disp := []canonical.Disposition{canonical.DispositionRestock, canonical.DispositionScrap, canonical.DispositionQuarantine}[rng.IntN(3)]
			_, err = m.ReceiveReturn(ctx, r.ID, []wms.ReturnReceipt{{LineID: r.Lines[0].ID, Quantity: r.Lines[0].Authorized, Condition: canonical.ConditionNew, Disposition: disp}})
			require.NoError(t, err)
		}
		checkInvariants(t, m, led, factor, released, false)
	}
	_, err := m.Settle(ctx, 100)
	require.NoError(t, err)
	for _, id := range ids {
		_, err := m.CancelRelease(ctx, "final-"+id, connector.CancelRequest{FulfillmentOrderID: id})
		require.NoError(t, err)
	}
	checkInvariants(t, m, led, factor, released, true)
	c := m.Counts()
	assert.Positive(t, c.Shipments, "seed %d shipped something", seed)
	assert.Positive(t, c.Cancellations, "seed %d cancelled something", seed)
}

// stockOf returns on hand per SKU@warehouse over every status.
func stockOf(t *testing.T, m *wms.Memory) map[string]int64 {
	t.Helper()
	ps, err := m.Inventory(context.Background(), connector.InventoryQuery{})
	require.NoError(t, err)
	out := map[string]int64{}
	for _, p := range ps {
		v, ok := p.OnHand.Value.Int64()
		require.True(t, ok, "whole on hand %v", p.OnHand)
		out[p.Item.SKU+"@"+p.Location] += v
		if p.Status == canonical.InventoryAvailable {
			require.False(t, p.Available.Value.IsNeg(), "available of %s@%s lot %q is %v", p.Item.SKU, p.Location, p.Lot, p.Available)
		}
	}
	return out
}

// ledger accumulates what the feed says, reading only new events.
type ledger struct {
	cur       connector.Cursor
	want      map[string]int64 // on hand per SKU@warehouse
	shipped   map[string]int64 // by fulfilment line, in the line's unit
	cancelled map[string]int64 // idem
	seqs      map[string]uint64
}

func (l *ledger) read(t *testing.T, m *wms.Memory, factor map[string]map[canonical.Unit]int64) {
	t.Helper()
	for {
		p, err := m.PollEvents(context.Background(), l.cur, 500)
		require.NoError(t, err)
		for _, e := range p.Events {
			require.NoError(t, e.Validate())
			require.Equal(t, l.seqs[e.Subject]+1, e.Sequence, "sequence of %s", e.Subject)
			l.seqs[e.Subject] = e.Sequence
			switch e.Type {
			case canonical.EventInventoryAdjusted:
				a, err := canonical.DecodeData[canonical.InventoryAdjustment](e)
				require.NoError(t, err)
				v, _ := a.Delta.Value.Int64()
				l.want[a.Item.SKU+"@"+a.Location] += v
			case canonical.EventFulfillmentShipped:
				s, err := canonical.DecodeData[canonical.Shipment](e)
				require.NoError(t, err)
				for _, sl := range s.Lines {
					v, _ := sl.Quantity.Value.Int64()
					l.shipped[sl.FulfillmentLineID] += v
					l.want[sl.Item.SKU+"@"+s.Warehouse] -= v * factor[sl.Item.SKU][sl.Quantity.Unit]
				}
			case canonical.EventFulfillmentCancelled:
				fo, err := canonical.DecodeData[canonical.FulfillmentOrder](e)
				require.NoError(t, err)
				for _, fl := range fo.Lines {
					v, _ := fl.Quantity.Value.Int64()
					l.cancelled[fl.ID] += v
				}
			}
		}
		l.cur = p.Next
		if !p.More {
			return
		}
	}
}

func checkInvariants(t *testing.T, m *wms.Memory, l *ledger, factor map[string]map[canonical.Unit]int64,
	released map[string]canonical.FulfillmentOrder, final bool) {
	t.Helper()
	l.read(t, m, factor)
	got := stockOf(t, m)
	for k, v := range l.want {
		require.Equal(t, v, got[k], "on hand of %s: initial + adjustments − shipped", k)
	}
	for _, fo := range released {
		for _, fl := range fo.Lines {
			ordered, _ := fl.Quantity.Value.Int64()
			require.LessOrEqual(t, l.shipped[fl.ID]+l.cancelled[fl.ID], ordered, "line %s: shipped %d + cancelled %d", fl.ID, l.shipped[fl.ID], l.cancelled[fl.ID])
			if final {
				require.Equal(t, ordered, l.shipped[fl.ID]+l.cancelled[fl.ID], "line %s in the end: shipped %d + cancelled %d", fl.ID, l.shipped[fl.ID], l.cancelled[fl.ID])
			}
		}
	}
}
