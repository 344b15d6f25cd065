package canonical

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"mime"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// EventSpecVersion is the CloudEvents specification version every [Event]
// carries in its specversion attribute.
const EventSpecVersion = "1.0"

// SubjectSequenceExtension is the name of the CloudEvents extension
// attribute that carries [Event.Sequence], distsync's per-subject sequence
// number. Events written before it was introduced carried Sequence under
// "sequence", the name of the standard CloudEvents extension of another
// meaning; see [Event.UnmarshalJSON].
const SubjectSequenceExtension = "subjectseq"

// ErrEventType is matched (with errors.Is) by the [*EventTypeError] that
// [NewEvent] and [DecodeData] return when an event type is unknown or does
// not carry the document kind asked for.
var ErrEventType = errors.New("canonical: event type does not match the document")

// EventTypeError reports an event type that is unknown, or that carries a
// different document kind than the one given or asked for. It matches
// [ErrEventType] with errors.Is. Its zero value names no type; the
// functions that return it fill it in. It is not modified after it is
// returned and is safe for concurrent use.
type EventTypeError struct {
	// Type is the event's type.
	Type EventType
	// Kind is the document kind Type carries; empty when Type is unknown.
	Kind string
	// Document is the kind of the document given to NewEvent or asked of
	// DecodeData.
	Document string
}

// Error returns `canonical: event type "T" carries K, not D`, or
// `canonical: unknown event type "T"` when Kind is empty.
func (e *EventTypeError) Error() string {
	if e.Kind == "" {
		return fmt.Sprintf("canonical: unknown event type %q", string(e.Type))
	}
	return fmt.Sprintf("canonical: event type %q carries %s, not %s", string(e.Type), e.Kind, e.Document)
}

// Is reports whether target is [ErrEventType].
func (e *EventTypeError) Is(target error) bool { return target == ErrEventType }

// Event is a CloudEvents 1.0 envelope around one business document. It is
// encoded in the CloudEvents JSON structured format by MarshalJSON and
// decoded by UnmarshalJSON; both enforce the rules [Event.Validate] lists,
// so no invalid event is written or accepted.
//
// An empty string, a zero Time, a zero Sequence and a nil Data or
// BinaryData mean the attribute is absent. Build an event with [NewEvent],
// then set ID, Source, Subject, Time and the extensions.
//
// # Deduplication and ordering
//
// Source and ID together identify an event ([Event.Key]): a consumer that
// sees the same key twice has seen the same event twice. Sequence numbers
// the events of one Subject from 1 upwards, so a consumer can drop stale
// and duplicate events and notice gaps. Consumers shard by
// [Event.Partition].
//
// # Concurrency
//
// An Event is a plain value: it is safe for concurrent reads, not for
// concurrent writes. Copies share the memory of Data, BinaryData and
// Extensions. The zero value is not valid ([Event.Validate] reports the
// missing attributes).
type Event struct {
	// ID identifies the event within Source (CloudEvents id). Required.
	ID string
	// Source is a URI-reference naming the context in which the event
	// happened, such as "urn:distsync:erp:d365" (CloudEvents source).
	// Required.
	Source string
	// SpecVersion must be [EventSpecVersion]. Required.
	SpecVersion string
	// Type is the kind of event (CloudEvents type). Required.
	Type EventType
	// Subject names the entity the event is about within Source, such as
	// the canonical order ID. Sequence and Partition are per subject.
	Subject string
	// Time is when the occurrence happened. Encoded as RFC 3339 with
	// nanoseconds, keeping the offset.
	Time time.Time
	// DataContentType is the RFC 2046 media type of the data. When it is
	// empty, JSON Data is implied to be "application/json".
	DataContentType string
	// DataSchema is an absolute URI identifying the schema Data adheres to.
	DataSchema string
	// Data is the payload when it is JSON (or, for a non-JSON
	// DataContentType, a JSON string holding the encoded content). It is
	// the raw JSON value; the JSON null payload is "null".
	Data json.RawMessage
	// BinaryData is a binary payload, carried as data_base64 in JSON. Data
	// and BinaryData are never both set; an empty non-nil BinaryData is a
	// zero-length payload.
	BinaryData []byte
	// CorrelationID ties every event and call of one business transaction
	// (such as one order) together (extension correlationid).
	CorrelationID string
	// CausationID is the ID of the event that caused this one (extension
	// causationid).
	CausationID string
	// TraceParent is a W3C Trace Context traceparent header value
	// (extension traceparent).
	TraceParent string
	// Sequence numbers the events of one Subject from 1 upwards (extension
	// subjectseq, [SubjectSequenceExtension]). In JSON it is a string of
	// exactly 20 decimal digits, zero-padded, so that it sorts as a
	// string. Zero means absent; a sequence requires a Subject.
	//
	// It is not the standard CloudEvents sequence extension, which orders
	// the events of a source (not of a subject) by any lexically ordered
	// string: that one, when an event carries it, is an ordinary entry of
	// Extensions under "sequence". See [Event.UnmarshalJSON] for how
	// events written before the rename, which carried Sequence under the
	// name "sequence", are read.
	Sequence uint64
	// PartitionKey overrides the key consumers shard by (extension
	// partitionkey); see [Event.Partition].
	PartitionKey string
	// Extensions holds any other extension attributes by name. Names are
	// lowercase ASCII letters and digits (CloudEvents recommends at most 20
	// of them) and are not the name of an attribute above nor "data".
	// Values are CloudEvents types: string, bool or an integer in the int32
	// range (an int32, or an int or int64 within that range). Decoding
	// yields string, bool and int32 values.
	Extensions map[string]any
}

