package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Default header names used by a zero [Propagator].
const (
	// DefaultCorrelationHeader carries the correlation ID.
	DefaultCorrelationHeader = "X-Correlation-ID"
	// DefaultCausationHeader carries the causation ID.
	DefaultCausationHeader = "X-Causation-ID"
)

// ErrInvalidConfig is matched (with errors.Is) by the error
// [Propagator.Validate] returns for an unusable configuration.
var ErrInvalidConfig = errors.New("tracing: invalid configuration")

// maxIDLen bounds correlation and causation IDs taken from headers.
const maxIDLen = 256

// Propagator moves the trace context, correlation ID and causation ID between
// a [context.Context] and HTTP headers: traceparent and tracestate (W3C Trace
// Context) and two headers of its own. Its zero value uses
// [DefaultCorrelationHeader] and [DefaultCausationHeader]. It is safe for
// concurrent use.
type Propagator struct {
	// CorrelationHeader names the correlation ID header;
	// "" means DefaultCorrelationHeader.
	CorrelationHeader string
	// CausationHeader names the causation ID header;
	// "" means DefaultCausationHeader.
	CausationHeader string
}

func (p Propagator) correlationHeader() string {
	if p.CorrelationHeader == "" {
		return DefaultCorrelationHeader
	}
	return p.CorrelationHeader
}

func (p Propagator) causationHeader() string {
	if p.CausationHeader == "" {
		return DefaultCausationHeader
	}
	return p.CausationHeader
}

// Canonical forms of the default header names.
const (
	defaultCorrelationKey = "X-Correlation-Id"
	defaultCausationKey   = "X-Causation-Id"
)

// correlationKey returns the correlation header name in canonical form.
func (p Propagator) correlationKey() string {
	if p.CorrelationHeader == "" {
		return defaultCorrelationKey
	}
	return http.CanonicalHeaderKey(p.CorrelationHeader)
}

// causationKey returns the causation header name in canonical form.
func (p Propagator) causationKey() string {
	if p.CausationHeader == "" {
		return defaultCausationKey
	}
	return http.CanonicalHeaderKey(p.CausationHeader)
}

// Validate reports whether the header names are valid HTTP field names,
// distinct from each other and from traceparent and tracestate. The error
// matches [ErrInvalidConfig].
func (p Propagator) Validate() error {
	names := []struct{ field, value string }{
		{"CorrelationHeader", p.correlationHeader()},
		{"CausationHeader", p.causationHeader()},
	}
	for _, n := range names {
		if !isToken(n.value) {
			return fmt.Errorf("%w: %s %q is not a valid HTTP header name", ErrInvalidConfig, n.field, n.value)
		}
		if c := http.CanonicalHeaderKey(n.value); c == "Traceparent" || c == "Tracestate" {
			return fmt.Errorf("%w: %s %q is reserved for W3C Trace Context", ErrInvalidConfig, n.field, n.value)
		}
	}
	if strings.EqualFold(names[0].value, names[1].value) {
		return fmt.Errorf("%w: CorrelationHeader and CausationHeader are both %q", ErrInvalidConfig, names[0].value)
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLCAlpha(c|0x20) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// Inject writes the span, correlation ID and causation ID of ctx into h.
// The span is written as it is (see [Transport] for a new span per call);
// without a valid span, traceparent and tracestate are removed from h. An
// empty tracestate, correlation ID or causation ID removes its header.
func (p Propagator) Inject(ctx context.Context, h http.Header) {
	p.inject(valuesFrom(ctx), h)
}

func (p Propagator) inject(v values, h http.Header) {
	if v.span != nil {
		sc := v.span.sc
		h["Traceparent"] = []string{sc.Traceparent()}
		if sc.State.Len() > 0 {
			h["Tracestate"] = []string{sc.State.String()}
		} else {
			delete(h, "Tracestate")
		}
	} else {
		delete(h, "Traceparent")
		delete(h, "Tracestate")
	}
	setOrDelete(h, p.correlationKey(), v.correlation)
	setOrDelete(h, p.causationKey(), v.causation)
}

// setOrDelete sets or deletes h[key]; key is in canonical form.
func setOrDelete(h http.Header, key, value string) {
	if value == "" {
		delete(h, key)
		return
	}
	h[key] = []string{value}
}

// Extract returns a copy of ctx carrying what h says about the caller:
//   - its span, from exactly one valid traceparent header (a missing,
//     invalid or duplicated traceparent is ignored, so the trace restarts),
//     with the tracestate of all tracestate lines combined, or none when
//     they are invalid;
//   - the correlation ID and causation ID, each from exactly one header
//     value of 1 to 256 visible ASCII characters; other values are ignored.
//
// Extract leaves ctx unchanged for anything it ignores.
func (p Propagator) Extract(ctx context.Context, h http.Header) context.Context {
	v, changed := p.extract(valuesFrom(ctx), h)
	if !changed {
		return ctx
	}
	return withValues(ctx, v)
}

// extract returns v updated from h, and whether anything was found.
func (p Propagator) extract(v values, h http.Header) (values, bool) {
	changed := false
	if tp := h["Traceparent"]; len(tp) == 1 {
		if sc, err := ParseTraceparent(strings.Trim(tp[0], " \t")); err == nil {
			if ts := h["Tracestate"]; len(ts) > 0 {
				sc.State, _ = ParseTraceState(ts...)
			}
			v.span, changed = newSpanEntry(sc), true
		}
	}
	if id, ok := singleID(h, p.correlationKey()); ok {
		v.correlation, changed = id, true
	}
	if id, ok := singleID(h, p.causationKey()); ok {
		v.causation, changed = id, true
	}
	return v, changed
}

// singleID returns the only value of header key (in canonical form) when it
// is a usable ID.
func singleID(h http.Header, key string) (string, bool) {
	v := h[key]
	if len(v) != 1 {
		return "", false
	}
	id := strings.Trim(v[0], " \t")
	if id == "" || len(id) > maxIDLen {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return "", false
		}
	}
	return id, true
}

// Middleware returns an http.Handler that runs next with a request context
// carrying the caller's trace, correlation ID and causation ID (see
// [Propagator.Extract]) and a new server span: a child of the caller's span,
// or the root of a new trace when the request brought none. A request
// without a usable correlation ID gets a [NewCorrelationID]. The correlation
// ID is also set on the response header.
func (p Propagator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		v, _ := p.extract(valuesFrom(ctx), r.Header)
		if v.span != nil {
			v.span = newSpanEntry(v.span.sc.Child())
		} else {
			v.span = newSpanEntry(NewSpanContext())
		}
		if v.correlation == "" {
			v.correlation = NewCorrelationID()
		}
		w.Header()[p.correlationKey()] = []string{v.correlation}
		next.ServeHTTP(w, r.WithContext(withValues(ctx, v)))
	})
}

// Transport is an [http.RoundTripper] that sends the trace, correlation ID
// and causation ID of each request's context: every request gets a new span
// ID (a child of the context's span, or the root of a new trace when the
// context has none). The request passed in is not modified; a clone with the
// headers set is sent. Its zero value sends through http.DefaultTransport
// with a zero [Propagator]. It is safe for concurrent use.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Propagator names the headers.
	Propagator Propagator
}

// RoundTrip sends req with the tracing headers of its context.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	v := valuesFrom(ctx)
	if v.span != nil {
		v.span = &spanEntry{sc: v.span.sc.Child()}
	} else {
		v.span = &spanEntry{sc: NewSpanContext()}
	}
	out := req.Clone(ctx)
	if out.Header == nil {
		out.Header = make(http.Header)
	}
	t.Propagator.inject(v, out.Header)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}
