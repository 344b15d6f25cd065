package faults_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/connector/internal/memfake"
)

func TestConfigValidate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cfg  faults.Config
		ok   bool
	}{
		{"zero", faults.Config{}, true},
		{"all set", faults.Config{Seed: 1, Unavailable: 0.2, RateLimited: 0.3, RetryAfter: time.Second, AmbiguousTimeout: 1, Latency: time.Second, Duplicate: 0.5, Reorder: 0.5,
			Outage: faults.Outage{From: t0, Until: t0.Add(time.Hour), FromCall: 3, UntilCall: 9}}, true},
		{"open-ended outage", faults.Config{Outage: faults.Outage{FromCall: 3, From: t0}}, true},
		{"negative probability", faults.Config{Unavailable: -0.1}, false},
		{"probability above 1", faults.Config{Duplicate: 1.5}, false},
		{"NaN probability", faults.Config{Reorder: nan()}, false},
		{"transients above 1", faults.Config{Unavailable: 0.6, RateLimited: 0.6}, false},
		{"negative retry after", faults.Config{RetryAfter: -1}, false},
		{"negative latency", faults.Config{Latency: -1}, false},
		{"negative call", faults.Config{Outage: faults.Outage{FromCall: -1}}, false},
		{"calls reversed", faults.Config{Outage: faults.Outage{FromCall: 9, UntilCall: 3}}, false},
		{"clock reversed", faults.Config{Outage: faults.Outage{From: t0.Add(time.Hour), Until: t0}}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		_, werr := faults.WrapERP(memfake.NewERP(), tt.cfg)
		if tt.ok {
			assert.NoError(t, err, tt.name)
			assert.NoError(t, werr, "WrapERP with %s", tt.name)
		} else {
			assert.ErrorIs(t, err, faults.ErrInvalidConfig, tt.name)
			assert.ErrorIs(t, werr, faults.ErrInvalidConfig, "WrapERP with %s", tt.name)
		}
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// outcomes returns the error codes of n sequential GetOrder calls.
func outcomes(t *testing.T, cfg faults.Config, n int) []connector.Code {
	t.Helper()
	erp := memfake.NewERP()
	o := memfake.SampleOrder(1)
	_, err := erp.AcceptOrder(t.Context(), "k", &o)
	require.NoError(t, err)
	f, err := faults.WrapERP(erp, cfg)
	require.NoError(t, err)
	codes := make([]connector.Code, n)
	for i := range codes {
		_, err := f.GetOrder(t.Context(), o.ID)
		codes[i] = connector.CodeOf(err)
	}
	return codes
}

func TestDeterministic(t *testing.T) {
	cfg := faults.Config{Seed: 42, Unavailable: 0.2, RateLimited: 0.1, AmbiguousTimeout: 0.1}
	a := outcomes(t, cfg, 300)
	assert.Equal(t, a, outcomes(t, cfg, 300), "seed 42 twice")
	cfg.Seed = 43
	assert.NotEqual(t, a, outcomes(t, cfg, 300), "seeds 42 and 43")
}

func TestRates(t *testing.T) {
	tests := []struct {
		name string
		cfg  faults.Config
		code connector.Code
		want float64
	}{
		{"unavailable", faults.Config{Seed: 1, Unavailable: 0.3}, connector.CodeUnavailable, 0.3},
		{"rate limited", faults.Config{Seed: 2, RateLimited: 0.2}, connector.CodeRateLimited, 0.2},
		{"ambiguous", faults.Config{Seed: 3, AmbiguousTimeout: 0.25}, connector.CodeTimeout, 0.25},
		{"none", faults.Config{Seed: 4}, connector.CodeUnavailable, 0},
	}
	const n = 4000
	for _, tt := range tests {
		got := 0
		for _, c := range outcomes(t, tt.cfg, n) {
			if c == tt.code {
				got++
			}
		}
		assert.InDelta(t, tt.want, float64(got)/n, 0.03, "%s: share of %v", tt.name, tt.code)
	}
}

func TestInjectedErrors(t *testing.T) {
	tests := []struct {
		name         string
		cfg          faults.Config
		code         connector.Code
		delay        time.Duration
		maybeApplied bool
		effects      int
	}{
		{"unavailable", faults.Config{Unavailable: 1}, connector.CodeUnavailable, 0, false, 0},
		{"rate limited default", faults.Config{RateLimited: 1}, connector.CodeRateLimited, faults.DefaultRetryAfter, false, 0},
		{"rate limited", faults.Config{RateLimited: 1, RetryAfter: 3 * time.Second}, connector.CodeRateLimited, 3 * time.Second, false, 0},
		{"ambiguous timeout", faults.Config{AmbiguousTimeout: 1}, connector.CodeTimeout, 0, true, 1},
	}
	for _, tt := range tests {
		erp := memfake.NewERP()
		f, err := faults.WrapERP(erp, tt.cfg)
		require.NoError(t, err, tt.name)
		o := memfake.SampleOrder(1)
		_, err = f.AcceptOrder(t.Context(), "k", &o)
		var ce *connector.Error
		require.ErrorAs(t, err, &ce, tt.name)
		assert.ErrorIs(t, err, faults.ErrInjected, tt.name)
		assert.Equal(t, tt.code, ce.Code(), tt.name)
		assert.Equal(t, "erp", ce.System(), tt.name)
		assert.Equal(t, "AcceptOrder", ce.Op(), tt.name)
		assert.Equal(t, tt.delay, ce.RetryAfter(), tt.name)
		assert.Equal(t, tt.maybeApplied, ce.MayHaveApplied(), tt.name)
		assert.Equal(t, tt.effects, erp.Effects().Orders, "%s: effects", tt.name)
	}
}

func TestOutage(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tests := []struct {
		name   string
		outage faults.Outage
		// clockAt gives the clock for call i (0-based).
		want []bool // whether call i fails
	}{
		{"calls 3 and 4", faults.Outage{FromCall: 3, UntilCall: 5}, []bool{false, false, true, true, false, false}},
		{"from call 5 on", faults.Outage{FromCall: 5}, []bool{false, false, false, false, true, true}},
		{"minutes 2 to 4", faults.Outage{From: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, []bool{false, false, true, true, false, false}},
	}
	for _, tt := range tests {
		f, err := faults.WrapWMS(memfake.NewWMS(), faults.Config{Outage: tt.outage, Now: clock})
		require.NoError(t, err, tt.name)
		for i, fail := range tt.want {
			mu.Lock()
			now = t0.Add(time.Duration(i) * time.Minute)
			mu.Unlock()
			_, err := f.Inventory(t.Context(), connector.InventoryQuery{})
			if fail {
				assert.Equal(t, connector.CodeUnavailable, connector.CodeOf(err), "%s: call %d", tt.name, i+1)
			} else {
				assert.NoError(t, err, "%s: call %d", tt.name, i+1)
			}
		}
		wantOutage := int64(0)
		for _, fail := range tt.want {
			if fail {
				wantOutage++
			}
		}
		assert.Equal(t, wantOutage, f.Counts().Outage, tt.name)
	}
}

func TestLatency(t *testing.T) {
	var mu sync.Mutex
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		return nil
	}
	f, err := faults.WrapCRM(memfake.NewCRM(), faults.Config{Seed: 7, Latency: 100 * time.Millisecond, Sleep: sleep})
	require.NoError(t, err)
	for range 50 {
		_, err := f.PollOrders(t.Context(), "", 10)
		require.NoError(t, err)
	}
	var total time.Duration
	for _, d := range slept {
		assert.Less(t, d, 100*time.Millisecond, "delay %v", d)
		assert.Positive(t, d, "delay %v", d)
		total += d
	}
	c := f.Counts()
	assert.Equal(t, int64(len(slept)), c.Delays)
	assert.Equal(t, total, c.Delayed)
	assert.Greater(t, len(slept), 40, "almost every call is delayed")
}

func TestLatencyHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := faults.WrapCRM(memfake.NewCRM(), faults.Config{Latency: time.Hour})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		for {
			_, err = f.PollOrders(ctx, "", 10)
			if err != nil || time.Since(start) > time.Hour {
				break
			}
		}
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start), "the wait ends with the context")
	})
}