// EventKey is the deduplication key of an [Event]: its Source and ID. It is
// comparable, so it can key a map. It is a plain value, safe for concurrent
// use. The zero value names no event.
type EventKey struct {
	// Source is the event's source.
	Source string
	// ID is the event's ID.
	ID string
}

// String returns the source and the ID separated by one space. A valid
// source never contains a space, so distinct keys of valid events have
// distinct strings.
func (k EventKey) String() string { return k.Source + " " + k.ID }

// Key returns the event's deduplication key: events with the same Source
// and ID are the same event.
func (e Event) Key() EventKey { return EventKey{Source: e.Source, ID: e.ID} }

// Partition returns the key consumers shard the event stream by, so that
// the events of one entity are applied in order by one consumer: the
// PartitionKey extension when it is set, and the Subject otherwise.
func (e Event) Partition() string {
	if e.PartitionKey != "" {
		return e.PartitionKey
	}
	return e.Subject
}

// NewEvent returns an event of type t carrying doc as JSON data: SpecVersion
// is [EventSpecVersion], DataContentType is "application/json" and Data is
// doc encoded with encoding/json. The caller then sets ID, Source and the
// other attributes it needs; MarshalJSON refuses the event until ID and
// Source are set.
//
// NewEvent returns an [*EventTypeError] (matching [ErrEventType]) when t is
// not a known type or carries another kind than doc.DocumentKind(), and a
// [*ValidationError] (matching [ErrInvalid]) when doc is nil or its
// Validate fails; the field paths of the latter start with "data".
func NewEvent(t EventType, doc Document) (Event, error) {
	kind, ok := EventKind(t)
	if !ok {
		return Event{}, &EventTypeError{Type: t}
	}
	v := violations{kind: "event"}
	if eventIsNil(doc) {
		v.add("data", "document is nil")
		return Event{}, v.err()
	}
	if got := doc.DocumentKind(); got != kind {
		return Event{}, &EventTypeError{Type: t, Kind: kind, Document: got}
	}
	if err := doc.Validate(); err != nil {
		v.addErr("data", err)
		return Event{}, v.err()
	}
	data, err := encodeDocument(doc)
	if err != nil {
		return Event{}, fmt.Errorf("canonical: encode %s data: %w", t, err)
	}
	return Event{
		SpecVersion:     EventSpecVersion,
		Type:            t,
		DataContentType: "application/json",
		Data:            data,
	}, nil
}

