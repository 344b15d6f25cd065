package tracing

import (
	"context"
	"log/slog"
)

// Attribute keys the [Handler] adds.
const (
	KeyCorrelationID = "correlation_id"
	KeyCausationID   = "causation_id"
	KeyTraceID       = "trace_id"
	KeySpanID        = "span_id"
)

// Handler is a [slog.Handler] that adds the correlation ID, causation ID,
// trace ID and span ID of the logging context to every record (as
// [KeyCorrelationID], [KeyCausationID], [KeyTraceID] and [KeySpanID]),
// leaving out those the context does not carry. The attributes are added to
// the record, so they land inside any group opened with WithGroup, like the
// record's other attributes. Log with the context (logger.InfoContext) for
// them to appear. It is safe for concurrent use when the wrapped handler
// is. The zero value is not usable; create it with [NewHandler].
type Handler struct {
	next slog.Handler
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler wrapping next; nil next discards everything.
func NewHandler(next slog.Handler) *Handler {
	if next == nil {
		next = slog.DiscardHandler
	}
	return &Handler{next: next}
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the tracing attributes of ctx to r and passes it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	v := valuesFrom(ctx)
	var attrs [4]slog.Attr
	n := 0
	if v.correlation != "" {
		attrs[n] = slog.String(KeyCorrelationID, v.correlation)
		n++
	}
	if v.causation != "" {
		attrs[n] = slog.String(KeyCausationID, v.causation)
		n++
	}
	if v.span != nil {
		traceID, spanID := v.span.hex()
		attrs[n] = slog.String(KeyTraceID, traceID)
		attrs[n+1] = slog.String(KeySpanID, spanID)
		n += 2
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(attrs[:n]...)
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a Handler whose wrapped handler has attrs added.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns a Handler whose wrapped handler has group name opened.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{next: h.next.WithGroup(name)}
}
