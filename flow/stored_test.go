package flow_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/sqlite"
	"github.com/distsync/distsync/wms"
)

// TestStoredOrders lists and reads orders from the state store alone, as
// the operator CLI does, over SQLite and memory: the same view Where gives,
// without the systems' views; final orders listed only when saved since.
func TestStoredOrders(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	sqlState, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
	require.NoError(t, err)
	require.NoError(t, sqlState.Migrate(ctx))
	for _, tc := range []struct {
		name  string
		store flow.StateStore
	}{{"sql", sqlState}, {"memory", &flow.MemoryState{}}} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := erp.New(erp.Config{})
			w, _ := wms.New(wms.Config{})
			c, _ := crm.New(crm.Config{})
			f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}), State: tc.store})
			require.NoError(t, err)
			var ids []string
			for _, sku := range []string{"SKU-100", "SKU-105"} { // shipped; backordered, open
				opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
					SKU: sku, Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
				require.NoError(t, err)
				o, err := c.ConvertOpportunity(ctx, opp.ID)
				require.NoError(t, err)
				ids = append(ids, o.ID)
			}
			for range 20 {
				require.NoError(t, f.Drain(ctx))
				if n, _ := w.Step(ctx); n == 0 {
					break
				}
			}
			require.NoError(t, f.Drain(ctx))
			lister := tc.store.(flow.StateLister)
			all, err := lister.ListOrders(ctx, time.Time{})
			require.NoError(t, err)
			assert.Subset(t, all, ids)
			open, err := lister.ListOrders(ctx, time.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.Contains(t, open, ids[1], "the open order is always listed")
			assert.NotContains(t, open, ids[0], "the final order saved before since is not")

			for _, id := range ids {
				got, err := flow.StoredOrder(ctx, tc.store, id)
				require.NoError(t, err, id)
				want, err := f.Where(ctx, id)
				require.NoError(t, err, id)
				assert.Equal(t, want.Status, got.Status, id)
				assert.Equal(t, want.Phase, got.Phase, id)
				assert.Equal(t, want.Order.Lines, got.Order.Lines, id)
				assert.Equal(t, want.Shipments, got.Shipments, id)
				assert.Equal(t, want.Invoices, got.Invoices, id)
				assert.Nil(t, got.ERP, "no system is asked")
			}
			_, err = flow.StoredOrder(ctx, tc.store, "ORD-NOPE")
			assert.ErrorIs(t, err, flow.ErrUnknownOrder)
		})
	}
	_, err = flow.StoredOrder(ctx, nil, "x")
	assert.ErrorIs(t, err, flow.ErrInvalidConfig)
}
