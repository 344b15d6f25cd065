package jsonfast_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/jsonfast"
)

// record is a struct whose json.Marshal bytes the tests compare the
// Writer's with.
type record struct {
	ID      string            `json:"id"`
	Name    string            `json:"name,omitempty"`
	N       int64             `json:"n"`
	OK      bool              `json:"ok"`
	Flag    bool              `json:"flag,omitempty"`
	At      time.Time         `json:"at"`
	When    time.Time         `json:"when,omitzero"`
	Tags    []string          `json:"tags,omitempty"`
	Lines   []string          `json:"lines"`
	Sub     []sub             `json:"sub,omitempty"`
	ByKey   map[string]string `json:"byKey,omitempty"`
	Decimal string            `json:"decimal"`
}

type sub struct {
	K string `json:"k"`
}

// write encodes r with a Writer, member by member.
func write(r *record) ([]byte, error) {
	var w jsonfast.Writer
	w.Open()
	w.Str("id", r.ID)
	w.StrOmit("name", r.Name)
	w.Int("n", r.N)
	w.Bool("ok", r.OK)
	w.BoolOmit("flag", r.Flag)
	w.TimeAlways("at", r.At)
	w.Time("when", r.When)
	w.Strings("tags", r.Tags)
	if w.ArrayOrNull("lines", r.Lines == nil) {
		for _, l := range r.Lines {
			w.String(l)
		}
		w.CloseArray()
	}
	if w.ArrayOmit("sub", len(r.Sub)) {
		for i := range r.Sub {
			w.Open()
			w.Str("k", r.Sub[i].K)
			w.Close()
		}
		w.CloseArray()
	}
	if len(r.ByKey) > 0 {
		w.Object("byKey")
		for _, k := range []string{"<a>", "b\"q"} { // the sorted keys of the cases
			if v, ok := r.ByKey[k]; ok {
				w.MapKey(k)
				w.String(v)
			}
		}
		w.Close()
	}
	w.Text("decimal", func(b []byte) ([]byte, error) { return append(b, r.Decimal...), nil })
	w.Close()
	return w.B, w.Err
}

func TestWriterMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 4, 5, 600, time.FixedZone("", -5*3600))
	for _, tc := range []struct {
		name string
		r    record
	}{
		{"zero", record{}},
		{"full", record{ID: "O-1", Name: "a<b>&c", N: math.MinInt64, OK: true, Flag: true, At: at, When: at.UTC(),
			Tags: []string{"x", "é\u2028"}, Lines: []string{}, Sub: []sub{{"1"}, {"\x00"}},
			ByKey: map[string]string{"b\"q": "2", "<a>": "1"}, Decimal: "12.50"}},
		{"lines", record{Lines: []string{"a", "b"}, Sub: []sub{{""}}}},
		{"invalid utf-8", record{ID: "a\xffb", Name: "\t\n\r\b\f\\"}},
	} {
		want, err := json.Marshal(tc.r)
		require.NoError(t, err, tc.name)
		got, err := write(&tc.r)
		require.NoError(t, err, tc.name)
		assert.Equal(t, string(want), string(got), "%s: the Writer writes json.Marshal's bytes", tc.name)
	}
}

func TestWriterTimeOutOfRange(t *testing.T) {
	var w jsonfast.Writer
	w.Open()
	w.TimeAlways("at", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	w.Close()
	require.Error(t, w.Err, "a year past 9999 is an error, as json.Marshal's")
	assert.Contains(t, w.Err.Error(), "at: ", "the error names the member")
}

// FuzzAppendString checks AppendString against json.Marshal for any
// string, with and without HTML escaping.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\u2028\u2029", "\xff", "\"\\\x01\x1f", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(jsonfast.AppendString(nil, s, true)), "escaped %q", s)
		var got string
		require.NoError(t, json.Unmarshal(jsonfast.AppendString(nil, s, false), &got), "unescaped %q decodes", s)
		var back string
		require.NoError(t, json.Unmarshal(want, &back))
		assert.Equal(t, back, got, "unescaped %q decodes to what json.Marshal's does", s)
	})
}

// BenchmarkAppendString appends strings of the kinds the documents hold
// (IDs, names, addresses, times as text, source message IDs), none of which
// needs escaping.
func BenchmarkAppendString(b *testing.B) {
	ss := []string{"ORD-000123", "Borealis Supply", "900 NW Front Ave", "Portland", "crm", "opportunity", "SKU-100",
		"2026-12-07T12:17:59.856184053Z", "wms/shipment/ORD-000001-WH-EAST-S1"}
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		buf = buf[:0]
		for _, s := range ss {
			buf = jsonfast.AppendString(buf, s, true)
		}
	}
}
