package jsonfast

import (
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Reader reads JSON in the form distsync's encoders write it: objects
// whose members are read in a loop of Open and Next, arrays in a loop of
// OpenArray and NextElem, strings without escapes, integers without
// fraction or exponent. Every method reports false on anything outside
// that form, valid JSON or not; the caller then gives the whole input to
// encoding/json, which decides the result or the error. A Reader never
// reads past its input and never panics.
//
// The strings a Reader returns share one copy of the input, made on the
// first non-empty one: one allocation per document instead of one per
// string.
//
// The zero Reader reads an empty input; use [NewReader]. A Reader is not
// safe for concurrent use.
type Reader struct {
	b []byte
	i int
	// arena holds the bytes of the strings Str read, copied from b: each
	// string is appended and never changed after, and a full arena is
	// replaced by a new one, never written over.
	arena []byte
	// key is the key of the member Next read, without its quotes.
	key []byte
	// first is set between Open (or OpenArray) and the first Next (or
	// NextElem) of the object or array just opened.
	first bool
	// bad is set when Next or NextElem found something outside the form.
	bad bool
}

// NewReader returns a Reader of b.
func NewReader(b []byte) Reader { return Reader{b: b} }

func (r *Reader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next consumes c after white space.
func (r *Reader) next(c byte) bool {
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// End reports whether only white space is left.
func (r *Reader) End() bool {
	r.ws()
	return r.i == len(r.b)
}

// Null reports whether the next value starts like null, without consuming
// it: encoding/json gives null its own meaning (a nil slice or pointer, a
// member left as it is), so the generated readers leave it to encoding/json.
func (r *Reader) Null() bool {
	r.ws()
	return r.i < len(r.b) && r.b[r.i] == 'n'
}

// Ok reports whether the object or array loop just ended at its closing
// bracket rather than on something outside the form.
func (r *Reader) Ok() bool { return !r.bad }

// Open consumes the '{' of an object.
func (r *Reader) Open() bool {
	if !r.next('{') {
		return false
	}
	r.first = true
	return true
}

// Next reads the key and colon of the object's next member, then [Reader.Key]
// returns the key. It returns false at the closing '}', which it consumes,
// and on anything else, after which Ok reports false.
func (r *Reader) Next() bool {
	if r.first {
		r.first = false
		if r.next('}') {
			return false
		}
	} else {
		if r.next('}') {
			return false
		}
		if !r.next(',') {
			r.bad = true
			return false
		}
	}
	key, ok := r.Raw()
	if !ok || !r.next(':') {
		r.bad = true
		return false
	}
	r.key = key[1 : len(key)-1]
	return true
}

// Key returns the key Next read, without quotes. Keys are compared
// exactly: a key that differs in case from a field's name is unknown here
// (encoding/json would match it), and the caller gives up.
func (r *Reader) Key() []byte { return r.key }

// OpenArray consumes the '[' of an array.
func (r *Reader) OpenArray() bool {
	if !r.next('[') {
		return false
	}
	r.first = true
	return true
}

// Len returns the number of elements of the array OpenArray just opened,
// without consuming anything, so that its reader allocates the list once
// at its size. It counts the commas outside strings and nested values up
// to the closing bracket; on input outside the form (which the reading
// then refuses) the count is only bounded by the input's length.
func (r *Reader) Len() int {
	n, depth, empty := 0, 0, true
	for i := r.i; i < len(r.b); i++ {
		switch c := r.b[i]; c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			for i++; i < len(r.b) && r.b[i] != '"'; i++ {
				if r.b[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				if empty {
					return 0
				}
				return n + 1
			}
			depth--
		case ',':
			if depth == 0 {
				n++
			}
		}
		empty = false
	}
	return n + 1
}

// NextElem reports whether the array has another element, consuming the
// comma before it. It returns false at the closing ']', which it consumes,
// and on anything else, after which Ok reports false.
func (r *Reader) NextElem() bool {
	if r.first {
		r.first = false
		return !r.next(']')
	}
	if r.next(']') {
		return false
	}
	if !r.next(',') {
		r.bad = true
		return false
	}
	return true
}

// Raw reads a string token and returns it with its quotes, when it has no
// escapes, control characters or invalid UTF-8 (which encoding/json would
// rewrite).
func (r *Reader) Raw() ([]byte, bool) {
	if !r.next('"') {
		return nil, false
	}
	start := r.i - 1
	ascii := true
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			tok := r.b[start:r.i]
			if !ascii && !utf8.Valid(tok) {
				return nil, false
			}
			return tok, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		r.i++
	}
	return nil, false
}

// Str reads a string. The result shares memory with the other strings the
// Reader read (not with its input): their bytes are copied into an arena
// made for a third of the input left, about what the strings of a
// canonical document take of it, so that a document's strings cost an
// allocation or two and keep no more than their own bytes alive.
func (r *Reader) Str() (string, bool) {
	tok, ok := r.Raw()
	if !ok {
		return "", false
	}
	v := tok[1 : len(tok)-1]
	if len(v) == 0 {
		return "", true
	}
	if cap(r.arena)-len(r.arena) < len(v) {
		r.arena = make([]byte, 0, len(v)+(len(r.b)-r.i)/3)
	}
	start := len(r.arena)
	r.arena = append(r.arena, v...)
	// The arena's bytes from start on are never written again.
	return unsafe.String(&r.arena[start], len(v)), true
}

// Bool reads true or false.
func (r *Reader) Bool(v *bool) bool {
	r.ws()
	switch {
	case len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "true":
		*v = true
		r.i += 4
		return true
	case len(r.b)-r.i >= 5 && string(r.b[r.i:r.i+5]) == "false":
		*v = false
		r.i += 5
		return true
	}
	return false
}

// Int reads an integer literal (no fraction or exponent) that fits in
// bits bits.
func (r *Reader) Int(bits int) (int64, bool) {
	r.ws()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	if r.i == digits || (r.b[digits] == '0' && r.i > digits+1) ||
		(r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E')) {
		return 0, false // no digits, a leading zero, or not an integer
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, bits)
	return n, err == nil
}

// Time reads a string as time.Time's UnmarshalJSON does.
func (r *Reader) Time(t *time.Time) bool {
	tok, ok := r.Raw()
	return ok && t.UnmarshalJSON(tok) == nil
}

// ReadString reads a string into *v.
func ReadString[T ~string](r *Reader, v *T) bool {
	x, ok := r.Str()
	*v = T(x)
	return ok
}

// ReadInt reads an integer that fits in T into *v.
func ReadInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](r *Reader, v *T) bool {
	n, ok := r.Int(int(unsafe.Sizeof(*v)) * 8)
	*v = T(n)
	return ok
}

// Once marks bit in seen and reports whether it was not set yet: a member
// given twice is left to encoding/json, which keeps the last one.
func Once(seen *uint64, bit uint64) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}
