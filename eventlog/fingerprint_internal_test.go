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