// DecodeData decodes the JSON data of e into a document of type T and
// validates it. T is a concrete document type or a pointer to one.
//
// DecodeData returns an [*EventTypeError] (matching [ErrEventType]) when
// e.Type is not a known type or carries another kind than T, and a
// [*ValidationError] (matching [ErrInvalid]) when the data is absent,
// binary, null, not JSON, does not decode into T, or fails T's Validate. A
// decoding error names the field ("data.lines.quantity: ...") where
// encoding/json reports it. Members of the data that T does not know are
// ignored, so a consumer keeps working when a producer adds fields.
func DecodeData[T Document](e Event) (T, error) {
	var zero, doc T
	switch rt := reflect.TypeFor[T](); rt.Kind() {
	case reflect.Interface:
		return zero, fmt.Errorf("%w: DecodeData needs a concrete document type, not the interface %v", ErrEventType, rt)
	case reflect.Pointer:
		doc = reflect.New(rt.Elem()).Interface().(T)
	}
	kind, ok := EventKind(e.Type)
	if !ok {
		return zero, &EventTypeError{Type: e.Type, Document: doc.DocumentKind()}
	}
	if want := doc.DocumentKind(); want != kind {
		return zero, &EventTypeError{Type: e.Type, Kind: kind, Document: want}
	}
	v := violations{kind: "event"}
	switch {
	case e.BinaryData != nil:
		v.add("data_base64", fmt.Sprintf("%s carries JSON data, not binary", e.Type))
	case len(e.Data) == 0:
		v.add("data", fmt.Sprintf("is required for %s", e.Type))
	case !eventIsJSONContentType(e.DataContentType):
		v.add("datacontenttype", fmt.Sprintf("must be JSON for %s, got %q", e.Type, e.DataContentType))
	case bytes.Equal(bytes.TrimSpace(e.Data), []byte("null")):
		v.add("data", fmt.Sprintf("must be a %s document, not null", kind))
	}
	if err := v.err(); err != nil {
		return zero, err
	}
	if !decodeDocumentFast(e.Data, &doc) {
		// Decoded in a value of its own, so that doc, which the fast path
		// decodes into, stays off the heap: json.Unmarshal's argument
		// escapes.
		p := new(T)
		*p = doc
		if err := json.Unmarshal(e.Data, p); err != nil {
			eventDataError(&v, err)
			return zero, v.err()
		}
		doc = *p
	}
	if err := doc.Validate(); err != nil {
		v.addErr("data", err)
		return zero, v.err()
	}
	return doc, nil
}

// Encode encodes a document as JSON. The bytes are exactly those
// json.Marshal produces. It fails only where json.Marshal fails.
func Encode(doc Document) ([]byte, error) { return encodeDocument(doc) }

// AppendEncode appends the encoding of doc, as [Encode] returns it, to b
// and returns the extended buffer. On error it returns nil. A caller that
// encodes many documents into one buffer saves the allocation of each.
func AppendEncode(b []byte, doc Document) ([]byte, error) {
	if eventIsNil(doc) {
		return appendMarshal(b, doc)
	}
	switch d := doc.(type) {
	case Order:
		return appendOrder(b, &d)
	case FulfillmentOrder:
		return appendFulfillmentOrder(b, &d)
	case AllocationUpdate:
		return appendAllocation(b, &d)
	case Shipment:
		return appendShipment(b, &d)
	case InventoryAdjustment:
		return appendAdjustment(b, &d)
	case InventoryPosition:
		return appendPosition(b, &d)
	case Invoice:
		return appendInvoice(b, &d)
	}
	if out, ok, err := appendFast(b, doc); ok {
		return out, err
	}
	return appendMarshal(b, doc)
}

// AppendEncodeOf is [AppendEncode] for a document given by a pointer that
// it does not keep: the encoding of *doc (json.Marshal's of doc) appended
// to b. Where AppendEncode's argument escapes to the heap, so that a
// document held in a variable is copied there to be encoded, the
// documents canonical encodes without reflection (orders, fulfilment
// orders, allocation updates, shipments, inventory adjustments and
// positions, invoices) are encoded in place; another document is copied
// once, as AppendEncode's caller would have. A nil doc encodes as null.
func AppendEncodeOf[D Document](b []byte, doc *D) ([]byte, error) {
	if doc == nil {
		return appendMarshal(b, nil)
	}
	if out, ok, err := appendFast(b, doc); ok {
		return out, err
	}
	v := *doc
	return appendMarshal(b, &v)
}

