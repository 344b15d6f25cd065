package eventlog

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/distsync/distsync/canonical"
)

// FuzzDecodeEntry feeds arbitrary stored payloads to the decoder of the SQL
// backend: it never panics, a payload it rejects is an [ErrUndecodable]
// entry keeping the raw bytes and offset, and a payload it accepts
// round-trips: encoding the event and decoding it again gives the same
// event.
func FuzzDecodeEntry(f *testing.F) {
	ev := canonical.Event{ID: "o-1", Source: "urn:distsync:test", SpecVersion: canonical.EventSpecVersion,
		Type: "distsync.order.accepted.v1", Subject: "o", CorrelationID: "c", CausationID: "x", Sequence: 3,
		PartitionKey: "p", Data: json.RawMessage(`{"n":1}`)}
	b, err := ev.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"urn:x","type":"t"}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"urn:x","type":"t","data_base64":"AAE="}`))
	f.Add([]byte(`{"specversion":"1.0",`))
	f.Add([]byte(`null`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		e := decodeEntry(7, payload)
		if e.Offset != 7 {
			t.Fatalf("offset %d, want 7", e.Offset)
		}
		if e.Err != nil {
			var de *DecodeError
			if !errors.Is(e.Err, ErrUndecodable) || !errors.As(e.Err, &de) || de.Offset != 7 {
				t.Fatalf("error %v is not a DecodeError at offset 7", e.Err)
			}
			if string(e.Raw) != string(payload) {
				t.Fatalf("raw %q, want %q", e.Raw, payload)
			}
			if !reflect.ValueOf(e.Event).IsZero() {
				t.Fatalf("undecodable entry carries an event: %+v", e.Event)
			}
			return
		}
		again, err := e.Event.MarshalJSON()
		if err != nil {
			t.Fatalf("decoded event %+v does not encode: %v", e.Event, err)
		}
		e2 := decodeEntry(7, again)
		if e2.Err != nil {
			t.Fatalf("re-encoded event %s does not decode: %v", again, e2.Err)
		}
		third, err := e2.Event.MarshalJSON()
		if err != nil || string(third) != string(again) {
			t.Fatalf("round trip not stable:\n%s\n%s (%v)", again, third, err)
		}
	})
}
