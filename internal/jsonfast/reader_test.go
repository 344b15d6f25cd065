package jsonfast_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/jsonfast"
)

func TestReaderValues(t *testing.T) {
	for _, tc := range []struct {
		in   string
		read func(r *jsonfast.Reader) (any, bool)
		want any // nil when refused
	}{
		{`"abc"`, str, "abc"},
		{` "" `, str, ""},
		{`"Hämmer"`, str, "Hämmer"},
		{`"a\"b"`, str, nil},
		{"\"a\x01\"", str, nil},
		{"\"\xff\"", str, nil},
		{`"abc`, str, nil},
		{`null`, str, nil},
		{`12`, int64v, int64(12)},
		{`-0`, int64v, int64(0)},
		{`-9223372036854775808`, int64v, int64(-9223372036854775808)},
		{`9223372036854775808`, int64v, nil},
		{`01`, int64v, nil},
		{`1.0`, int64v, nil},
		{`1e2`, int64v, nil},
		{`-`, int64v, nil},
		{``, int64v, nil},
		{`128`, int8v, nil},
		{`-128`, int8v, int8(-128)},
		{`true`, boolv, true},
		{`false`, boolv, false},
		{`tru`, boolv, nil},
		{`"2026-11-02T09:00:00+01:00"`, timev, time.Date(2026, 11, 2, 9, 0, 0, 0, time.FixedZone("", 3600))},
		{`"yesterday"`, timev, nil},
		{`{"a":"x","b":"y"}`, object, map[string]any{"a": "x", "b": "y"}},
		{` { } `, object, map[string]any{}},
		{`{"a":"x",}`, object, nil},
		{`{"a" "x"}`, object, nil},
		{`{"a":"x"`, object, nil},
		{`{"a\u0062":"x"}`, object, nil},
		{`["x","y"]`, array, []any{"x", "y"}},
		{`[ ]`, array, []any{}},
		{`["x",]`, array, nil},
		{`["x" "y"]`, array, nil},
		{`[["a,b",{"c":[1,2]}],"]",3]`, array, []any{[]any{"a,b", map[string]any{"c": []any{int64(1), int64(2)}}}, "]", int64(3)}},
		{`["x"`, array, nil},
	} {
		r := jsonfast.NewReader([]byte(tc.in))
		got, ok := tc.read(&r)
		ok = ok && r.End()
		if tc.want == nil {
			assert.False(t, ok, "%q is refused", tc.in)
			continue
		}
		require.True(t, ok, "%q is read", tc.in)
		if wt, isTime := tc.want.(time.Time); isTime {
			assert.True(t, wt.Equal(got.(time.Time)), "%q reads as %v, got %v", tc.in, wt, got)
			continue
		}
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func str(r *jsonfast.Reader) (any, bool) {
	var s string
	ok := jsonfast.ReadString(r, &s)
	return s, ok
}

func int64v(r *jsonfast.Reader) (any, bool) {
	var n int64
	ok := jsonfast.ReadInt(r, &n)
	return n, ok
}

func int8v(r *jsonfast.Reader) (any, bool) {
	var n int8
	ok := jsonfast.ReadInt(r, &n)
	return n, ok
}

func boolv(r *jsonfast.Reader) (any, bool) {
	var b bool
	ok := r.Bool(&b)
	return b, ok
}

func timev(r *jsonfast.Reader) (any, bool) {
	var t time.Time
	ok := r.Time(&t)
	return t, ok
}

// object reads an object of strings, each key once.
func object(r *jsonfast.Reader) (any, bool) {
	if !r.Open() {
		return nil, false
	}
	m := map[string]any{}
	for r.Next() {
		k := string(r.Key())
		if _, dup := m[k]; dup {
			return nil, false
		}
		v, ok := value(r)
		if !ok {
			return nil, false
		}
		m[k] = v
	}
	return m, r.Ok()
}

// array reads an array of values. When Len does not count them right, it
// returns a string saying so, which no decoding of the input equals.
func array(r *jsonfast.Reader) (any, bool) {
	if !r.OpenArray() {
		return nil, false
	}
	n := r.Len()
	l := []any{}
	for r.NextElem() {
		v, ok := value(r)
		if !ok {
			return nil, false
		}
		l = append(l, v)
	}
	if r.Ok() && n != len(l) {
		return fmt.Sprintf("Len counted %d elements, read %d", n, len(l)), true
	}
	return l, r.Ok()
}

// value reads any value the Reader reads, as encoding/json with UseNumber
// decodes it into an any.
func value(r *jsonfast.Reader) (any, bool) {
	if r.Null() {
		return nil, false
	}
	// Try each reader on a copy: a refusal may have consumed input.
	for _, read := range []func(*jsonfast.Reader) (any, bool){object, array, str, boolv} {
		c := *r
		if v, ok := read(&c); ok {
			*r = c
			return v, true
		}
	}
	c := *r
	var n int64
	if jsonfast.ReadInt(&c, &n) {
		*r = c
		return n, true
	}
	return nil, false
}

// FuzzReader checks that the Reader never panics and that what it reads
// is valid JSON that encoding/json decodes to the same values.
func FuzzReader(f *testing.F) {
	for _, s := range []string{`{"a":["x",1,true,{"b":-2}],"c":{}}`, `[]`, `"s"`, `{"a":"x","a":"y"}`, `[1,]`, `{"k":01}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := jsonfast.NewReader(data)
		got, ok := value(&r)
		if !ok || !r.End() {
			return
		}
		require.True(t, json.Valid(data), "the Reader read invalid JSON %q", data)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		require.NoError(t, dec.Decode(&want), "encoding/json decodes %q", data)
		if !reflect.DeepEqual(normalize(want), got) {
			t.Fatalf("input %q:\nReader        %#v\nencoding/json %#v", data, got, want)
		}
	})
}

// normalize turns encoding/json's numbers into int64, as the Reader reads
// them.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return x
		}
		return n
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}

// TestReaderStrings: the strings a Reader reads keep their values while
// it reads more, within one arena and across the new ones made when one
// is full (an array of strings the arena's third of the input cannot hold),
// and do not change when the input does.
func TestReaderStrings(t *testing.T) {
	var want []string
	in := []byte("[")
	for i := range 40 {
		s := strings.Repeat(string(rune('a'+i%26)), 1+i%7*5)
		want = append(want, s)
		if i > 0 {
			in = append(in, ',')
		}
		in = append(in, '"')
		in = append(in, s...)
		in = append(in, '"')
	}
	in = append(in, ']')
	r := jsonfast.NewReader(in)
	require.True(t, r.OpenArray(), "open")
	var got []string
	for r.NextElem() {
		s, ok := r.Str()
		require.True(t, ok, "string %d", len(got))
		got = append(got, s)
	}
	require.True(t, r.End(), "end")
	clear(in)
	assert.Equal(t, want, got, "the strings read")
}
