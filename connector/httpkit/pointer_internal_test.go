package httpkit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// pointerByDecoding is the straightforward pointer: it decodes each level
// into a map or a slice. lookup must find what it finds.
func pointerByDecoding(doc []byte, ptr string) (json.RawMessage, bool) {
	cur := json.RawMessage(doc)
	if ptr == "" {
		return cur, true
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		t := bytes.TrimSpace(cur)
		switch {
		case len(t) > 0 && t[0] == '{':
			var m map[string]json.RawMessage
			if json.Unmarshal(t, &m) != nil {
				return nil, false
			}
			v, ok := m[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case len(t) > 0 && t[0] == '[':
			var a []json.RawMessage
			if json.Unmarshal(t, &a) != nil {
				return nil, false
			}
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(a) || (len(tok) > 1 && tok[0] == '0') {
				return nil, false
			}
			cur = a[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

var pointerSeeds = []struct{ doc, ptr string }{
	{`{"d":{"results":[{"a":1},{"b":"x]}"}],"__next":"u"}}`, "/d/results"},
	{`{"d":{"results":[{"a":1},{"b":"x]}"}],"__next":"u"}}`, "/d/__next"},
	{`{"d":{"results":[{"a":1},{"b":"x]}"}]}}`, "/d/results/1/b"},
	{` { "a" : [ 1 , 2 , 3 ] , "a" : [ 4 ] } `, "/a"},
	{`{"a\u0062":{"c":true}}`, "/ab/c"},
	{`{"a\"b":1,"a/b":2,"a~b":3}`, "/a~1b"},
	{`{"a\"b":1,"a/b":2,"a~b":3}`, "/a~0b"},
	{`{"a\"b":1}`, `/a"b`},
	{`[10,[20,21],{"x":null}]`, "/1/0"},
	{`[10,[20,21],{"x":null}]`, "/+1"},
	{`[10,[20,21],{"x":null}]`, "/01"},
	{`[10,[20,21],{"x":null}]`, "/2/x"},
	{`[10,[20,21],{"x":null}]`, "/3"},
	{`{"s":"a\\\"}]b","n":-1.5e3}`, "/n"},
	{"{\"\xff\":1}", "/\uFFFD"},
	{`{}`, "/a"}, {`[]`, "/0"}, {`"x"`, "/a"}, {`{"a":{}}`, "/a/"}, {`{"":{"":7}}`, "//"},
}

func TestLookupMatchesDecoding(t *testing.T) {
	for _, tc := range pointerSeeds {
		checkLookup(t, []byte(tc.doc), tc.ptr)
	}
}

func FuzzLookup(f *testing.F) {
	for _, tc := range pointerSeeds {
		f.Add([]byte(tc.doc), tc.ptr)
	}
	f.Fuzz(func(t *testing.T, doc []byte, ptr string) {
		if !json.Valid(doc) || !strings.HasPrefix(ptr, "/") {
			return
		}
		checkLookup(t, doc, ptr)
	})
}

func checkLookup(t *testing.T, doc []byte, ptr string) {
	t.Helper()
	got, ok, err := pointer(doc, ptr)
	if err != nil {
		t.Fatalf("pointer(%q, %q): %v", doc, ptr, err)
	}
	want, wok := pointerByDecoding(doc, ptr)
	if ok != wok || !bytes.Equal(got, want) {
		t.Fatalf("pointer(%q, %q) = %q, %v; decoding finds %q, %v", doc, ptr, got, ok, want, wok)
	}
	if trimmed := bytes.TrimSpace(got); len(trimmed) > 0 && trimmed[0] == '[' {
		var a []json.RawMessage
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatal(err)
		}
		el := elements(got)
		if len(el) != len(a) {
			t.Fatalf("elements(%q): %d, decoding finds %d", got, len(el), len(a))
		}
		for i := range a {
			if !bytes.Equal(el[i], a[i]) {
				t.Fatalf("elements(%q)[%d] = %q, decoding finds %q", got, i, el[i], a[i])
			}
		}
	}
}

// BenchmarkSplitPage splits an OData v2 page of 20 sales orders as SAP
// answers them.
func BenchmarkSplitPage(b *testing.B) {
	var items []map[string]any
	for i := range 20 {
		items = append(items, map[string]any{"SalesOrder": strconv.Itoa(1000000 + i), "PurchaseOrderByCustomer": "SO-" + strconv.Itoa(i),
			"to_Item": map[string]any{"results": []map[string]any{{"Material": "SKU-100", "RequestedQuantity": "3", "YY1_CanonicalLineID_SDI": "L1"}}}})
	}
	body, err := json.Marshal(map[string]any{"d": map[string]any{"results": items, "__next": "A_SalesOrder?$skiptoken=20"}})
	if err != nil {
		b.Fatal(err)
	}
	p := Paging{Items: "/d/results", Next: "/d/__next"}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if raw, _, err := splitPage(body, p); err != nil || len(raw) != 20 {
			b.Fatal(len(raw), err)
		}
	}
}
