package canonical

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distsync/distsync/internal/jsonfast"
)

// MarshalJSON encodes the event in the CloudEvents JSON structured format
// (media type application/cloudevents+json). It first validates the event
// and returns the [*ValidationError] instead of writing an invalid event.
//
// Attributes are written in a fixed order: specversion, id, source, type,
// subject, time, datacontenttype, dataschema, correlationid, causationid,
// traceparent, subjectseq, partitionkey, the other extensions (the standard
// sequence among them) sorted by name,
// then data or data_base64. Time keeps its offset and nanoseconds;
// Sequence is 20 zero-padded digits; Data is written compacted.
func (e Event) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(256 + len(e.Data) + base64.StdEncoding.EncodedLen(len(e.BinaryData)))
	eventWriteMember(&buf, "specversion", e.SpecVersion, true)
	eventWriteMember(&buf, "id", e.ID, false)
	eventWriteMember(&buf, "source", e.Source, false)
	eventWriteMember(&buf, "type", string(e.Type), false)
	eventWriteMember(&buf, "subject", e.Subject, false)
	if !e.Time.IsZero() {
		buf.WriteString(`,"time":"`)
		buf.Write(e.Time.AppendFormat(buf.AvailableBuffer(), time.RFC3339Nano))
		buf.WriteByte('"')
	}
	eventWriteMember(&buf, "datacontenttype", e.DataContentType, false)
	eventWriteMember(&buf, "dataschema", e.DataSchema, false)
	eventWriteMember(&buf, "correlationid", e.CorrelationID, false)
	eventWriteMember(&buf, "causationid", e.CausationID, false)
	eventWriteMember(&buf, "traceparent", e.TraceParent, false)
	if e.Sequence != 0 {
		buf.WriteString(`,"` + SubjectSequenceExtension + `":"`)
		buf.Write(eventAppendSequence(buf.AvailableBuffer(), e.Sequence))
		buf.WriteByte('"')
	}
	eventWriteMember(&buf, "partitionkey", e.PartitionKey, false)
	if len(e.Extensions) > 0 {
		for _, name := range slices.Sorted(maps.Keys(e.Extensions)) {
			buf.WriteString(`,"`)
			buf.WriteString(name) // validated: [a-z0-9]+, no escaping needed
			buf.WriteString(`":`)
			b := buf.AvailableBuffer()
			switch x := e.Extensions[name].(type) {
			case string:
				b = jsonfast.AppendString(b, x, false)
			case bool:
				b = strconv.AppendBool(b, x)
			case int32:
				b = strconv.AppendInt(b, int64(x), 10)
			case int:
				b = strconv.AppendInt(b, int64(x), 10)
			case int64:
				b = strconv.AppendInt(b, x, 10)
			}
			buf.Write(b)
		}
	}
	switch {
	case len(e.Data) > 0:
		buf.WriteString(`,"data":`)
		if err := json.Compact(&buf, e.Data); err != nil {
			// Unreachable: Validate checked validJSON (json.Valid).
			return nil, fmt.Errorf("canonical: encode event data: %w", err)
		}
	case e.BinaryData != nil:
		buf.WriteString(`,"data_base64":"`)
		buf.Write(base64.StdEncoding.AppendEncode(buf.AvailableBuffer(), e.BinaryData))
		buf.WriteByte('"')
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// eventWriteMember writes `,"name":"value"` (or `{"name":"value"` for the
// first member), or nothing when value is empty.
func eventWriteMember(buf *bytes.Buffer, name, value string, first bool) {
	if value == "" && !first {
		return
	}
	if first {
		buf.WriteString(`{"`)
	} else {
		buf.WriteString(`,"`)
	}
	buf.WriteString(name)
	buf.WriteString(`":`)
	buf.Write(jsonfast.AppendString(buf.AvailableBuffer(), value, false))
}

// eventAppendSequence appends n as exactly 20 decimal digits.
func eventAppendSequence(b []byte, n uint64) []byte {
	var digits [20]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, digits[:]...)
}