func TestCancelledWins(t *testing.T) {
	erp := memfake.NewERP()
	f, err := faults.WrapERP(erp, faults.Config{Unavailable: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	o := memfake.SampleOrder(1)
	_, err = f.AcceptOrder(ctx, "k", &o)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, f.Counts().Calls, "nothing drawn for a cancelled call")
}

// feedWith returns a WMS whose feed holds n events.
func feedWith(t *testing.T, n int) *memfake.WMS {
	t.Helper()
	w := memfake.NewWMS()
	for i := range n {
		_, err := w.Release(t.Context(), memfake.SampleFulfillmentOrder(i+1))
		require.NoError(t, err)
	}
	return w
}

func keys(es []canonical.Event) []string {
	var ks []string
	for _, e := range es {
		ks = append(ks, e.Key().String())
	}
	return ks
}

func TestDuplicatePage(t *testing.T) {
	w := feedWith(t, 6)
	f, err := faults.WrapWMS(w, faults.Config{Duplicate: 1})
	require.NoError(t, err)
	ctx := t.Context()
	p1, err := f.PollEvents(ctx, "", 2)
	require.NoError(t, err)
	again, err := f.PollEvents(ctx, p1.Next, 2)
	require.NoError(t, err)
	assert.Equal(t, keys(p1.Events), keys(again.Events), "the page is delivered again")
	assert.Equal(t, p1.Next, again.Next, "with the same cursor")
	assert.True(t, again.More)
	p2, err := f.PollEvents(ctx, again.Next, 2)
	require.NoError(t, err)
	want, err := w.PollEvents(ctx, p1.Next, 2)
	require.NoError(t, err)
	assert.Equal(t, keys(want.Events), keys(p2.Events), "then the feed goes on")

	// A redelivery never exceeds the limit of the poll asking for it:
	// p2 is pending, but a poll for one event gets the next one instead.
	small, err := f.PollEvents(ctx, p2.Next, 1)
	require.NoError(t, err)
	wantSmall, err := w.PollEvents(ctx, p2.Next, 1)
	require.NoError(t, err)
	assert.Equal(t, keys(wantSmall.Events), keys(small.Events), "a pending page larger than the limit is dropped")
	assert.Equal(t, int64(3), f.Counts().Duplicates, "every page delivered from the feed was marked for redelivery")
}

func TestReorderWithinPage(t *testing.T) {
	w := feedWith(t, 20)
	f, err := faults.WrapWMS(w, faults.Config{Seed: 5, Reorder: 1})
	require.NoError(t, err)
	var got, want []string
	cursor := connector.Cursor("")
	shuffled := false
	for {
		p, err := f.PollEvents(t.Context(), cursor, 5)
		require.NoError(t, err)
		ref, err := w.PollEvents(t.Context(), cursor, 5)
		require.NoError(t, err)
		assert.Equal(t, ref.Next, p.Next, "the cursor after %q is kept", cursor)
		assert.ElementsMatch(t, keys(ref.Events), keys(p.Events), "the page after %q keeps its events", cursor)
		shuffled = shuffled || !slices.Equal(keys(ref.Events), keys(p.Events))
		if len(p.Events) == 0 {
			break
		}
		got = append(got, keys(p.Events)...)
		want = append(want, keys(ref.Events)...)
		cursor = p.Next
	}
	assert.ElementsMatch(t, want, got, "nothing lost or added")
	assert.True(t, shuffled, "some page was shuffled")
}

func TestConcurrentUse(t *testing.T) {
	erp := memfake.NewERP()
	f, err := faults.WrapERP(erp, faults.Config{Seed: 9, Unavailable: 0.3, AmbiguousTimeout: 0.3})
	require.NoError(t, err)
	o := memfake.SampleOrder(1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[connector.Code]int{}
	oks := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				_, err := f.AcceptOrder(t.Context(), "k", &o)
				mu.Lock()
				if err == nil {
					oks++
				} else {
					codes[connector.CodeOf(err)]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(400), f.Counts().Calls)
	assert.Equal(t, 1, erp.Effects().Orders, "one order whatever the faults")
	assert.Positive(t, oks)
	assert.Positive(t, codes[connector.CodeUnavailable])
	assert.Positive(t, codes[connector.CodeTimeout])
}

func TestCountsAdd(t *testing.T) {
	a := faults.Counts{Calls: 1, Unavailable: 2, RateLimited: 3, AmbiguousTimeouts: 4, Outage: 5, Delays: 6, Delayed: 7, Duplicates: 8, Reorders: 9}
	var sum faults.Counts
	sum.Add(a)
	sum.Add(a)
	assert.Equal(t, faults.Counts{Calls: 2, Unavailable: 4, RateLimited: 6, AmbiguousTimeouts: 8, Outage: 10, Delays: 12, Delayed: 14, Duplicates: 16, Reorders: 18}, sum)
}
