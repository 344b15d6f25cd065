//go:build !race

// Under -race the allocation counts include the detector's own.

package flow

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
)

// TestAppendOneAllocs: appending the one event a handler emits (emit,
// the decision of onSubmitted, a return's authorization) allocates
// nothing; f.log.Append(ctx, e) made its variadic slice on the heap, one
// allocation of an event's size.
func TestAppendOneAllocs(t *testing.T) {
	f := &Flow{log: discardLog{}}
	e := canonical.Event{ID: "1", Source: "flow", Type: canonical.EventOrderAccepted, Subject: "ORD-1", Data: []byte(`{}`)}
	allocs := testing.AllocsPerRun(20, func() {
		if err := f.appendOne(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 0.0, allocs, "allocations per appendOne")
}
