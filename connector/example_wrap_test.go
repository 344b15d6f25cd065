package connector_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// flakyERP fails GetOrder with CodeUnavailable a number of times, then
// answers. Its other methods are not used here.
type flakyERP struct {
	connector.ERP
	failures int
}

func (f *flakyERP) GetOrder(_ context.Context, id string) (canonical.Order, error) {
	if f.failures > 0 {
		f.failures--
		return canonical.Order{}, connector.NewError(connector.CodeUnavailable, "erp", "GetOrder", nil)
	}
	return canonical.Order{ID: id}, nil
}

func ExampleWrapERP() {
	timeline, _ := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	// A fixed clock advancing 10ms per reading keeps the output stable.
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	erp, err := connector.WrapERP(&flakyERP{failures: 2}, connector.Options{
		Recorder: timeline,
		Now:      func() time.Time { now = now.Add(10 * time.Millisecond); return now },
		Backoff:  retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := tracing.WithCorrelationID(context.Background(), "order-1")
	o, err := erp.GetOrder(ctx, "order-1")
	fmt.Println(o.ID, err)
	for _, s := range timeline.Timeline("order-1") {
		fmt.Println(s)
	}
	// Output:
	// order-1 <nil>
	// 09:00:00.030 erp GetOrder attempt 1: retry (unavailable), 30ms
	// 09:00:00.070 erp GetOrder attempt 2: retry (unavailable), 30ms
	// 09:00:00.110 erp GetOrder attempt 3: ok, 30ms
}

func ExampleAs() {
	erp, _ := connector.WrapERP(&healthyERP{}, connector.Options{})
	// The ERP has a health check: As finds it on the decorated ERP, so the
	// call gets retry, the breaker, the timeout and the timeline.
	if h, ok := connector.As[connector.HealthChecker](erp); ok {
		fmt.Printf("health: %v (%T)\n", h.Health(context.Background()), h)
	}
	// It cannot cancel order lines: As says so, although the decorated
	// ERP has the method, which answers ErrUnsupported.
	_, ok := connector.As[connector.OrderCanceller](erp)
	fmt.Println("canceller:", ok)
	_, err := erp.CancelOrderLines(context.Background(), "k", connector.OrderCancellation{OrderID: "o1"})
	fmt.Println("unsupported:", errors.Is(err, errors.ErrUnsupported))
	// Output:
	// health: <nil> (*connector.WrappedERP)
	// canceller: false
	// unsupported: true
}

// healthyERP is an ERP with the optional HealthChecker capability.
type healthyERP struct{ connector.ERP }

func (healthyERP) Health(context.Context) error { return nil }
