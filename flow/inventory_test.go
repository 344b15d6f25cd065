package flow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// invProbe is an ERP that records the ApplyInventory calls the flow makes
// (after faults, so retries are seen) and checks that the flow never sends
// a position older than one it sent before for the same key.
type invProbe struct {
	connector.ERP
	mu        sync.Mutex
	calls     map[string]int
	maxSeq    map[string]int64
	backwards []string
}

func (p *invProbe) wrap(e connector.ERP) connector.ERP {
	p.ERP = e
	p.calls, p.maxSeq = map[string]int{}, map[string]int64{}
	return p
}

func (p *invProbe) ApplyInventory(ctx context.Context, key string, ps []canonical.InventoryPosition) error {
	p.mu.Lock()
	seen := map[string]bool{}
	for _, pos := range ps {
		k := pos.Item.SKU + "@" + pos.Location
		if !seen[k] {
			seen[k] = true
			p.calls[k]++
		}
		if pos.Sequence < p.maxSeq[k] {
			p.backwards = append(p.backwards, fmt.Sprintf("%s: sequence %d after %d", k, pos.Sequence, p.maxSeq[k]))
		}
		p.maxSeq[k] = max(p.maxSeq[k], pos.Sequence)
	}
	p.mu.Unlock()
	return p.ERP.ApplyInventory(ctx, key, ps)
}

func (p *invProbe) callsFor(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[key]
}

// wmsView is what the WMS holds of sku at wh: the on-hand quantity of
// available stock, the available quantity, and the per-subject sequence.
type wmsView struct {
	onHand, available canonical.Decimal
	seq               int64
}

func wmsStock(t testing.TB, w *wms.Memory, sku, wh string) wmsView {
	t.Helper()
	ps, err := w.Inventory(context.Background(), connector.InventoryQuery{SKUs: []string{sku}, Locations: []string{wh}})
	require.NoError(t, err, "WMS Inventory %s@%s", sku, wh)
	var v wmsView
	for _, p := range ps {
		v.seq = max(v.seq, p.Sequence)
		if p.Status != canonical.InventoryAvailable {
			continue
		}
		v.onHand, err = v.onHand.Add(p.OnHand.Value)
		require.NoError(t, err, "sum on hand %s@%s", sku, wh)
		v.available, err = v.available.Add(p.Available.Value)
		require.NoError(t, err, "sum available %s@%s", sku, wh)
	}
	return v
}

// inventoryAgrees checks that the ERP's ledger and the CRM's availability
// show what the WMS holds for sku at wh, and returns the WMS's view.
func inventoryAgrees(t testing.TB, w *wms.Memory, e *erp.Memory, c *crm.Memory, sku, wh string) wmsView {
	t.Helper()
	v := wmsStock(t, w, sku, wh)
	stock, ok := e.Stock(sku, wh)
	require.True(t, ok, "ERP holds a position of %s@%s", sku, wh)
	assert.True(t, stock.Value.Equal(v.onHand), "ERP stock of %s@%s: erp %s, wms %s", sku, wh, stock.Value, v.onHand)
	shown, ok := c.ShownAvailability(sku, wh)
	require.True(t, ok, "CRM shows availability of %s@%s", sku, wh)
	assert.True(t, shown.Available.Value.Equal(v.available), "CRM availability of %s@%s: crm %s, wms %s", sku, wh, shown.Available.Value, v.available)
	assert.Equal(t, v.seq, shown.Sequence/flow.AvailabilityStride, "CRM sequence of %s@%s (WMS sequence × flow.AvailabilityStride + refreshes)", sku, wh)
	return v
}

// invOp is a change made in the WMS: an adjustment of qty of sku at wh,
// or, with qty "", a snapshot of sku everywhere.
type invOp struct{ sku, wh, qty string }

