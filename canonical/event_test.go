package canonical_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// eventTestOrder is a test-only document of kind order with value
// receivers.
type eventTestOrder struct {
	ID    string          `json:"id"`
	Lines []eventTestLine `json:"lines,omitempty"`
}

type eventTestLine struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

func (eventTestOrder) DocumentKind() string { return canonical.KindOrder }

func (o eventTestOrder) Validate() error {
	var errs []canonical.FieldError
	if o.ID == "" {
		errs = append(errs, canonical.FieldError{Field: "id", Message: "is required"})
	}
	for i, l := range o.Lines {
		if l.Qty <= 0 {
			errs = append(errs, canonical.FieldError{Field: fmt.Sprintf("lines[%d].qty", i), Message: "must be > 0"})
		}
	}
	if len(errs) > 0 {
		return &canonical.ValidationError{Kind: "order", Errors: errs}
	}
	return nil
}

// eventTestShipment is a test-only document of kind shipment with pointer
// receivers.
type eventTestShipment struct {
	ID       string `json:"id"`
	Tracking string `json:"tracking"`
}

func (*eventTestShipment) DocumentKind() string { return canonical.KindShipment }

func (s *eventTestShipment) Validate() error {
	if s.ID == "" {
		return &canonical.ValidationError{Kind: "shipment", Errors: []canonical.FieldError{{Field: "id", Message: "is required"}}}
	}
	return nil
}

// eventTestValid returns a valid event with every attribute set.
func eventTestValid() canonical.Event {
	return canonical.Event{
		ID:              "evt-1",
		Source:          "urn:distsync:erp:d365",
		SpecVersion:     "1.0",
		Type:            canonical.EventOrderAccepted,
		Subject:         "SO-1001",
		Time:            time.Date(2026, 11, 27, 21, 7, 0, 123456789, time.FixedZone("", 3600)),
		DataContentType: "application/json",
		DataSchema:      "https://schemas.distsync.dev/order/v1.json",
		Data:            json.RawMessage(`{"id":"SO-1001","lines":[{"sku":"A","qty":2}]}`),
		CorrelationID:   "corr-1",
		CausationID:     "evt-0",
		TraceParent:     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Sequence:        42,
		PartitionKey:    "SO-1001",
		Extensions:      map[string]any{"tenant": "acme", "priority": int32(5), "urgent": true},
	}
}

// eventTestEqual asserts that two events are equal, comparing Time as an
// instant with the same offset (time.Time's location pointer differs
// between decodes).
func eventTestEqual(t *testing.T, want, got canonical.Event, input string) {
	t.Helper()
	assert.True(t, want.Time.Equal(got.Time), "time of %s: want %v, got %v", input, want.Time, got.Time)
	_, wantOff := want.Time.Zone()
	_, gotOff := got.Time.Zone()
	assert.Equal(t, wantOff, gotOff, "time offset of %s", input)
	want.Time, got.Time = time.Time{}, time.Time{}
	if len(want.Data) > 0 && len(got.Data) > 0 {
		// json.Marshal escapes <, > and & in data strings; the JSON value
		// is the same.
		assert.JSONEq(t, string(want.Data), string(got.Data), "data decoded from %s", input)
		want.Data, got.Data = nil, nil
	}
	assert.Equal(t, want, got, "event decoded from %s", input)
}

func TestEventTypes(t *testing.T) {
	t.Parallel()
	want := map[canonical.EventType]string{
		canonical.EventOrderSubmitted:         canonical.KindOrder,
		canonical.EventOrderValidated:         canonical.KindOrderAck,
		canonical.EventOrderAccepted:          canonical.KindOrder,
		canonical.EventOrderRejected:          canonical.KindOrder,
		canonical.EventOrderHeld:              canonical.KindOrder,
		canonical.EventOrderCancelled:         canonical.KindOrder,
		canonical.EventOrderCancelRequested:   canonical.KindCancelRequest,
		canonical.EventOrderAmended:           canonical.KindOrderAmendment,
		canonical.EventFulfillmentReleased:    canonical.KindFulfillmentOrder,
		canonical.EventFulfillmentAllocated:   canonical.KindAllocationUpdate,
		canonical.EventFulfillmentBackordered: canonical.KindAllocationUpdate,
		canonical.EventFulfillmentPicked:      canonical.KindAllocationUpdate,
		canonical.EventFulfillmentShipped:     canonical.KindShipment,
		canonical.EventFulfillmentCancelled:   canonical.KindFulfillmentOrder,
		canonical.EventShipmentConfirmed:      canonical.KindShipment,
		canonical.EventInvoicePosted:          canonical.KindInvoice,
		canonical.EventInventoryAdjusted:      canonical.KindInventoryAdjustment,
		canonical.EventInventorySnapshot:      canonical.KindInventoryPosition,
		canonical.EventReturnAuthorized:       canonical.KindReturn,
		canonical.EventReturnReceived:         canonical.KindReturn,
		canonical.EventReturnCredited:         canonical.KindInvoice,
	}
	name := regexp.MustCompile(`^distsync\.[a-z]+\.[a-z]+(_[a-z]+)*\.v[1-9][0-9]*$`)
	all := canonical.EventTypes()
	assert.Len(t, all, len(want), "EventTypes lists every declared type")
	seen := map[canonical.EventType]bool{}
	for _, typ := range all {
		assert.False(t, seen[typ], "type %s listed twice", typ)
		seen[typ] = true
		assert.Regexp(t, name, string(typ), "type %s is a versioned distsync name", typ)
		assert.True(t, typ.Known(), "type %s is known", typ)
		kind, ok := canonical.EventKind(typ)
		assert.True(t, ok, "EventKind(%s) reports known", typ)
		assert.Equal(t, want[typ], kind, "EventKind(%s)", typ)
	}
	for _, typ := range []canonical.EventType{"", "distsync.order.accepted", "distsync.order.accepted.v2", "DISTSYNC.ORDER.ACCEPTED.V1", "com.example.thing.v1"} {
		kind, ok := canonical.EventKind(typ)
		assert.False(t, ok, "EventKind(%q) reports unknown", typ)
		assert.Empty(t, kind, "EventKind(%q) kind", typ)
		assert.False(t, typ.Known(), "%q is not known", typ)
	}
}

func TestEventValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(e *canonical.Event)
		fields []string // every violation expected, by field
	}{
		{"valid with everything", func(e *canonical.Event) {}, nil},
		{"valid minimal", func(e *canonical.Event) {
			*e = canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "com.example.x"}
		}, nil},
		{"valid binary data", func(e *canonical.Event) {
			e.Data, e.BinaryData, e.DataContentType = nil, []byte{0, 1, 2}, "application/octet-stream"
		}, nil},
		{"valid empty binary data", func(e *canonical.Event) { e.Data, e.BinaryData = nil, []byte{} }, nil},
		{"valid JSON null data", func(e *canonical.Event) { e.Data = json.RawMessage("null") }, nil},
		{"valid +json content type", func(e *canonical.Event) { e.DataContentType = "application/vnd.distsync.order+json; charset=utf-8" }, nil},
		{"valid implied JSON content type", func(e *canonical.Event) { e.DataContentType = "" }, nil},
		{"valid XML data as JSON string", func(e *canonical.Event) {
			e.DataContentType, e.Data = "application/xml", json.RawMessage(`"<order id=\"1\"/>"`)
		}, nil},
		{"valid relative source", func(e *canonical.Event) { e.Source = "/sensors/tn-1234567/alerts" }, nil},
		{"valid IP literal source", func(e *canonical.Event) { e.Source = "http://[::1]:8080/erp" }, nil},
		{"valid percent-encoded source", func(e *canonical.Event) { e.Source = "/wms/site%201" }, nil},
		{"valid future traceparent version", func(e *canonical.Event) {
			e.TraceParent = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"
		}, nil},
		{"valid extension int and int64 in range", func(e *canonical.Event) {
			e.Extensions = map[string]any{"a": math.MaxInt32, "b": int64(math.MinInt32)}
		}, nil},
		{"valid 30-char extension name (length is only recommended)", func(e *canonical.Event) {
			e.Extensions = map[string]any{strings.Repeat("x", 30): "v"}
		}, nil},
		{"valid partition key without subject", func(e *canonical.Event) { e.Subject, e.Sequence = "", 0 }, nil},

		{"zero event", func(e *canonical.Event) { *e = canonical.Event{} }, []string{"specversion", "id", "source", "type"}},
		{"specversion 1.0.2", func(e *canonical.Event) { e.SpecVersion = "1.0.2" }, []string{"specversion"}},
		{"specversion 0.3", func(e *canonical.Event) { e.SpecVersion = "0.3" }, []string{"specversion"}},
		{"id with newline", func(e *canonical.Event) { e.ID = "a\nb" }, []string{"id"}},
		{"id with C1 control", func(e *canonical.Event) { e.ID = "a\u0085b" }, []string{"id"}},
		{"id with DEL", func(e *canonical.Event) { e.ID = "a\x7fb" }, []string{"id"}},
		{"id with invalid UTF-8", func(e *canonical.Event) { e.ID = "a\xffb" }, []string{"id"}},
		{"subject with noncharacter U+FFFE", func(e *canonical.Event) { e.Subject = "SO\ufffe" }, []string{"subject"}},
		{"subject with noncharacter U+FDD0", func(e *canonical.Event) { e.Subject = "SO\ufdd0" }, []string{"subject"}},
		{"subject with noncharacter U+10FFFF", func(e *canonical.Event) { e.Subject = "SO\U0010ffff" }, []string{"subject"}},
		{"source with space", func(e *canonical.Event) { e.Source = "urn:distsync:erp d365" }, []string{"source"}},
		{"source with bad percent-encoding", func(e *canonical.Event) { e.Source = "/a%zz" }, []string{"source"}},
		{"source with truncated percent-encoding", func(e *canonical.Event) { e.Source = "/a%2" }, []string{"source"}},
		{"source with two fragments", func(e *canonical.Event) { e.Source = "/a#b#c" }, []string{"source"}},
		{"source with bracket in path", func(e *canonical.Event) { e.Source = "/a[b]" }, []string{"source"}},
		{"source starting with colon", func(e *canonical.Event) { e.Source = ":erp" }, []string{"source"}},
		{"source with non-ASCII", func(e *canonical.Event) { e.Source = "/lager/köln" }, []string{"source"}},
		{"type with tab", func(e *canonical.Event) { e.Type = "distsync.order\t.accepted.v1" }, []string{"type"}},
		{"time year 10000", func(e *canonical.Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, []string{"time"}},
		{"time year -1", func(e *canonical.Event) { e.Time = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }, []string{"time"}},
		{"time offset with seconds", func(e *canonical.Event) { e.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 3601)) }, []string{"time"}},
		{"time offset 24h", func(e *canonical.Event) { e.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)) }, []string{"time"}},
		{"datacontenttype without subtype", func(e *canonical.Event) { e.DataContentType = "json" }, []string{"datacontenttype"}},
		{"datacontenttype empty subtype", func(e *canonical.Event) { e.DataContentType = "text/" }, []string{"datacontenttype"}},
		{"dataschema relative", func(e *canonical.Event) { e.DataSchema = "/schemas/order" }, []string{"dataschema"}},
		{"dataschema with fragment", func(e *canonical.Event) { e.DataSchema = "https://x.dev/s.json#/defs/order" }, []string{"dataschema"}},
		{"data and binary data", func(e *canonical.Event) { e.BinaryData = []byte{1} }, []string{"data"}},
		{"data not JSON", func(e *canonical.Event) { e.Data = json.RawMessage(`{"id":`) }, []string{"data"}},
		{"data object with XML content type", func(e *canonical.Event) { e.DataContentType = "application/xml" }, []string{"data"}},
		{"data null with text content type", func(e *canonical.Event) {
			e.DataContentType, e.Data = "text/plain", json.RawMessage("null")
		}, []string{"data"}},
		{"correlationid with control", func(e *canonical.Event) { e.CorrelationID = "c\x00" }, []string{"correlationid"}},
		{"causationid with control", func(e *canonical.Event) { e.CausationID = "c\x1f" }, []string{"causationid"}},
		{"partitionkey with control", func(e *canonical.Event) { e.PartitionKey = "p\r" }, []string{"partitionkey"}},
		{"traceparent short", func(e *canonical.Event) { e.TraceParent = "00-4bf92f35-00f067aa-01" }, []string{"traceparent"}},
		{"traceparent upper-case hex", func(e *canonical.Event) {
			e.TraceParent = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"
		}, []string{"traceparent"}},
		{"traceparent version ff", func(e *canonical.Event) {
			e.TraceParent = "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		}, []string{"traceparent"}},
		{"traceparent version 00 too long", func(e *canonical.Event) {
			e.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"
		}, []string{"traceparent"}},
		{"traceparent zero trace-id", func(e *canonical.Event) {
			e.TraceParent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
		}, []string{"traceparent"}},
		{"traceparent zero parent-id", func(e *canonical.Event) {
			e.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"
		}, []string{"traceparent"}},
		{"sequence without subject", func(e *canonical.Event) { e.Subject = "" }, []string{"subjectseq"}},
		{"extension name upper case", func(e *canonical.Event) { e.Extensions = map[string]any{"Tenant": "a"} }, []string{"Tenant"}},
		{"extension name with dash", func(e *canonical.Event) { e.Extensions = map[string]any{"x-tenant": "a"} }, []string{"x-tenant"}},
		{"extension name with underscore", func(e *canonical.Event) { e.Extensions = map[string]any{"data_base64": "a"} }, []string{"data_base64"}},
		{"extension name empty", func(e *canonical.Event) { e.Extensions = map[string]any{"": "a"} }, []string{""}},
		{"extension name data", func(e *canonical.Event) { e.Extensions = map[string]any{"data": "a"} }, []string{"data"}},
		{"extension name id", func(e *canonical.Event) { e.Extensions = map[string]any{"id": "a"} }, []string{"id"}},
		{"extension name subjectseq", func(e *canonical.Event) { e.Extensions = map[string]any{"subjectseq": "a"} }, []string{"subjectseq"}},
		{"extension float value", func(e *canonical.Event) { e.Extensions = map[string]any{"weight": 1.5} }, []string{"weight"}},
		{"extension int out of range", func(e *canonical.Event) { e.Extensions = map[string]any{"big": math.MaxInt32 + 1} }, []string{"big"}},
		{"extension int64 out of range", func(e *canonical.Event) { e.Extensions = map[string]any{"big": int64(math.MinInt32) - 1} }, []string{"big"}},
		{"extension nil value", func(e *canonical.Event) { e.Extensions = map[string]any{"gone": nil} }, []string{"gone"}},
		{"extension map value", func(e *canonical.Event) { e.Extensions = map[string]any{"obj": map[string]any{}} }, []string{"obj"}},
		{"extension string with control", func(e *canonical.Event) { e.Extensions = map[string]any{"note": "a\u0007"} }, []string{"note"}},
		{"every violation listed", func(e *canonical.Event) {
			e.SpecVersion, e.ID, e.Source, e.Subject = "", "", "a b", ""
			e.Extensions = map[string]any{"Bad": 1, "data": 2}
		}, []string{"specversion", "id", "source", "subjectseq", "Bad", "data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := eventTestValid()
			tt.mutate(&e)
			err := e.Validate()
			if tt.fields == nil {
				require.NoError(t, err, "Validate of %q", tt.name)
				return
			}
			require.Error(t, err, "Validate of %q", tt.name)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "Validate of %q", tt.name)
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, "Validate of %q", tt.name)
			assert.Equal(t, "event", ve.Kind, "kind of %q", tt.name)
			got := make([]string, len(ve.Errors))
			for i, fe := range ve.Errors {
				got[i] = fe.Field
				assert.NotEmpty(t, fe.Message, "message for %s in %q", fe.Field, tt.name)
			}
			assert.Equal(t, tt.fields, got, "violated fields of %q (error: %v)", tt.name, err)

			_, err = json.Marshal(e)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "json.Marshal refuses the invalid event %q", tt.name)
		})
	}
}

func TestEventValidateMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(e *canonical.Event)
		want   string
	}{
		{"specversion", func(e *canonical.Event) { e.SpecVersion = "2.0" }, `canonical: invalid event: specversion: must be "1.0"`},
		{"id", func(e *canonical.Event) { e.ID = "" }, "canonical: invalid event: id: is required"},
		{"extension name", func(e *canonical.Event) { e.Extensions = map[string]any{"X": 1} },
			"canonical: invalid event: X: extension attribute name must consist of lowercase letters a-z and digits 0-9 only"},
		{"data name", func(e *canonical.Event) { e.Extensions = map[string]any{"data": 1} },
			"canonical: invalid event: data: is a reserved attribute name, not an extension"},
		{"both data", func(e *canonical.Event) { e.BinaryData = []byte{} },
			"canonical: invalid event: data: must not be present together with data_base64"},
		{"control", func(e *canonical.Event) { e.Subject = "a\tb" },
			"canonical: invalid event: subject: must not contain control character U+0009 at byte 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := eventTestValid()
			tt.mutate(&e)
			err := e.Validate()
			require.Error(t, err, "Validate with bad %s", tt.name)
			assert.Equal(t, tt.want, err.Error(), "message for bad %s", tt.name)
		})
	}
}

func TestEventMarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		event canonical.Event
		want  string
	}{
		{"everything", eventTestValid(), `{"specversion":"1.0","id":"evt-1","source":"urn:distsync:erp:d365",` +
			`"type":"distsync.order.accepted.v1","subject":"SO-1001","time":"2026-11-27T21:07:00.123456789+01:00",` +
			`"datacontenttype":"application/json","dataschema":"https://schemas.distsync.dev/order/v1.json",` +
			`"correlationid":"corr-1","causationid":"evt-0",` +
			`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",` +
			`"subjectseq":"00000000000000000042","partitionkey":"SO-1001",` +
			`"priority":5,"tenant":"acme","urgent":true,` +
			`"data":{"id":"SO-1001","lines":[{"sku":"A","qty":2}]}}`},
		{"minimal", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t"},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t"}`},
		{"binary", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t", BinaryData: []byte("hi!")},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"aGkh"}`},
		{"empty binary", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t", BinaryData: []byte{}},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":""}`},
		{"data compacted", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t", Data: json.RawMessage("{ \"a\" : [1, 2] }\n")},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":[1,2]}}`},
		{"escaped strings", canonical.Event{ID: `q"\u2028` + "\u2028", Source: "/s", SpecVersion: "1.0", Type: "t", Subject: "é<>&"},
			`{"specversion":"1.0","id":"q\"\\u2028\u2028","source":"/s","type":"t","subject":"é<>&"}`},
		{"max sequence and UTC time", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t", Subject: "s",
			Sequence: math.MaxUint64, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"s","time":"2026-01-02T03:04:05Z","subjectseq":"18446744073709551615"}`},
		{"sequence 1", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t", Subject: "s", Sequence: 1},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"s","subjectseq":"00000000000000000001"}`},
		{"standard sequence beside subjectseq", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t", Subject: "s", Sequence: 2,
			Extensions: map[string]any{"sequence": "0000000000000000000000000017"}},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"s","subjectseq":"00000000000000000002","sequence":"0000000000000000000000000017"}`},
		{"negative extension", canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t",
			Extensions: map[string]any{"n": math.MinInt32, "m": int64(-7), "f": false}},
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","f":false,"m":-7,"n":-2147483648}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.event.MarshalJSON()
			require.NoError(t, err, "MarshalJSON of %q", tt.name)
			assert.Equal(t, tt.want, string(got), "MarshalJSON of %q", tt.name)
			assert.True(t, json.Valid(got), "MarshalJSON of %q is valid JSON", tt.name)

			viaPointer, err := json.Marshal(&tt.event)
			require.NoError(t, err, "json.Marshal(&event) of %q", tt.name)
			var a, b canonical.Event
			require.NoError(t, json.Unmarshal(got, &a), "decode MarshalJSON output of %q", tt.name)
			require.NoError(t, json.Unmarshal(viaPointer, &b), "decode json.Marshal output of %q", tt.name)
			eventTestEqual(t, a, b, tt.name)
		})
	}
}

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	binary := canonical.Event{ID: "b", Source: "/wms", SpecVersion: "1.0", Type: "com.example.scan",
		DataContentType: "application/octet-stream", BinaryData: []byte{0, 0xff, 0x10, 'x'}}
	xml := canonical.Event{ID: "x", Source: "/wms", SpecVersion: "1.0", Type: "com.example.asn",
		DataContentType: "application/xml", Data: json.RawMessage(`"<asn/>"`)}
	null := canonical.Event{ID: "n", Source: "/wms", SpecVersion: "1.0", Type: "t", Data: json.RawMessage(`null`)}
	tests := []struct {
		name  string
		event canonical.Event
	}{
		{"everything", eventTestValid()},
		{"binary", binary},
		{"xml string data", xml},
		{"explicit null data", null},
		{"unicode attributes", canonical.Event{ID: "Ä-😀", Source: "urn:x", SpecVersion: "1.0", Type: "t", Subject: "日本"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.event)
			require.NoError(t, err, "encode %q", tt.name)
			var got canonical.Event
			require.NoError(t, json.Unmarshal(b, &got), "decode %s", b)
			eventTestEqual(t, tt.event, got, string(b))
		})
	}
}

func TestEventUnmarshalJSON(t *testing.T) {
	t.Parallel()
	const head = `"specversion":"1.0","id":"1","source":"/s","type":"t"`
	base := canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t"}
	with := func(f func(e *canonical.Event)) canonical.Event {
		e := base
		f(&e)
		return e
	}
	tests := []struct {
		input string
		want  canonical.Event
	}{
		{`{` + head + `}`, base},
		{` { "type" : "t" , "id":"1", "source":"/s", "specversion":"1.0" } `, base},
		{`{` + head + `,"subject":null,"time":null,"unsetext":null,"datacontenttype":null}`, base},
		{`{` + head + `,"time":"2018-04-05T17:31:00Z"}`, with(func(e *canonical.Event) { e.Time = time.Date(2018, 4, 5, 17, 31, 0, 0, time.UTC) })},
		{`{` + head + `,"time":"2018-04-05t17:31:00.5z"}`, with(func(e *canonical.Event) {
			e.Time = time.Date(2018, 4, 5, 17, 31, 0, 5e8, time.UTC)
		})},
		{`{` + head + `,"time":"2018-04-05T17:31:00-05:30"}`, with(func(e *canonical.Event) {
			e.Time = time.Date(2018, 4, 5, 17, 31, 0, 0, time.FixedZone("", -(5*3600+1800)))
		})},
		{`{` + head + `,"subject":"s","subjectseq":"00000000000000000007"}`, with(func(e *canonical.Event) { e.Subject, e.Sequence = "s", 7 })},
		{`{` + head + `,"data":{ "a" : 1 }}`, with(func(e *canonical.Event) { e.Data = json.RawMessage(`{"a":1}`) })},
		{`{` + head + `,"data":null}`, with(func(e *canonical.Event) { e.Data = json.RawMessage(`null`) })},
		{`{` + head + `,"data":"I'm just a string"}`, with(func(e *canonical.Event) { e.Data = json.RawMessage(`"I'm just a string"`) })},
		{`{` + head + `,"data_base64":"AAEC"}`, with(func(e *canonical.Event) { e.BinaryData = []byte{0, 1, 2} })},
		{`{` + head + `,"data_base64":""}`, with(func(e *canonical.Event) { e.BinaryData = []byte{} })},
		{`{` + head + `,"data_base64":null,"data":1}`, with(func(e *canonical.Event) { e.Data = json.RawMessage(`1`) })},
		{`{` + head + `,"comexampleothervalue":5,"comexampleextension1":"value","flag":false,"neg":-2147483648}`, with(func(e *canonical.Event) {
			e.Extensions = map[string]any{"comexampleothervalue": int32(5), "comexampleextension1": "value", "flag": false, "neg": int32(math.MinInt32)}
		})},
		{`{` + head + `,"correlationid":"c","causationid":"d","partitionkey":"p","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`,
			with(func(e *canonical.Event) {
				e.CorrelationID, e.CausationID, e.PartitionKey = "c", "d", "p"
				e.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
			})},
		{`{` + head + `,"subject":"\ud83d\ude00"}`, with(func(e *canonical.Event) { e.Subject = "😀" })},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			t.Parallel()
			var got canonical.Event
			require.NoError(t, json.Unmarshal([]byte(tt.input), &got), "decode %s", tt.input)
			assert.Equal(t, string(tt.want.Data), string(got.Data), "data (compacted, as sent) decoded from %s", tt.input)
			eventTestEqual(t, tt.want, got, tt.input)
		})
	}
}

