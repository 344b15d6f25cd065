package flow_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/tracing"
)

// throttledERP answers every validation with a rate-limit error: transient,
// and not a breaker failure, so each attempt spends the budget.
type throttledERP struct{ connector.ERP }

func (throttledERP) ValidateOrder(context.Context, *canonical.Order) (canonical.OrderAck, error) {
	return canonical.OrderAck{}, connector.NewError(connector.CodeRateLimited, "erp", "ValidateOrder", errors.New("too many requests"))
}

// TestSpentBudget checks what an event whose retry budget is spent leaves
// behind: one dead letter with reason exhausted, counted as dead-lettered
// (not as retried), and a timeline that numbers the attempts.
func TestSpentBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil, func(e connector.ERP) connector.ERP { return throttledERP{e} })
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-100:4")
		w.settle(t)

		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		require.Len(t, v.DeadLetters, 1, "dead letters of %s", id)
		dl := v.DeadLetters[0]
		assert.Equal(t, eventlog.ReasonExhausted, dl.Reason, "reason")
		assert.Equal(t, 20, dl.Attempts, "attempts: the policy's MaxAttempts")
		assert.Contains(t, dl.Error, "too many requests", "error")
		assert.Equal(t, 1, w.metrics.get(flow.CounterDeadLettered), "dead-lettered count")
		assert.Equal(t, 19, w.metrics.get(flow.CounterRetried), "retried count: every attempt but the last")

		var attempts []int
		var last tracing.Outcome
		for _, s := range v.Timeline {
			if s.System == "flow" && s.Operation == "handle order.submitted" {
				attempts = append(attempts, s.Attempt)
				last = s.Outcome
			}
		}
		want := make([]int, 20)
		for i := range want {
			want[i] = i + 1
		}
		assert.Equal(t, want, attempts, "attempt numbers on the timeline of %s", id)
		assert.Equal(t, tracing.OutcomeFailed, last, "outcome of the last attempt")
	})
}