func (w *world) apply(t testing.TB, i int, op invOp) {
	t.Helper()
	if op.qty == "" {
		_, err := w.wms.Snapshot(context.Background(), connector.InventoryQuery{SKUs: []string{op.sku}})
		require.NoError(t, err, "Snapshot %s", op.sku)
		return
	}
	_, err := w.wms.Adjust(context.Background(), canonical.InventoryAdjustment{ID: fmt.Sprintf("ADJ-T%d", i), Item: canonical.ItemRef{SKU: op.sku},
		Location: op.wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity(op.qty, "EA"),
		Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
	require.NoError(t, err, "Adjust %v", op)
}

// TestInventorySync checks that adjustments and snapshots made in the WMS
// reach the ERP's ledger and the CRM's availability.
func TestInventorySync(t *testing.T) {
	tests := []struct {
		name string
		ops  []invOp
		want map[string]string // SKU@WH → on hand in the WMS afterwards
	}{
		{name: "one receipt", ops: []invOp{{"SKU-100", "WH-EAST", "5"}}, want: map[string]string{"SKU-100@WH-EAST": "125"}},
		{name: "a loss", ops: []invOp{{"SKU-102", "WH-SOUTH", "-40"}}, want: map[string]string{"SKU-102@WH-SOUTH": "200"}},
		{name: "first stock of an empty warehouse", ops: []invOp{{"SKU-105", "WH-WEST", "7"}}, want: map[string]string{"SKU-105@WH-WEST": "7"}},
		{name: "snapshot only", ops: []invOp{{sku: "SKU-103"}},
			want: map[string]string{"SKU-103@WH-EAST": "10", "SKU-103@WH-SOUTH": "5", "SKU-103@WH-WEST": "5"}},
		{name: "snapshot of two lots", ops: []invOp{{sku: "SKU-104"}}, want: map[string]string{"SKU-104@WH-EAST": "300"}},
		{name: "adjustments on two keys then a snapshot", ops: []invOp{{"SKU-100", "WH-WEST", "3"}, {"SKU-101", "WH-EAST", "-8"}, {sku: "SKU-100"}},
			want: map[string]string{"SKU-100@WH-WEST": "63", "SKU-101@WH-EAST": "72", "SKU-100@WH-EAST": "120"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			for i, op := range tt.ops {
				w.apply(t, i, op)
			}
			require.NoError(t, w.flow.Drain(context.Background()), "Drain after %v", tt.ops)
			for key, want := range tt.want {
				sku, wh, _ := strings.Cut(key, "@")
				v := inventoryAgrees(t, w.wms, w.erp, w.crm, sku, wh)
				assert.Equal(t, want, v.onHand.String(), "WMS on hand of %s after %v", key, tt.ops)
				seq, ok := w.flow.InventorySeq(sku, wh)
				assert.True(t, ok, "flow pushed %s after %v", key, tt.ops)
				assert.Equal(t, v.seq, seq, "flow's sequence of %s after %v", key, tt.ops)
			}
			assert.Zero(t, w.metrics.get(flow.CounterDeadLettered), "dead letters after %v", tt.ops)
		})
	}
}

// TestInventoryCoalesce checks that a burst of events for one key pending
// in one drain is pushed once, with the newest position.
func TestInventoryCoalesce(t *testing.T) {
	tests := []struct {
		name  string
		burst []string
	}{
		{name: "five receipts", burst: []string{"1", "2", "3", "4", "5"}},
		{name: "receipts and losses", burst: []string{"10", "-4", "6", "-2"}},
		{name: "one event", burst: []string{"9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probe := &invProbe{}
			w := newWorld(t, nil, probe.wrap)
			for i, q := range tt.burst {
				w.apply(t, i, invOp{"SKU-101", "WH-WEST", q})
			}
			before := w.crm.Counts().AvailabilityUpdates
			require.NoError(t, w.flow.Drain(context.Background()), "Drain after burst %v", tt.burst)
			assert.Equal(t, 1, probe.callsFor("SKU-101@WH-WEST"), "ERP ApplyInventory calls for burst %v", tt.burst)
			assert.Equal(t, 1, w.crm.Counts().AvailabilityUpdates-before, "CRM availability updates for burst %v", tt.burst)
			assert.Equal(t, len(tt.burst)-1, w.metrics.get(flow.CounterDuplicate), "events covered by the push of burst %v", tt.burst)
			v := inventoryAgrees(t, w.wms, w.erp, w.crm, "SKU-101", "WH-WEST")
			assert.Equal(t, int64(len(tt.burst)), v.seq, "WMS sequence after burst %v", tt.burst)
		})
	}
}

// TestInventoryStaleSnapshot delivers a snapshot again after a newer
// adjustment was applied: it changes nothing in the ERP or the CRM.
func TestInventoryStaleSnapshot(t *testing.T) {
	tests := []struct {
		name  string
		newID bool // redelivered under another event ID (a replay by another path)
	}{
		{name: "same event again", newID: false},
		{name: "same position under another event ID", newID: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probe := &invProbe{}
			w := newWorld(t, nil, probe.wrap)
			ctx := context.Background()
			_, err := w.wms.Snapshot(ctx, connector.InventoryQuery{SKUs: []string{"SKU-100"}, Locations: []string{"WH-EAST"}})
			require.NoError(t, err, "Snapshot")
			require.NoError(t, w.flow.Drain(ctx), "Drain after the snapshot")
			w.apply(t, 1, invOp{"SKU-100", "WH-EAST", "5"})
			require.NoError(t, w.flow.Drain(ctx), "Drain after the adjustment")
			newer := inventoryAgrees(t, w.wms, w.erp, w.crm, "SKU-100", "WH-EAST")
			require.Equal(t, "125", newer.onHand.String(), "on hand after the adjustment")

			page, err := w.wms.PollEvents(ctx, "", 100)
			require.NoError(t, err, "PollEvents")
			var stale canonical.Event
			for _, e := range page.Events {
				if e.Type == canonical.EventInventorySnapshot {
					stale = e
				}
			}
			require.NotEmpty(t, stale.ID, "the snapshot event is on the feed")
			if tt.newID {
				stale.ID += "-again"
			}
			calls, dups := probe.callsFor("SKU-100@WH-EAST"), w.metrics.get(flow.CounterDuplicate)
			require.NoError(t, w.log.Append(ctx, stale), "Append the stale snapshot")
			require.NoError(t, w.flow.Drain(ctx), "Drain after the stale snapshot")
			assert.Equal(t, calls, probe.callsFor("SKU-100@WH-EAST"), "ERP calls after the stale snapshot (%s)", tt.name)
			got := inventoryAgrees(t, w.wms, w.erp, w.crm, "SKU-100", "WH-EAST")
			assert.Equal(t, newer, got, "inventory after the stale snapshot (%s)", tt.name)
			if tt.newID {
				assert.Equal(t, dups+1, w.metrics.get(flow.CounterDuplicate), "the stale snapshot counts as a duplicate")
			}
		})
	}
}

// TestInventoryFaults adjusts and snapshots stock at random while the
// connectors fail, duplicate and reorder the WMS feed: the flow never sends
// an older position after a newer one, what the CRM shows never goes
// backwards, and at the end the three systems agree.
func TestInventoryFaults(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fc := faults.Config{Seed: seed, Unavailable: 0.15, RateLimited: 0.05, AmbiguousTimeout: 0.1,
					Duplicate: 0.3, Reorder: 0.5, RetryAfter: 50 * time.Millisecond}
				probe := &invProbe{}
				w := newWorld(t, &fc, probe.wrap)
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(seed, 11))
				skus := []string{"SKU-100", "SKU-102", "SKU-104"}
				whs := []string{"WH-EAST", "WH-SOUTH", "WH-WEST"}
				shown := map[string]int64{}
				n := 0
				for round := range 15 {
					for range 1 + rng.IntN(8) {
						n++
						w.apply(t, n, invOp{skus[rng.IntN(len(skus))], whs[rng.IntN(len(whs))], fmt.Sprint(1 + rng.IntN(9))})
					}
					if rng.IntN(3) == 0 {
						w.apply(t, n, invOp{sku: skus[rng.IntN(len(skus))]})
					}
					require.NoError(t, w.flow.Drain(ctx), "Drain of round %d (seed %d)", round, seed)
					for _, sku := range skus {
						for _, wh := range whs {
							a, ok := w.crm.ShownAvailability(sku, wh)
							if !ok {
								continue
							}
							k := sku + "@" + wh
							require.GreaterOrEqual(t, a.Sequence, shown[k], "CRM sequence of %s in round %d (seed %d)", k, round, seed)
							shown[k] = a.Sequence
						}
					}
				}
				for _, sku := range skus {
					for _, wh := range whs {
						if wmsStock(t, w.wms, sku, wh).seq > 0 {
							inventoryAgrees(t, w.wms, w.erp, w.crm, sku, wh)
						}
					}
				}
				assert.Empty(t, probe.backwards, "positions sent after newer ones (seed %d)", seed)
				dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
				require.NoError(t, err, "DeadLetters")
				assert.Empty(t, dls, "dead letters (seed %d)", seed)
				var injected faults.Counts
				for _, f := range w.faults {
					c := f.Counts()
					injected.Duplicates += c.Duplicates
					injected.Reorders += c.Reorders
				}
				assert.Positive(t, injected.Duplicates, "duplicated pages injected (seed %d)", seed)
				assert.Positive(t, injected.Reorders, "reordered pages injected (seed %d)", seed)
				assert.Positive(t, w.metrics.get(flow.CounterDuplicate), "duplicates suppressed (seed %d)", seed)
			})
		})
	}
}

