package connector_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/internal/memfake"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// scriptedERP is an ERP whose GetOrder and AcceptOrder fail as script says
// for the n-th call (1-based) before reaching the in-memory ERP; block
// makes them wait for the context instead.
type scriptedERP struct {
	*memfake.ERP
	mu     sync.Mutex
	calls  map[string]int
	script func(op string, n int) error
	block  bool
}

func newScripted(script func(op string, n int) error) *scriptedERP {
	return &scriptedERP{ERP: memfake.NewERP(), calls: map[string]int{}, script: script}
}

func (s *scriptedERP) before(ctx context.Context, op string) error {
	s.mu.Lock()
	s.calls[op]++
	n := s.calls[op]
	s.mu.Unlock()
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if s.script != nil {
		return s.script(op, n)
	}
	return nil
}

func (s *scriptedERP) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *scriptedERP) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	if err := s.before(ctx, "GetOrder"); err != nil {
		return canonical.Order{}, err
	}
	return s.ERP.GetOrder(ctx, id)
}

func (s *scriptedERP) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	if err := s.before(ctx, "AcceptOrder"); err != nil {
		return canonical.OrderAck{}, err
	}
	return s.ERP.AcceptOrder(ctx, key, o)
}

// PollEvents gives scriptedERP the optional EventFeed role: an empty page.
func (s *scriptedERP) PollEvents(ctx context.Context, cursor connector.Cursor, _ int) (connector.Page, error) {
	if err := s.before(ctx, "PollEvents"); err != nil {
		return connector.Page{}, err
	}
	return connector.Page{Next: cursor}, nil
}

// CancelOrderLines gives scriptedERP the optional OrderCanceller role: it
// answers the order's ID.
func (s *scriptedERP) CancelOrderLines(ctx context.Context, _ string, c connector.OrderCancellation) (canonical.Order, error) {
	if err := s.before(ctx, "CancelOrderLines"); err != nil {
		return canonical.Order{}, err
	}
	return canonical.Order{ID: c.OrderID}, nil
}

// ChangeOrder gives scriptedERP the optional OrderChanger role: it answers
// the change's order and versions.
func (s *scriptedERP) ChangeOrder(ctx context.Context, _ string, c canonical.OrderChange) (canonical.ChangeAck, error) {
	if err := s.before(ctx, "ChangeOrder"); err != nil {
		return canonical.ChangeAck{}, err
	}
	return canonical.ChangeAck{OrderID: c.OrderID, FromVersion: c.FromVersion, ToVersion: c.ToVersion, Outcome: canonical.ChangeApplied}, nil
}

// Health gives scriptedERP the optional HealthChecker role.
func (s *scriptedERP) Health(ctx context.Context) error { return s.before(ctx, "Health") }

// countingMetrics records what a decorator reports.
type countingMetrics struct {
	mu      sync.Mutex
	calls   []connector.CallStats
	retries []connector.RetryStats
}

func (m *countingMetrics) ObserveCall(_ context.Context, c connector.CallStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, c)
}

func (m *countingMetrics) ObserveRetry(_ context.Context, r connector.RetryStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retries = append(m.retries, r)
}

func unavailable(op string) error {
	return connector.NewError(connector.CodeUnavailable, "scripted", op, nil)
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts connector.Options
		ok   bool
	}{
		{"zero", connector.Options{}, true},
		{"all set", connector.Options{System: "sap", Timeout: time.Second, MaxAttempts: 3, MaxElapsed: time.Minute, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: time.Second}}, true},
		{"negative timeout", connector.Options{Timeout: -1}, false},
		{"negative attempts", connector.Options{MaxAttempts: -1}, false},
		{"negative initial backoff", connector.Options{Backoff: retry.Backoff{InitialInterval: -1}}, false},
		{"negative max backoff", connector.Options{Backoff: retry.Backoff{MaxInterval: -1}}, false},
		{"negative max elapsed", connector.Options{MaxElapsed: -1}, false},
		{"initial above max", connector.Options{Backoff: retry.Backoff{InitialInterval: time.Second, MaxInterval: time.Millisecond}}, false},
		{"bad breaker ratio", connector.Options{Breaker: retry.BreakerConfig{FailureRatio: 2}}, false},
		{"jitter above 1", connector.Options{Backoff: retry.Backoff{Jitter: 1.5}}, false},
		{"no jitter", connector.Options{Backoff: retry.Backoff{Jitter: retry.NoJitter}}, true},
	}
	for _, tt := range tests {
		err := tt.opts.Validate()
		if tt.ok {
			assert.NoError(t, err, tt.name)
			_, err = connector.WrapERP(memfake.NewERP(), tt.opts)
			assert.NoError(t, err, "WrapERP with %s", tt.name)
			continue
		}
		assert.ErrorIs(t, err, connector.ErrInvalidConfig, tt.name)
		_, err = connector.WrapERP(memfake.NewERP(), tt.opts)
		assert.ErrorIs(t, err, connector.ErrInvalidConfig, "WrapERP with %s", tt.name)
		_, err = connector.WrapWMS(memfake.NewWMS(), tt.opts)
		assert.ErrorIs(t, err, connector.ErrInvalidConfig, "WrapWMS with %s", tt.name)
		_, err = connector.WrapCRM(memfake.NewCRM(), tt.opts)
		assert.ErrorIs(t, err, connector.ErrInvalidConfig, "WrapCRM with %s", tt.name)
	}
}