// eventParseSequence parses exactly 20 decimal digits into a sequence
// number greater than zero.
func eventParseSequence(s string) (uint64, string) {
	const form = `must be exactly 20 decimal digits, zero-padded (such as "00000000000000000042")`
	if len(s) != 20 {
		return 0, form
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, form
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, "must not exceed 18446744073709551615"
	}
	if n == 0 {
		return 0, "must be greater than zero (omit it for an unsequenced event)"
	}
	return n, ""
}

// UnmarshalJSON decodes an event in the CloudEvents JSON structured format
// and validates it as [Event.Validate] does, more strictly than the
// CloudEvents reference SDKs:
//
//   - The input is one JSON object whose member names are exact (case
//     matters) and appear once.
//   - Context attributes and distsync's extensions are JSON strings; when
//     present they are non-empty. A null attribute is absent.
//   - Every string, member names included, is valid UTF-8, and its \u
//     escapes of UTF-16 surrogates come in pairs: invalid UTF-8 or an
//     unpaired surrogate escape such as "\uDEAD" is refused under the
//     attribute's name, never replaced by U+FFFD as encoding/json does.
//   - time is strictly an RFC 3339 date-time (section 5.6): two-digit
//     hours, an offset under 24 hours with minutes 00–59, a "T" and "Z"
//     that may be lower case; a leap second (23:59:60 UTC) is refused,
//     since a time.Time cannot hold it. Fraction digits below a
//     nanosecond are dropped.
//   - subjectseq ([Event.Sequence]) is exactly 20 decimal digits, greater
//     than zero.
//   - sequence is the standard CloudEvents extension: it is kept in
//     Extensions, whatever its value. Events written before subjectseq was
//     introduced carried Sequence as "sequence", in the same 20-digit form;
//     so that they still read, an event without subjectseq whose sequence
//     is a string of exactly 20 decimal digits, greater than zero, and that
//     has a subject, also gets that number as its Sequence (the value stays
//     in Extensions too, so nothing on the wire is lost and the event
//     encodes with both subjectseq and sequence). Any other sequence, or
//     one beside a subjectseq, is only an extension.
//   - data_base64 is a JSON string of padded standard Base64 (RFC 4648)
//     without line breaks; data and data_base64 are never both present.
//     "data": null is an explicit null payload, kept as Data "null".
//   - Other members are extensions: names of lowercase a–z and 0–9, values
//     a JSON string, boolean or integer in the int32 range; null is absent.
//
// On error, e is unchanged and the error is a [*ValidationError] (matching
// [ErrInvalid]) naming every offending attribute. Malformed JSON is
// reported under the attribute being read, never with a panic.
func (e *Event) UnmarshalJSON(b []byte) error {
	v := violations{kind: "event"}
	if !validJSON(b) {
		field, msg := eventLocateSyntaxError(b)
		v.add(field, "malformed JSON: "+msg)
		return v.err()
	}
	var out Event
	var seen, bad eventAttr
	var seenExt map[string]struct{}
	sc := jsonfast.Scanner{B: b}
	sc.SkipSpace()
	if sc.Peek() != '{' {
		v.add("", "must be a JSON object")
		return v.err()
	}
	sc.I++
	for sc.SkipSpace(); sc.Peek() == '"'; {
		rawName := sc.Value()
		name, problem := eventJSONString(rawName)
		sc.SkipSpace()
		sc.I++ // ':'
		sc.SkipSpace()
		raw := sc.Value()
		if problem != "" {
			// Not a name a CloudEvent can carry: report it as written.
			v.add(strings.ToValidUTF8(string(rawName[1:len(rawName)-1]), "\uFFFD"), "attribute name "+problem)
		} else if attr := eventAttrByName(name); attr != 0 {
			if seen&attr != 0 {
				v.add(name, "duplicate attribute")
				bad |= attr
			} else {
				seen |= attr
				if !out.decodeAttr(&v, attr, name, raw) {
					bad |= attr
				}
			}
		} else if _, dup := seenExt[name]; dup {
			v.add(name, "duplicate attribute")
			delete(out.Extensions, name)
		} else {
			if seenExt == nil {
				seenExt = make(map[string]struct{})
			}
			seenExt[name] = struct{}{}
			out.decodeExtension(&v, name, raw)
		}
		sc.SkipSpace()
		if sc.Peek() == ',' {
			sc.I++
			sc.SkipSpace()
		}
	}
	if seen&eventAttrSequence == 0 && out.Subject != "" {
		out.Sequence = eventLegacySequence(out.Extensions)
	}
	out.validate(&v, bad)
	if err := v.err(); err != nil {
		return err
	}
	*e = out
	return nil
}