// appendFast appends the encoding of doc, a non-nil pointer to a document,
// when canonical encodes its type without reflection, and reports whether
// it did. It does not keep doc.
func appendFast(b []byte, doc any) ([]byte, bool, error) {
	var err error
	switch d := doc.(type) {
	case *Order:
		b, err = appendOrder(b, d)
	case *FulfillmentOrder:
		b, err = appendFulfillmentOrder(b, d)
	case *AllocationUpdate:
		b, err = appendAllocation(b, d)
	case *Shipment:
		b, err = appendShipment(b, d)
	case *InventoryAdjustment:
		b, err = appendAdjustment(b, d)
	case *InventoryPosition:
		b, err = appendPosition(b, d)
	case *Invoice:
		b, err = appendInvoice(b, d)
	default:
		return b, false, nil
	}
	return b, true, err
}

// appendMarshal appends json.Marshal's encoding of doc to b.
func appendMarshal(b []byte, doc any) ([]byte, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return data, nil
	}
	return append(b, data...), nil
}

// encodeDocument encodes doc as json.Marshal does, with the encoders
// without reflection where there is one (the same bytes). It writes in a
// pooled buffer and returns the bytes in one allocation of their size.
func encodeDocument(doc Document) ([]byte, error) {
	bp := encodeBuffers.Get().(*[]byte)
	b, err := AppendEncode((*bp)[:0], doc)
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if b != nil && cap(b) <= maxPooledEncode {
		*bp = b
	}
	encodeBuffers.Put(bp)
	return out, err
}

// encodeBuffers holds the buffers encodeDocument writes in (*[]byte).
var encodeBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

// maxPooledEncode is the largest buffer encodeDocument keeps for reuse.
const maxPooledEncode = 64 << 10

// decodeDocumentFast decodes data into *doc, a zero document, without
// reflection when it can: an order, a fulfilment order, an invoice, an
// allocation update, a shipment, an inventory adjustment or position in
// the form distsync encodes it (the decoders are generated, codec_gen.go).
// It reports false, leaving *doc zero, when encoding/json must decode it.
func decodeDocumentFast[T Document](data []byte, doc *T) bool {
	switch d := any(doc).(type) {
	case *Order:
		return fastOrZero(data, d, decodeOrderFast)
	case **Order:
		return fastOrZero(data, *d, decodeOrderFast)
	case *FulfillmentOrder:
		return fastOrZero(data, d, decodeFulfillmentOrderFast)
	case **FulfillmentOrder:
		return fastOrZero(data, *d, decodeFulfillmentOrderFast)
	case *Invoice:
		return fastOrZero(data, d, decodeInvoiceFast)
	case **Invoice:
		return fastOrZero(data, *d, decodeInvoiceFast)
	case *AllocationUpdate:
		return fastOrZero(data, d, decodeAllocationFast)
	case **AllocationUpdate:
		return fastOrZero(data, *d, decodeAllocationFast)
	case *Shipment:
		return fastOrZero(data, d, decodeShipmentFast)
	case **Shipment:
		return fastOrZero(data, *d, decodeShipmentFast)
	case *InventoryAdjustment:
		return fastOrZero(data, d, decodeAdjustmentFast)
	case **InventoryAdjustment:
		return fastOrZero(data, *d, decodeAdjustmentFast)
	case *InventoryPosition:
		return fastOrZero(data, d, decodePositionFast)
	case **InventoryPosition:
		return fastOrZero(data, *d, decodePositionFast)
	}
	return false
}

// fastOrZero runs a fast decoder and zeroes *d when it fails.
func fastOrZero[D any](data []byte, d *D, decode func([]byte, *D) bool) bool {
	if decode(data, d) {
		return true
	}
	var zero D
	*d = zero
	return false
}

// eventIsNil reports whether doc is nil or a nil pointer, on which
// DocumentKind may panic.
func eventIsNil(doc Document) bool {
	if doc == nil {
		return true
	}
	rv := reflect.ValueOf(doc)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// eventDataError records a json.Unmarshal error of an event's data under
// the field it names.
func eventDataError(v *violations, err error) {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		v.add(joinPath("data", typeErr.Field), "cannot decode JSON "+typeErr.Value+" into "+typeErr.Type.String())
	case errors.As(err, &syntaxErr):
		v.add("data", fmt.Sprintf("malformed JSON at offset %d: %s", syntaxErr.Offset,
			strings.TrimPrefix(syntaxErr.Error(), "json: ")))
	default:
		v.addErr("data", err)
	}
}

