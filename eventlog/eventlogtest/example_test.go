package eventlogtest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// patchesEvents is a broken backend: it stores an event without a
// source under a made-up one instead of refusing the batch.
type patchesEvents struct{ *eventlog.Memory }

func (b patchesEvents) Append(ctx context.Context, evs ...canonical.Event) error {
	for i := range evs {
		if evs[i].Source == "" {
			evs[i].Source = "urn:made-up"
		}
	}
	return b.Memory.Append(ctx, evs...)
}

// Run the kit against a backend: a test calls Run with its t; Check runs
// the same checks anywhere and returns what failed, each failure prefixed
// with its check's name. Each check gets a fresh storage; the function
// returned opens it again, as a restarted process would.
func ExampleCheck() {
	err := eventlogtest.Check(func() (func() (eventlog.Backend, error), error) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		return func() (eventlog.Backend, error) { return m, nil }, nil
	})
	fmt.Println("Memory passes:", err == nil)

	err = eventlogtest.Check(func() (func() (eventlog.Backend, error), error) {
		b := patchesEvents{eventlog.NewMemory(eventlog.MemoryConfig{})}
		return func() (eventlog.Backend, error) { return b, nil }, nil
	})
	fmt.Println("patchesEvents passes:", err == nil)
	seen := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		check, _, _ := strings.Cut(e.Error(), ": ")
		if !seen[check] {
			seen[check] = true
			fmt.Println("  failed:", check)
		}
	}
	// Output:
	// Memory passes: true
	// patchesEvents passes: false
	//   failed: AppendInvalid
}