func TestWrapRetries(t *testing.T) {
	tests := []struct {
		name      string
		fail      error // returned by the first two calls
		wantCalls int
		wantCode  connector.Code // CodeUnknown: the call succeeds
	}{
		{"unavailable", unavailable("AcceptOrder"), 3, connector.CodeUnknown},
		{"rate limited", connector.NewError(connector.CodeRateLimited, "", "", nil, connector.WithRetryAfter(3*time.Second)), 3, connector.CodeUnknown},
		{"timeout maybe applied", connector.NewError(connector.CodeTimeout, "", "", nil, connector.WithMayHaveApplied(true)), 3, connector.CodeUnknown},
		{"invalid", connector.NewError(connector.CodeInvalid, "", "", nil), 1, connector.CodeInvalid},
		{"conflict", connector.NewError(connector.CodeConflict, "", "", nil), 1, connector.CodeConflict},
		{"internal", connector.NewError(connector.CodeInternal, "", "", nil), 1, connector.CodeInternal},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			erp := newScripted(func(op string, n int) error {
				if n <= 2 {
					return tt.fail
				}
				return nil
			})
			rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
			require.NoError(t, err)
			m := &countingMetrics{}
			w, err := connector.WrapERP(erp, connector.Options{Recorder: rec, Metrics: m})
			require.NoError(t, err, tt.name)

			o := memfake.SampleOrder(1)
			ctx := tracing.WithCorrelationID(t.Context(), "corr-1")
			start := time.Now()
			ack, err := w.AcceptOrder(ctx, "k1", &o)
			assert.Equal(t, tt.wantCode, connector.CodeOf(err), "%s: error %v", tt.name, err)
			assert.Equal(t, tt.wantCalls, erp.count("AcceptOrder"), "%s: calls", tt.name)
			if tt.wantCode == connector.CodeUnknown {
				require.NoError(t, err, tt.name)
				assert.Equal(t, o.ID, ack.OrderID, tt.name)
				assert.Equal(t, 1, erp.Effects().Orders, "%s: one effect", tt.name)
			}
			if tt.name == "rate limited" {
				assert.GreaterOrEqual(t, time.Since(start), 6*time.Second, "rate limited: two waits of at least the Retry-After")
			}

			steps := rec.Timeline("corr-1")
			require.Len(t, steps, tt.wantCalls, "%s: one step per attempt", tt.name)
			for i, s := range steps {
				assert.Equal(t, i+1, s.Attempt, "%s: step %d", tt.name, i)
				assert.Equal(t, "erp", s.System, tt.name)
				assert.Equal(t, "AcceptOrder", s.Operation, tt.name)
			}
			last := steps[len(steps)-1]
			if tt.wantCode == connector.CodeUnknown {
				assert.Equal(t, tracing.OutcomeOK, last.Outcome, tt.name)
				assert.Equal(t, tracing.OutcomeRetry, steps[0].Outcome, tt.name)
				assert.Equal(t, connector.CodeOf(tt.fail).String(), steps[0].ErrorClass, tt.name)
			} else {
				assert.Equal(t, tracing.OutcomeFailed, last.Outcome, tt.name)
				assert.Equal(t, tt.wantCode.String(), last.ErrorClass, tt.name)
			}

			require.Len(t, m.calls, 1, "%s: one call observed", tt.name)
			assert.Equal(t, connector.CallStats{System: "erp", Op: "AcceptOrder", Err: err, Code: tt.wantCode, Attempts: tt.wantCalls, Latency: time.Since(start)}, m.calls[0], tt.name)
			assert.Len(t, m.retries, tt.wantCalls-1, "%s: retries observed", tt.name)
		})
	}
}

