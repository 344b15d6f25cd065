// Package odata holds the OData v4 JSON wire format that package d365 and
// its emulator share: decimals as JSON numbers decoded exactly, NoYes
// booleans, collections with @odata.nextLink, the F&O error body with its
// Infolog in innererror.message, key and literal formatting, and the data
// entity shapes used.
package odata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
)

// ErrFormat is matched by the errors of the parsers for input that is not
// the OData v4 JSON form.
var ErrFormat = errors.New("odata: bad format")

// maxExponent bounds the exponent of a JSON number ParseNumber takes: a
// canonical.Decimal has at most 19 digits, so larger ones cannot fit.
const maxExponent = 40

// ParseNumber parses a JSON number (RFC 8259: an optional minus, an
// integer part without leading zeros, an optional fraction, an optional
// exponent) into an exact decimal, never through a float64: 1.5E-3 is
// 0.0015. It fails for anything else, and for values a canonical.Decimal
// cannot hold exactly (more than 19 significant digits or a scale over 19).
func ParseNumber(s string) (canonical.Decimal, error) {
	bad := func(why string) (canonical.Decimal, error) {
		return canonical.Decimal{}, fmt.Errorf("%w: number %q %s", ErrFormat, s, why)
	}
	body, neg := strings.CutPrefix(s, "-")
	mant, exp := body, ""
	if i := strings.IndexAny(body, "eE"); i >= 0 {
		mant, exp = body[:i], body[i+1:]
	}
	intPart, frac, hasPoint := strings.Cut(mant, ".")
	switch {
	case intPart == "" || !allDigits(intPart):
		return bad("has no integer digits")
	case len(intPart) > 1 && intPart[0] == '0':
		return bad("has a leading zero")
	case hasPoint && (frac == "" || !allDigits(frac)):
		return bad("has no digits after the point")
	}
	e := 0
	if i := strings.IndexAny(body, "eE"); i >= 0 {
		digits := strings.TrimLeft(exp, "+-")
		if digits == "" || !allDigits(digits) || len(exp)-len(digits) > 1 {
			return bad("has a malformed exponent")
		}
		digits = strings.TrimLeft(digits, "0")
		if len(digits) > 3 {
			return bad("has an exponent out of range")
		}
		e, _ = strconv.Atoi("0" + digits)
		if e > maxExponent {
			return bad("has an exponent out of range")
		}
		if exp[0] == '-' {
			e = -e
		}
	}
	// digits × 10^(e - len(frac)), written as a plain decimal.
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	scale := len(frac) - e
	var out string
	switch {
	case digits == "0":
		out = "0"
		if scale > 0 {
			out = "0." + strings.Repeat("0", scale)
		}
	case scale <= 0:
		out = digits + strings.Repeat("0", -scale)
	case scale >= len(digits):
		out = "0." + strings.Repeat("0", scale-len(digits)) + digits
	default:
		out = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg && digits != "0" {
		out = "-" + out
	}
	d, err := canonical.ParseDecimal(out)
	if err != nil {
		return bad("does not fit an exact decimal: " + err.Error())
	}
	return d, nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Decimal is an Edm.Decimal as F&O writes it: a JSON number such as
// 64821.858, decoded exactly by ParseNumber. The zero value is zero,
// encoded as 0.
type Decimal struct{ canonical.Decimal }

// Dec returns d as a Decimal.
func Dec(d canonical.Decimal) Decimal { return Decimal{d} }

// MarshalJSON encodes d as a JSON number with its scale ("12.50").
func (d Decimal) MarshalJSON() ([]byte, error) {
	return []byte(d.Decimal.String()), nil
}

// UnmarshalJSON decodes a JSON number with ParseNumber, and null as zero.
// A string is refused: F&O sends numbers, and a quoted value is a sign of
// another format.
func (d *Decimal) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		d.Decimal = canonical.Decimal{}
		return nil
	}
	v, err := ParseNumber(s)
	if err != nil {
		return err
	}
	d.Decimal = v
	return nil
}

// NoYes is the F&O NoYes enumeration, a JSON string "No" or "Yes". The
// zero value is No.
type NoYes bool

// MarshalJSON encodes "Yes" or "No".
func (b NoYes) MarshalJSON() ([]byte, error) {
	if b {
		return []byte(`"Yes"`), nil
	}
	return []byte(`"No"`), nil
}

// UnmarshalJSON decodes "Yes" or "No"; anything else (a JSON boolean
// included) is an error.
func (b *NoYes) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case `"Yes"`:
		*b = true
	case `"No"`, "null":
		*b = false
	default:
		return fmt.Errorf("%w: NoYes value %s is not \"Yes\" or \"No\"", ErrFormat, data)
	}
	return nil
}

// EnumNamespace is the namespace of the F&O enumerations in filters.
const EnumNamespace = "Microsoft.Dynamics.DataEntities."

// Enum returns the type-qualified literal of an enumeration value for a
// $filter, such as Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'.
func Enum(typ, value string) string {
	return EnumNamespace + typ + "'" + strings.ReplaceAll(value, "'", "''") + "'"
}