// Validate checks the event against the CloudEvents 1.0 specification and
// distsync's extensions, and returns nil or a [*ValidationError] (matching
// [ErrInvalid]) listing every violation under its JSON attribute name:
//
//   - specversion is "1.0"; id, source and type are present.
//   - Every string attribute is valid UTF-8 without control characters
//     (U+0000–U+001F, U+007F–U+009F) or Unicode noncharacters.
//   - source is an RFC 3986 URI-reference; dataschema an absolute URI.
//   - time has a four-digit year and a whole-minute offset under 24 hours,
//     so that it encodes as RFC 3339.
//   - datacontenttype is an RFC 2046 media type (type/subtype).
//   - data and data_base64 are never both set; data is valid JSON, and a
//     JSON string when datacontenttype is not JSON (*/json or */*+json).
//   - traceparent is a W3C traceparent with non-zero trace and parent IDs.
//   - subjectseq (Sequence) requires subject.
//   - extension names are lowercase a–z and 0–9, not the name of a
//     context attribute or of distsync's extensions, and not "data"; their
//     values are strings, bools or integers in the int32 range.
//
// Validate does not check that Type is known: any CloudEvent can be
// carried. Use [EventType.Known] for that.
func (e Event) Validate() error {
	v := violations{kind: "event"}
	e.validate(&v, 0)
	return v.err()
}

// eventAttr is a bit set of the attributes whose decoding already failed,
// so validate does not report them twice.
type eventAttr uint32

const (
	eventAttrSpecVersion eventAttr = 1 << iota
	eventAttrID
	eventAttrSource
	eventAttrType
	eventAttrSubject
	eventAttrTime
	eventAttrDataContentType
	eventAttrDataSchema
	eventAttrData
	eventAttrDataBase64
	eventAttrCorrelationID
	eventAttrCausationID
	eventAttrTraceParent
	eventAttrSequence
	eventAttrPartitionKey
)

func (e *Event) validate(v *violations, skip eventAttr) {
	check := func(a eventAttr) bool { return skip&a == 0 }
	if check(eventAttrSpecVersion) && e.SpecVersion != EventSpecVersion {
		v.add("specversion", `must be "1.0"`)
	}
	if check(eventAttrID) {
		eventRequiredString(v, "id", e.ID)
	}
	if check(eventAttrSource) {
		if e.Source == "" {
			v.add("source", "is required")
		} else if msg := eventCheckURI(e.Source, false); msg != "" {
			v.add("source", msg)
		}
	}
	if check(eventAttrType) {
		eventRequiredString(v, "type", string(e.Type))
	}
	if check(eventAttrSubject) {
		eventOptionalString(v, "subject", e.Subject)
	}
	if check(eventAttrTime) && !e.Time.IsZero() {
		if msg := eventCheckTime(e.Time); msg != "" {
			v.add("time", msg)
		}
	}
	contentTypeOK := true
	if check(eventAttrDataContentType) && e.DataContentType != "" {
		if msg := eventCheckMediaType(e.DataContentType); msg != "" {
			v.add("datacontenttype", msg)
			contentTypeOK = false
		}
	}
	if check(eventAttrDataSchema) && e.DataSchema != "" {
		if msg := eventCheckURI(e.DataSchema, true); msg != "" {
			v.add("dataschema", msg)
		}
	}
	if check(eventAttrData) && len(e.Data) > 0 {
		switch {
		case e.BinaryData != nil:
			v.add("data", "must not be present together with data_base64")
		case !validJSON(e.Data):
			v.add("data", "must be valid JSON")
		case contentTypeOK && !eventIsJSONContentType(e.DataContentType) &&
			bytes.TrimLeft(e.Data, " \t\r\n")[0] != '"':
			v.add("data", fmt.Sprintf("must be a JSON string when datacontenttype %q is not JSON", e.DataContentType))
		}
	}
	if check(eventAttrCorrelationID) {
		eventOptionalString(v, "correlationid", e.CorrelationID)
	}
	if check(eventAttrCausationID) {
		eventOptionalString(v, "causationid", e.CausationID)
	}
	if check(eventAttrTraceParent) && e.TraceParent != "" {
		if msg := eventCheckTraceParent(e.TraceParent); msg != "" {
			v.add("traceparent", msg)
		}
	}
	if check(eventAttrSequence) && e.Sequence != 0 && e.Subject == "" {
		v.add(SubjectSequenceExtension, "requires subject: sequences are per subject")
	}
	if check(eventAttrPartitionKey) {
		eventOptionalString(v, "partitionkey", e.PartitionKey)
	}
	if len(e.Extensions) == 0 {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(e.Extensions)) {
		if msg := eventCheckExtensionName(name); msg != "" {
			v.add(name, msg)
			continue
		}
		if msg := eventCheckExtensionValue(e.Extensions[name]); msg != "" {
			v.add(name, msg)
		}
	}
}

