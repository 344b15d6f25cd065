package idempotency

import (
	"strings"
)

// Header is the name of the request header field that carries a
// client-supplied key, as defined by the IETF draft "The Idempotency-Key
// HTTP Header Field".
const Header = "Idempotency-Key"

// ParseHeader parses the value of an [Header] field and returns the key it
// carries, validated as by [Parse].
//
// The value must be an RFC 8941 structured-field String, such as
// "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"": a quoted string of printable
// ASCII in which only \" and \\ are escapes, with optional parameters
// (";name=value", parsed and ignored) and surrounding spaces. In lenient
// mode a value that does not start with a quote is taken whole, after
// trimming spaces, as a bare key: the Stripe style
// "Idempotency-Key: 8e03978e-40d5". The error matches [ErrInvalidKey] and
// is a [*KeyError] with the byte offset of the problem in value.
func ParseHeader(value string, lenient bool) (Key, error) {
	p := hparser{in: value}
	p.skipSP()
	if p.i < len(p.in) && p.in[p.i] != '"' && lenient {
		trimmed := strings.TrimLeft(value, " ")
		k, err := Parse(strings.TrimRight(trimmed, " "))
		if err != nil {
			ke := err.(*KeyError)
			if ke.Offset >= 0 {
				ke.Offset += len(value) - len(trimmed)
			}
			ke.Input = value
			return Key{}, ke
		}
		return k, nil
	}
	s, ok := p.str()
	if !ok {
		return Key{}, p.err
	}
	for p.i < len(p.in) && p.in[p.i] == ';' {
		p.i++
		p.skipSP()
		if !p.paramKey() {
			return Key{}, p.err
		}
		if p.i < len(p.in) && p.in[p.i] == '=' {
			p.i++
			if !p.bareItem() {
				return Key{}, p.err
			}
		}
	}
	p.skipSP()
	if p.i != len(p.in) {
		p.fail("unexpected byte after the string")
		return Key{}, p.err
	}
	k, err := Parse(s)
	if err != nil {
		return Key{}, &KeyError{Input: value, Offset: -1, Reason: "the string it holds is not a valid key: " + err.(*KeyError).Reason}
	}
	return k, nil
}

// FormatHeader returns k as the value of an [Header] field: an RFC 8941
// String, quoted and with " and \ escaped. [ParseHeader] turns it back into
// k. The zero Key formats as "\"\"", which ParseHeader rejects.
func FormatHeader(k Key) string {
	var b strings.Builder
	b.Grow(len(k.s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(k.s); i++ {
		if c := k.s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(k.s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// hparser is a cursor over a structured-field value (RFC 8941, section 4.2).
type hparser struct {
	in  string
	i   int
	err error
}

func (p *hparser) fail(reason string) bool {
	off := p.i
	if off > len(p.in) {
		off = len(p.in)
	}
	p.err = &KeyError{Input: p.in, Offset: off, Reason: "Idempotency-Key header: " + reason}
	return false
}

func (p *hparser) skipSP() {
	for p.i < len(p.in) && p.in[p.i] == ' ' {
		p.i++
	}
}

// str parses an sf-string (section 4.2.5).
func (p *hparser) str() (string, bool) {
	if p.i >= len(p.in) {
		return "", p.fail("empty value")
	}
	if p.in[p.i] != '"' {
		return "", p.fail(`not a structured-field string: it must be in double quotes (lenient mode accepts a bare key)`)
	}
	p.i++
	start := p.i
	var b []byte // set once an escape is seen; until then s is a substring
	for p.i < len(p.in) {
		c := p.in[p.i]
		switch {
		case c == '\\':
			if b == nil {
				b = append(make([]byte, 0, len(p.in)-start), p.in[start:p.i]...)
			}
			p.i++
			if p.i >= len(p.in) {
				return "", p.fail("backslash at the end of the value")
			}
			if n := p.in[p.i]; n != '"' && n != '\\' {
				return "", p.fail(`backslash may only escape " or \`)
			}
			b = append(b, p.in[p.i])
		case c == '"':
			end := p.i
			p.i++
			if b == nil {
				return p.in[start:end], true
			}
			return string(b), true
		case c < 0x20 || c > 0x7e:
			return "", p.fail("byte is not printable ASCII")
		default:
			if b != nil {
				b = append(b, c)
			}
		}
		p.i++
	}
	return "", p.fail("string is not closed by a double quote")
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || 'A' <= c && c <= 'Z' }

// paramKey parses a parameter key (section 4.2.3.3).
func (p *hparser) paramKey() bool {
	if p.i >= len(p.in) || !(isLCAlpha(p.in[p.i]) || p.in[p.i] == '*') {
		return p.fail("parameter name must start with a lowercase letter or *")
	}
	for p.i < len(p.in) {
		c := p.in[p.i]
		if !(isLCAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return true
}

// isTChar reports whether c is a token character (RFC 9110, section 5.6.2).
func isTChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// bareItem parses and discards a parameter value (section 4.2.3.1).
func (p *hparser) bareItem() bool {
	if p.i >= len(p.in) {
		return p.fail("parameter value missing")
	}
	switch c := p.in[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '-' || isDigit(c):
		return p.number()
	case c == '?':
		if p.i+1 < len(p.in) && (p.in[p.i+1] == '0' || p.in[p.i+1] == '1') {
			p.i += 2
			return true
		}
		p.i++
		return p.fail("boolean must be ?0 or ?1")
	case c == ':':
		p.i++
		for p.i < len(p.in) && p.in[p.i] != ':' {
			if c := p.in[p.i]; !(isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=') {
				return p.fail("byte sequence holds a non-base64 byte")
			}
			p.i++
		}
		if p.i >= len(p.in) {
			return p.fail("byte sequence is not closed by a colon")
		}
		p.i++
		return true
	case isAlpha(c) || c == '*':
		p.i++
		for p.i < len(p.in) && (isTChar(p.in[p.i]) || p.in[p.i] == ':' || p.in[p.i] == '/') {
			p.i++
		}
		return true
	}
	return p.fail("parameter value is not a structured-field bare item")
}

// number parses an sf-integer or sf-decimal (section 4.2.4).
func (p *hparser) number() bool {
	if p.in[p.i] == '-' {
		p.i++
	}
	start, dot := p.i, -1
	for p.i < len(p.in) {
		c := p.in[p.i]
		if c == '.' && dot < 0 {
			if p.i-start > 12 {
				return p.fail("decimal has more than 12 integer digits")
			}
			dot = p.i
		} else if !isDigit(c) {
			break
		}
		p.i++
	}
	switch {
	case p.i == start || p.in[start] == '.':
		return p.fail("number has no digits")
	case dot < 0 && p.i-start > 15:
		return p.fail("integer has more than 15 digits")
	case dot >= 0 && (p.i-dot-1 < 1 || p.i-dot-1 > 3):
		return p.fail("decimal must have 1 to 3 fraction digits")
	}
	return true
}
