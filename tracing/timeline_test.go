package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
)

type classedError struct{ class string }

func (e classedError) Error() string      { return "classed: " + e.class }
func (e classedError) ErrorClass() string { return e.class }

// stepClock returns t0, t0+10ms, t0+20ms... on successive calls.
func stepClock(t0 time.Time) func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n-1) * 10 * time.Millisecond)
	}
}

var t0 = time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)

func newRecorder(t *testing.T, cfg tracing.MemoryConfig) *tracing.MemoryRecorder {
	t.Helper()
	rec, err := tracing.NewMemoryRecorder(cfg)
	require.NoError(t, err, "NewMemoryRecorder(%+v)", cfg)
	return rec
}

func TestTimerTime(t *testing.T) {
	tests := []struct {
		name    string
		preset  tracing.Outcome
		err     error
		outcome tracing.Outcome
		class   string
	}{
		{"success", "", nil, tracing.OutcomeOK, ""},
		{"success overrides a preset outcome", tracing.OutcomeRetry, nil, tracing.OutcomeOK, ""},
		{"plain error", "", errors.New("boom"), tracing.OutcomeFailed, "error"},
		{"classed error through a wrap", "", fmt.Errorf("erp: %w", classedError{"rate_limited"}), tracing.OutcomeFailed, "rate_limited"},
		{"preset outcome kept on failure", tracing.OutcomeRetry, classedError{"unavailable"}, tracing.OutcomeRetry, "unavailable"},
		{"cancellation", "", context.Canceled, tracing.OutcomeFailed, "canceled"},
		{"deadline", "", fmt.Errorf("call: %w", context.DeadlineExceeded), tracing.OutcomeFailed, "deadline_exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tracing.MemoryConfig{})
			timer := tracing.Timer{Recorder: rec, Now: stepClock(t0)}
			ctx := tracing.WithCorrelationID(t.Context(), "order-42")
			err := timer.Time(ctx, tracing.Step{System: "erp", Operation: "accept_order", Attempt: 2, Outcome: tt.preset},
				func(context.Context) error { return tt.err })
			assert.Equal(t, tt.err, err, "Time returns fn's error for %s", tt.name)
			steps := rec.Timeline("order-42")
			require.Len(t, steps, 1, "steps for %s", tt.name)
			assert.Equal(t, tracing.Step{
				CorrelationID: "order-42", System: "erp", Operation: "accept_order",
				Start: t0, Duration: 10 * time.Millisecond, Attempt: 2,
				Outcome: tt.outcome, ErrorClass: tt.class,
			}, steps[0], "step for %s", tt.name)
		})
	}
	t.Run("zero Timer", func(t *testing.T) {
		called := false
		require.NoError(t, tracing.Timer{}.Time(t.Context(), tracing.Step{}, func(context.Context) error { called = true; return nil }))
		assert.True(t, called, "fn called by a zero Timer")
	})
	assert.Empty(t, tracing.ErrorClass(nil), "ErrorClass(nil)")
}

func TestMemoryRecorderOrder(t *testing.T) {
	rec := newRecorder(t, tracing.MemoryConfig{})
	ctx := t.Context()
	rec.Record(ctx, tracing.Step{CorrelationID: "o1", Operation: "c", Start: t0.Add(2 * time.Second)})
	rec.Record(ctx, tracing.Step{CorrelationID: "o1", Operation: "a", Start: t0})
	rec.Record(ctx, tracing.Step{CorrelationID: "o2", Operation: "x", Start: t0})
	rec.Record(ctx, tracing.Step{CorrelationID: "o1", Operation: "b1", Start: t0.Add(time.Second)})
	rec.Record(ctx, tracing.Step{CorrelationID: "o1", Operation: "b2", Start: t0.Add(time.Second)})
	rec.Record(ctx, tracing.Step{Operation: "no flow", Start: t0})

	var ops []string
	for _, s := range rec.Timeline("o1") {
		ops = append(ops, s.Operation)
	}
	assert.Equal(t, []string{"a", "b1", "b2", "c"}, ops, "timeline of o1 by start, then by arrival")
	assert.Len(t, rec.Timeline("o2"), 1, "timeline of o2")
	assert.Nil(t, rec.Timeline("unknown"), "timeline of an unknown flow")
	assert.Nil(t, rec.Timeline(""), "steps without a correlation ID are dropped")
	assert.Equal(t, 2, rec.Len(), "flows kept")
}

func TestMemoryRecorderBounds(t *testing.T) {
	rec := newRecorder(t, tracing.MemoryConfig{MaxFlows: 2, MaxSteps: 3})
	ctx := t.Context()
	step := func(flow string, i int) tracing.Step {
		return tracing.Step{CorrelationID: flow, Attempt: i, Start: t0.Add(time.Duration(i) * time.Second)}
	}
	rec.Record(ctx, step("o1", 1))
	rec.Record(ctx, step("o2", 1))
	rec.Record(ctx, step("o1", 2)) // o1 is now the most recently recorded
	rec.Record(ctx, step("o3", 1)) // evicts o2
	assert.Equal(t, 2, rec.Len(), "flows kept")
	assert.Nil(t, rec.Timeline("o2"), "least recently recorded flow evicted")
	assert.Len(t, rec.Timeline("o1"), 2, "o1 kept")
	assert.Len(t, rec.Timeline("o3"), 1, "o3 kept")

	for i := 3; i <= 6; i++ {
		rec.Record(ctx, step("o1", i))
	}
	var attempts []int
	for _, s := range rec.Timeline("o1") {
		attempts = append(attempts, s.Attempt)
	}
	assert.Equal(t, []int{4, 5, 6}, attempts, "oldest steps dropped past MaxSteps")
}

func TestMemoryConfigValidate(t *testing.T) {
	for _, cfg := range []tracing.MemoryConfig{{MaxFlows: -1}, {MaxSteps: -1}} {
		rec, err := tracing.NewMemoryRecorder(cfg)
		assert.ErrorIs(t, err, tracing.ErrInvalidConfig, "NewMemoryRecorder(%+v)", cfg)
		assert.Nil(t, rec, "recorder for %+v", cfg)
	}
}

func TestMemoryRecorderConcurrent(t *testing.T) {
	rec := newRecorder(t, tracing.MemoryConfig{MaxFlows: 10, MaxSteps: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				flow := fmt.Sprintf("o%d", (g*7+i)%20)
				rec.Record(t.Context(), tracing.Step{CorrelationID: flow, Attempt: i, Start: t0.Add(time.Duration(i%13) * time.Millisecond)})
				steps := rec.Timeline(flow)
				for j := 1; j < len(steps); j++ {
					if steps[j].Start.Before(steps[j-1].Start) {
						t.Errorf("timeline of %s out of order at %d", flow, j)
					}
				}
				assert.LessOrEqual(t, len(steps), 50, "steps of %s", flow)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, rec.Len(), 10, "flows kept")
}
