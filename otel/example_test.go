package otel_test

import (
	"context"
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	dsotel "github.com/distsync/distsync/otel"
	"github.com/distsync/distsync/tracing"
)

// ExampleBridge_Recorder turns a flow's step for an event that arrived with
// a traceparent into a span of that trace.
func ExampleBridge_Recorder() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	bridge, err := dsotel.New(dsotel.Config{TracerProvider: tp})
	if err != nil {
		fmt.Println(err)
		return
	}
	timeline, _ := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	rec := bridge.Recorder(timeline) // flow.Config.Recorder, connector.Options.Recorder

	// What an event log consumer puts in the handler's context.
	sc, _ := tracing.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx := tracing.WithCorrelationID(tracing.WithSpanContext(context.Background(), sc), "corr-1")
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	rec.Record(ctx, tracing.Step{CorrelationID: "corr-1", System: "flow", Operation: "handle order.submitted", Start: start,
		Duration: 40 * time.Millisecond, Attempt: 1, Outcome: tracing.OutcomeRetry, ErrorClass: "unavailable"})

	s := spans.Ended()[0]
	fmt.Println(s.Name(), s.SpanKind())
	fmt.Println("trace", s.SpanContext().TraceID(), "parent", s.Parent().SpanID())
	fmt.Println("status", s.Status().Code, s.Status().Description, "duration", s.EndTime().Sub(s.StartTime()))
	fmt.Println("timeline kept:", len(rec.Timeline("corr-1")))
	// Output:
	// handle order.submitted consumer
	// trace 4bf92f3577b34da6a3ce929d0e0e4736 parent 00f067aa0ba902b7
	// status Error unavailable duration 40ms
	// timeline kept: 1
}
