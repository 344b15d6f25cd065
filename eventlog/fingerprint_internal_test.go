package eventlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
)

var fingerprintCases = []struct {
	name string
	ev   canonical.Event
}{
	{"empty", canonical.Event{}},
	{"json", canonical.Event{Type: "com.example.order.accepted.v1", Subject: "order-1", DataContentType: "application/json", Sequence: 7, Data: json.RawMessage(`{"n":1,"lines":[{"sku":"A-1","qty":"2"}]}`)}},
	{"json with whitespace", canonical.Event{Type: "com.example.order.accepted.v1", Subject: "order-1", DataContentType: "application/json", Sequence: 7, Data: json.RawMessage("{ \"n\" : 1,\n \"lines\": [ {\"sku\": \"A-1\", \"qty\": \"2\"} ] }")}},
	{"not json", canonical.Event{Type: "t", Subject: "s", DataContentType: "text/plain", Data: json.RawMessage("not json at all")}},
	{"schema", canonical.Event{Type: "t", Subject: "s", DataSchema: "https://example.com/schema/v1", Sequence: 1 << 40, Data: json.RawMessage(`"x"`)}},
	{"binary", canonical.Event{Type: "t", Subject: "s", DataContentType: "application/octet-stream", BinaryData: []byte{0, 1, 2, 0xff}}},
	{"empty binary", canonical.Event{Type: "t", Subject: "s", BinaryData: []byte{}}},
	{"large json", canonical.Event{Type: "t", Subject: "s", Data: json.RawMessage(`{"pad":"` + strings.Repeat("x", 70<<10) + `"}`)}},
}

// TestContentFingerprintGolden pins the fingerprints of content: dedupe
// stores keep them, so a change of layout would turn the redeliveries of
// events stored before it into mismatches. The values were computed by
// the first implementation, which fed the fields to SHA-256 one by one.
func TestContentFingerprintGolden(t *testing.T) {
	want := map[string]string{
		"empty":                "d4817aa5497628e7c77e6b606107042bbba3130888c5f47a375e6179be789fbb",
		"json":                 "8ea6d7a339e6ea7353702af1959292f6be1b39bfbc914f2b42e9af25ce15f9a9",
		"json with whitespace": "8ea6d7a339e6ea7353702af1959292f6be1b39bfbc914f2b42e9af25ce15f9a9",
		"not json":             "4242e6064adc039c3239476e92e380f86b9647641bf60d2b2168099aafdbffb9",
		"schema":               "b6eb0c018c22c89c5e051be61282d16ce21909a1ca7ab4aa5f32f6729ea16e60",
		"binary":               "07af600dfbdeb29ba1de28fedad203a6099aa8e9a89e47b2ec99314f111359e9",
		"empty binary":         "0b375d753e950a3695110df30ef42c71d9b0e03256ac3d6a9a9f0d4c00548f8e",
		"large json":           "eda1427b0c981edb93855f2b7f8b29ddde6f8e06b4b68c722e904960368bedcf",
	}
	for _, c := range fingerprintCases {
		t.Run(c.name, func(t *testing.T) {
			ev := c.ev
			// Twice: the second time on a buffer reused from the pool.
			assert.Equal(t, want[c.name], contentFingerprint(&ev).String(), "first fingerprint of %s", c.name)
			assert.Equal(t, want[c.name], contentFingerprint(&ev).String(), "second fingerprint of %s", c.name)
		})
	}
}

func BenchmarkContentFingerprint(b *testing.B) {
	ev := fingerprintCases[1].ev
	b.ReportAllocs()
	for b.Loop() {
		_ = contentFingerprint(&ev)
	}
}

