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
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// TestRunWakesOnWMSFeed checks that Run polls a WMS feed that implements
// connector.Subscriber as soon as it has new events, bare, under the
// decorators, or one of several systems (Config.Warehouses), without
// waiting for Config.PollInterval: with an interval of an hour, each
// adjustment is pushed to the ERP while the clock stands.
func TestRunWakesOnWMSFeed(t *testing.T) {
	type site struct {
		m  *wms.Memory
		wh string
	}
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T, w *world) (flow.Config, []site)
	}{
		{"bare", func(t *testing.T, w *world) (flow.Config, []site) {
			return flow.Config{ERP: w.erp, CRM: w.crm, WMS: w.wms}, []site{{w.wms, "WH-EAST"}}
		}},
		{"wrapped", func(t *testing.T, w *world) (flow.Config, []site) {
			wrapped, err := connector.WrapWMS(w.wms, connector.Options{})
			require.NoError(t, err, "WrapWMS")
			return flow.Config{ERP: w.erp, CRM: w.crm, WMS: wrapped}, []site{{w.wms, "WH-EAST"}}
		}},
		{"two systems", func(t *testing.T, w *world) (flow.Config, []site) {
			return flow.Config{ERP: w.erp, CRM: w.crm, Warehouses: []flow.WarehouseSystem{
				{Name: "dc", WMS: w.wms, Locations: []string{"WH-EAST", "WH-SOUTH"}},
				{Name: "3pl", WMS: w.tpl, Locations: []string{"WH-WEST"}},
			}}, []site{{w.wms, "WH-EAST"}, {w.tpl, "WH-WEST"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				cfg, sites := tc.cfg(t, newTwoWMSSystems(t))
				cfg.Log, cfg.PollInterval = eventlog.NewMemory(eventlog.MemoryConfig{}), time.Hour
				f, err := flow.New(cfg)
				require.NoError(t, err, "flow.New")
				rctx, cancel := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- f.Run(rctx) }()
				synctest.Wait()
				start := time.Now()
				for i := range 6 {
					s := sites[i%len(sites)]
					_, err := s.m.Adjust(ctx, canonical.InventoryAdjustment{ID: "A" + string(rune('1'+i)), Item: canonical.ItemRef{SKU: "SKU-100"},
						Location: s.wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1", "EA"),
						Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
					require.NoError(t, err, "Adjust %d at %s", i, s.wh)
					synctest.Wait()
					seq, ok := f.InventorySeq("SKU-100", s.wh)
					assert.True(t, ok, "SKU-100@%s pushed after adjustment %d", s.wh, i)
					assert.Equal(t, int64(i/len(sites)+1), seq, "sequence of SKU-100@%s pushed after adjustment %d", s.wh, i)
				}
				assert.Zero(t, time.Since(start), "time waited for the pushes")
				cancel()
				assert.True(t, errors.Is(<-done, context.Canceled), "Run ends with the cancellation")
			})
		})
	}
}
