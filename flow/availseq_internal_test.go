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
