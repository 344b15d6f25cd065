package tracing

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/distsync/distsync/internal/tracectx"
)

// ctxKey is the type of this package's context key, internal to the module,
// so no other module can read or overwrite what it stores; a package of
// the module may answer it with a [*tracectx.IDs] from a context node of
// its own.
type ctxKey = tracectx.Key

// values is what this package keeps in a context, under one key so that
// reading all of it (as the slog Handler does per record) is one lookup.
type values struct {
	correlation string
	causation   string
	span        *spanEntry // nil when no valid span was set
}

// spanEntry is a span with its IDs in hex, formatted once on first use.
type spanEntry struct {
	sc      SpanContext
	once    sync.Once
	traceID string
	spanID  string
}

func (e *spanEntry) hex() (traceID, spanID string) {
	e.once.Do(func() {
		e.traceID, e.spanID = e.sc.TraceID.String(), e.sc.SpanID.String()
	})
	return e.traceID, e.spanID
}

func valuesFrom(ctx context.Context) values {
	switch v := ctx.Value(ctxKey{}).(type) {
	case *values:
		return *v
	case *tracectx.IDs:
		// Set on v.Parent as WithIDs sets them.
		pv := valuesFrom(v.Parent)
		pv.correlation, pv.causation = v.Correlation, v.Causation
		return pv
	}
	return values{}
}

// valuesContext is a context carrying values in its own node: one
// allocation where context.WithValue with a pointer to values takes two.
type valuesContext struct {
	context.Context
	v values
}

// Value implements [context.Context].
func (c *valuesContext) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return &c.v
	}
	return c.Context.Value(key)
}

func withValues(ctx context.Context, v values) context.Context {
	if ctx == nil {
		panic("tracing: nil parent context") // as context.WithValue does
	}
	return &valuesContext{Context: ctx, v: v}
}

// NewCorrelationID returns a new random correlation ID: a version 4 UUID in
// its canonical lowercase form.
func NewCorrelationID() string { return uuid.NewString() }

// WithCorrelationID returns a copy of ctx carrying id as the correlation ID:
// the ID of the business flow (such as one order) the work belongs to. An
// empty id removes it.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	v := valuesFrom(ctx)
	v.correlation = id
	return withValues(ctx, v)
}

// CorrelationID returns the correlation ID carried by ctx, or "".
func CorrelationID(ctx context.Context) string { return valuesFrom(ctx).correlation }

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
	v := valuesFrom(ctx)
	v.causation = id
	return withValues(ctx, v)
}

// WithIDs returns a copy of ctx carrying correlationID and causationID, as
// WithCausationID(WithCorrelationID(ctx, correlationID), causationID) does,
// in one step: a consumer calls it for every event it handles. An empty ID
// removes that ID.
func WithIDs(ctx context.Context, correlationID, causationID string) context.Context {
	v := valuesFrom(ctx)
	v.correlation, v.causation = correlationID, causationID
	return withValues(ctx, v)
}

// CausationID returns the causation ID carried by ctx, or "".
func CausationID(ctx context.Context) string { return valuesFrom(ctx).causation }

// WithSpanContext returns a copy of ctx carrying sc as the current span. An
// invalid sc removes the span.
func WithSpanContext(ctx context.Context, sc SpanContext) context.Context {
	return withSpan(ctx, valuesFrom(ctx), sc)
}

// withSpan returns a copy of ctx carrying v with sc as its span (none when
// sc is invalid). The values and the span share one allocation.
func withSpan(ctx context.Context, v values, sc SpanContext) context.Context {
	if !sc.IsValid() {
		v.span = nil
		return withValues(ctx, v)
	}
	if ctx == nil {
		panic("tracing: nil parent context") // as context.WithValue does
	}
	p := &struct {
		valuesContext
		e spanEntry
	}{valuesContext: valuesContext{Context: ctx, v: v}, e: spanEntry{sc: sc}}
	p.v.span = &p.e
	return &p.valuesContext
}

// SpanContextFrom returns the current span carried by ctx and whether there
// is one.
func SpanContextFrom(ctx context.Context) (SpanContext, bool) {
	if e := valuesFrom(ctx).span; e != nil {
		return e.sc, true
	}
	return SpanContext{}, false
}

// Fields are the tracing values an event envelope carries, so a consumer can
// continue the flow, the causation chain and the trace of the producer. The
// zero value carries nothing. It is a plain value: safe for concurrent use
// when not modified.
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
