package reconcile_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/reconcile"
)

// TestBudget: a run stops at MaxCalls and says so; the next runs go on with
// the orders it did not reach, so every order is compared in the end.
func TestBudget(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t)
	for range 5 {
		wd.order(t, "SKU-100", "1")
	}
	wd.settle(t)
	// Per order: GetOrder and ShownStatus; plus one per fulfilment order
	// read from the WMS: 3 calls an order here, and the WMS feed's pages.
	full, err := reconcile.New(reconcile.Config{State: wd.st, ERP: wd.e, WMS: wd.w, CRM: wd.c})
	require.NoError(t, err)
	rep, err := full.Reconcile(ctx)
	require.NoError(t, err)
	require.False(t, rep.Cost.Truncated)
	require.Equal(t, 5, rep.Cost.Orders)
	// The cost the package documentation states: 2 + F calls an order of F
	// fulfilment orders, one WMS feed page (fewer events than PageSize),
	// one inventory read and one CRM read per position.
	require.Positive(t, rep.Cost.Positions)
	require.Equal(t, 5*(2+1)+1+1+rep.Cost.Positions, rep.Cost.Calls)

	r, err := reconcile.New(reconcile.Config{State: wd.st, ERP: wd.e, WMS: wd.w, CRM: wd.c, MaxCalls: 7})
	require.NoError(t, err)
	compared := 0
	for i := 0; i < 20 && compared < 5; i++ {
		rep, err := r.Reconcile(ctx)
		require.NoError(t, err)
		assert.LessOrEqual(t, rep.Cost.Calls, 7, "run %d", i)
		compared += rep.Cost.Orders
		if compared < 5 {
			assert.True(t, rep.Cost.Truncated, "run %d", i)
		}
	}
	assert.GreaterOrEqual(t, compared, 5, "every order is reached across truncated runs")
}

// TestRate: calls wait on the token bucket, and Run runs at each interval
// until its context ends.
func TestRate(t *testing.T) {
	wd := newWorld(t)
	for range 3 {
		wd.order(t, "SKU-100", "1")
	}
	wd.settle(t)
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex // the reports come from Run's goroutine
		var reports []reconcile.Report
		var took []time.Duration
		snapshot := func() ([]reconcile.Report, []time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(reports), slices.Clone(took)
		}
		start := time.Now()
		r, err := reconcile.New(reconcile.Config{State: wd.st, ERP: wd.e, WMS: wd.w, CRM: wd.c,
			Rate: 10, Burst: 1, Interval: time.Minute, OnReport: func(rep reconcile.Report) {
				mu.Lock()
				defer mu.Unlock()
				reports = append(reports, rep)
				took = append(took, time.Since(rep.At))
			}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		got, gotTook := snapshot()
		require.Len(t, got, 1)
		calls := got[0].Cost.Calls
		require.Greater(t, calls, 3)
		// Burst 1 at 10 a second: the first call at once, each other after 100ms.
		assert.Equal(t, time.Duration(calls-1)*100*time.Millisecond, gotTook[0], "%d calls", calls)
		assert.Equal(t, start, got[0].At)
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		got, _ = snapshot()
		assert.Len(t, got, 4, "one run at start and one a minute")
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
}

// TestLast: Last reports no run before the first, then the latest run's
// report, and can be read while Run runs (-race checks the sharing).
func TestLast(t *testing.T) {
	wd := newWorld(t)
	wd.order(t, "SKU-100", "1")
	wd.settle(t)
	synctest.Test(t, func(t *testing.T) {
		r, err := reconcile.New(reconcile.Config{State: wd.st, ERP: wd.e, WMS: wd.w, CRM: wd.c, Interval: time.Minute})
		require.NoError(t, err)
		_, ok := r.Last()
		require.False(t, ok, "Last before any run")

		rep, err := r.Reconcile(context.Background())
		require.NoError(t, err)
		got, ok := r.Last()
		require.True(t, ok, "Last after a run")
		assert.Equal(t, rep, got, "Last returns the run's report")

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		time.Sleep(90 * time.Second) // Run's first run at once, its second a minute later
		synctest.Wait()
		got, ok = r.Last()
		require.True(t, ok)
		assert.Equal(t, rep.At.Add(time.Minute), got.At, "Last is the report of Run's latest run")
		assert.Equal(t, 1, got.Cost.Orders, "orders compared by Run's run")
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}
