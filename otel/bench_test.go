package otel_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/flow"
	dsotel "github.com/distsync/distsync/otel"
	"github.com/distsync/distsync/tracing"
)

// BenchmarkRecord measures one step turned into a span by a sampling SDK
// tracer whose spans go nowhere (no exporter), a child of a traceparent.
func BenchmarkRecord(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	br, err := dsotel.New(dsotel.Config{TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	rec := br.Recorder(nil)
	sc, _ := tracing.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx := tracing.WithCorrelationID(tracing.WithSpanContext(context.Background(), sc), "corr-1")
	s := tracing.Step{CorrelationID: "corr-1", System: "erp", Operation: "AcceptOrder", Start: time.Now(),
		Duration: time.Millisecond, Attempt: 1, Outcome: tracing.OutcomeOK}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec.Record(ctx, s)
		}
	})
}

// BenchmarkMetrics measures one connector call and one flow count recorded
// through an SDK meter provider with a manual reader.
func BenchmarkMetrics(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	br, err := dsotel.New(dsotel.Config{MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	fm := br.FlowMetrics("")
	ctx := context.Background()
	call := connector.CallStats{System: "erp", Op: "AcceptOrder", Attempts: 1, Latency: time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			br.ObserveCall(ctx, call)
			fm.Count(ctx, flow.CounterHandled, "order")
		}
	})
}
