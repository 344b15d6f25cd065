// Package odata holds the OData v2 JSON wire format that package sap and its
// emulator share: /Date(ms)/ dates, decimals as strings, the {"d":...}
// envelopes, the SAP Gateway error body, and the entity shapes of the
// S/4HANA APIs used.
package odata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
)

// ErrFormat is matched by the errors of the parsers for input that is not
// the OData v2 JSON form.
var ErrFormat = errors.New("odata: bad format")

// maxMillis bounds a /Date(ms)/ value: ECMAScript's time range, ±10^8 days.
const maxMillis = 8_640_000_000_000_000

// ParseDate parses an Edm.DateTime or Edm.DateTimeOffset in OData v2 JSON
// form: "/Date(ms)/" or "/Date(ms+mmmm)/" or "/Date(ms-mmmm)/", where ms
// is milliseconds since the Unix epoch (UTC) and mmmm an offset in minutes,
// which sets the returned time's zone. Nothing else is accepted.
func ParseDate(s string) (time.Time, error) {
	body, ok := strings.CutPrefix(s, "/Date(")
	if ok {
		body, ok = strings.CutSuffix(body, ")/")
	}
	if !ok || body == "" {
		return time.Time{}, fmt.Errorf("%w: date %q is not /Date(ms)/", ErrFormat, s)
	}
	num, off := body, ""
	if i := strings.LastIndexAny(body, "+-"); i > 0 {
		num, off = body[:i], body[i:]
	}
	digits := strings.TrimPrefix(num, "-")
	if digits == "" || len(digits) > 16 || !allDigits(digits) {
		return time.Time{}, fmt.Errorf("%w: date %q: milliseconds %q are not an integer", ErrFormat, s, num)
	}
	ms, err := strconv.ParseInt(num, 10, 64)
	if err != nil || ms > maxMillis || ms < -maxMillis {
		return time.Time{}, fmt.Errorf("%w: date %q is out of range", ErrFormat, s)
	}
	t := time.UnixMilli(ms).UTC()
	if off != "" {
		if len(off) != 5 || !allDigits(off[1:]) {
			return time.Time{}, fmt.Errorf("%w: date %q: offset %q is not ±mmmm minutes", ErrFormat, s, off)
		}
		mins, _ := strconv.Atoi(off[1:])
		if mins > 24*60 {
			return time.Time{}, fmt.Errorf("%w: date %q: offset %q exceeds a day", ErrFormat, s, off)
		}
		if off[0] == '-' {
			mins = -mins
		}
		t = t.In(time.FixedZone("", mins*60))
	}
	return t, nil
}

// FormatDate formats t as "/Date(ms)/" (UTC milliseconds), the inverse of
// ParseDate for times with a UTC zone and millisecond precision.
func FormatDate(t time.Time) string {
	return "/Date(" + strconv.FormatInt(t.UnixMilli(), 10) + ")/"
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Date is a date in OData v2 JSON form. The zero value is no date, encoded
// as null.
type Date struct{ time.Time }

// MarshalJSON encodes d as "/Date(ms)/", or null for the zero time.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	// FormatDate writes only ASCII that JSON needs no escape for.
	return quote(FormatDate(d.Time)), nil
}

// quote returns s, which holds nothing JSON escapes, as a JSON string.
func quote(s string) []byte {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UnmarshalJSON decodes a JSON string with ParseDate, or null as the zero
// time.
func (d *Date) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		d.Time = time.Time{}
		return nil
	}
	s, ok := plainString(data)
	if !ok {
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("%w: date %s is not a JSON string", ErrFormat, data)
		}
	}
	t, err := ParseDate(s)
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

// plainString returns the text of the JSON string data when it is
// printable ASCII whose only escapes are \/ (as OData v2 writes
// "\/Date(...)\/"), without the reflection of encoding/json; false sends
// the caller to json.Unmarshal.
func plainString(data []byte) (string, bool) {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return "", false
	}
	in := data[1 : len(data)-1]
	var buf [64]byte
	out := buf[:0]
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '\\' && i+1 < len(in) && in[i+1] == '/':
			i++
			c = '/'
		case c < 0x20 || c >= 0x7f || c == '"' || c == '\\':
			return "", false
		}
		out = append(out, c)
	}
	return string(out), true
}