// referenceFingerprint is contentFingerprint as first written, compacting
// every JSON data: the shortcut for data without whitespace must agree.
func referenceFingerprint(ev *canonical.Event) string {
	var buf bytes.Buffer
	u64 := func(n uint64) { buf.Write(binary.BigEndian.AppendUint64(nil, n)) }
	field := func(s string) { u64(uint64(len(s))); buf.WriteString(s) }
	field(string(ev.Type))
	field(ev.Subject)
	field(ev.DataContentType)
	field(ev.DataSchema)
	u64(ev.Sequence)
	var data bytes.Buffer
	if len(ev.Data) == 0 || json.Compact(&data, ev.Data) != nil {
		data.Reset()
		data.Write(ev.Data)
	}
	u64(uint64(data.Len()))
	buf.Write(data.Bytes())
	u64(uint64(len(ev.BinaryData)))
	buf.Write(ev.BinaryData)
	return hex.EncodeToString(func() []byte { s := sha256.Sum256(buf.Bytes()); return s[:] }())
}

func FuzzContentFingerprint(f *testing.F) {
	for _, d := range []string{`{"n":1}`, `{ "n": 1 }`, `{"a":`, "not json", `"x y"`, "[1,\t2]", "", "\x00"} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data string) {
		ev := canonical.Event{Type: "t", Subject: "s", Data: json.RawMessage(data)}
		assert.Equal(t, referenceFingerprint(&ev), contentFingerprint(&ev).String(), "fingerprint of data %q", data)
	})
}

// TestProcessFingerprint checks the fingerprint given to an in-process
// store: stable within the process, equal for the same content with other
// JSON whitespace, distinct for every other content, never the zero
// Fingerprint (which means "content unknown"), and not mistaken for the
// SHA-256 one.
func TestProcessFingerprint(t *testing.T) {
	seen := make(map[string]string)
	for _, c := range fingerprintCases {
		t.Run(c.name, func(t *testing.T) {
			ev := c.ev
			fp := processFingerprint(&ev)
			assert.False(t, fp.IsZero(), "fingerprint of %s is zero", c.name)
			assert.Equal(t, fp, processFingerprint(&ev), "second fingerprint of %s", c.name)
			assert.NotEqual(t, contentFingerprint(&ev), fp, "SHA-256 and process fingerprints of %s", c.name)
			name := c.name
			if name == "json with whitespace" {
				name = "json" // the same content
			}
			if other, ok := seen[fp.String()]; ok {
				assert.Equal(t, name, other, "%s has the fingerprint of %s", c.name, other)
			}
			seen[fp.String()] = name
		})
	}
	assert.Len(t, seen, len(fingerprintCases)-1, "distinct fingerprints")
}

// TestProcessFingerprintFields changes one field at a time and checks that
// each changes the fingerprint, and that what the fingerprint leaves out
// (tracing attributes, time, ID) does not.
func TestProcessFingerprintFields(t *testing.T) {
	base := fingerprintCases[1].ev
	for _, tt := range []struct {
		name   string
		change func(*canonical.Event)
		same   bool
	}{
		{"type", func(e *canonical.Event) { e.Type += "x" }, false},
		{"subject", func(e *canonical.Event) { e.Subject += "x" }, false},
		{"data content type", func(e *canonical.Event) { e.DataContentType = "text/json" }, false},
		{"data schema", func(e *canonical.Event) { e.DataSchema = "https://example.com/s" }, false},
		{"sequence", func(e *canonical.Event) { e.Sequence++ }, false},
		{"data", func(e *canonical.Event) { e.Data = json.RawMessage(`{"n":2}`) }, false},
		{"binary data", func(e *canonical.Event) { e.Data, e.BinaryData = nil, []byte(`{"n":1}`) }, false},
		{"field boundary", func(e *canonical.Event) { e.Type, e.Subject = e.Type+"o", e.Subject[1:] }, false},
		{"correlation ID", func(e *canonical.Event) { e.CorrelationID = "other" }, true},
		{"traceparent", func(e *canonical.Event) { e.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }, true},
		{"ID", func(e *canonical.Event) { e.ID = "other" }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := base
			tt.change(&ev)
			if tt.same {
				assert.Equal(t, processFingerprint(&base), processFingerprint(&ev), "a change of %s", tt.name)
			} else {
				assert.NotEqual(t, processFingerprint(&base), processFingerprint(&ev), "a change of %s", tt.name)
			}
		})
	}
}

func BenchmarkProcessFingerprint(b *testing.B) {
	ev := fingerprintCases[1].ev
	b.ReportAllocs()
	for b.Loop() {
		_ = processFingerprint(&ev)
	}
}
