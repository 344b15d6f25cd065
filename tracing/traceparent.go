package tracing

import (
	"errors"
	"math/rand/v2"
	"strconv"
)

// ErrInvalidTraceparent is matched (with errors.Is) by the [*ParseError]
// returned for a traceparent value that breaks the W3C Trace Context rules.
// A receiver that gets it must restart the trace.
var ErrInvalidTraceparent = errors.New("tracing: invalid traceparent")

// ErrInvalidTracestate is matched (with errors.Is) by the [*ParseError]
// returned for a tracestate value that breaks the W3C Trace Context rules.
// A receiver that gets it discards the whole tracestate.
var ErrInvalidTracestate = errors.New("tracing: invalid tracestate")

// ParseError says what is wrong with a traceparent or tracestate value and
// where. It matches [ErrInvalidTraceparent] or [ErrInvalidTracestate] with
// errors.Is, depending on Header. It is not modified after it is returned,
// so it is safe for concurrent use. Its zero value names no header; the
// parsers fill it in.
type ParseError struct {
	// Header is "traceparent" or "tracestate".
	Header string
	// Line is the index of the header line, for tracestate values spread
	// over several lines; it is 0 for traceparent.
	Line int
	// Offset is the byte offset in that line where the problem was found.
	Offset int
	// Reason says what is wrong, such as "trace-id must not be all zeros".
	Reason string
}

