package flow

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

// TestAvailabilityRestart checks that a flow restarted over the same
// cursor store goes on publishing availability above what the CRM shows:
// a refresh after an allocation (a fresh read at a WMS sequence the CRM
// already shows reads of) is shown, not ignored as already seen, whatever
// the flow published before the restart.
func TestAvailabilityRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		// refreshes are the available quantities of the refreshes made
		// before the restart, after the snapshot at WMS sequence 3.
		refreshes []string
	}{
		{"snapshot only before the restart", nil},
		{"one refresh before the restart", []string{"15"}},
		{"three refreshes before the restart", []string{"15", "12", "11"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mem, err := crm.New(crm.Config{})
			require.NoError(t, err, "crm.New")
			stock := &fakeStock{available: "20", seq: 3}
			cursors := &MemoryCursors{}
			newFlow := func() *Flow {
				return &Flow{roles: inventoryRoles{stock: stock, ledger: nopLedger{}, avail: mem}, cursors: cursors,
					scope: "test", now: time.Now, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			}
			bad := func(err error) error { return &EventError{Err: err} }
			shown := func(what string) connector.Availability {
				t.Helper()
				a, ok := mem.ShownAvailability("SKU-1", "WH-1")
				require.True(t, ok, "CRM shows SKU-1@WH-1 %s", what)
				return a
			}
			f := newFlow()
			_, err = f.onInventory(ctx, snapshotEvent(t, "EV-3", 3), bad)
			require.NoError(t, err, "snapshot 3")
			for i, avail := range tc.refreshes {
				stock.set(avail, 3)
				require.NoError(t, f.refreshAvailability(ctx, "WH-1", []string{"SKU-1"}), "refresh %d", i)
				assert.Equal(t, avail, shown("after refresh "+strconv.Itoa(i)).Available.Value.String(), "refresh %d shown", i)
			}
			before := shown("before the restart").Sequence

			f = newFlow() // restarted: nothing in memory
			stock.set("9", 3)
			require.NoError(t, f.refreshAvailability(ctx, "WH-1", []string{"SKU-1"}), "refresh after the restart")
			a := shown("after the restart")
			assert.Equal(t, "9", a.Available.Value.String(), "the refresh after the restart is shown")
			assert.Greater(t, a.Sequence, before, "sequence after the restart")

			// The next inventory event still overtakes the refreshes.
			stock.set("30", 4)
			_, err = f.onInventory(ctx, snapshotEvent(t, "EV-4", 4), bad)
			require.NoError(t, err, "snapshot 4")
			a = shown("after snapshot 4")
			assert.Equal(t, "30", a.Available.Value.String(), "snapshot 4 shown")
			assert.Equal(t, int64(4*AvailabilityStride), a.Sequence, "sequence of snapshot 4")
		})
	}
}

// TestAvailabilityBadStoredSequence checks that a stored availability
// sequence that is not one fails the refresh, naming the key, rather than
// publishing under a sequence that may repeat one the CRM has shown.
func TestAvailabilityBadStoredSequence(t *testing.T) {
	for _, stored := range []connector.Cursor{"x", "-4", "1e9"} {
		t.Run(string(stored), func(t *testing.T) {
			ctx := context.Background()
			mem, err := crm.New(crm.Config{})
			require.NoError(t, err, "crm.New")
			cursors := &MemoryCursors{}
			require.NoError(t, cursors.Save(ctx, availabilityFeed("SKU-1@WH-1"), stored), "Save")
			f := &Flow{roles: inventoryRoles{stock: &fakeStock{available: "20", seq: 3}, ledger: nopLedger{}, avail: mem},
				cursors: cursors, scope: "test", now: time.Now, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			err = f.refreshAvailability(ctx, "WH-1", []string{"SKU-1"})
			require.Error(t, err, "refresh over %q", stored)
			assert.Contains(t, err.Error(), "SKU-1@WH-1", "error names the key")
			_, ok := mem.ShownAvailability("SKU-1", "WH-1")
			assert.False(t, ok, "nothing published over a bad stored sequence")
		})
	}
}

// countingCursors counts the saves of a CursorStore.
type countingCursors struct {
	MemoryCursors
	saves int
}

func (c *countingCursors) Save(ctx context.Context, feed string, cur connector.Cursor) error {
	c.saves++
	return c.MemoryCursors.Save(ctx, feed, cur)
}

// TestAvailabilityReserve checks that a save of an availability sequence
// reserves the next ones: refreshes at one WMS sequence store once per
// availReserve of them, each before it is published, and a flow
// restarted after them publishes above the reservation.
func TestAvailabilityReserve(t *testing.T) {
	for _, tc := range []struct {
		refreshes, saves int
	}{{1, 1}, {availReserve, 1}, {availReserve + 1, 2}, {3 * availReserve, 3}} {
		t.Run(strconv.Itoa(tc.refreshes), func(t *testing.T) {
			ctx := context.Background()
			mem, err := crm.New(crm.Config{})
			require.NoError(t, err, "crm.New")
			stock := &fakeStock{available: "20", seq: 3}
			cursors := &countingCursors{}
			newFlow := func() *Flow {
				return &Flow{roles: inventoryRoles{stock: stock, ledger: nopLedger{}, avail: mem}, cursors: cursors,
					scope: "test", now: time.Now, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			}
			f := newFlow()
			for i := range tc.refreshes {
				require.NoError(t, f.refreshAvailability(ctx, "WH-1", []string{"SKU-1"}), "refresh %d", i)
				a, ok := mem.ShownAvailability("SKU-1", "WH-1")
				require.True(t, ok, "refresh %d shown", i)
				stored, err := cursors.Load(ctx, availabilityFeed("SKU-1@WH-1"))
				require.NoError(t, err, "Load")
				n, err := strconv.ParseInt(string(stored), 10, 64)
				require.NoError(t, err, "stored sequence %q", stored)
				require.LessOrEqual(t, a.Sequence, n, "refresh %d published at or below the stored sequence", i)
			}
			assert.Equal(t, tc.saves, cursors.saves, "saves of %d refreshes", tc.refreshes)
			before, _ := mem.ShownAvailability("SKU-1", "WH-1")

			f = newFlow() // restarted: nothing in memory
			require.NoError(t, f.refreshAvailability(ctx, "WH-1", []string{"SKU-1"}), "refresh after the restart")
			a, _ := mem.ShownAvailability("SKU-1", "WH-1")
			assert.Greater(t, a.Sequence, before.Sequence, "sequence after the restart")
			assert.Less(t, a.Sequence, int64(4*AvailabilityStride), "below the next WMS sequence's")
		})
	}
}