// TestWrapBackoff: the waits between attempts are Options.Backoff's, the
// same retry.Backoff value as retry.Policy's and the event log's.
func TestWrapBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		erp := newScripted(func(op string, n int) error {
			if n <= 4 {
				return unavailable(op)
			}
			return nil
		})
		m := &countingMetrics{}
		bo := retry.Backoff{InitialInterval: time.Second, MaxInterval: 5 * time.Second, Multiplier: 3, Jitter: retry.NoJitter}
		w, err := connector.WrapERP(erp, connector.Options{Metrics: m, NoBreaker: true, Backoff: bo})
		require.NoError(t, err)
		o := memfake.SampleOrder(1)
		start := time.Now()
		_, err = w.AcceptOrder(t.Context(), "k1", &o)
		require.NoError(t, err)
		var delays []time.Duration
		for _, r := range m.retries {
			delays = append(delays, r.Delay)
		}
		want := []time.Duration{time.Second, 3 * time.Second, 5 * time.Second, 5 * time.Second}
		assert.Equal(t, want, delays, "delays of Options.Backoff")
		for i, d := range want {
			assert.Equal(t, d, bo.Delay(i+1), "Backoff.Delay(%d)", i+1)
		}
		assert.Equal(t, 14*time.Second, time.Since(start), "time waited")
	})
}

func TestWrapTimeout(t *testing.T) {
	tests := []struct {
		op           string
		maybeApplied bool
	}{
		{"AcceptOrder", true},
		{"GetOrder", false},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			erp := newScripted(nil)
			erp.block = true
			w, err := connector.WrapERP(erp, connector.Options{Timeout: 2 * time.Second, MaxAttempts: 2, Backoff: retry.Backoff{InitialInterval: time.Second, MaxInterval: time.Second}})
			require.NoError(t, err)
			start := time.Now()
			o := memfake.SampleOrder(1)
			if tt.op == "AcceptOrder" {
				_, err = w.AcceptOrder(t.Context(), "k", &o)
			} else {
				_, err = w.GetOrder(t.Context(), o.ID)
			}
			var ce *connector.Error
			require.ErrorAs(t, err, &ce, tt.op)
			assert.Equal(t, connector.CodeTimeout, ce.Code(), tt.op)
			assert.Equal(t, tt.maybeApplied, ce.MayHaveApplied(), "%s: MayHaveApplied", tt.op)
			assert.Equal(t, tt.op, ce.Op(), tt.op)
			assert.ErrorIs(t, err, context.DeadlineExceeded, tt.op)
			assert.Equal(t, 2, erp.count(tt.op), "%s: each attempt timed out", tt.op)
			elapsed := time.Since(start)
			assert.GreaterOrEqual(t, elapsed, 4*time.Second, "%s: two attempts of 2s", tt.op)
			assert.Less(t, elapsed, 7*time.Second, "%s: the timeout is per attempt", tt.op)
		})
	}
}

func TestWrapBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := true
		var mu sync.Mutex
		erp := newScripted(func(op string, n int) error {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return unavailable(op)
			}
			return nil
		})
		rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
		require.NoError(t, err)
		w, err := connector.WrapERP(erp, connector.Options{
			MaxAttempts: 1,
			Recorder:    rec,
			Breaker:     retry.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: time.Minute},
		})
		require.NoError(t, err)
		ctx := tracing.WithCorrelationID(t.Context(), "b")
		for i := range 3 {
			_, err := w.GetOrder(ctx, "x")
			assert.Equal(t, connector.CodeUnavailable, connector.CodeOf(err), "failure %d", i)
			assert.NotErrorIs(t, err, retry.ErrCircuitOpen, "failure %d reached the ERP", i)
		}
		_, err = w.GetOrder(ctx, "x")
		assert.ErrorIs(t, err, retry.ErrCircuitOpen, "after 3 failures the circuit is open")
		assert.Equal(t, connector.CodeUnavailable, connector.CodeOf(err), "an open circuit is unavailable")
		assert.Equal(t, 3, erp.count("GetOrder"), "the open circuit kept the call from the ERP")
		steps := rec.Timeline("b")
		require.Len(t, steps, 4)
		assert.Equal(t, "unavailable", steps[2].ErrorClass, "a failure reaching the ERP")
		assert.Equal(t, "circuit_open", steps[3].ErrorClass, "a call the breaker rejected")

		mu.Lock()
		down = false
		mu.Unlock()
		time.Sleep(time.Minute)
		_, err = w.GetOrder(t.Context(), "x")
		assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err), "the probe reaches the ERP after OpenTimeout")
		assert.Equal(t, 4, erp.count("GetOrder"))
	})
}