func TestEventUnmarshalJSONInvalid(t *testing.T) {
	t.Parallel()
	const head = `"specversion":"1.0","id":"1","source":"/s","type":"t"`
	tests := []struct {
		input  string
		fields []string
		msg    string // a substring of the error
	}{
		{`[]`, []string{""}, "must be a JSON object"},
		{`"event"`, []string{""}, "must be a JSON object"},
		{`null`, []string{""}, "must be a JSON object"},
		{`{}`, []string{"specversion", "id", "source", "type"}, "is required"},
		{`{"specversion":"1.0"}`, []string{"id", "source", "type"}, "id: is required"},
		{`{` + head + `,"id":"2"}`, []string{"id"}, "duplicate attribute"},
		{`{` + head + `,"x":1,"x":2}`, []string{"x"}, "duplicate attribute"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":null}`, []string{"type"}, "is required"},
		{`{"specversion":"0.3","id":"1","source":"/s","type":"t"}`, []string{"specversion"}, `must be "1.0"`},
		{`{"specversion":1.0,"id":"1","source":"/s","type":"t"}`, []string{"specversion"}, "must be a JSON string, got number"},
		{`{"specversion":"1.0","id":1,"source":"/s","type":"t"}`, []string{"id"}, "must be a JSON string, got number"},
		{`{"specversion":"1.0","id":"","source":"/s","type":"t"}`, []string{"id"}, "must not be empty"},
		{`{"specversion":"1.0","id":"1","source":{},"type":"t"}`, []string{"source"}, "got object"},
		{`{"specversion":"1.0","id":"1","source":"a b","type":"t"}`, []string{"source"}, "URI-reference"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":["t"]}`, []string{"type"}, "got array"},
		{`{"SpecVersion":"1.0","id":"1","source":"/s","type":"t"}`, []string{"SpecVersion", "specversion"}, "lowercase"},
		{`{` + head + `,"subject":""}`, []string{"subject"}, "must not be empty"},
		{`{` + head + `,"subject":"a\u0000b"}`, []string{"subject"}, "control character U+0000"},
		{`{` + head + `,"subject":"a\ufffeb"}`, []string{"subject"}, "noncharacter"},
		{`{` + head + `,"time":"2018-04-05 17:31:00Z"}`, []string{"time"}, "RFC 3339"},
		{`{` + head + `,"time":"2018-04-05T17:31:00,5Z"}`, []string{"time"}, "RFC 3339"},
		{`{` + head + `,"time":"2018-04-05T17:31:00"}`, []string{"time"}, "RFC 3339"},
		{`{` + head + `,"time":"2018-04-05T17:31:00+24:00"}`, []string{"time"}, "the offset hour must be 00–23, is 24"},
		{`{` + head + `,"time":1522949460}`, []string{"time"}, "got number"},
		{`{` + head + `,"time":"2026-01-02T3:04:05Z"}`, []string{"time"}, "the hour must have exactly 2 digits"},
		{`{` + head + `,"time":"2026-01-02T03:04:05+00:60"}`, []string{"time"}, "the offset minute must be 00–59, is 60"},
		{`{` + head + `,"time":"2026-01-02T24:00:00Z"}`, []string{"time"}, "the hour must be 00–23, is 24"},
		{`{` + head + `,"time":"2016-12-31T23:59:60Z"}`, []string{"time"}, "leap second"},
		{`{` + head + `,"datacontenttype":"json"}`, []string{"datacontenttype"}, "type/subtype"},
		{`{` + head + `,"dataschema":"schema.json"}`, []string{"dataschema"}, "absolute URI"},
		{`{` + head + `,"subject":"s","subjectseq":"7"}`, []string{"subjectseq"}, "20 decimal digits"},
		{`{` + head + `,"subject":"s","subjectseq":7}`, []string{"subjectseq"}, "got number"},
		{`{` + head + `,"subject":"s","subjectseq":"0000000000000000000x"}`, []string{"subjectseq"}, "20 decimal digits"},
		{`{` + head + `,"subject":"s","subjectseq":"+0000000000000000001"}`, []string{"subjectseq"}, "20 decimal digits"},
		{`{` + head + `,"subject":"s","subjectseq":"00000000000000000000"}`, []string{"subjectseq"}, "greater than zero"},
		{`{` + head + `,"subject":"s","subjectseq":"99999999999999999999"}`, []string{"subjectseq"}, "must not exceed"},
		{`{` + head + `,"subject":"s","subjectseq":"000000000000000000001"}`, []string{"subjectseq"}, "20 decimal digits"},
		{`{` + head + `,"subjectseq":"00000000000000000001"}`, []string{"subjectseq"}, "requires subject"},
		{`{` + head + `,"traceparent":"00-abc"}`, []string{"traceparent"}, "W3C traceparent"},
		{`{` + head + `,"correlationid":true}`, []string{"correlationid"}, "got boolean"},
		{`{` + head + `,"data":{},"data_base64":"AA=="}`, []string{"data"}, "together with data_base64"},
		{`{` + head + `,"data_base64":"AA==","data":{}}`, []string{"data"}, "together with data_base64"},
		{`{` + head + `,"data_base64":"not base64!"}`, []string{"data_base64"}, "Base64"},
		{`{` + head + `,"data_base64":"AA"}`, []string{"data_base64"}, "Base64"},
		{`{` + head + `,"data_base64":"AA==\n"}`, []string{"data_base64"}, "line breaks"},
		{`{` + head + `,"data_base64":5}`, []string{"data_base64"}, "got number"},
		{`{` + head + `,"datacontenttype":"application/xml","data":{"a":1}}`, []string{"data"}, "must be a JSON string"},
		{`{` + head + `,"Tenant":"acme"}`, []string{"Tenant"}, "lowercase"},
		{`{` + head + `,"x-tenant":"acme"}`, []string{"x-tenant"}, "lowercase"},
		{`{` + head + `,"":"acme"}`, []string{""}, "must not be empty"},
		{`{` + head + `,"ext":{"a":1}}`, []string{"ext"}, "got object"},
		{`{` + head + `,"ext":[1]}`, []string{"ext"}, "got array"},
		{`{` + head + `,"ext":1.5}`, []string{"ext"}, "int32 range"},
		{`{` + head + `,"ext":1e3}`, []string{"ext"}, "int32 range"},
		{`{` + head + `,"ext":2147483648}`, []string{"ext"}, "int32 range"},
		{`{` + head + `,"ext":"a\u0001"}`, []string{"ext"}, "control character"},
		{`{"specversion":"1.0","id":1,"source":2,"type":3,"Bad":4}`, []string{"id", "source", "type", "Bad"}, "must be a JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			t.Parallel()
			e := canonical.Event{ID: "untouched"}
			err := json.Unmarshal([]byte(tt.input), &e)
			require.Error(t, err, "decode %s", tt.input)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "decode %s", tt.input)
			assert.Contains(t, err.Error(), tt.msg, "decode %s", tt.input)
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, "decode %s", tt.input)
			got := make([]string, len(ve.Errors))
			for i, fe := range ve.Errors {
				got[i] = fe.Field
			}
			assert.ElementsMatch(t, tt.fields, got, "fields named decoding %s (error: %v)", tt.input, err)
			assert.Equal(t, canonical.Event{ID: "untouched"}, e, "event left unchanged after decoding %s", tt.input)
		})
	}
}