// eventLegacySequence returns the per-subject sequence number an event
// written before subjectseq was introduced carries in its standard
// sequence extension: a string of exactly 20 decimal digits, greater than
// zero. It returns 0 for any other value.
func eventLegacySequence(ext map[string]any) uint64 {
	s, ok := ext["sequence"].(string)
	if !ok {
		return 0
	}
	n, msg := eventParseSequence(s)
	if msg != "" {
		return 0
	}
	return n
}

// eventJSONString decodes a JSON string literal that validJSON accepted.
// Unlike encoding/json, which puts U+FFFD in their place, it refuses
// invalid UTF-8 and escapes of unpaired UTF-16 surrogates ("\uDEAD"):
// problem then says what is wrong, for the attribute's violation.
func eventJSONString(raw []byte) (s, problem string) {
	s, p, detail := jsonfast.Unquote(raw)
	switch p {
	case jsonfast.StringOK:
		return s, ""
	case jsonfast.StringLowSurrogate:
		return "", fmt.Sprintf(`must not contain the unpaired UTF-16 low surrogate escape "\u%04X"`, detail)
	case jsonfast.StringHighSurrogate:
		return "", fmt.Sprintf(`must not contain the unpaired UTF-16 high surrogate escape "\u%04X"`, detail)
	case jsonfast.StringBadUTF8:
		return "", fmt.Sprintf("must be valid UTF-8 (bad byte at %d)", detail)
	}
	return "", "malformed JSON string escape" // unreachable after validJSON
}

// validJSON reports whether b is valid JSON exactly as json.Valid does.
func validJSON(b []byte) bool { return jsonfast.Valid(b) }

// eventLocateSyntaxError describes why b is not valid JSON and names the
// top-level member whose value is malformed, if any.
func eventLocateSyntaxError(b []byte) (field, msg string) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return "", eventJSONError(err)
	}
	if tok != json.Delim('{') {
		return "", eventJSONError(json.Unmarshal(b, new(json.RawMessage)))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", eventJSONError(err)
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return name, eventJSONError(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", eventJSONError(err)
	}
	return "", "unexpected data after the event object"
}

// eventAttrByName returns the attribute bit of a member name Event has a
// field for, or 0 for an extension.
func eventAttrByName(name string) eventAttr {
	switch name {
	case "specversion":
		return eventAttrSpecVersion
	case "id":
		return eventAttrID
	case "source":
		return eventAttrSource
	case "type":
		return eventAttrType
	case "subject":
		return eventAttrSubject
	case "time":
		return eventAttrTime
	case "datacontenttype":
		return eventAttrDataContentType
	case "dataschema":
		return eventAttrDataSchema
	case "data":
		return eventAttrData
	case "data_base64":
		return eventAttrDataBase64
	case "correlationid":
		return eventAttrCorrelationID
	case "causationid":
		return eventAttrCausationID
	case "traceparent":
		return eventAttrTraceParent
	case SubjectSequenceExtension:
		return eventAttrSequence
	case "partitionkey":
		return eventAttrPartitionKey
	}
	return 0
}

