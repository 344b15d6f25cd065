package flow_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// TestRunWakesOnWMSFeed checks that Run polls a WMS feed that implements
// connector.Subscriber as soon as it has new events, bare or under the
// decorators, without waiting for Config.PollInterval: with an interval of
// an hour, each adjustment is pushed to the ERP while the clock stands.
func TestRunWakesOnWMSFeed(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		t.Run(map[bool]string{false: "bare", true: "wrapped"}[wrap], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				e, err := erp.New(erp.Config{})
				require.NoError(t, err, "erp.New")
				w, err := wms.New(wms.Config{})
				require.NoError(t, err, "wms.New")
				c, err := crm.New(crm.Config{})
				require.NoError(t, err, "crm.New")
				var wh connector.WMS = w
				if wrap {
					wh, err = connector.WrapWMS(w, connector.Options{})
					require.NoError(t, err, "WrapWMS")
				}
				f, err := flow.New(flow.Config{ERP: e, WMS: wh, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
					PollInterval: time.Hour})
				require.NoError(t, err, "flow.New")
				rctx, cancel := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- f.Run(rctx) }()
				synctest.Wait()
				start := time.Now()
				for i := range 3 {
					_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: "A" + string(rune('1'+i)), Item: canonical.ItemRef{SKU: "SKU-100"},
						Location: "WH-EAST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1", "EA"),
						Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
					require.NoError(t, err, "Adjust %d", i)
					synctest.Wait()
					seq, ok := f.InventorySeq("SKU-100", "WH-EAST")
					assert.True(t, ok, "SKU-100@WH-EAST pushed after adjustment %d", i)
					assert.Equal(t, int64(i+1), seq, "sequence pushed after adjustment %d", i)
				}
				assert.Zero(t, time.Since(start), "time waited for the pushes")
				cancel()
				assert.True(t, errors.Is(<-done, context.Canceled), "Run ends with the cancellation")
			})
		})
	}
}
