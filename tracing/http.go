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
// [DefaultCorrelationHeader] and [DefaultCausationHeader]. Custom names are
// not checked when used: call [Propagator.Validate] once after setting them.
// It is safe for concurrent use.
//
// A correlation or causation ID is sent and accepted only when it is 1 to
// 256 visible ASCII characters (0x21 to 0x7E): an ID in the context that
// breaks this rule is left out of the outgoing headers, not replaced, and
// an incoming one is ignored.
//
// Calls to and from third parties: the correlation and causation IDs name
// your business flows; a vendor's API has no use for them and should not
// learn them. Set TraceContextOnly
// on the Propagator of a [Transport] calling, or a [Propagator.Middleware]
// called by, a third party: only traceparent and tracestate then cross the
// boundary. To send a correlation ID to such a party anyway, ask for it on
// the request: set the header yourself (the Propagator then leaves it
// alone), or use a second Transport with a zero Propagator for that party.
type Propagator struct {
	// CorrelationHeader names the correlation ID header;
	// "" means DefaultCorrelationHeader.
	CorrelationHeader string
	// CausationHeader names the causation ID header;
	// "" means DefaultCausationHeader.
	CausationHeader string
	// TraceContextOnly, when true, limits the Propagator to W3C Trace
	// Context. [Propagator.Inject] and [Transport] write only traceparent
	// and tracestate, leaving the correlation and causation headers as the
	// request already had them; [Propagator.Extract] reads only traceparent
	// and tracestate, so a caller cannot choose the correlation ID your
	// logs and timelines file its work under; [Propagator.Middleware] does
	// not echo the correlation ID in the response. The zero value (false)
	// sends and reads all four headers, for calls between your own services.
	TraceContextOnly bool
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
// empty tracestate removes its header, and so does a correlation or
// causation ID that is empty or not a valid ID (see [Propagator]). With
// TraceContextOnly the correlation and causation headers of h are left as
// they are.
func (p Propagator) Inject(ctx context.Context, h http.Header) {
	v := valuesFrom(ctx)
	var sc *SpanContext
	if v.span != nil {
		sc = &v.span.sc
	}
	p.inject(v, sc, h)
}

// inject writes sc (nil for none) and the IDs of v into h. The values share
// one backing array, each sliced to capacity 1, as http.Header.Clone does.
func (p Propagator) inject(v values, sc *SpanContext, h http.Header) {
	correlation, causation := validID(v.correlation), validID(v.causation)
	var vals [4]string
	n := 0
	if sc != nil {
		vals[n] = sc.Traceparent()
		n++
		if sc.State.Len() > 0 {
			vals[n] = sc.State.String()
			n++
		}
	}
	if !p.TraceContextOnly {
		if correlation {
			vals[n] = v.correlation
			n++
		}
		if causation {
			vals[n] = v.causation
			n++
		}
	}
	backing := make([]string, n)
	copy(backing, vals[:n])
	i := 0
	set := func(key string, present bool) {
		if !present {
			delete(h, key)
			return
		}
		h[key] = backing[i : i+1 : i+1]
		i++
	}
	set("Traceparent", sc != nil)
	set("Tracestate", sc != nil && sc.State.Len() > 0)
	if !p.TraceContextOnly {
		set(p.correlationKey(), correlation)
		set(p.causationKey(), causation)
	}
}

// Extract returns a copy of ctx carrying what h says about the caller:
//   - its span, from exactly one valid traceparent header (a missing,
//     invalid or duplicated traceparent is ignored, so the trace restarts),
//     with the tracestate of all tracestate lines combined, or none when
//     they are invalid;
//   - the correlation ID and causation ID, each from exactly one header
//     value of 1 to 256 visible ASCII characters; other values are ignored,
//     and so are both headers when TraceContextOnly is set.
//
// Extract leaves ctx unchanged for anything it ignores.
func (p Propagator) Extract(ctx context.Context, h http.Header) context.Context {
	v, sc, found, changed := p.extract(valuesFrom(ctx), h)
	switch {
	case found:
		return withSpan(ctx, v, sc)
	case changed:
		return withValues(ctx, v)
	}
	return ctx
}

// extract returns v with the IDs found in h, the span found in h and
// whether there was one, and whether anything was found.
func (p Propagator) extract(v values, h http.Header) (_ values, _ SpanContext, found, changed bool) {
	var sc SpanContext
	if tp := h["Traceparent"]; len(tp) == 1 {
		var err error
		if sc, err = ParseTraceparent(strings.Trim(tp[0], " \t")); err == nil {
			if ts := h["Tracestate"]; len(ts) > 0 {
				sc.State, _ = ParseTraceState(ts...)
			}
			found, changed = true, true
		}
	}
	if p.TraceContextOnly {
		return v, sc, found, changed
	}
	if id, ok := singleID(h, p.correlationKey()); ok {
		v.correlation, changed = id, true
	}
	if id, ok := singleID(h, p.causationKey()); ok {
		v.causation, changed = id, true
	}
	return v, sc, found, changed
}

// singleID returns the only value of header key (in canonical form) when it
// is a usable ID.
func singleID(h http.Header, key string) (string, bool) {
	v := h[key]
	if len(v) != 1 {
		return "", false
	}
	id := strings.Trim(v[0], " \t")
	return id, validID(id)
}

// validID reports whether id may be sent or accepted as a correlation or
// causation ID: 1 to maxIDLen visible ASCII characters.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// Middleware returns an http.Handler that runs next with a request context
// carrying the caller's trace, correlation ID and causation ID (see
// [Propagator.Extract]) and a new server span: a child of the caller's span,
// or the root of a new trace when the request brought none. A request
// without a usable correlation ID gets a [NewCorrelationID]. The correlation
// ID is also set on the response header, unless TraceContextOnly is set.
func (p Propagator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		v, sc, found, _ := p.extract(valuesFrom(ctx), r.Header)
		switch {
		case found:
			sc = sc.Child()
		case v.span != nil:
			sc = v.span.sc.Child()
		default:
			sc = NewSpanContext()
		}
		if !validID(v.correlation) {
			v.correlation = NewCorrelationID()
		}
		if !p.TraceContextOnly {
			w.Header()[p.correlationKey()] = []string{v.correlation}
		}
		next.ServeHTTP(w, r.WithContext(withSpan(ctx, v, sc)))
	})
}