// stringField returns the field of a string attribute.
func (e *Event) stringField(attr eventAttr) *string {
	switch attr {
	case eventAttrSpecVersion:
		return &e.SpecVersion
	case eventAttrID:
		return &e.ID
	case eventAttrSource:
		return &e.Source
	case eventAttrSubject:
		return &e.Subject
	case eventAttrDataContentType:
		return &e.DataContentType
	case eventAttrDataSchema:
		return &e.DataSchema
	case eventAttrCorrelationID:
		return &e.CorrelationID
	case eventAttrCausationID:
		return &e.CausationID
	case eventAttrTraceParent:
		return &e.TraceParent
	case eventAttrPartitionKey:
		return &e.PartitionKey
	}
	return nil
}

// decodeAttr decodes the member of a known attribute into e. It reports
// false when it recorded a violation.
func (e *Event) decodeAttr(v *violations, attr eventAttr, name string, raw json.RawMessage) bool {
	if attr == eventAttrData {
		if raw[0] == 'n' {
			e.Data = json.RawMessage("null") // an explicit null payload
			return true
		}
		e.Data = json.RawMessage(jsonfast.Compact(raw))
		return true
	}
	if raw[0] == 'n' {
		return true // null: the attribute is absent
	}
	if raw[0] != '"' {
		v.add(name, "must be a JSON string, got "+jsonfast.Kind(raw))
		return false
	}
	s, problem := eventJSONString(raw)
	if problem != "" {
		v.add(name, problem)
		return false
	}
	if s == "" && attr != eventAttrDataBase64 {
		v.add(name, "must not be empty when present")
		return false
	}
	switch attr {
	case eventAttrType:
		e.Type = EventType(s)
	case eventAttrTime:
		t, problem := parseRFC3339(s)
		if problem != "" {
			v.add(name, fmt.Sprintf("must be an RFC 3339 timestamp such as \"2026-11-27T21:07:00Z\": %s, got %s", problem, eventShort(s)))
			return false
		}
		e.Time = t
	case eventAttrSequence:
		n, msg := eventParseSequence(s)
		if msg != "" {
			v.add(name, msg)
			return false
		}
		e.Sequence = n
	case eventAttrDataBase64:
		if strings.ContainsAny(s, "\r\n") {
			v.add(name, "must be Base64 (RFC 4648) without line breaks")
			return false
		}
		data, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			v.add(name, "must be padded standard Base64 (RFC 4648): "+strings.TrimPrefix(err.Error(), "illegal base64 data "))
			return false
		}
		e.BinaryData = data
	default:
		*e.stringField(attr) = s
	}
	return true
}

// decodeExtension decodes the member of an extension attribute into
// e.Extensions.
func (e *Event) decodeExtension(v *violations, name string, raw json.RawMessage) {
	if msg := eventCheckExtensionName(name); msg != "" {
		v.add(name, msg)
		return
	}
	var value any
	switch raw[0] {
	case 'n':
		return // null: the extension is absent
	case '"':
		s, msg := eventJSONString(raw)
		if msg == "" {
			msg = eventCheckString(s)
		}
		if msg != "" {
			v.add(name, msg)
			return
		}
		value = s
	case 't', 'f':
		value = raw[0] == 't'
	case '{', '[':
		v.add(name, "must be a JSON string, number or boolean (CloudEvents types), got "+jsonfast.Kind(raw))
		return
	default:
		n, err := strconv.ParseInt(string(raw), 10, 32)
		if err != nil {
			v.add(name, "must be an integer in the int32 range (CloudEvents Integer), got "+eventShort(string(raw)))
			return
		}
		value = int32(n)
	}
	if e.Extensions == nil {
		e.Extensions = make(map[string]any)
	}
	e.Extensions[name] = value
}

// eventJSONError describes a JSON decoding error without the "json: "
// prefix, with the byte offset of a syntax error.
func eventJSONError(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		msg = fmt.Sprintf("%s (offset %d)", msg, syntaxErr.Offset)
	}
	return msg
}

// eventShort quotes s for an error message, cut to 40 bytes.
func eventShort(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}