// ParseDecimal parses an Edm.Decimal as OData v2 JSON writes it inside a
// string: an optional minus, digits, and an optional point with digits.
// No exponent, no plus, no blanks; the value is exact (never a float).
func ParseDecimal(s string) (canonical.Decimal, error) {
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasPoint := strings.Cut(body, ".")
	if intPart == "" || !allDigits(intPart) || (hasPoint && (frac == "" || !allDigits(frac))) {
		return canonical.Decimal{}, fmt.Errorf("%w: decimal %q is not [-]digits[.digits]", ErrFormat, s)
	}
	d, err := canonical.ParseDecimal(s)
	if err != nil {
		return canonical.Decimal{}, fmt.Errorf("%w: decimal %q: %v", ErrFormat, s, err)
	}
	return d, nil
}

// Decimal is an Edm.Decimal in OData v2 JSON form: a string such as
// "33609.14". The zero value is zero, encoded as "0".
type Decimal struct{ canonical.Decimal }

// Dec returns d as a Decimal.
func Dec(d canonical.Decimal) Decimal { return Decimal{d} }

// MarshalJSON encodes d as a JSON string.
func (d Decimal) MarshalJSON() ([]byte, error) {
	// A decimal's text is a sign, digits and a point.
	return quote(d.Decimal.String()), nil
}

// UnmarshalJSON decodes a JSON string with ParseDecimal, and null (a
// nullable property without a value) as zero; a JSON number is refused, so
// a decimal never passes through a float64.
func (d *Decimal) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		d.Decimal = canonical.Decimal{}
		return nil
	}
	if len(data) == 0 || data[0] != '"' {
		return fmt.Errorf("%w: decimal %s is not a JSON string", ErrFormat, data)
	}
	s, ok := plainString(data)
	if !ok {
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("%w: decimal %s: %v", ErrFormat, data, err)
		}
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	d.Decimal = v
	return nil
}

// Entity is the envelope of a single entity: {"d":{...}}.
type Entity[T any] struct {
	D T `json:"d"`
}

// Collection is the envelope of an entity set: {"d":{"results":[...],
// "__next":"..."}}.
type Collection[T any] struct {
	D struct {
		Results []T    `json:"results"`
		Next    string `json:"__next,omitempty"`
	} `json:"d"`
}

// List is an expanded to-many navigation, {"results":[...]}; an
// unexpanded one ({"__deferred":...}) decodes as empty.
type List[T any] struct {
	Results []T `json:"results"`
}

// Metadata is an entity's __metadata.
type Metadata struct {
	ID   string `json:"id,omitempty"`
	URI  string `json:"uri,omitempty"`
	Type string `json:"type,omitempty"`
	ETag string `json:"etag,omitempty"`
}

// ErrorBody is the SAP Gateway error body.
type ErrorBody struct {
	Error ErrorPayload `json:"error"`
}

// ErrorPayload is the "error" object of ErrorBody.
type ErrorPayload struct {
	Code    string `json:"code"`
	Message struct {
		Lang  string `json:"lang,omitempty"`
		Value string `json:"value"`
	} `json:"message"`
	InnerError struct {
		TransactionID string        `json:"transactionid,omitempty"`
		ErrorDetails  []ErrorDetail `json:"errordetails,omitempty"`
	} `json:"innererror"`
}

// ErrorDetail is one entry of innererror.errordetails.
type ErrorDetail struct {
	Code        string `json:"code"`
	Message     string `json:"message"`
	PropertyRef string `json:"propertyref,omitempty"`
	Severity    string `json:"severity,omitempty"`
	Target      string `json:"target,omitempty"`
}

// NewError returns an error body with the code and message, and details.
func NewError(code, message string, details ...ErrorDetail) ErrorBody {
	var b ErrorBody
	b.Error.Code = code
	b.Error.Message.Lang = "en"
	b.Error.Message.Value = message
	b.Error.InnerError.ErrorDetails = details
	return b
}

// DecodeError decodes an SAP Gateway error body strictly: it must be a JSON
// object with an "error" object holding a code or a message.
func DecodeError(data []byte) (ErrorPayload, error) {
	var b ErrorBody
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&b); err != nil {
		return ErrorPayload{}, fmt.Errorf("%w: error body: %v", ErrFormat, err)
	}
	if b.Error.Code == "" && b.Error.Message.Value == "" {
		return ErrorPayload{}, fmt.Errorf("%w: error body has no error code or message", ErrFormat)
	}
	return b.Error, nil
}
