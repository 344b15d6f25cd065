package otel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	dsotel "github.com/distsync/distsync/otel"
	"github.com/distsync/distsync/tracing"
)

// newTraced returns a Bridge recording its spans in a SpanRecorder.
func newTraced(t *testing.T) (*dsotel.Bridge, *tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	b, err := dsotel.New(dsotel.Config{TracerProvider: tp})
	require.NoError(t, err, "New")
	return b, sr, tp
}

// attrs returns a span's attributes by key.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

const producer = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestRecorderSpans(t *testing.T) {
	sc, err := tracing.ParseTraceparent(producer)
	require.NoError(t, err, "ParseTraceparent")
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		ctx        func(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.SpanContext)
		step       tracing.Step
		wantName   string
		wantKind   trace.SpanKind
		wantParent func(sc tracing.SpanContext, otelParent trace.SpanContext) trace.SpanContext
		wantLink   bool
		wantStatus codes.Code
		wantAttrs  map[string]attribute.Value
	}{
		{
			name: "handled event: child of the event's traceparent, failed attempt",
			ctx: func(ctx context.Context, _ trace.TracerProvider) (context.Context, trace.SpanContext) {
				ctx = tracing.WithSpanContext(ctx, sc)
				ctx = tracing.WithCausationID(ctx, "evt-1")
				return tracing.WithCorrelationID(ctx, "corr-1"), trace.SpanContext{}
			},
			step: tracing.Step{System: "flow", Operation: "handle order.submitted", Start: start, Duration: 40 * time.Millisecond,
				Attempt: 2, Outcome: tracing.OutcomeRetry, ErrorClass: "unavailable"},
			wantName: "handle order.submitted", wantKind: trace.SpanKindConsumer,
			wantParent: func(sc tracing.SpanContext, _ trace.SpanContext) trace.SpanContext {
				return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(sc.TraceID), SpanID: trace.SpanID(sc.SpanID),
					TraceFlags: trace.FlagsSampled, Remote: true})
			},
			wantStatus: codes.Error,
			wantAttrs: map[string]attribute.Value{
				dsotel.AttrEventType: attribute.StringValue("order.submitted"), dsotel.AttrAttempt: attribute.IntValue(2),
				dsotel.AttrOutcome: attribute.StringValue("retry"), dsotel.AttrErrorType: attribute.StringValue("unavailable"),
				dsotel.AttrCorrelationID: attribute.StringValue("corr-1"), dsotel.AttrCausationID: attribute.StringValue("evt-1"),
				dsotel.AttrSystem: attribute.StringValue("flow"),
			},
		},
		{
			name: "connector call under an OpenTelemetry span: its child, linked to the event's span",
			ctx: func(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.SpanContext) {
				ctx, sp := tp.Tracer("test").Start(ctx, "caller")
				sp.End()
				return tracing.WithSpanContext(ctx, sc), sp.SpanContext()
			},
			step: tracing.Step{CorrelationID: "corr-2", System: "erp", Operation: "AcceptOrder", Start: start, Duration: time.Millisecond,
				Attempt: 1, Outcome: tracing.OutcomeOK},
			wantName: "erp AcceptOrder", wantKind: trace.SpanKindClient,
			wantParent: func(_ tracing.SpanContext, p trace.SpanContext) trace.SpanContext { return p },
			wantLink:   true, wantStatus: codes.Unset,
			wantAttrs: map[string]attribute.Value{
				dsotel.AttrSystem: attribute.StringValue("erp"), dsotel.AttrOperation: attribute.StringValue("AcceptOrder"),
				dsotel.AttrCorrelationID: attribute.StringValue("corr-2"), dsotel.AttrOutcome: attribute.StringValue("ok"),
			},
		},
		{
			name: "no trace context: a root span",
			ctx: func(ctx context.Context, _ trace.TracerProvider) (context.Context, trace.SpanContext) {
				return ctx, trace.SpanContext{}
			},
			step: tracing.Step{System: "wms", Operation: "Release", Start: start, Duration: time.Millisecond,
				Attempt: 3, Outcome: tracing.OutcomeFailed, ErrorClass: "invalid"},
			wantName: "wms Release", wantKind: trace.SpanKindClient,
			wantParent: func(tracing.SpanContext, trace.SpanContext) trace.SpanContext { return trace.SpanContext{} },
			wantStatus: codes.Error,
			wantAttrs:  map[string]attribute.Value{dsotel.AttrErrorType: attribute.StringValue("invalid"), dsotel.AttrAttempt: attribute.IntValue(3)},
		},
		{
			name: "parked without an error class: an error named after the outcome",
			ctx: func(ctx context.Context, _ trace.TracerProvider) (context.Context, trace.SpanContext) {
				return tracing.WithSpanContext(ctx, sc), trace.SpanContext{}
			},
			step:     tracing.Step{System: "flow", Operation: "handle fulfillment.shipped", Start: start, Attempt: 1, Outcome: tracing.OutcomeParked},
			wantName: "handle fulfillment.shipped", wantKind: trace.SpanKindConsumer,
			wantParent: func(sc tracing.SpanContext, _ trace.SpanContext) trace.SpanContext {
				return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(sc.TraceID), SpanID: trace.SpanID(sc.SpanID),
					TraceFlags: trace.FlagsSampled, Remote: true})
			},
			wantStatus: codes.Error,
			wantAttrs:  map[string]attribute.Value{dsotel.AttrErrorType: attribute.StringValue("parked")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, sr, tp := newTraced(t)
			mem, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
			require.NoError(t, err, "NewMemoryRecorder")
			rec := b.Recorder(mem)
			ctx, otelParent := tt.ctx(t.Context(), tp)
			n := len(sr.Ended())
			rec.Record(ctx, tt.step)
			ended := sr.Ended()[n:]
			require.Len(t, ended, 1, "one span per step")
			s := ended[0]
			assert.Equal(t, tt.wantName, s.Name(), "span name")
			assert.Equal(t, tt.wantKind, s.SpanKind(), "span kind")
			assert.Equal(t, tt.wantParent(sc, otelParent), s.Parent(), "span parent")
			if p := tt.wantParent(sc, otelParent); p.IsValid() {
				assert.Equal(t, p.TraceID(), s.SpanContext().TraceID(), "span in its parent's trace")
			}
			assert.Equal(t, tt.step.Start, s.StartTime(), "span start is the step's")
			assert.Equal(t, tt.step.Start.Add(tt.step.Duration), s.EndTime(), "span end is the step's")
			assert.Equal(t, tt.wantStatus, s.Status().Code, "span status")
			got := attrs(s)
			for k, v := range tt.wantAttrs {
				assert.Equal(t, v, got[attribute.Key(k)], "attribute %s", k)
			}
			if tt.wantLink {
				require.Len(t, s.Links(), 1, "one link, to the event's span")
				assert.Equal(t, trace.SpanID(sc.SpanID), s.Links()[0].SpanContext.SpanID(), "link to the event's span")
			} else {
				assert.Empty(t, s.Links(), "no link")
			}
			if tt.step.CorrelationID != "" {
				assert.Len(t, rec.Timeline(tt.step.CorrelationID), 1, "the wrapped recorder got the step")
			}
		})
	}
}

