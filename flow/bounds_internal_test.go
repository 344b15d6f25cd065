package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// longestListOf is longestList written with encoding/json's tokenizer:
// the reference the fuzz target compares with, for valid JSON.
func longestListOf(t *testing.T, data []byte) (name string, n int) {
	type frame struct {
		array bool
		n     int
		key   string
		isKey bool // an object's next string token is a member name
	}
	var stack []frame
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return name, n
		}
		require.NoError(t, err, "token of valid JSON %q", data)
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && !top.array && top.isKey {
			top.key, top.isKey = s, false
			continue
		}
		delim, isDelim := tok.(json.Delim)
		if isDelim && (delim == ']' || delim == '}') {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.array && f.n > n {
				name, n = f.key, f.n
			}
			if len(stack) > 0 && !stack[len(stack)-1].array {
				stack[len(stack)-1].isKey = true
			}
			continue
		}
		// A value starts.
		var key string
		if top != nil {
			if top.array {
				top.n++
			}
			key = top.key
		}
		if isDelim {
			if delim == '{' {
				key = ""
			}
			stack = append(stack, frame{array: delim == '[', key: key, isKey: delim == '{'})
			continue
		}
		if top != nil && !top.array {
			top.isKey = true
		}
	}
}

// FuzzLongestList checks longestList against encoding/json's tokenizer on
// valid JSON, and that it never panics on any bytes.
func FuzzLongestList(f *testing.F) {
	for _, s := range []string{``, `[]`, `[1]`, `[1,2,3]`, `{"lines":[{},{},{}]}`, `{"a":[1,2],"b":{"lines":[[1,2,3],[4]]}}`,
		`{"packages":[{"lines":[1,2]},{"lines":[3]}],"lines":[1],"trackingNumbers":["a","b\"]","c"]}`,
		`{"k\"ey":[ "x" , "y" ], "n": -1.5e3, "t": true, "z": null}`, `[[],[[]],{}]`, `{"a":[`, `"\`, `{"a":"b":[1,2]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		name, n := longestList(data)
		if !json.Valid(data) {
			return
		}
		wantName, wantN := longestListOf(t, data)
		assert.Equal(t, wantN, n, "longest list of %q", data)
		if n > 0 {
			var unq string
			require.NoError(t, json.Unmarshal([]byte(`"`+name+`"`), &unq), "name %q of %q is a JSON string body", name, data)
			assert.Equal(t, wantName, unq, "name of the longest list of %q", data)
		}
	})
}

// TestLongestList names the longest list of documents the flow consumes.
func TestLongestList(t *testing.T) {
	tests := []struct {
		data string
		name string
		n    int
	}{
		{data: `{"id":"S1","lines":[{"id":"1"},{"id":"2"}],"packages":[{"lines":[{},{},{}]}]}`, name: "lines", n: 3},
		{data: `{"id":"S1","lines":[{"id":"1"}],"packages":[{},{},{},{}],"trackingNumbers":["a","b"]}`, name: "packages", n: 4},
		{data: `{"notes":[{"text":"[1,2,3,4,5]"}],"refs":[{},{}]}`, name: "refs", n: 2},
		{data: `[1,2]`, name: "", n: 2},
		{data: `{}`, name: "", n: 0},
		{data: ` { "lines" : [ 1 , 2 , 3 ] } `, name: "lines", n: 3},
		{data: `{"lines":[` + strings.Repeat(`{},`, 99) + `{}]}`, name: "lines", n: 100},
	}
	for _, tt := range tests {
		name, n := longestList([]byte(tt.data))
		assert.Equal(t, tt.name, name, "name of %s", tt.data)
		assert.Equal(t, tt.n, n, "length of %s", tt.data)
	}
}

// BenchmarkLongestList scans an order of 7,000 lines (about 1.4 MB), as
// dispatch does before decoding.
func BenchmarkLongestList(b *testing.B) {
	line := `{"id":"L1","item":{"sku":"SKU-100"},"quantity":{"value":"2","unit":"EA"},"unitPrice":{"amount":"12.50","currency":"USD"},"promisedDate":"2000-01-03T00:00:00Z","buckets":{"ordered":"2","confirmed":"2"}}`
	data := []byte(`{"id":"ORD-1","refs":[{"system":"crm","type":"order","value":"1"}],"lines":[` + strings.Repeat(line+",", 6999) + line + `]}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, n := longestList(data); n != 7000 {
			b.Fatalf("%d lines", n)
		}
	}
}