// lagMetrics records the sync lags the flow reports.
type lagMetrics struct {
	mu   sync.Mutex
	lags map[string][]time.Duration
}

func (m *lagMetrics) Count(context.Context, flow.Counter, string) {}

func (m *lagMetrics) SyncLag(_ context.Context, entity string, lag time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lags == nil {
		m.lags = map[string][]time.Duration{}
	}
	m.lags[entity] = append(m.lags[entity], lag)
}

// TestInventorySyncLag checks that the lag from the WMS's event time to the
// push is reported per entity, for the event that pushed.
func TestInventorySyncLag(t *testing.T) {
	tests := []struct {
		name   string
		op     invOp
		entity string
	}{
		{name: "adjustment", op: invOp{"SKU-100", "WH-EAST", "1"}, entity: canonical.KindInventoryAdjustment},
		{name: "snapshot", op: invOp{sku: "SKU-103"}, entity: canonical.KindInventoryPosition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// The WMS's clock is an hour behind the flow's, both a day
				// after the ERP's demo stock positions.
				off := time.Until(erp.DemoEpoch().Add(24 * time.Hour))
				w, err := wms.New(wms.Config{Clock: func() time.Time { return time.Now().Add(off - time.Hour) }})
				require.NoError(t, err, "wms.New")
				e, err := erp.New(erp.Config{})
				require.NoError(t, err, "erp.New")
				c, err := crm.New(crm.Config{})
				require.NoError(t, err, "crm.New")
				m := &lagMetrics{}
				f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}), Metrics: m,
					PollInterval: 10 * time.Millisecond, Now: func() time.Time { return time.Now().Add(off) }})
				require.NoError(t, err, "flow.New")
				wd := &world{wms: w}
				wd.apply(t, 1, tt.op)
				require.NoError(t, f.Drain(context.Background()), "Drain after %s", tt.name)
				require.NotEmpty(t, m.lags[tt.entity], "lags of %s", tt.entity)
				for _, lag := range m.lags[tt.entity] {
					assert.Equal(t, time.Hour, lag, "sync lag of %s (synctest time does not move while handling)", tt.name)
				}
				inventoryAgrees(t, w, e, c, tt.op.sku, "WH-EAST")
			})
		})
	}
}

