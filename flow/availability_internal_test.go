package flow

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

// fakeStock is a WMS's inventory of one SKU@WAREHOUSE whose available
// quantity and sequence the test sets: an allocation changes available
// and leaves the sequence.
type fakeStock struct {
	mu        sync.Mutex
	available string
	seq       int64
}

func (s *fakeStock) set(available string, seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.available, s.seq = available, seq
}

func (s *fakeStock) Inventory(_ context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []canonical.InventoryPosition{{Item: canonical.ItemRef{SKU: q.SKUs[0]}, Location: q.Locations[0],
		Status: canonical.InventoryAvailable, Kind: canonical.QuantitySnapshot,
		OnHand: canonical.MustParseQuantity("20", "EA"), Allocated: canonical.MustParseQuantity("0", "EA"),
		Available: canonical.MustParseQuantity(s.available, "EA"), Inbound: canonical.MustParseQuantity("0", "EA"),
		AsOf: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Sequence: s.seq}}, nil
}

// nopLedger accepts every inventory application.
type nopLedger struct{}

func (nopLedger) ApplyInventory(context.Context, string, []canonical.InventoryPosition) error {
	return nil
}

// holdingCRM holds the publish of an inventory event's read (a sequence
// that is a multiple of AvailabilityStride) while hold is set: entered is
// closed when it is held, and it goes on when release is closed.
type holdingCRM struct {
	*crm.Memory
	hold             bool
	entered, release chan struct{}
}

func (c *holdingCRM) PublishAvailability(ctx context.Context, items []connector.Availability) error {
	if c.hold && items[0].Sequence%AvailabilityStride == 0 {
		c.hold = false
		close(c.entered)
		<-c.release
	}
	return c.Memory.PublishAvailability(ctx, items)
}

func snapshotEvent(t *testing.T, id string, seq int64) canonical.Event {
	t.Helper()
	e, err := canonical.NewEvent(canonical.EventInventorySnapshot, canonical.InventoryPosition{Item: canonical.ItemRef{SKU: "SKU-1"},
		Location: "WH-1", Status: canonical.InventoryAvailable, Kind: canonical.QuantitySnapshot,
		OnHand: canonical.MustParseQuantity("20", "EA"), Allocated: canonical.MustParseQuantity("0", "EA"),
		Available: canonical.MustParseQuantity("20", "EA"), Inbound: canonical.MustParseQuantity("0", "EA"),
		AsOf: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Sequence: seq})
	require.NoError(t, err, "NewEvent")
	e.ID, e.Source, e.Subject, e.Sequence = id, "wms", "SKU-1@WH-1", uint64(seq)
	return e
}

// TestAvailabilityRefreshNotOvertaken checks that a refresh after an
// allocation (a fresh read at the same WMS sequence) is published above the
// read of an inventory event at that sequence, whichever publishes last,
// and below the read of a later inventory event; a stale snapshot changes
// nothing.
func TestAvailabilityRefreshNotOvertaken(t *testing.T) {
	for _, tc := range []struct {
		name string
		// snapshotFirst publishes the snapshot's read before the
		// refresh; otherwise the snapshot's read, made before the
		// allocation, is published after the refresh.
		snapshotFirst bool
	}{{"snapshot read and published before the allocation", true}, {"snapshot read before, published after the allocation", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mem, err := crm.New(crm.Config{})
			require.NoError(t, err, "crm.New")
			c := &holdingCRM{Memory: mem, hold: !tc.snapshotFirst, entered: make(chan struct{}), release: make(chan struct{})}
			stock := &fakeStock{available: "20", seq: 3}
			f := &Flow{roles: inventoryRoles{stock: stock, ledger: nopLedger{}, avail: c}, scope: "test", now: time.Now,
				logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			bad := func(err error) error { return &EventError{Err: err} }
			done := make(chan error, 1)
			go func() {
				_, err := f.onInventory(ctx, snapshotEvent(t, "EV-3", 3), bad)
				done <- err
			}()
			if tc.snapshotFirst {
				require.NoError(t, <-done, "snapshot")
			} else {
				<-c.entered // the snapshot's read (20) is made, its publish held
			}
			stock.set("15", 3) // 5 allocated: no new WMS sequence
			require.NoError(t, f.refreshAvailability(ctx, "WH-1", []string{"SKU-1", "SKU-1"}), "refresh")
			if !tc.snapshotFirst {
				close(c.release)
				require.NoError(t, <-done, "snapshot")
			}
			shown, ok := mem.ShownAvailability("SKU-1", "WH-1")
			require.True(t, ok, "CRM shows SKU-1@WH-1")
			assert.Equal(t, "15", shown.Available.Value.String(), "CRM shows the allocation's refresh")
			assert.Equal(t, int64(3*AvailabilityStride+1), shown.Sequence, "sequence of the refresh")

			// A stale snapshot (sequence 2) is covered by the one pushed.
			stock.set("20", 3)
			dup, err := f.onInventory(ctx, snapshotEvent(t, "EV-2", 2), bad)
			require.NoError(t, err, "stale snapshot")
			assert.True(t, dup, "stale snapshot is covered")
			shown, _ = mem.ShownAvailability("SKU-1", "WH-1")
			assert.Equal(t, "15", shown.Available.Value.String(), "CRM after a stale snapshot")

			// The next inventory event overtakes the refreshes before it.
			stock.set("12", 4)
			_, err = f.onInventory(ctx, snapshotEvent(t, "EV-4", 4), bad)
			require.NoError(t, err, "snapshot 4")
			shown, _ = mem.ShownAvailability("SKU-1", "WH-1")
			assert.Equal(t, "12", shown.Available.Value.String(), "CRM after snapshot 4")
			assert.Equal(t, int64(4*AvailabilityStride), shown.Sequence, "sequence of snapshot 4")
		})
	}
}
