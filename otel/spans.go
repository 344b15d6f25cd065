// This file owns the spans: the Recorder that turns timeline steps into
// spans, the Handler that wraps a consumer's handler in one, and the
// conversions between the tracing package's trace context and
// OpenTelemetry's.

package otel

import (
	"context"
	"errors"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// handlePrefix starts the operation of a flow's step for a handled event.
const handlePrefix = "handle "

// flowSystem is the system of a flow's own steps.
const flowSystem = "flow"

var _ tracing.Recorder = (*Recorder)(nil)

// Recorder is a tracing.Recorder that turns each step into a span (see the
// package documentation) and then passes it to the recorder it wraps.
// It is safe for concurrent use. The zero value is not usable; create it
// with Bridge.Recorder.
type Recorder struct {
	b    *Bridge
	next tracing.Recorder
}

// Recorder returns a Recorder passing the steps on to next, which may be
// nil. Set it as flow.Config.Recorder and connector.Options.Recorder.
func (b *Bridge) Recorder(next tracing.Recorder) *Recorder {
	return &Recorder{b: b, next: next}
}

// Record records s as a span with the start and duration of the step, then
// passes it to the wrapped recorder.
func (r *Recorder) Record(ctx context.Context, s tracing.Step) {
	r.b.span(ctx, s)
	if r.next != nil {
		r.next.Record(ctx, s)
	}
}

// Timeline returns the wrapped recorder's timeline of correlationID when it
// has a Timeline method (as *tracing.MemoryRecorder has), so that
// flow.Flow.Where still finds the timeline through the Recorder; it returns
// nil otherwise.
func (r *Recorder) Timeline(correlationID string) []tracing.Step {
	if t, ok := r.next.(interface {
		Timeline(string) []tracing.Step
	}); ok {
		return t.Timeline(correlationID)
	}
	return nil
}

// span records one step as a finished span.
func (b *Bridge) span(ctx context.Context, s tracing.Step) {
	handled := s.System == flowSystem && strings.HasPrefix(s.Operation, handlePrefix)
	kind, name := trace.SpanKindClient, s.System+" "+s.Operation
	attrs := make([]attribute.KeyValue, 0, 12)
	if handled {
		kind, name = trace.SpanKindConsumer, s.Operation
	}
	attrs = append(attrs,
		attribute.String(AttrSystem, s.System),
		attribute.String(AttrOperation, s.Operation),
		attribute.Int(AttrAttempt, s.Attempt),
		attribute.String(AttrOutcome, string(s.Outcome)))
	corr := s.CorrelationID
	if corr == "" {
		corr = tracing.CorrelationID(ctx)
	}
	if corr != "" {
		attrs = append(attrs, attribute.String(AttrCorrelationID, corr))
	}
	if ev, ok := eventlog.EventFrom(ctx); ok {
		attrs = eventAttrs(attrs, ev)
	} else if handled {
		attrs = append(attrs, attribute.String(AttrEventType, strings.TrimPrefix(s.Operation, handlePrefix)))
	}
	if c := tracing.CausationID(ctx); c != "" {
		attrs = append(attrs, attribute.String(AttrCausationID, c))
	}
	ctx, opts := parent(ctx, kind, attrs)
	_, sp := b.tracer.Start(ctx, name, append(opts, trace.WithTimestamp(s.Start))...)
	if s.ErrorClass != "" || failed(s.Outcome) {
		class := s.ErrorClass
		if class == "" {
			class = string(s.Outcome)
		}
		sp.SetAttributes(attribute.String(AttrErrorType, class))
		sp.SetStatus(codes.Error, class)
	}
	sp.End(trace.WithTimestamp(s.Start.Add(s.Duration)))
}

// failed reports whether a step with outcome o failed.
func failed(o tracing.Outcome) bool {
	switch o {
	case tracing.OutcomeRetry, tracing.OutcomeFailed, tracing.OutcomeParked, tracing.OutcomeDeadLettered:
		return true
	}
	return false
}

// eventAttrs appends the attributes naming ev.
func eventAttrs(attrs []attribute.KeyValue, ev canonical.Event) []attribute.KeyValue {
	attrs = append(attrs,
		attribute.String(AttrEventID, ev.ID),
		attribute.String(AttrEventType, string(ev.Type)),
		attribute.String(AttrSource, ev.Source),
		attribute.String(AttrPartitionKey, ev.Partition()))
	if id := orderID(ev); id != "" {
		attrs = append(attrs, attribute.String(AttrOrderID, id))
	}
	return attrs
}

// parent returns the context to start a span of kind with attrs in, and
// its start options: the OpenTelemetry span of ctx is the parent, else the
// span of the tracing package; when both are there and differ, the latter
// is linked.
func parent(ctx context.Context, kind trace.SpanKind, attrs []attribute.KeyValue) (context.Context, []trace.SpanStartOption) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(kind), trace.WithAttributes(attrs...)}
	tsc, ok := tracing.SpanContextFrom(ctx)
	if !ok {
		return ctx, opts
	}
	remote := toOTel(tsc)
	cur := trace.SpanContextFromContext(ctx)
	switch {
	case !cur.IsValid():
		ctx = trace.ContextWithRemoteSpanContext(ctx, remote)
	case cur.TraceID() != remote.TraceID() || cur.SpanID() != remote.SpanID():
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: remote,
			Attributes: []attribute.KeyValue{attribute.String("distsync.link", "causation")}}))
	}
	return ctx, opts
}

