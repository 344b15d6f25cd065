package tracingtest_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/tracing/tracingtest"
)

// flawed is a recorder that keeps every step in a list and reads it back
// through a flaw.
type flawed struct {
	mu    sync.Mutex
	steps []tracing.Step
	read  func(all []tracing.Step, id string) []tracing.Step
}

func (r *flawed) Record(_ context.Context, s tracing.Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, s)
}

func (r *flawed) timeline(_ context.Context, id string) ([]tracing.Step, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.read(slices.Clone(r.steps), id), nil
}

// ofFlow returns the steps of flow id in recording order, as a recorder
// that does not sort by Start would.
func ofFlow(all []tracing.Step, id string) []tracing.Step {
	var out []tracing.Step
	for _, s := range all {
		if s.CorrelationID == id && id != "" {
			out = append(out, s)
		}
	}
	return out
}

func TestCheckCatchesBrokenRecorders(t *testing.T) {
	tests := []struct {
		name string
		read func(all []tracing.Step, id string) []tracing.Step
		want []string // the checks that must fail
	}{
		{"unsorted", ofFlow, []string{"OrderedByStart: contract \"A timeline is ordered by Start, then by recording order.\" broken"}},
		{"drops the error class", func(all []tracing.Step, id string) []tracing.Step {
			out := ofFlow(all, id)
			for i := range out {
				out[i].ErrorClass = ""
			}
			return out
		}, []string{"FieldsRoundTrip: contract \"A recorded step reads back with every field intact.\" broken"}},
		{"one timeline for all flows", func(all []tracing.Step, _ string) []tracing.Step { return all }, []string{"FlowsApart: contract", "ConcurrentRecording: contract \"Concurrent recording loses no step.\" broken"}},
	}
	for _, tt := range tests {
		err := tracingtest.Check(func() (tracingtest.Recorder, error) {
			r := &flawed{read: tt.read}
			return tracingtest.Recorder{Recorder: r, Read: r.timeline}, nil
		})
		require.Error(t, err, "the kit passed the broken recorder %q", tt.name)
		for _, check := range tt.want {
			assert.Contains(t, err.Error(), check, "the kit's report on %q", tt.name)
		}
	}
}

func TestCheckPassesMemoryRecorder(t *testing.T) {
	err := tracingtest.Check(func() (tracingtest.Recorder, error) {
		rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
		return tracingtest.Recorder{Recorder: rec, Read: func(_ context.Context, id string) ([]tracing.Step, error) { return rec.Timeline(id), nil }}, err
	})
	assert.NoError(t, err, "Check of tracing.MemoryRecorder")
}