func eventRequiredString(v *violations, field, s string) {
	if s == "" {
		v.add(field, "is required")
		return
	}
	if msg := eventCheckString(s); msg != "" {
		v.add(field, msg)
	}
}

func eventOptionalString(v *violations, field, s string) {
	if msg := eventCheckString(s); msg != "" {
		v.add(field, msg)
	}
}

// eventCheckString applies the CloudEvents String rules: valid UTF-8, no
// control characters and no noncharacters. It returns "" when s is valid.
func eventCheckString(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return fmt.Sprintf("must not contain control character %U at byte %d", rune(c), i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("must be valid UTF-8 (bad byte at %d)", i)
		case r >= 0x80 && r <= 0x9f:
			return fmt.Sprintf("must not contain control character %U at byte %d", r, i)
		case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
			return fmt.Sprintf("must not contain noncharacter %U at byte %d", r, i)
		}
		i += size
	}
	return ""
}

// eventURIChar reports whether c may appear in an RFC 3986 URI-reference
// (unreserved, gen-delims, sub-delims and the "%" of a percent-encoding).
func eventURIChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}

// eventCheckURI checks that s is an RFC 3986 URI-reference, or an absolute
// URI (scheme, no fragment) when absolute is set. It returns "" when s is
// valid.
func eventCheckURI(s string, absolute bool) string {
	what := "a URI-reference (RFC 3986)"
	if absolute {
		what = "an absolute URI (RFC 3986)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !eventURIChar(c) {
			return fmt.Sprintf("must be %s: character %q at byte %d must be percent-encoded", what, rune(c), i)
		}
		if c == '%' && (i+2 >= len(s) || !eventIsHex(s[i+1]) || !eventIsHex(s[i+2])) {
			return fmt.Sprintf("must be %s: bad percent-encoding at byte %d", what, i)
		}
	}
	if eventSimpleURI(s) {
		return ""
	}
	if strings.Count(s, "#") > 1 {
		return fmt.Sprintf("must be %s: more than one '#'", what)
	}
	u, err := url.Parse(s)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return fmt.Sprintf("must be %s: %v", what, err)
	}
	if strings.ContainsAny(s, "[]") && strings.Count(s, "[")+strings.Count(s, "]") != strings.Count(u.Host, "[")+strings.Count(u.Host, "]") {
		return fmt.Sprintf("must be %s: '[' and ']' are only allowed around an IP literal host", what)
	}
	if absolute {
		if u.Scheme == "" {
			return fmt.Sprintf("must be %s: no scheme", what)
		}
		if strings.Contains(s, "#") {
			return fmt.Sprintf("must be %s: no fragment allowed", what)
		}
	}
	return ""
}

// eventSimpleURI reports whether s, whose characters eventCheckURI has
// checked, is an absolute URI of a shape url.Parse always accepts: a
// scheme, no '%', '#', '[' or ']', and an authority (when "//" follows the
// scheme) of unreserved characters only (no userinfo, no port). Sources
// are such URIs ("urn:distsync:flow", "wms://WMS-1"), and checking them
// needs no parse.
func eventSimpleURI(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	i := 1
	for i < len(s) && (eventUnreserved(s[i]) && s[i] != '_' && s[i] != '~' || s[i] == '+') {
		i++
	}
	if i == len(s) || s[i] != ':' {
		return false
	}
	rest := s[i+1:]
	if strings.ContainsAny(rest, "%#[]") {
		return false
	}
	if auth, ok := strings.CutPrefix(rest, "//"); ok {
		if end := strings.IndexAny(auth, "/?"); end >= 0 {
			auth = auth[:end]
		}
		for j := 0; j < len(auth); j++ {
			if !eventUnreserved(auth[j]) {
				return false
			}
		}
	}
	return true
}

