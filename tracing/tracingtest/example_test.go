package tracingtest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/tracing/tracingtest"
)

// lastStepOnly is a broken recorder: it keeps only the last step of each
// flow.
type lastStepOnly struct {
	mu   sync.Mutex
	last map[string]tracing.Step
}

func (r *lastStepOnly) Record(_ context.Context, s tracing.Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.CorrelationID != "" {
		r.last[s.CorrelationID] = s
	}
}

func (r *lastStepOnly) read(_ context.Context, id string) ([]tracing.Step, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.last[id]; ok {
		return []tracing.Step{s}, nil
	}
	return nil, nil
}

// failedChecks returns the names of the checks that failed in err, as
// Check prefixes each failure with its check's name.
func failedChecks(err error) []string {
	var names []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		name, _, _ := strings.Cut(e.Error(), ": ")
		if len(names) == 0 || names[len(names)-1] != name {
			names = append(names, name)
		}
	}
	return names
}

// Run the kit against a recorder: a test calls Run with its t;
// Check runs the same checks anywhere and returns what failed.
func ExampleCheck() {
	err := tracingtest.Check(func() (tracingtest.Recorder, error) {
		rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
		return tracingtest.Recorder{Recorder: rec, Read: func(_ context.Context, id string) ([]tracing.Step, error) { return rec.Timeline(id), nil }}, err
	})
	fmt.Println("MemoryRecorder passes:", err == nil)

	err = tracingtest.Check(func() (tracingtest.Recorder, error) {
		rec := &lastStepOnly{last: map[string]tracing.Step{}}
		return tracingtest.Recorder{Recorder: rec, Read: rec.read}, nil
	})
	fmt.Println("lastStepOnly passes:", err == nil)
	for _, name := range failedChecks(err) {
		fmt.Println("  failed:", name)
	}
	// Output:
	// MemoryRecorder passes: true
	// lastStepOnly passes: false
	//   failed: OrderedByStart
	//   failed: ConcurrentRecording
}
