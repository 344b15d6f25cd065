package reconcile

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDeliverPerOccurrence: an exception present in consecutive runs is
// delivered once; one that cleared and came back is a new occurrence.
func TestDeliverPerOccurrence(t *testing.T) {
	var n int
	r := &Reconciler{cfg: Config{Hook: func(context.Context, Exception) error { n++; return nil }}, delivered: map[string]bool{}}
	e := Exception{Rule: RuleOnHold, OrderID: "O1", key: "on_hold\x00O1\x00credit"}
	for i, tc := range []struct {
		present bool
		want    int
	}{{true, 1}, {true, 1}, {false, 1}, {true, 2}, {true, 2}} {
		rep := Report{}
		if tc.present {
			rep.Exceptions = []Exception{e}
		}
		r.deliver(context.Background(), &rep)
		assert.Equal(t, tc.want, n, "run %d", i)
	}
	// A truncated run keeps the deliveries of the orders it did not reach.
	r.deliver(context.Background(), &Report{Cost: Cost{Truncated: true}})
	r.deliver(context.Background(), &Report{Exceptions: []Exception{e}})
	assert.Equal(t, 2, n, "not delivered again after a truncated run")
}