// toOTel converts a tracing.SpanContext into a remote OpenTelemetry one.
// A tracestate OpenTelemetry refuses is left out.
func toOTel(sc tracing.SpanContext) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: trace.TraceID(sc.TraceID), SpanID: trace.SpanID(sc.SpanID),
		TraceFlags: trace.TraceFlags(sc.Flags), Remote: true}
	if sc.State.Len() > 0 {
		if ts, err := trace.ParseTraceState(sc.State.String()); err == nil {
			cfg.TraceState = ts
		}
	}
	return trace.NewSpanContext(cfg)
}

// fromOTel converts an OpenTelemetry span context into a tracing one, so
// that what the tracing package sends on (event envelopes, HTTP headers)
// names the span. A tracestate the tracing package refuses is left out.
func fromOTel(sc trace.SpanContext) tracing.SpanContext {
	out := tracing.SpanContext{TraceID: tracing.TraceID(sc.TraceID()), SpanID: tracing.SpanID(sc.SpanID()),
		Flags: tracing.TraceFlags(sc.TraceFlags())}
	if s := sc.TraceState().String(); s != "" {
		if ts, err := tracing.ParseTraceState(s); err == nil {
			out.State = ts
		}
	}
	return out
}

// Handler returns an eventlog.Handler that runs h in a span of kind
// consumer named "handle TYPE" (the event's type without "distsync." and
// the version), for a consumer group of your own: its parent is the
// event's span (from its traceparent, which the consumer put in the
// context), the connector calls and the events h makes are its children
// (the context h gets carries the span both for OpenTelemetry and for the
// tracing package), and an error of h sets the span's status. The
// attributes are those of a flow's handled event.
func (b *Bridge) Handler(h eventlog.Handler) eventlog.Handler {
	return func(ctx context.Context, ev canonical.Event) error {
		attrs := make([]attribute.KeyValue, 0, 10)
		attrs = append(attrs, attribute.String(AttrSystem, flowSystem),
			attribute.Int(AttrAttempt, max(eventlog.Attempt(ctx), 1)))
		attrs = eventAttrs(attrs, ev)
		if ev.CorrelationID != "" {
			attrs = append(attrs, attribute.String(AttrCorrelationID, ev.CorrelationID))
		}
		if ev.CausationID != "" {
			attrs = append(attrs, attribute.String(AttrCausationID, ev.CausationID))
		}
		sctx, opts := parent(ctx, trace.SpanKindConsumer, attrs)
		sctx, sp := b.tracer.Start(sctx, handlePrefix+shortType(ev.Type), opts...)
		defer sp.End()
		if sc := sp.SpanContext(); sc.IsValid() {
			// A span that is not recorded keeps the event's trace context.
			sctx = tracing.WithSpanContext(sctx, fromOTel(sc))
		}
		err := h(sctx, ev)
		if err != nil {
			class := errorClass(err)
			sp.SetAttributes(attribute.String(AttrErrorType, class))
			sp.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}

// shortType returns "order.submitted" for "distsync.order.submitted.v1",
// as the flow names its steps.
func shortType(t canonical.EventType) string {
	s := strings.TrimPrefix(string(t), "distsync.")
	if i := strings.LastIndex(s, ".v"); i > 0 {
		s = s[:i]
	}
	return s
}

// errorClass classifies a handler's error as the connector decorators
// classify a call's: "circuit_open", a connector code, or
// tracing.ErrorClass.
func errorClass(err error) string {
	if errors.Is(err, retry.ErrCircuitOpen) {
		return "circuit_open"
	}
	if c := connector.CodeOf(err); c != connector.CodeUnknown {
		return c.String()
	}
	return tracing.ErrorClass(err)
}
