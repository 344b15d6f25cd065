package tracing

import (
	"context"

	"github.com/google/uuid"
)

// ctxKey is the unexported type of this package's context keys, so no other
// package can read or overwrite them.
type ctxKey int

const (
	correlationKey ctxKey = iota
	causationKey
	spanKey
)

// NewCorrelationID returns a new random correlation ID: a version 4 UUID in
// its canonical lowercase form.
func NewCorrelationID() string { return uuid.NewString() }

// WithCorrelationID returns a copy of ctx carrying id as the correlation ID:
// the ID of the business flow (such as one order) the work belongs to. An
// empty id removes it.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey, id)
}

// CorrelationID returns the correlation ID carried by ctx, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey).(string)
	return id
}

// EnsureCorrelationID returns ctx and its correlation ID when it has one;
// otherwise it returns a copy of ctx carrying a [NewCorrelationID] and that ID.
func EnsureCorrelationID(ctx context.Context) (context.Context, string) {
	if id := CorrelationID(ctx); id != "" {
		return ctx, id
	}
	id := NewCorrelationID()
	return WithCorrelationID(ctx, id), id
}

// WithCausationID returns a copy of ctx carrying id as the causation ID: the
// ID of the event or request that caused the work done under ctx. An empty
// id removes it.
func WithCausationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, causationKey, id)
}

// CausationID returns the causation ID carried by ctx, or "".
func CausationID(ctx context.Context) string {
	id, _ := ctx.Value(causationKey).(string)
	return id
}

// WithSpanContext returns a copy of ctx carrying sc as the current span.
func WithSpanContext(ctx context.Context, sc SpanContext) context.Context {
	return context.WithValue(ctx, spanKey, sc)
}

// SpanContextFrom returns the current span carried by ctx and whether there
// is a valid one.
func SpanContextFrom(ctx context.Context) (SpanContext, bool) {
	sc, ok := ctx.Value(spanKey).(SpanContext)
	return sc, ok && sc.IsValid()
}

// Fields are the tracing values an event envelope carries, so a consumer can
// continue the flow, the causation chain and the trace of the producer. The
// zero value carries nothing.
type Fields struct {
	// CorrelationID is the business flow's ID.
	CorrelationID string
	// CausationID is the ID of the event or request that caused this one.
	CausationID string
	// Traceparent is the W3C traceparent of the producing span, or "".
	Traceparent string
	// Tracestate is the W3C tracestate of the producing span, or "".
	Tracestate string
}

// FieldsFrom returns the tracing values of ctx, for copying onto an event
// envelope.
func FieldsFrom(ctx context.Context) Fields {
	f := Fields{CorrelationID: CorrelationID(ctx), CausationID: CausationID(ctx)}
	if sc, ok := SpanContextFrom(ctx); ok {
		f.Traceparent = sc.Traceparent()
		f.Tracestate = sc.State.String()
	}
	return f
}

// Context returns a copy of ctx carrying f's correlation ID, causation ID and
// span, as received from an event envelope. An invalid traceparent is
// ignored (the span is then left out, and a new trace starts at the next
// hop); an invalid tracestate is dropped. Empty fields are left out.
func (f Fields) Context(ctx context.Context) context.Context {
	if f.CorrelationID != "" {
		ctx = WithCorrelationID(ctx, f.CorrelationID)
	}
	if f.CausationID != "" {
		ctx = WithCausationID(ctx, f.CausationID)
	}
	if sc, err := ParseTraceparent(f.Traceparent); err == nil {
		if f.Tracestate != "" {
			sc.State, _ = ParseTraceState(f.Tracestate)
		}
		ctx = WithSpanContext(ctx, sc)
	}
	return ctx
}
