// Package tracing carries what an operator needs to follow one order across
// CRM, ERP, WMS and the SDK: correlation and causation IDs, the W3C Trace
// Context, the log attributes that show them, and per-flow timelines.
//
// # Correlation and causation
//
// A correlation ID names one business flow (by default one order) and a
// causation ID names the event or request that caused the current work.
// Both travel in a [context.Context]: set them with [WithCorrelationID] and
// [WithCausationID], read them with [CorrelationID] and [CausationID]. The
// event envelopes the SDK emits copy them, with the trace, from
// [FieldsFrom]; a consumer restores them with [Fields.Context].
//
// # W3C Trace Context
//
// [ParseTraceparent] and [ParseTraceState] implement the parsing rules of
// W3C Trace Context Level 2, including what a receiver must reject: wrong
// lengths, upper-case hex, all-zero IDs, version ff, illegal characters,
// invalid keys and more than 32 tracestate members. A future version is
// read by its first four fields. Reserved flag bits are read as they come
// and cleared in a child span, so they are not sent on.
// [SpanContext.Traceparent] and [TraceState.String] format them.
//
// A trace this package starts ([NewSpanContext]) has an entirely random
// trace-id and says so with the Level 2 random trace-id flag, [FlagRandom];
// a continued trace keeps the flag as it came, set or not.
//
// A tracestate key is 1 to 256 characters: a lowercase letter or a digit,
// then lowercase letters, digits and "_-*/@". A multi-tenant key such as
// "tenant@system" is one of them; Level 2 no longer limits its parts. Of a
// key that appears more than once, the first (left-most, most recently
// updated) member is kept and the others are dropped; the rest of the list
// is kept.
//
// # HTTP
//
// A [Propagator] moves all of it between a context and HTTP headers:
// [Propagator.Middleware] on the server side, [Transport] on the client side
// (a new span ID per outgoing call). Exactly one traceparent header is
// honoured: a duplicated one restarts the trace, as the recommendation
// requires; several tracestate lines are combined. Correlation and
// causation IDs are checked both ways (1 to 256 visible ASCII characters):
// an invalid one is ignored when it comes in and left out when it would go
// out.
//
// With [Propagator.TraceContextOnly] only traceparent and tracestate cross
// the boundary, for calls to and from third parties: your correlation and
// causation IDs are neither sent nor taken from them unless you set the
// header on a request yourself. The span a [Transport] creates for a call
// travels in the context of the request it sends, so the caller can log the
// span ID the other side received (Response.Request, [Transport.OnSend]).
//
// # Logs
//
// [NewHandler] wraps any [log/slog.Handler] so that every record logged with
// a context gets correlation_id, causation_id, trace_id and span_id.
//
// # Timelines
//
// A [Recorder] receives the [Step]s of flows; [Timer.Time] times one step.
// [MemoryRecorder] keeps a bounded number of timelines in memory and returns
// the timeline of one correlation ID in order: it answers "where is order X
// and why is it stuck".
package tracing