func TestWrapBreakerIgnoresRejections(t *testing.T) {
	erp := newScripted(nil)
	w, err := connector.WrapERP(erp, connector.Options{MaxAttempts: 1, Breaker: retry.BreakerConfig{ConsecutiveFailures: 2}})
	require.NoError(t, err)
	for i := range 5 {
		_, err := w.GetOrder(t.Context(), "no-such-order")
		assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err), "call %d", i)
	}
	assert.Equal(t, 5, erp.count("GetOrder"), "not found does not open the circuit")
}

func TestIsBreakerFailure(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{unavailable("x"), true},
		{connector.NewError(connector.CodeTimeout, "", "", nil), true},
		{connector.NewError(connector.CodeInternal, "", "", nil), true},
		{errors.New("connection reset"), true},
		{connector.NewError(connector.CodeRateLimited, "", "", nil), false},
		{connector.NewError(connector.CodeInvalid, "", "", nil), false},
		{connector.NewError(connector.CodeNotFound, "", "", nil), false},
		{connector.NewError(connector.CodeConflict, "", "", nil), false},
		{connector.NewError(connector.CodeUnauthorized, "", "", nil), false},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{nil, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, connector.IsBreakerFailure(tt.err), "%v", tt.err)
	}
}

// seenERP remembers the correlation ID its GetOrder saw.
type seenERP struct {
	connector.ERP
	mu   sync.Mutex
	seen []string
}

func (s *seenERP) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, tracing.CorrelationID(ctx))
	if len(s.seen) == 1 {
		return canonical.Order{}, unavailable("GetOrder")
	}
	return canonical.Order{ID: id}, nil
}

func TestWrapPropagatesCorrelation(t *testing.T) {
	inner := &seenERP{}
	w, err := connector.WrapERP(inner, connector.Options{Backoff: retry.Backoff{InitialInterval: time.Microsecond, MaxInterval: time.Microsecond}})
	require.NoError(t, err)
	_, err = w.GetOrder(tracing.WithCorrelationID(t.Context(), "order-7"), "o7")
	require.NoError(t, err)
	assert.Equal(t, []string{"order-7", "order-7"}, inner.seen, "every attempt carries the caller's correlation ID")
}

func TestWrapCancelled(t *testing.T) {
	erp := newScripted(nil)
	w, err := connector.WrapERP(erp, connector.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = w.GetOrder(ctx, "x")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, erp.count("GetOrder"), "a cancelled call does not reach the ERP")
}

func TestWrapConcurrent(t *testing.T) {
	rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	require.NoError(t, err)
	m := &countingMetrics{}
	erp := newScripted(func(op string, n int) error {
		if n%3 == 0 {
			return unavailable(op)
		}
		return nil
	})
	w, err := connector.WrapERP(erp, connector.Options{Recorder: rec, Metrics: m, NoBreaker: true, Backoff: retry.Backoff{InitialInterval: time.Microsecond, MaxInterval: time.Microsecond}})
	require.NoError(t, err)
	o := memfake.SampleOrder(1)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ctx := tracing.WithCorrelationID(t.Context(), "c")
			_, err := w.AcceptOrder(ctx, "same-key", &o)
			assert.NoError(t, err, "goroutine %d", i)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, erp.Effects().Orders, "one order from 16 concurrent calls with one key")
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.Len(t, m.calls, 16)
}

func TestWrappedConformance(t *testing.T) {
	opts := connector.Options{Backoff: retry.Backoff{InitialInterval: time.Microsecond, MaxInterval: time.Millisecond}}
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		m := memfake.NewERP()
		w, err := connector.WrapERP(m, opts)
		require.NoError(t, err)
		return connectortest.ERPHarness{ERP: w, Order: memfake.SampleOrder, Positions: memfake.SamplePositions, Effects: m.Effects}
	})
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		m := memfake.NewWMS()
		w, err := connector.WrapWMS(m, opts)
		require.NoError(t, err)
		return connectortest.WMSHarness{
			WMS: w,
			Reopen: func(t *testing.T) connector.WMS {
				r, err := connector.WrapWMS(m.Reopen(), opts)
				require.NoError(t, err)
				return r
			},
			FulfillmentOrder: memfake.SampleFulfillmentOrder, Return: memfake.SampleReturn,
			Advance: m.Advance, Effects: m.Effects,
		}
	})
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		m := memfake.NewCRM()
		w, err := connector.WrapCRM(m, opts)
		require.NoError(t, err)
		return connectortest.CRMHarness{
			CRM: w,
			Reopen: func(t *testing.T) connector.CRM {
				r, err := connector.WrapCRM(m.Reopen(), opts)
				require.NoError(t, err)
				return r
			},
			AddOrders: m.AddOrders, Shown: m.Shown, Effects: m.Effects,
			Capabilities: connectortest.Capabilities{Health: true, StatusBatch: true},
		}
	})
}
