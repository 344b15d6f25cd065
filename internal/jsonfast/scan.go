package jsonfast

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Scanner walks JSON text that [Valid] has accepted, member by member, for
// decoders that look at each member's raw value (the CloudEvents envelope).
// It checks bounds anyway, so that a bug cannot turn into a panic. Its zero
// value scans an empty input; it is not safe for concurrent use.
type Scanner struct {
	// B is the text scanned.
	B []byte
	// I is the position of the next byte.
	I int
}

// Peek returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// SkipSpace moves past white space.
func (s *Scanner) SkipSpace() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Value returns the JSON value starting at the current position and moves
// past it.
func (s *Scanner) Value() []byte {
	start := s.I
	switch s.Peek() {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for s.I < len(s.B) {
			switch s.B[s.I] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.I++
			if depth == 0 {
				break
			}
		}
	default:
		for s.I < len(s.B) && strings.IndexByte(",}] \t\n\r", s.B[s.I]) < 0 {
			s.I++
		}
	}
	return s.B[start:s.I]
}

// skipString moves past the string starting at the current '"'.
func (s *Scanner) skipString() {
	for s.I++; s.I < len(s.B); s.I++ {
		switch s.B[s.I] {
		case '\\':
			s.I++
		case '"':
			s.I++
			return
		}
	}
}

// StringProblem says why [Unquote] refused a string literal.
type StringProblem int

// The problems [Unquote] reports.
const (
	// StringOK is no problem.
	StringOK StringProblem = iota
	// StringBadEscape is a malformed escape (not after Valid).
	StringBadEscape
	// StringLowSurrogate is an escape of a UTF-16 low surrogate without a
	// high one before it.
	StringLowSurrogate
	// StringHighSurrogate is an escape of a UTF-16 high surrogate without
	// a low one after it.
	StringHighSurrogate
	// StringBadUTF8 is a byte that is not valid UTF-8.
	StringBadUTF8
)

// Unquote decodes a JSON string literal that Valid accepted, without
// allocating beyond the result when it holds no escapes. Unlike
// encoding/json, which puts U+FFFD in their place, it refuses invalid
// UTF-8 and escapes of unpaired UTF-16 surrogates: it then returns the
// problem, with the surrogate's code (for the surrogate problems) or the
// length of the string decoded before the bad byte (for StringBadUTF8).
func Unquote(raw []byte) (s string, problem StringProblem, detail int) {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), StringOK, 0
	}
	out := make([]byte, 0, len(inner))
	for i := 0; i < len(inner); {
		c := inner[i]
		switch {
		case c == '\\':
			if i+1 >= len(inner) {
				return "", StringBadEscape, 0 // unreachable after Valid
			}
			esc := inner[i+1]
			if esc != 'u' {
				out = append(out, unescape(esc))
				i += 2
				continue
			}
			r, ok := hex4(inner[i+2:])
			if !ok {
				return "", StringBadEscape, 0 // unreachable after Valid
			}
			n := 6
			switch {
			case 0xdc00 <= r && r <= 0xdfff:
				return "", StringLowSurrogate, int(r)
			case 0xd800 <= r && r <= 0xdbff:
				lo, ok := rune(0), false
				if i+12 <= len(inner) && inner[i+6] == '\\' && inner[i+7] == 'u' {
					lo, ok = hex4(inner[i+8:])
				}
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return "", StringHighSurrogate, int(r)
				}
				r = utf16.DecodeRune(r, lo)
				n = 12
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(inner[i:])
			if r == utf8.RuneError && size == 1 {
				return "", StringBadUTF8, len(out)
			}
			out = append(out, inner[i:i+size]...)
			i += size
		}
	}
	return string(out), StringOK, 0
}

// unescape returns the byte a JSON two-character escape \c stands for.
func unescape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // '"', '\\' and '/'
}

// hex4 decodes the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Compact returns a compacted copy of the valid JSON value raw, as
// json.Compact writes it.
func Compact(raw []byte) []byte {
	inString := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			var buf bytes.Buffer
			buf.Grow(len(raw))
			if err := json.Compact(&buf, raw); err != nil {
				return bytes.Clone(raw) // unreachable: raw is valid JSON
			}
			return buf.Bytes()
		}
	}
	return bytes.Clone(raw)
}

// Kind names the JSON type of a raw value: object, array, string,
// boolean, null or number.
func Kind(raw []byte) string {
	if len(raw) == 0 {
		return "value"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