// ParseEnum is the inverse of Enum: the type and value of a qualified
// literal. ok is false for anything else, a bare 'Backorder' included.
func ParseEnum(lit string) (typ, value string, ok bool) {
	rest, found := strings.CutPrefix(lit, EnumNamespace)
	if !found {
		return "", "", false
	}
	typ, v, found := strings.Cut(rest, "'")
	if !found || typ == "" || !strings.HasSuffix(v, "'") {
		return "", "", false
	}
	return typ, strings.ReplaceAll(v[:len(v)-1], "''", "'"), true
}

// String returns the OData literal of s: quoted, quotes doubled.
func String(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Key returns the key predicate of an entity with a compound key, the
// legal entity first: (dataAreaId='usmf',SalesOrderNumber='000123').
func Key(dataAreaID string, parts ...string) string {
	var b strings.Builder
	b.WriteString("(dataAreaId=" + String(dataAreaID))
	for i := 0; i+1 < len(parts); i += 2 {
		b.WriteString("," + parts[i] + "=" + String(parts[i+1]))
	}
	b.WriteString(")")
	return b.String()
}

// ParseKey parses a key predicate written by Key (without the
// parentheses' entity set) into its properties.
func ParseKey(pred string) (map[string]string, error) {
	body, ok := strings.CutPrefix(pred, "(")
	if ok {
		body, ok = strings.CutSuffix(body, ")")
	}
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not (Prop='value',...)", ErrFormat, pred)
	}
	out := map[string]string{}
	for body != "" {
		name, rest, found := strings.Cut(body, "=")
		if !found || name == "" || len(rest) < 2 || rest[0] != '\'' {
			return nil, fmt.Errorf("%w: key %q is not (Prop='value',...)", ErrFormat, pred)
		}
		var val strings.Builder
		i := 1
		for ; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					val.WriteByte('\'')
					i++
					continue
				}
				break
			}
			val.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return nil, fmt.Errorf("%w: key %q has an unterminated literal", ErrFormat, pred)
		}
		out[name] = val.String()
		body = rest[i+1:]
		if body != "" {
			if body[0] != ',' {
				return nil, fmt.Errorf("%w: key %q is not (Prop='value',...)", ErrFormat, pred)
			}
			body = body[1:]
		}
	}
	return out, nil
}

// Collection is the body of an entity set: {"@odata.context":...,
// "value":[...],"@odata.nextLink":...}.
type Collection[T any] struct {
	Context  string `json:"@odata.context,omitempty"`
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink,omitempty"`
}

// ErrorBody is the F&O error body.
type ErrorBody struct {
	Error ErrorPayload `json:"error"`
}

// ErrorPayload is the "error" object of ErrorBody. F&O leaves Code empty
// and puts the useful text, the Infolog, in InnerError.Message.
type ErrorPayload struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	InnerError *struct {
		Message    string `json:"message"`
		Type       string `json:"type,omitempty"`
		StackTrace string `json:"stacktrace,omitempty"`
	} `json:"innererror,omitempty"`
}

// Infolog returns innererror.message, or "" without one.
func (p ErrorPayload) Infolog() string {
	if p.InnerError == nil {
		return ""
	}
	return p.InnerError.Message
}

// Entity returns the entity an Infolog names ("... table row of type
// 'SalesOrderHeaderV2Entity'. ..."), or "".
func (p ErrorPayload) Entity() string {
	_, rest, ok := strings.Cut(p.Infolog(), "of type '")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, "'")
	if !ok {
		return ""
	}
	return name
}

// WriteExceptionType is the innererror.type of a failed write.
const WriteExceptionType = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"

// NewError returns an error body as F&O writes it: an empty code, a
// generic message, and the text in innererror.
func NewError(message, infolog, typ string) ErrorBody {
	var b ErrorBody
	b.Error.Message = message
	if infolog != "" || typ != "" {
		b.Error.InnerError = &struct {
			Message    string `json:"message"`
			Type       string `json:"type,omitempty"`
			StackTrace string `json:"stacktrace,omitempty"`
		}{Message: infolog, Type: typ, StackTrace: "   at Microsoft.Dynamics.Platform.Integration.Services.OData (emulated)"}
	}
	return b
}

// WriteFailed returns the body of a write the entity refused, as F&O
// writes it: "Write failed for table row of type 'ENTITY'. Infolog: Error:
// TEXT".
func WriteFailed(entity, text string) ErrorBody {
	return NewError("An error has occurred.", "Write failed for table row of type '"+entity+"'. Infolog: Error: "+text, WriteExceptionType)
}

// DecodeError decodes an F&O error body strictly: a JSON object with an
// "error" object holding a message or an Infolog.
func DecodeError(data []byte) (ErrorPayload, error) {
	var b ErrorBody
	if err := json.Unmarshal(data, &b); err != nil {
		return ErrorPayload{}, fmt.Errorf("%w: error body: %v", ErrFormat, err)
	}
	if b.Error.Code == "" && b.Error.Message == "" && b.Error.Infolog() == "" {
		return ErrorPayload{}, fmt.Errorf("%w: error body has no code, message or Infolog", ErrFormat)
	}
	return b.Error, nil
}

// Unmarshal decodes an entity or collection body into v with
// json.Decoder.UseNumber, so that a number reaching an untyped field stays
// a json.Number and never becomes a float64; typed decimals use Decimal.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return nil
}

// Marshal encodes an entity body.
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }
