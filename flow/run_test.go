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
	"github.com/distsync/distsync/flow"
)

// TestRun runs the flow in the background while the warehouses work, then
// stops it: the order completes, Drain refuses to run beside Run, and Run
// returns the cause of its context.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.flow.Run(ctx) }()
		id := w.submit(t, "ACC-0002", "SKU-101:100")
		for range 20 {
			time.Sleep(time.Second)
			synctest.Wait()
			_, err := w.wms.Step(context.Background())
			require.NoError(t, err, "Step")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		assert.ErrorIs(t, w.flow.Drain(context.Background()), flow.ErrRunning, "Drain while running")
		stop := errors.New("stop")
		cancel(stop)
		assert.ErrorIs(t, <-done, stop, "Run returns the cause")
		v := w.agree(t, id)
		assert.Equal(t, canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped,
			Billing: canonical.BillingInvoiced}, v.Status, "status of %s after Run", id)
		assert.Len(t, v.FulfillmentOrders, 2, "fulfilment orders of %s", id)
	})
}