// Error returns "tracing: invalid HEADER at offset N: REASON", with the line
// index added for tracestate values spread over several lines.
func (e *ParseError) Error() string {
	s := "tracing: invalid " + e.Header
	if e.Line > 0 {
		s += " line " + strconv.Itoa(e.Line)
	}
	return s + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Is reports whether target is the sentinel for e's header:
// [ErrInvalidTraceparent] or [ErrInvalidTracestate].
func (e *ParseError) Is(target error) bool {
	switch e.Header {
	case headerTraceparent:
		return target == ErrInvalidTraceparent
	case headerTracestate:
		return target == ErrInvalidTracestate
	}
	return false
}

const (
	headerTraceparent = "traceparent"
	headerTracestate  = "tracestate"
	// traceparentLen is the length of a version 00 traceparent.
	traceparentLen = 55
)

func traceparentError(offset int, reason string) error {
	return &ParseError{Header: headerTraceparent, Offset: offset, Reason: reason}
}

// TraceID is the 16-byte ID of a whole trace. The zero TraceID is invalid.
// It is a comparable value, safe for concurrent use.
type TraceID [16]byte

// NewTraceID returns a random, valid (non-zero) TraceID: its 16 bytes are
// drawn uniformly from math/rand/v2's generator, so a trace started with it
// may carry [FlagRandom]. It is safe for concurrent use.
func NewTraceID() TraceID {
	var id TraceID
	for !id.IsValid() {
		putUint64(id[:8], rand.Uint64())
		putUint64(id[8:], rand.Uint64())
	}
	return id
}

// IsValid reports whether id is not all zeros.
func (id TraceID) IsValid() bool { return id != TraceID{} }

// String returns id as 32 lowercase hex digits.
func (id TraceID) String() string {
	var b [32]byte
	return string(appendHex(b[:0], id[:]))
}

// SpanID is the 8-byte ID of one span (one operation, such as one HTTP call);
// in a traceparent it is the parent-id. The zero SpanID is invalid. It is a
// comparable value, safe for concurrent use.
type SpanID [8]byte

// NewSpanID returns a random, valid (non-zero) SpanID. It is safe for
// concurrent use.
func NewSpanID() SpanID {
	var id SpanID
	for !id.IsValid() {
		putUint64(id[:], rand.Uint64())
	}
	return id
}

// IsValid reports whether id is not all zeros.
func (id SpanID) IsValid() bool { return id != SpanID{} }

// String returns id as 16 lowercase hex digits.
func (id SpanID) String() string {
	var b [16]byte
	return string(appendHex(b[:0], id[:]))
}

// TraceFlags are the trace-flags byte of a traceparent. Trace Context Level
// 2 defines [FlagSampled] and [FlagRandom]; other bits are reserved.
// Parsing keeps them as received; [SpanContext.Child] clears them, since
// the specification requires a vendor to send them as zero. It is a plain
// value, safe for concurrent use. The zero value has no flag set.
type TraceFlags byte

const (
	// FlagSampled is the sampled bit: the caller may have recorded the trace.
	FlagSampled TraceFlags = 0x01
	// FlagRandom is the random trace-id bit of Trace Context Level 2: at
	// least the right-most 7 bytes of the trace-id were drawn at random,
	// uniformly, so a receiver may sample or shard on them. It is set on
	// the traces this package starts ([NewSpanContext]), whose whole
	// trace-id is random, and is kept unchanged, set or not, for as long
	// as the trace-id is (see [SpanContext.Child]). Set it on a trace-id of
	// your own only when its right-most 7 bytes are random.
	FlagRandom TraceFlags = 0x02
)

// Sampled reports whether the sampled bit is set.
func (f TraceFlags) Sampled() bool { return f&FlagSampled != 0 }

// Random reports whether the random trace-id bit is set.
func (f TraceFlags) Random() bool { return f&FlagRandom != 0 }

// String returns f as 2 lowercase hex digits.
func (f TraceFlags) String() string {
	var b [2]byte
	return string(appendHex(b[:0], []byte{byte(f)}))
}

// SpanContext is the propagated part of a trace: which trace, which span
// (the parent of the next hop), the trace flags and the vendor tracestate.
// It is an immutable value, safe for concurrent use. The zero value is
// invalid ([SpanContext.IsValid] reports false) and stands for "no trace".
type SpanContext struct {
	// TraceID identifies the whole trace.
	TraceID TraceID
	// SpanID identifies the current span; it is sent as the parent-id.
	SpanID SpanID
	// Flags are the trace flags, unknown bits included.
	Flags TraceFlags
	// State is the vendor-specific tracestate, possibly empty.
	State TraceState
}

// NewSpanContext starts a new trace: a random TraceID and SpanID, with an
// empty tracestate and the flags [FlagSampled] and [FlagRandom] (all 16
// bytes of the TraceID are random).
func NewSpanContext() SpanContext {
	return SpanContext{TraceID: NewTraceID(), SpanID: NewSpanID(), Flags: FlagSampled | FlagRandom}
}

// IsValid reports whether both the TraceID and the SpanID are valid.
func (sc SpanContext) IsValid() bool { return sc.TraceID.IsValid() && sc.SpanID.IsValid() }

// Child returns a SpanContext in the same trace, with the same tracestate,
// a new random SpanID and the same defined flags ([FlagSampled], and
// [FlagRandom] set or not, as Level 2 requires while the trace-id stays);
// reserved flag bits are cleared. It is the context of an operation sc
// causes, such as an outgoing call.
func (sc SpanContext) Child() SpanContext {
	sc.SpanID = NewSpanID()
	sc.Flags &= knownFlags
	return sc
}

// knownFlags are the trace flags Trace Context Level 2 defines.
const knownFlags = FlagSampled | FlagRandom

// Traceparent formats the traceparent header value of sc, always at
// version 00 (the version this package implements):
// "00-" trace-id "-" parent-id "-" trace-flags.
func (sc SpanContext) Traceparent() string {
	var b [traceparentLen]byte
	sc.encode(&b)
	return string(b[:])
}

// AppendTraceparent appends the traceparent value of sc (see
// [SpanContext.Traceparent]) to dst and returns the extended slice.
func (sc SpanContext) AppendTraceparent(dst []byte) []byte {
	var b [traceparentLen]byte
	sc.encode(&b)
	return append(dst, b[:]...)
}

// encode writes the version 00 traceparent of sc into b.
func (sc SpanContext) encode(b *[traceparentLen]byte) {
	b[0], b[1], b[2] = '0', '0', '-'
	for i, c := range sc.TraceID {
		b[3+2*i], b[4+2*i] = hexDigits[c>>4], hexDigits[c&0x0f]
	}
	b[35] = '-'
	for i, c := range sc.SpanID {
		b[36+2*i], b[37+2*i] = hexDigits[c>>4], hexDigits[c&0x0f]
	}
	b[52] = '-'
	b[53], b[54] = hexDigits[sc.Flags>>4], hexDigits[sc.Flags&0x0f]
}

// ParseTraceparent parses a traceparent header value per W3C Trace Context
// Level 2. The returned SpanContext has an empty State.
//
// Version 00 must be exactly 55 characters. Version ff is invalid. A higher
// version is parsed by its first four fields, which must be followed by "-"
// or the end of the value; what follows is ignored. Hex digits must be
// lowercase; an all-zero trace-id or parent-id is invalid. Unknown flag bits
// are kept. Surrounding whitespace is not accepted here: HTTP header parsing
// removes it (see [Propagator.Extract]).
//
// Any error is a [*ParseError] matching [ErrInvalidTraceparent]; the caller
// must then restart the trace.
func ParseTraceparent(s string) (SpanContext, error) {
	// It does not allocate when s is valid (BenchmarkTraceparent).
	sc, offset, reason := parseTraceparent(s)
	if reason != "" {
		return SpanContext{}, traceparentError(offset, reason)
	}
	return sc, nil
}

// parseTraceparent returns the offset and reason of the first problem in s,
// or an empty reason. It does not allocate when s is valid.
func parseTraceparent(s string) (sc SpanContext, offset int, reason string) {
	if len(s) < traceparentLen {
		return sc, len(s), "too short: want at least 55 characters"
	}
	version, ok := hexByte(s[0], s[1])
	if !ok {
		return sc, 0, "version must be 2 lowercase hex digits"
	}
	if version == 0xff {
		return sc, 0, "version ff is forbidden"
	}
	if s[2] != '-' {
		return sc, 2, "want '-' after version"
	}
	if !decodeHex(sc.TraceID[:], s[3:35]) {
		return sc, 3, "trace-id must be 32 lowercase hex digits"
	}
	if s[35] != '-' {
		return sc, 35, "want '-' after trace-id"
	}
	if !decodeHex(sc.SpanID[:], s[36:52]) {
		return sc, 36, "parent-id must be 16 lowercase hex digits"
	}
	if s[52] != '-' {
		return sc, 52, "want '-' after parent-id"
	}
	flags, ok := hexByte(s[53], s[54])
	if !ok {
		return sc, 53, "trace-flags must be 2 lowercase hex digits"
	}
	if len(s) > traceparentLen {
		if version == 0 {
			return sc, traceparentLen, "version 00 must end after trace-flags"
		}
		if s[traceparentLen] != '-' {
			return sc, traceparentLen, "want '-' or end after trace-flags"
		}
	}
	if !sc.TraceID.IsValid() {
		return sc, 3, "trace-id must not be all zeros"
	}
	if !sc.SpanID.IsValid() {
		return sc, 36, "parent-id must not be all zeros"
	}
	sc.Flags = TraceFlags(flags)
	return sc, 0, ""
}

const hexDigits = "0123456789abcdef"

// unhexTable maps a lowercase hex digit to its value and anything else to 0xff.
var unhexTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range 16 {
		t[hexDigits[i]] = byte(i)
	}
	return t
}()

func hexByte(hi, lo byte) (byte, bool) {
	h, l := unhexTable[hi], unhexTable[lo]
	return h<<4 | l, (h|l)&0xf0 == 0
}

// decodeHex decodes s, of length 2*len(dst), into dst.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	var bad byte
	for i := range dst {
		h, l := unhexTable[s[2*i]], unhexTable[s[2*i+1]]
		bad |= h | l
		dst[i] = h<<4 | l
	}
	return bad&0xf0 == 0
}

func appendHex(dst, src []byte) []byte {
	for _, b := range src {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0x0f])
	}
	return dst
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}
