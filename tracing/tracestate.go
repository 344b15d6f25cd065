package tracing

import (
	"strconv"
	"strings"
)

// MaxTraceStateMembers is the most list-members a tracestate may hold.
const MaxTraceStateMembers = 32

// Member is one key=value list-member of a [TraceState]. It is a plain
// value, safe for concurrent use. The zero value is not a valid member.
type Member struct {
	// Key names the vendor: 1 to 256 characters, a lowercase letter or a
	// digit first, then lowercase letters, digits and "_-*/@", such as
	// "rojo" or the multi-tenant "tenant@system".
	Key string
	// Value is opaque vendor data: 1 to 256 printable ASCII characters
	// other than ',' and '=', not ending with a space.
	Value string
}

// TraceState is the vendor-specific part of a trace context: an ordered list
// of at most 32 key=value members, most recently updated first. The zero
// value is an empty TraceState. It is immutable (methods return modified
// copies) and safe for concurrent use.
type TraceState struct {
	members []Member
}

// ParseTraceState parses tracestate header lines per W3C Trace Context
// Level 2. Several lines are combined as if joined by commas, in order.
// Empty and whitespace-only members are allowed and dropped; whitespace
// (space or tab) around members is ignored.
//
// A key that appears more than once is kept once: the first (left-most)
// member with that key stays in its place and the later ones are dropped.
// The left-most is the one most recently updated, since a vendor moves the
// member it modifies to the front. The specification lets a receiver drop
// such duplicates; the rest of the list is kept.
//
// A line that breaks the rules (a bad key or value, a member without '=',
// more than 32 key=value members in all, duplicates counted) makes the
// whole value invalid: the error is a [*ParseError] matching
// [ErrInvalidTracestate], and the receiver should then propagate no
// tracestate at all.
func ParseTraceState(lines ...string) (TraceState, error) {
	var ts TraceState
	n := 0 // key=value members read, duplicates included
	for line, s := range lines {
		start := 0
		for start <= len(s) {
			end := strings.IndexByte(s[start:], ',')
			if end < 0 {
				end = len(s)
			} else {
				end += start
			}
			piece, off := trimOWS(s[start:end], start)
			start = end + 1
			if piece == "" {
				continue
			}
			eq := strings.IndexByte(piece, '=')
			if eq < 0 {
				return TraceState{}, tracestateError(line, off, "list-member must be key=value")
			}
			key, value := piece[:eq], piece[eq+1:]
			if at, reason := checkKey(key); reason != "" {
				return TraceState{}, tracestateError(line, off+at, reason)
			}
			if at, reason := checkValue(value); reason != "" {
				return TraceState{}, tracestateError(line, off+eq+1+at, reason)
			}
			if n == MaxTraceStateMembers {
				return TraceState{}, tracestateError(line, off, "more than 32 list-members")
			}
			n++
			if _, dup := ts.Get(key); dup {
				continue
			}
			if ts.members == nil {
				ts.members = make([]Member, 0, estimateMembers(lines))
			}
			ts.members = append(ts.members, Member{Key: key, Value: value})
		}
	}
	return ts, nil
}

// estimateMembers returns an upper bound of the members in lines, at most
// MaxTraceStateMembers, to size the slice once.
func estimateMembers(lines []string) int {
	n := 0
	for _, s := range lines {
		n += strings.Count(s, ",") + 1
	}
	return min(n, MaxTraceStateMembers)
}

func tracestateError(line, offset int, reason string) error {
	return &ParseError{Header: headerTracestate, Line: line, Offset: offset, Reason: reason}
}

// trimOWS removes spaces and tabs around s, which starts at offset off, and
// returns the trimmed string with its new offset.
func trimOWS(s string, off int) (string, int) {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
		off++
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s, off
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
func isKeyChar(c byte) bool {
	return isLCAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@'
}

// maxKeyLen is the longest tracestate key.
const maxKeyLen = 256

// checkKey validates a tracestate key per Trace Context Level 2 and returns
// the offset and reason of the first problem, or an empty reason.
//
//	key     = ( lcalpha / DIGIT ) 0*255( keychar )
//	keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
//
// A multi-tenant key ("tenant@system") is a key like any other: '@' may
// appear anywhere but first, any number of times.
func checkKey(key string) (int, string) {
	if key == "" {
		return 0, "empty key"
	}
	if len(key) > maxKeyLen {
		return maxKeyLen, "key longer than 256 characters"
	}
	if !isLCAlpha(key[0]) && !isDigit(key[0]) {
		return 0, "key must start with a lowercase letter or a digit"
	}
	for i := 1; i < len(key); i++ {
		if !isKeyChar(key[i]) {
			return i, "illegal character " + strconv.QuoteRune(rune(key[i])) + " in key"
		}
	}
	return 0, ""
}

// checkValue validates a tracestate value and returns the offset and reason
// of the first problem, or an empty reason.
//
//	value    = 0*255(chr) nblk-chr
//	nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
//	chr      = %x20 / nblk-chr
func checkValue(v string) (int, string) {
	if v == "" {
		return 0, "empty value"
	}
	if len(v) > 256 {
		return 256, "value longer than 256 characters"
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return i, "illegal character " + strconv.QuoteRune(rune(c)) + " in value"
		}
	}
	if v[len(v)-1] == ' ' {
		return len(v) - 1, "value ends with a space"
	}
	return 0, ""
}

// String formats ts as one tracestate header value: members joined by ","
// without whitespace. It returns "" for an empty TraceState.
func (ts TraceState) String() string {
	n := 0
	for _, m := range ts.members {
		n += len(m.Key) + len(m.Value) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for i, m := range ts.members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.Key)
		b.WriteByte('=')
		b.WriteString(m.Value)
	}
	return b.String()
}

// Len returns the number of members.
func (ts TraceState) Len() int { return len(ts.members) }

// Get returns the value of key and whether it is present.
func (ts TraceState) Get(key string) (string, bool) {
	for _, m := range ts.members {
		if m.Key == key {
			return m.Value, true
		}
	}
	return "", false
}

// Members returns a copy of the members, in order.
func (ts TraceState) Members() []Member {
	return append([]Member(nil), ts.members...)
}

// Insert returns ts with key set to value, moved to the front as the
// specification requires for a vendor updating its entry. When that makes
// more than 32 members, the right-most member is dropped. It returns an
// error matching [ErrInvalidTracestate] when key or value is invalid.
func (ts TraceState) Insert(key, value string) (TraceState, error) {
	if at, reason := checkKey(key); reason != "" {
		return ts, tracestateError(0, at, reason)
	}
	if at, reason := checkValue(value); reason != "" {
		return ts, tracestateError(0, len(key)+1+at, reason)
	}
	out := make([]Member, 0, min(len(ts.members)+1, MaxTraceStateMembers))
	out = append(out, Member{Key: key, Value: value})
	for _, m := range ts.members {
		if m.Key != key && len(out) < MaxTraceStateMembers {
			out = append(out, m)
		}
	}
	return TraceState{members: out}, nil
}

// Delete returns ts without key.
func (ts TraceState) Delete(key string) TraceState {
	if _, ok := ts.Get(key); !ok {
		return ts
	}
	out := make([]Member, 0, len(ts.members)-1)
	for _, m := range ts.members {
		if m.Key != key {
			out = append(out, m)
		}
	}
	return TraceState{members: out}
}
