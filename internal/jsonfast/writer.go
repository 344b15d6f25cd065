package jsonfast

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Writer appends JSON to B, value by value, the bytes json.Marshal
// produces for the same values: the caller says which members there are,
// in the order of their struct's fields, and which are omitted when empty;
// the Writer puts the commas. Lists are written with a loop between
// ArrayOmit or ArrayOrNull and CloseArray (no callbacks: a function value
// passed to a generic helper would escape, one allocation per list). The
// first error sticks in Err. Its zero value writes to a nil buffer; it is
// not safe for concurrent use.
type Writer struct {
	// B is the JSON written so far.
	B []byte
	// Err is the first error, such as a time outside the years 0 to 9999.
	Err error
	// comma is set when the next value or member needs a comma before it.
	comma bool
	// key is the name of the last member begun, for errors.
	key string
}

// Fail records err unless an error is already recorded.
func (w *Writer) Fail(err error) {
	if w.Err == nil {
		w.Err = err
	}
}

// BeginValue appends the comma a value in a list needs, if any: the
// caller then appends the value to B itself and calls EndValue. After a
// Key no comma is needed.
func (w *Writer) BeginValue() {
	if w.comma {
		w.B = append(w.B, ',')
	}
}

// EndValue records that a value was appended.
func (w *Writer) EndValue() { w.comma = true }

// Open appends '{' and starts an object's members.
func (w *Writer) Open() {
	w.BeginValue()
	w.B = append(w.B, '{')
	w.comma = false
}

// Close appends '}' and ends the object.
func (w *Writer) Close() {
	w.B = append(w.B, '}')
	w.comma = true
}

// Key appends "name": after a comma where one is needed; a value
// follows. Names are written as they are: they need no escaping.
func (w *Writer) Key(name string) {
	w.BeginValue()
	w.B = append(w.B, '"')
	w.B = append(w.B, name...)
	w.B = append(w.B, '"', ':')
	w.comma = false
	w.key = name
}

// MapKey is Key for the key of a map's member, escaped as json.Marshal
// escapes it.
func (w *Writer) MapKey(key string) {
	w.BeginValue()
	w.B = append(AppendString(w.B, key, true), ':')
	w.comma = false
}

// Object appends "name":{ ; Close ends it.
func (w *Writer) Object(name string) {
	w.Key(name)
	w.Open()
}

// OpenArray appends '[' and starts a list's values.
func (w *Writer) OpenArray() {
	w.BeginValue()
	w.B = append(w.B, '[')
	w.comma = false
}

// CloseArray appends ']' and ends the list.
func (w *Writer) CloseArray() {
	w.B = append(w.B, ']')
	w.comma = true
}

// ArrayOmit appends "name":[ and reports true when n, the length of the
// list, is not zero; else it appends nothing (omitempty). After true the
// caller appends the n values and calls CloseArray.
func (w *Writer) ArrayOmit(name string, n int) bool {
	if n == 0 {
		return false
	}
	w.Key(name)
	w.OpenArray()
	return true
}

// ArrayOrNull is ArrayOmit for a member without omitempty: it appends
// "name":null and reports false when isNil (a nil slice), else appends
// "name":[ and reports true.
func (w *Writer) ArrayOrNull(name string, isNil bool) bool {
	w.Key(name)
	if isNil {
		w.B = append(w.B, "null"...)
		w.comma = true
		return false
	}
	w.OpenArray()
	return true
}

// String appends a string value (of a list).
func (w *Writer) String(v string) {
	w.BeginValue()
	w.B = AppendString(w.B, v, true)
	w.comma = true
}

// Null appends null.
func (w *Writer) Null() {
	w.BeginValue()
	w.B = append(w.B, "null"...)
	w.comma = true
}

// IntValue appends an integer value.
func (w *Writer) IntValue(v int64) {
	w.BeginValue()
	w.B = strconv.AppendInt(w.B, v, 10)
	w.comma = true
}

