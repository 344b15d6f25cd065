package connector_test

import (
	"context"
	"testing"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/internal/memfake"
	"github.com/distsync/distsync/tracing"
)

// nopMetrics observes nothing, to measure the cost of the hook itself.
type nopMetrics struct{}

func (nopMetrics) ObserveCall(context.Context, connector.CallStats)   {}
func (nopMetrics) ObserveRetry(context.Context, connector.RetryStats) {}

// nopRecorder records nothing, to measure the cost of building steps.
type nopRecorder struct{}

func (nopRecorder) Record(context.Context, tracing.Step) {}

// BenchmarkDecoratorOverhead measures GetOrder on the in-memory ERP bare
// and through the decorators, so the difference is the decorators' cost
// per call.
func BenchmarkDecoratorOverhead(b *testing.B) {
	inner := memfake.NewERP()
	o := memfake.SampleOrder(1)
	if _, err := inner.AcceptOrder(context.Background(), "k", &o); err != nil {
		b.Fatal(err)
	}
	wrap := func(opts connector.Options) connector.ERP {
		w, err := connector.WrapERP(inner, opts)
		if err != nil {
			b.Fatal(err)
		}
		return w
	}
	cases := []struct {
		name string
		erp  connector.ERP
	}{
		{"bare", inner},
		{"retry+timeout", wrap(connector.Options{NoBreaker: true})},
		{"retry+breaker+timeout", wrap(connector.Options{})},
		{"all+metrics+steps", wrap(connector.Options{Metrics: nopMetrics{}, Recorder: nopRecorder{}})},
	}
	ctx := tracing.WithCorrelationID(context.Background(), "bench")
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.erp.GetOrder(ctx, o.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.erp.GetOrder(ctx, o.ID); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
