package flow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// TestMiddleware wraps the flow's handler: the wrapper sees every event the
// flow handles and the flow still does its work through it. (That the
// wrapper's context reaches the connector calls is shown by the otel
// module's TestFlowMiddlewareSpansParent.)
func TestMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu     sync.Mutex
			events = map[canonical.EventType]int{}
		)
		cfg := flow.Config{Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
			Middleware: func(next eventlog.Handler) eventlog.Handler {
				return func(ctx context.Context, ev canonical.Event) error {
					mu.Lock()
					events[ev.Type]++
					mu.Unlock()
					return next(ctx, ev)
				}
			}}
		w := newSystems(t)
		w.log = cfg.Log
		w.connect(t, nil, cfg)
		id := w.submit(t, "ACC-0002", "SKU-100:3")
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "the order went through the wrapped handler")
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 1, events[canonical.EventOrderSubmitted], "the wrapper saw the order's submission once")
		assert.Positive(t, events[canonical.EventFulfillmentShipped], "the wrapper saw the warehouse's events")
	})
}

func TestMiddlewareNilHandler(t *testing.T) {
	w := newSystems(t)
	_, err := flow.New(flow.Config{ERP: w.erp, WMS: w.wms, CRM: w.crm, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		Middleware: func(eventlog.Handler) eventlog.Handler { return nil }})
	require.Error(t, err, "New with a Middleware returning nil")
	assert.True(t, errors.Is(err, flow.ErrInvalidConfig), "error %v matches ErrInvalidConfig", err)
	assert.Contains(t, err.Error(), "Middleware", "the error names the field")
}
