// Package tracingtest is the conformance kit for [tracing.Recorder]
// implementations: any recorder that can read back a flow's timeline runs
// [Run] from its tests, as [tracing.MemoryRecorder] does, or [Check] from
// anywhere else.
package tracingtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/kit"
	"github.com/distsync/distsync/tracing"
)

// ReadFunc returns the timeline of one correlation ID, as the recorder
// under test reads it back, ordered by Start and then by recording order.
// The kit calls it from one goroutine, after recording.
type ReadFunc func(ctx context.Context, correlationID string) ([]tracing.Step, error)

// Recorder is what the kit checks: a [tracing.Recorder] and the function
// reading its timelines back. The recorder must keep at least 16 flows and
// 64 steps per flow. The zero value is not usable: both the recorder and
// Read are required. The kit records from several goroutines at once, so
// the recorder must be safe for concurrent use.
type Recorder struct {
	tracing.Recorder
	Read ReadFunc
}

// Run checks a recorder: steps come back intact and in order, flows are
// kept apart, steps without a correlation ID are dropped, and concurrent
// recording loses nothing. Each check runs as a subtest named for its
// contract (FieldsRoundTrip, OrderedByStart, FlowsApart,
// ConcurrentRecording) on a fresh, empty recorder from newRecorder; a
// failure quotes the contract sentence it broke.
func Run(t *testing.T, newRecorder func(t *testing.T) Recorder) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			c.run(kit.Contract(t, c.contract), newRecorder(t))
		})
	}
}

// Check runs the checks of [Run] outside a test, each on a fresh recorder
// from newRecorder, and returns their failures joined into one error, each
// prefixed with the name of its check and the contract sentence it broke;
// nil means the recorder passed. An error from newRecorder fails the check
// it was called for.
func Check(newRecorder func() (Recorder, error)) error {
	var errs []error
	for _, c := range checks {
		errs = append(errs, kit.Run(c.name, func(t kit.T) {
			t = kit.Contract(t, c.contract)
			rec, err := newRecorder()
			require.NoError(t, err, "creating the recorder")
			c.run(t, rec)
		}))
	}
	return errors.Join(errs...)
}

// t0 is the start of the steps the checks record.
var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// checks are the checks of the kit, in the order they run, each with the
// sentence of the contract it checks.
var checks = []struct {
	name, contract string
	run            func(t kit.T, rec Recorder)
}{
	{"FieldsRoundTrip", "A recorded step reads back with every field intact.", checkRoundTrip},
	{"OrderedByStart", "A timeline is ordered by Start, then by recording order.", checkOrder},
	{"FlowsApart", "A timeline holds only its own flow's steps; a step without a correlation ID is dropped.", checkFlows},
	{"ConcurrentRecording", "Concurrent recording loses no step.", checkConcurrent},
}

func checkRoundTrip(t kit.T, rec Recorder) {
	want := tracing.Step{
		CorrelationID: "order-1", System: "erp", Operation: "accept_order",
		Start: t0, Duration: 1500 * time.Millisecond, Attempt: 3,
		Outcome: tracing.OutcomeRetry, ErrorClass: "rate_limited",
	}
	rec.Record(t.Context(), want)
	got, err := rec.Read(t.Context(), "order-1")
	require.NoError(t, err, "reading order-1")
	require.Len(t, got, 1, "steps of order-1")
	assert.True(t, want.Start.Equal(got[0].Start), "Start: got %v, want %v", got[0].Start, want.Start)
	got[0].Start = want.Start
	assert.Equal(t, want, got[0], "step of order-1")
}

func checkOrder(t kit.T, rec Recorder) {
	for _, s := range []struct {
		op  string
		off time.Duration
	}{{"third", 2 * time.Second}, {"first", 0}, {"second-a", time.Second}, {"second-b", time.Second}} {
		rec.Record(t.Context(), tracing.Step{CorrelationID: "order-1", Operation: s.op, Start: t0.Add(s.off), Attempt: 1, Outcome: tracing.OutcomeOK})
	}
	got, err := rec.Read(t.Context(), "order-1")
	require.NoError(t, err, "reading order-1")
	var ops []string
	for _, s := range got {
		ops = append(ops, s.Operation)
	}
	assert.Equal(t, []string{"first", "second-a", "second-b", "third"}, ops, "order of order-1")
}

func checkFlows(t kit.T, rec Recorder) {
	rec.Record(t.Context(), tracing.Step{CorrelationID: "order-1", Operation: "a", Start: t0, Outcome: tracing.OutcomeOK})
	rec.Record(t.Context(), tracing.Step{CorrelationID: "order-2", Operation: "b", Start: t0, Outcome: tracing.OutcomeOK})
	rec.Record(t.Context(), tracing.Step{Operation: "no flow", Start: t0, Outcome: tracing.OutcomeOK})
	for id, want := range map[string][]string{"order-1": {"a"}, "order-2": {"b"}, "order-3": nil, "": nil} {
		got, err := rec.Read(t.Context(), id)
		require.NoError(t, err, "reading %q", id)
		var ops []string
		for _, s := range got {
			ops = append(ops, s.Operation)
		}
		assert.Equal(t, want, ops, "steps of %q", id)
	}
}

func checkConcurrent(t kit.T, rec Recorder) {
	const goroutines, flows, perFlow = 8, 16, 8 // 64 steps per flow
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for f := range flows {
				for i := range perFlow {
					rec.Record(t.Context(), tracing.Step{
						CorrelationID: fmt.Sprintf("order-%d", f), Operation: fmt.Sprintf("g%d-%d", g, i),
						Start: t0.Add(time.Duration(i) * time.Millisecond), Attempt: 1, Outcome: tracing.OutcomeOK,
					})
				}
			}
		})
	}
	wg.Wait()
	for f := range flows {
		id := fmt.Sprintf("order-%d", f)
		got, err := rec.Read(t.Context(), id)
		require.NoError(t, err, "reading %s", id)
		assert.Len(t, got, goroutines*perFlow, "steps of %s", id)
		for i := 1; i < len(got); i++ {
			assert.False(t, got[i].Start.Before(got[i-1].Start), "%s out of order at %d", id, i)
		}
	}
}
