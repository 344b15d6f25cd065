package flow_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// TestDrainWaitsOnlyForBackoff checks that Drain waits for the consumer
// without timers: without failures an order goes through every step in
// no (bubble) time, although the consumer polls the log only every 10ms;
// with an ERP that fails at first, Drain waits for the retries' backoff
// (the decorator's, then the consumer's 10ms) and the order completes.
func TestDrainWaitsOnlyForBackoff(t *testing.T) {
	tests := []struct {
		name     string
		fails    int           // first AcceptOrder calls that fail as unavailable
		min, max time.Duration // bubble time to settle
	}{
		{name: "no failure", fails: 0, min: 0, max: 0},
		{name: "two failures", fails: 2, min: 10 * time.Millisecond, max: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				failing := &failAccept{n: tt.fails}
				w := newWorld(t, nil, func(e connector.ERP) connector.ERP { failing.ERP = e; return failing })
				id := w.submit(t, "ACC-0002", "SKU-101:5")
				start := time.Now()
				w.settle(t)
				took := time.Since(start)
				assert.GreaterOrEqual(t, took, tt.min, "bubble time to settle order %s", id)
				assert.LessOrEqual(t, took, tt.max, "bubble time to settle order %s", id)
				v := w.agree(t, id)
				assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "billing status of %s", id)
			})
		})
	}
}

// failAccept fails the first n AcceptOrder calls as unavailable (the
// effect not applied); it is used by one handler at a time.
type failAccept struct {
	connector.ERP
	n int
}

func (f *failAccept) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	if f.n > 0 {
		f.n--
		return canonical.OrderAck{}, connector.NewError(connector.CodeUnavailable, "erp", "AcceptOrder", nil)
	}
	return f.ERP.AcceptOrder(ctx, key, o)
}