func TestEventUnmarshalJSONMalformed(t *testing.T) {
	t.Parallel()
	// json.Unmarshal checks the syntax before calling UnmarshalJSON, so
	// these call the method directly, as other decoders may.
	tests := []struct {
		input string
		field string
	}{
		{``, ""},
		{`{`, ""},
		{`{"id"`, "id"},
		{`{"id":`, "id"},
		{`{"id":"1",}`, ""},
		{`{"data":{"a":}}`, "data"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t"} {}`, ""},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t"} x`, ""},
		{`{"id":tru}`, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			t.Parallel()
			var e canonical.Event
			err := e.UnmarshalJSON([]byte(tt.input))
			require.Error(t, err, "decode %q", tt.input)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "decode %q", tt.input)
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, "decode %q", tt.input)
			require.Len(t, ve.Errors, 1, "one violation decoding %q: %v", tt.input, err)
			assert.Equal(t, tt.field, ve.Errors[0].Field, "field named decoding %q: %v", tt.input, err)
		})
	}
}

func TestEventKeyAndPartition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		event     canonical.Event
		key       canonical.EventKey
		keyString string
		partition string
	}{
		{"subject only", canonical.Event{Source: "urn:erp", ID: "1", Subject: "SO-1"},
			canonical.EventKey{Source: "urn:erp", ID: "1"}, "urn:erp 1", "SO-1"},
		{"partition key wins", canonical.Event{Source: "urn:wms", ID: "a b", Subject: "SO-1", PartitionKey: "SKU-9@WH1"},
			canonical.EventKey{Source: "urn:wms", ID: "a b"}, "urn:wms a b", "SKU-9@WH1"},
		{"neither", canonical.Event{Source: "/s", ID: "2"}, canonical.EventKey{Source: "/s", ID: "2"}, "/s 2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.key, tt.event.Key(), "Key of %q", tt.name)
			assert.Equal(t, tt.keyString, tt.event.Key().String(), "Key().String() of %q", tt.name)
			assert.Equal(t, tt.partition, tt.event.Partition(), "Partition of %q", tt.name)
		})
	}
	// The same source and ID is the same event, whatever else differs.
	seen := map[canonical.EventKey]bool{}
	seen[canonical.Event{Source: "urn:erp", ID: "1", Subject: "a"}.Key()] = true
	assert.True(t, seen[canonical.Event{Source: "urn:erp", ID: "1", Subject: "b"}.Key()], "same source+id dedupes")
	assert.False(t, seen[canonical.Event{Source: "urn:wms", ID: "1"}.Key()], "other source is another event")
}

func TestNewEvent(t *testing.T) {
	t.Parallel()
	order := eventTestOrder{ID: "SO-1", Lines: []eventTestLine{{SKU: "A", Qty: 1}}}

	t.Run("order accepted", func(t *testing.T) {
		t.Parallel()
		e, err := canonical.NewEvent(canonical.EventOrderAccepted, order)
		require.NoError(t, err, "NewEvent(order.accepted, order)")
		assert.Equal(t, canonical.Event{
			SpecVersion:     "1.0",
			Type:            canonical.EventOrderAccepted,
			DataContentType: "application/json",
			Data:            json.RawMessage(`{"id":"SO-1","lines":[{"sku":"A","qty":1}]}`),
		}, e, "NewEvent(order.accepted, order)")
		err = e.Validate()
		var ve *canonical.ValidationError
		require.ErrorAs(t, err, &ve, "new event lacks id and source")
		assert.True(t, ve.Has("id") && ve.Has("source") && len(ve.Errors) == 2, "only id and source missing: %v", err)
	})
	t.Run("pointer document", func(t *testing.T) {
		t.Parallel()
		e, err := canonical.NewEvent(canonical.EventShipmentConfirmed, &eventTestShipment{ID: "SH-1"})
		require.NoError(t, err, "NewEvent(shipment.confirmed, *shipment)")
		assert.JSONEq(t, `{"id":"SH-1","tracking":""}`, string(e.Data), "data of shipment event")
	})

	errTests := []struct {
		name     string
		typ      canonical.EventType
		doc      canonical.Document
		sentinel error
		msg      string
		fields   []string
	}{
		{"unknown type", "distsync.order.exploded.v1", order, canonical.ErrEventType,
			`canonical: unknown event type "distsync.order.exploded.v1"`, nil},
		{"kind mismatch", canonical.EventShipmentConfirmed, order, canonical.ErrEventType,
			`canonical: event type "distsync.shipment.confirmed.v1" carries shipment, not order`, nil},
		{"order ack expected", canonical.EventOrderValidated, order, canonical.ErrEventType,
			`canonical: event type "distsync.order.validated.v1" carries order_ack, not order`, nil},
		{"nil document", canonical.EventOrderAccepted, nil, canonical.ErrInvalid,
			"canonical: invalid event: data: document is nil", []string{"data"}},
		{"nil pointer document", canonical.EventShipmentConfirmed, (*eventTestShipment)(nil), canonical.ErrInvalid,
			"canonical: invalid event: data: document is nil", []string{"data"}},
		{"invalid document", canonical.EventOrderAccepted, eventTestOrder{Lines: []eventTestLine{{Qty: 0}}}, canonical.ErrInvalid,
			"canonical: invalid event: data.id: is required; data.lines[0].qty: must be > 0", []string{"data.id", "data.lines[0].qty"}},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := canonical.NewEvent(tt.typ, tt.doc)
			require.Error(t, err, "NewEvent(%s, %T)", tt.typ, tt.doc)
			assert.ErrorIs(t, err, tt.sentinel, "NewEvent(%s, %T)", tt.typ, tt.doc)
			assert.Equal(t, tt.msg, err.Error(), "NewEvent(%s, %T)", tt.typ, tt.doc)
			assert.Equal(t, canonical.Event{}, e, "no event on error for %s", tt.name)
			if tt.sentinel == canonical.ErrEventType {
				var te *canonical.EventTypeError
				require.ErrorAs(t, err, &te, "NewEvent(%s, %T)", tt.typ, tt.doc)
				assert.Equal(t, tt.typ, te.Type, "EventTypeError.Type for %s", tt.name)
				assert.False(t, errors.Is(err, canonical.ErrInvalid), "a type mismatch is not invalid data: %s", tt.name)
			}
			for _, f := range tt.fields {
				var ve *canonical.ValidationError
				require.ErrorAs(t, err, &ve, "NewEvent(%s, %T)", tt.typ, tt.doc)
				assert.True(t, ve.Has(f), "NewEvent(%s, %T) names %s", tt.typ, tt.doc, f)
			}
		})
	}
}

func TestDecodeData(t *testing.T) {
	t.Parallel()
	orderEvent := func(data string) canonical.Event {
		return canonical.Event{ID: "1", Source: "/erp", SpecVersion: "1.0", Type: canonical.EventOrderAccepted,
			DataContentType: "application/json", Data: json.RawMessage(data)}
	}

	t.Run("order round trip through JSON", func(t *testing.T) {
		t.Parallel()
		want := eventTestOrder{ID: "SO-1", Lines: []eventTestLine{{SKU: "A", Qty: 3}}}
		e, err := canonical.NewEvent(canonical.EventOrderHeld, want)
		require.NoError(t, err, "NewEvent(order.held)")
		e.ID, e.Source = "1", "/erp"
		b, err := json.Marshal(e)
		require.NoError(t, err, "encode order.held")
		var decoded canonical.Event
		require.NoError(t, json.Unmarshal(b, &decoded), "decode %s", b)
		got, err := canonical.DecodeData[eventTestOrder](decoded)
		require.NoError(t, err, "DecodeData[order] of %s", b)
		assert.Equal(t, want, got, "DecodeData[order] of %s", b)
	})
	t.Run("pointer type", func(t *testing.T) {
		t.Parallel()
		e := canonical.Event{ID: "1", Source: "/wms", SpecVersion: "1.0", Type: canonical.EventFulfillmentShipped,
			Data: json.RawMessage(`{"id":"SH-1","tracking":"1Z999"}`)}
		got, err := canonical.DecodeData[*eventTestShipment](e)
		require.NoError(t, err, "DecodeData[*shipment] with implied JSON content type")
		assert.Equal(t, &eventTestShipment{ID: "SH-1", Tracking: "1Z999"}, got, "DecodeData[*shipment]")
	})
	t.Run("+json content type", func(t *testing.T) {
		t.Parallel()
		e := orderEvent(`{"id":"SO-2"}`)
		e.DataContentType = "application/vnd.distsync+json"
		got, err := canonical.DecodeData[eventTestOrder](e)
		require.NoError(t, err, "DecodeData with +json content type")
		assert.Equal(t, eventTestOrder{ID: "SO-2"}, got, "DecodeData with +json content type")
	})

	t.Run("kind mismatch", func(t *testing.T) {
		t.Parallel()
		_, err := canonical.DecodeData[*eventTestShipment](orderEvent(`{"id":"SO-1"}`))
		require.ErrorIs(t, err, canonical.ErrEventType, "DecodeData[*shipment] of order.accepted")
		var te *canonical.EventTypeError
		require.ErrorAs(t, err, &te, "DecodeData[*shipment] of order.accepted")
		assert.Equal(t, canonical.EventTypeError{Type: canonical.EventOrderAccepted, Kind: canonical.KindOrder, Document: canonical.KindShipment}, *te,
			"EventTypeError of DecodeData[*shipment] of order.accepted")
		assert.Equal(t, `canonical: event type "distsync.order.accepted.v1" carries order, not shipment`, err.Error(), "message")
	})
	t.Run("unknown type", func(t *testing.T) {
		t.Parallel()
		e := orderEvent(`{"id":"SO-1"}`)
		e.Type = "com.example.order.v1"
		_, err := canonical.DecodeData[eventTestOrder](e)
		require.ErrorIs(t, err, canonical.ErrEventType, "DecodeData of com.example.order.v1")
		assert.Equal(t, `canonical: unknown event type "com.example.order.v1"`, err.Error(), "message")
	})
	t.Run("interface type", func(t *testing.T) {
		t.Parallel()
		_, err := canonical.DecodeData[canonical.Document](orderEvent(`{"id":"SO-1"}`))
		require.ErrorIs(t, err, canonical.ErrEventType, "DecodeData[Document]")
		assert.Contains(t, err.Error(), "concrete document type", "DecodeData[Document]")
	})

	invalid := []struct {
		name  string
		event canonical.Event
		field string
		msg   string
	}{
		{"no data", orderEvent(""), "data", "data: is required for distsync.order.accepted.v1"},
		{"null data", orderEvent("null"), "data", "data: must be a order document, not null"},
		{"binary data", canonical.Event{Type: canonical.EventOrderAccepted, BinaryData: []byte("{}")}, "data_base64", "carries JSON data, not binary"},
		{"xml content type", func() canonical.Event {
			e := orderEvent(`"<order/>"`)
			e.DataContentType = "application/xml"
			return e
		}(), "datacontenttype", `must be JSON for distsync.order.accepted.v1, got "application/xml"`},
		{"wrong JSON type", orderEvent(`{"id":"SO-1","lines":[{"sku":"A","qty":"two"}]}`), "data.lines.qty", "cannot decode JSON string into int"},
		{"array data", orderEvent(`[1]`), "data", "cannot decode JSON array"},
		{"malformed data", orderEvent(`{"id":`), "data", "malformed JSON at offset"},
		{"invalid document", orderEvent(`{"id":"SO-1","lines":[{"sku":"A","qty":0}]}`), "data.lines[0].qty", "data.lines[0].qty: must be > 0"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := canonical.DecodeData[eventTestOrder](tt.event)
			require.Error(t, err, "DecodeData of %q", tt.name)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "DecodeData of %q", tt.name)
			assert.Contains(t, err.Error(), tt.msg, "DecodeData of %q", tt.name)
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, "DecodeData of %q", tt.name)
			assert.True(t, ve.Has(tt.field), "DecodeData of %q names %s: %v", tt.name, tt.field, err)
			assert.Equal(t, eventTestOrder{}, got, "zero document on error for %q", tt.name)
		})
	}
}

func BenchmarkEventJSON(b *testing.B) {
	e, err := canonical.NewEvent(canonical.EventOrderAccepted, eventTestOrder{ID: "SO-1001", Lines: []eventTestLine{
		{SKU: "SKU-1", Qty: 2}, {SKU: "SKU-2", Qty: 10}, {SKU: "SKU-3", Qty: 1},
	}})
	require.NoError(b, err, "NewEvent")
	e.ID, e.Source, e.Subject, e.Sequence = "0193b1c2-7d4e-7c3a-9f00-5a1b2c3d4e5f", "urn:distsync:erp:d365", "SO-1001", 42
	e.Time = time.Date(2026, 11, 27, 21, 7, 0, 0, time.UTC)
	e.CorrelationID, e.CausationID = "corr-SO-1001", "0193b1c2-7d4e-7c3a-9f00-5a1b2c3d4e50"
	e.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	encoded, err := e.MarshalJSON()
	require.NoError(b, err, "MarshalJSON")

	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got canonical.Event
			if err := got.UnmarshalJSON(encoded); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode+decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := e.MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			var got canonical.Event
			if err := got.UnmarshalJSON(out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