// Transport is an [http.RoundTripper] that sends the trace, correlation ID
// and causation ID of each request's context (see [Propagator] for what is
// sent, and for calls to third parties): every request gets a new span, the
// client span, with its own span ID (a child of the context's span, or the
// root of a new trace when the context has none). The request passed in is
// not modified; a clone is sent, with the headers set and a context that
// carries the client span.
//
// That context is how the caller sees the client span, whose span ID the
// server received as its parent-id: read it with [SpanContextFrom], or log
// with it through a [Handler] to get its span_id. It is the context of
// Response.Request (when Base keeps it there, as http.Transport does), and
// OnSend receives the request before it is sent, which serves calls that
// fail without a response too.
//
// An [http.Client] calls RoundTrip once per hop of a redirect, so every hop
// gets a client span of its own (OnSend sees each) and the headers the
// Propagator sends: a Transport without TraceContextOnly sends the
// correlation and causation IDs to a redirect target on another host too.
//
// Its zero value sends through http.DefaultTransport with a zero
// [Propagator]. It is safe for concurrent use when OnSend is.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Propagator names the headers and says which to send.
	Propagator Propagator
	// OnSend, when not nil, is called with each request as it is about to
	// go to Base, its headers set and its context carrying the client span.
	// It runs on the goroutine that called RoundTrip and must not modify
	// the request.
	OnSend func(req *http.Request)
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip sends req with the tracing headers of its context.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	v := valuesFrom(ctx)
	var sc SpanContext
	if v.span != nil {
		sc = v.span.sc.Child()
	} else {
		sc = NewSpanContext()
	}
	out := req.Clone(withSpan(ctx, v, sc))
	if out.Header == nil {
		out.Header = make(http.Header)
	}
	t.Propagator.inject(v, &sc, out.Header)
	if t.OnSend != nil {
		t.OnSend(out)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}