// BoolValue appends a boolean value.
func (w *Writer) BoolValue(v bool) {
	w.BeginValue()
	w.B = strconv.AppendBool(w.B, v)
	w.comma = true
}

// TimeValue appends a time value as time.Time.MarshalJSON writes it:
// RFC 3339 with nanoseconds. A year outside 0 to 9999 is an error naming
// the member.
func (w *Writer) TimeValue(t time.Time) {
	w.BeginValue()
	b, err := t.AppendText(append(w.B, '"'))
	if err != nil {
		w.Fail(fmt.Errorf("%s: %w", w.key, err))
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
	}
	w.B = b
	w.comma = true
}

// TextValue appends the text appendText appends, quoted (the text needs
// no escaping), such as a decimal's AppendText method's.
func (w *Writer) TextValue(appendText func([]byte) ([]byte, error)) {
	w.BeginValue()
	b, err := appendText(append(w.B, '"'))
	if err != nil {
		w.Fail(err)
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
	}
	w.B = b
	w.comma = true
}

// Str appends a string member.
func (w *Writer) Str(name, v string) {
	w.Key(name)
	w.String(v)
}

// StrOmit appends a string member unless v is empty (omitempty).
func (w *Writer) StrOmit(name, v string) {
	if v != "" {
		w.Str(name, v)
	}
}

// Int appends an integer member.
func (w *Writer) Int(name string, v int64) {
	w.Key(name)
	w.B = strconv.AppendInt(w.B, v, 10)
	w.comma = true
}

// Bool appends a boolean member.
func (w *Writer) Bool(name string, v bool) {
	w.Key(name)
	w.B = strconv.AppendBool(w.B, v)
	w.comma = true
}

// BoolOmit appends a boolean member unless v is false (omitempty).
func (w *Writer) BoolOmit(name string, v bool) {
	if v {
		w.Bool(name, v)
	}
}

// Time appends a time member unless t is zero (omitzero).
func (w *Writer) Time(name string, t time.Time) {
	if !t.IsZero() {
		w.TimeAlways(name, t)
	}
}

// TimeAlways appends a time member, the zero time too, as
// time.Time.MarshalJSON writes it: RFC 3339 with nanoseconds. A year
// outside 0 to 9999 is an error naming the member.
func (w *Writer) TimeAlways(name string, t time.Time) {
	w.Key(name)
	b, err := t.AppendText(append(w.B, '"'))
	if err != nil {
		w.Fail(fmt.Errorf("%s: %w", name, err))
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
	}
	w.B = b
	w.comma = true
}

// Text appends a member whose value is the text appendText appends, such
// as a decimal's AppendText method, quoted (the text needs no escaping).
func (w *Writer) Text(name string, appendText func([]byte) ([]byte, error)) {
	w.Key(name)
	b, err := appendText(append(w.B, '"'))
	if err != nil {
		w.Fail(err)
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
	}
	w.B = b
	w.comma = true
}

// Strings appends a member of strings unless ss is empty (omitempty).
func (w *Writer) Strings(name string, ss []string) {
	if w.ArrayOmit(name, len(ss)) {
		for _, s := range ss {
			w.String(s)
		}
		w.CloseArray()
	}
}

const hexDigits = "0123456789abcdef"

// asciiSafe and asciiHTMLSafe report, for each ASCII byte, whether
// AppendString writes it as it is, without and with HTML escaping: one
// lookup per byte instead of six comparisons.
var asciiSafe, asciiHTMLSafe = func() (plain, html [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		plain[c] = c >= 0x20 && c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}()

// AppendString appends s as a JSON string, escaping what JSON requires
// and, as encoding/json does, replacing invalid UTF-8 with U+FFFD and
// escaping U+2028 and U+2029. With escapeHTML it also escapes <, > and &,
// which makes the bytes exactly those of json.Marshal; without, it writes
// them as they are (as an Encoder with SetEscapeHTML(false) does).
func AppendString(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	safe := &asciiSafe
	if escapeHTML {
		safe = &asciiHTMLSafe
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
