package d365_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/erp/d365/d365emu"
	"github.com/distsync/distsync/retry"
)

// TestManyOrdersWithFaults accepts, ships and returns a few hundred orders
// from several workers through HTTP faults, each step retried by
// connector.WrapERP with its key, and checks that the ERP ends with one
// order, one invoice and one credit memo per order.
func TestManyOrdersWithFaults(t *testing.T) {
	const orders, workers = 200, 4
	var f *faults.HTTP
	emu, srv := emulator(t, func(h http.Handler) http.Handler {
		var err error
		f, err = faults.NewHTTP(h, faults.HTTPConfig{Seed: 9, Unavailable: 0.04, RateLimited: 0.04, Unauthorized: 0.03,
			TimeoutAfterEffect: 0.03, ResetAfterEffect: 0.03, RetryAfter: time.Millisecond, Hold: time.Second, Reject: d365emu.Reject,
			Match: (&tokenUses{n: map[string]int{}}).faultable})
		require.NoError(t, err)
		return f
	})
	e, err := connector.WrapERP(faultClient(t, srv.URL), connector.Options{MaxAttempts: 20,
		Breaker: retry.BreakerConfig{ConsecutiveFailures: 100},
		Backoff: retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond}})
	require.NoError(t, err)
	g, ctx := errgroup.WithContext(t.Context())
	next := make(chan int)
	g.Go(func() error {
		defer close(next)
		for n := range orders {
			select {
			case next <- n:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			for n := range next {
				o := kitOrder(n)
				if _, err := e.AcceptOrder(ctx, "accept-"+o.ID, &o); err != nil {
					return fmt.Errorf("accept %s: %w", o.ID, err)
				}
				s := connectortest.ShipAll(o, n)
				inv, err := e.PostShipment(ctx, "ship-"+s.ID, s)
				if err != nil {
					return fmt.Errorf("ship %s: %w", o.ID, err)
				}
				if err := emu.ERP().RecordPayment(ctx, o.SoldTo.ID, inv.Totals.Total); err != nil {
					return err
				}
				r := connectortest.ReturnAll(o, s, n)
				if _, err := e.PostReturn(ctx, "return-"+r.ID, r); err != nil {
					return fmt.Errorf("return %s: %w", o.ID, err)
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	c := emu.ERP().Counts()
	assert.Equal(t, orders, c.Orders, "one order per order")
	assert.Equal(t, orders, c.Invoices, "one invoice per order")
	assert.Equal(t, orders, c.CreditMemos, "one credit memo per order")
	fc := f.Counts()
	t.Logf("faults injected: %+v", fc)
	assert.Positive(t, fc.TimeoutsAfterEffect+fc.ResetsAfterEffect, "answers lost after the effect")
}