// TestInventoryBadInput appends malformed inventory events: each is
// dead-lettered with a reason naming the problem and the event.
func TestInventoryBadInput(t *testing.T) {
	adj := canonical.InventoryAdjustment{ID: "A-1", Item: canonical.ItemRef{SKU: "SKU-100"}, Location: "WH-EAST",
		Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1", "EA"), Reason: canonical.AdjustFound,
		AdjustedAt: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Sequence: 1}
	good, err := canonical.NewEvent(canonical.EventInventoryAdjusted, adj)
	require.NoError(t, err, "NewEvent adjustment")
	unknown := adj
	unknown.Item.SKU = "SKU-999"
	unknownEv, err := canonical.NewEvent(canonical.EventInventoryAdjusted, unknown)
	require.NoError(t, err, "NewEvent unknown SKU")
	tests := []struct {
		name      string
		event     canonical.Event
		partition string
		want      string
	}{
		{name: "bad JSON data", event: canonical.Event{Type: canonical.EventInventorySnapshot, Data: []byte(`{"item": 5}`)},
			partition: "SKU-100@WH-EAST", want: flow.ErrBadEvent.Error()},
		{name: "partition key not the data's", event: good, partition: "SKU-101@WH-EAST", want: `partition key "SKU-101@WH-EAST"`},
		{name: "item the WMS does not hold", event: unknownEv, partition: "SKU-999@WH-EAST", want: "SKU-999@WH-EAST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil)
				ctx := context.Background()
				ev := tt.event
				ev.ID, ev.Source, ev.SpecVersion, ev.Subject, ev.PartitionKey = "bad-inv", w.wms.Source(), canonical.EventSpecVersion, tt.partition, tt.partition
				ev.CorrelationID = "corr-bad"
				require.NoError(t, w.log.Append(ctx, ev), "Append %s", tt.name)
				w.apply(t, 1, invOp{"SKU-100", "WH-EAST", "2"})
				require.NoError(t, w.flow.Drain(ctx), "Drain with %s", tt.name)
				inventoryAgrees(t, w.wms, w.erp, w.crm, "SKU-100", "WH-EAST")
				dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-bad"})
				require.NoError(t, err, "DeadLetters")
				require.Len(t, dls, 1, "dead letters for %s", tt.name)
				assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason for %s", tt.name)
				assert.Contains(t, dls[0].Error, tt.want, "error of %s", tt.name)
				assert.Contains(t, dls[0].Error, w.wms.Source()+"/bad-inv", "error of %s names the event", tt.name)
			})
		})
	}
}