// eventUnreserved reports whether c is an RFC 3986 unreserved character.
func eventUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func eventIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func eventIsLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// eventCheckTime checks that t encodes as an RFC 3339 timestamp that decodes
// back to the same instant.
func eventCheckTime(t time.Time) string {
	if y := t.Year(); y < 0 || y > 9999 {
		return fmt.Sprintf("year %d is outside 0000–9999 (RFC 3339)", y)
	}
	_, offset := t.Zone()
	if offset%60 != 0 || offset <= -24*3600 || offset >= 24*3600 {
		return fmt.Sprintf("zone offset %ds must be whole minutes under 24 hours (RFC 3339)", offset)
	}
	return ""
}

// eventCheckMediaType checks an RFC 2046 media type such as
// "application/json; charset=utf-8".
func eventCheckMediaType(s string) string {
	if s == "application/json" {
		return ""
	}
	if msg := eventCheckString(s); msg != "" {
		return msg
	}
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return "must be a media type (RFC 2046): " + strings.TrimPrefix(err.Error(), "mime: ")
	}
	if !strings.Contains(mt, "/") {
		return fmt.Sprintf("must be a media type type/subtype (RFC 2046), got %q", s)
	}
	return ""
}

// eventIsJSONContentType reports whether data of media type ct is JSON:
// ct is empty (application/json is implied) or its subtype is "json" or
// ends in "+json".
func eventIsJSONContentType(ct string) bool {
	if ct == "" || ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	_, sub, ok := strings.Cut(mt, "/")
	return ok && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// eventCheckTraceParent checks a W3C Trace Context traceparent:
// version-traceid-parentid-flags in lowercase hex.
func eventCheckTraceParent(s string) string {
	const form = "must be a W3C traceparent (00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>)"
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' ||
		!eventIsLowerHex(s[0:2]) || !eventIsLowerHex(s[3:35]) ||
		!eventIsLowerHex(s[36:52]) || !eventIsLowerHex(s[53:55]) {
		return form
	}
	switch {
	case s[0:2] == "ff":
		return form + ": version ff is invalid"
	case s[0:2] == "00" && len(s) != 55:
		return form + ": version 00 has exactly 55 characters"
	case len(s) > 55 && s[55] != '-':
		return form
	case s[3:35] == "00000000000000000000000000000000":
		return form + ": trace-id must not be all zeros"
	case s[36:52] == "0000000000000000":
		return form + ": parent-id must not be all zeros"
	}
	if msg := eventCheckString(s); msg != "" {
		return msg
	}
	return ""
}

// eventCheckExtensionName checks the name of an extension attribute held in
// Event.Extensions.
func eventCheckExtensionName(name string) string {
	if name == "" {
		return "extension attribute name must not be empty"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return "extension attribute name must consist of lowercase letters a-z and digits 0-9 only"
		}
	}
	if eventReservedName(name) {
		return "is a reserved attribute name, not an extension"
	}
	return ""
}

// eventReservedName reports whether name is a CloudEvents context attribute,
// the data member, or one of the extensions Event has a field for.
func eventReservedName(name string) bool {
	switch name {
	case "id", "source", "specversion", "type", "subject", "time",
		"datacontenttype", "dataschema", "data", "data_base64",
		"correlationid", "causationid", "traceparent", SubjectSequenceExtension, "partitionkey":
		return true
	}
	return false
}

// eventCheckExtensionValue checks that x is a value of a CloudEvents type
// Event can encode: string, bool or an integer in the int32 range.
func eventCheckExtensionValue(x any) string {
	switch x := x.(type) {
	case string:
		return eventCheckString(x)
	case bool, int32:
		return ""
	case int:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return fmt.Sprintf("integer %d is outside the CloudEvents Integer range (int32)", x)
		}
		return ""
	case int64:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return fmt.Sprintf("integer %d is outside the CloudEvents Integer range (int32)", x)
		}
		return ""
	case nil:
		return "must not be nil; delete the extension to unset it"
	}
	return fmt.Sprintf("must be a string, bool or int32 (CloudEvents types), got %T", x)
}