func TestRecorderWithoutNext(t *testing.T) {
	b, sr, _ := newTraced(t)
	rec := b.Recorder(nil)
	rec.Record(t.Context(), tracing.Step{CorrelationID: "c", System: "crm", Operation: "PublishStatus", Attempt: 1, Outcome: tracing.OutcomeOK})
	assert.Len(t, sr.Ended(), 1, "span recorded without a wrapped recorder")
	assert.Nil(t, rec.Timeline("c"), "no timeline without a wrapped recorder")
}

// TestHandlerSpans runs a consumer group of its own through Bridge.Handler:
// each attempt is a span whose parent is the event's traceparent, the
// connector calls the handler makes are its children, and a failed attempt
// has the status Error.
func TestHandlerSpans(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, sr, _ := newTraced(t)
		rec := b.Recorder(nil)
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		ev := eventlogtest.Event("ORD-1", 1)
		ev.TraceParent = producer
		require.NoError(t, m.Append(t.Context(), ev), "Append")
		var (
			mu       sync.Mutex
			handleSC []tracing.SpanContext
		)
		h := b.Handler(func(ctx context.Context, ev canonical.Event) error {
			sc, _ := tracing.SpanContextFrom(ctx)
			mu.Lock()
			handleSC = append(handleSC, sc)
			mu.Unlock()
			// What a connector decorator records for its call.
			rec.Record(ctx, tracing.Step{CorrelationID: tracing.CorrelationID(ctx), System: "erp", Operation: "AcceptOrder",
				Start: time.Now(), Attempt: 1, Outcome: tracing.OutcomeOK})
			if eventlog.Attempt(ctx) == 1 {
				return connector.NewError(connector.CodeUnavailable, "erp", "AcceptOrder", errors.New("down"))
			}
			return nil
		})
		c, err := eventlog.NewConsumer(m, eventlog.ConsumerConfig{Group: "own", Handler: h})
		require.NoError(t, err, "NewConsumer")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		time.Sleep(time.Minute)
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-done, context.Canceled, "Run")

		var handles, calls []sdktrace.ReadOnlySpan
		for _, s := range sr.Ended() {
			switch s.SpanKind() {
			case trace.SpanKindConsumer:
				handles = append(handles, s)
			case trace.SpanKindClient:
				calls = append(calls, s)
			}
		}
		require.Len(t, handles, 2, "a span per attempt")
		require.Len(t, calls, 2, "a connector span per attempt")
		want, _ := tracing.ParseTraceparent(producer)
		for i, s := range handles {
			assert.Equal(t, "handle dev.distsync.eventlogtest", s.Name(), "handle span name")
			assert.Equal(t, trace.SpanID(want.SpanID), s.Parent().SpanID(), "attempt %d: parent is the event's span", i+1)
			assert.True(t, s.Parent().IsRemote(), "attempt %d: the parent is remote", i+1)
			assert.Equal(t, trace.TraceID(want.TraceID), s.SpanContext().TraceID(), "attempt %d: in the event's trace", i+1)
			a := attrs(s)
			assert.Equal(t, int64(i+1), a[dsotel.AttrAttempt].AsInt64(), "attempt %d: attribute", i+1)
			assert.Equal(t, "ORD-1", a[dsotel.AttrOrderID].AsString(), "attempt %d: order ID", i+1)
			assert.Equal(t, string(ev.Type), a[dsotel.AttrEventType].AsString(), "attempt %d: event type", i+1)
			assert.Equal(t, "corr-ORD-1", a[dsotel.AttrCorrelationID].AsString(), "attempt %d: correlation ID", i+1)
			assert.Equal(t, tracing.SpanID(s.SpanContext().SpanID()), handleSC[i].SpanID, "attempt %d: the handler's context carries the span for the tracing package", i+1)
			assert.Equal(t, s.SpanContext().SpanID(), calls[i].Parent().SpanID(), "attempt %d: the connector call is a child of the handle span", i+1)
			assert.Equal(t, "ORD-1", attrs(calls[i])[dsotel.AttrOrderID].AsString(), "attempt %d: the connector call names the order", i+1)
		}
		assert.Equal(t, codes.Error, handles[0].Status().Code, "failed attempt: status")
		assert.Equal(t, "unavailable", attrs(handles[0])[dsotel.AttrErrorType].AsString(), "failed attempt: error type")
		assert.Equal(t, codes.Unset, handles[1].Status().Code, "successful attempt: status")
	})
}
