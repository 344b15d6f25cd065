package httpkit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestReadLimitedUnknownLength checks that answers of unknown length come
// back whole, cut at the limit, and never share the pooled buffer: an
// earlier answer stays as it was after later reads.
func TestReadLimitedUnknownLength(t *testing.T) {
	const limit = 64
	var kept [][]byte
	var want []string
	for _, tc := range []struct {
		body    string
		want    string
		tooLong bool
	}{
		{"", "", false},
		{`{"a":1}`, `{"a":1}`, false},
		{strings.Repeat("x", limit), strings.Repeat("x", limit), false},
		{strings.Repeat("y", limit+1), strings.Repeat("y", limit), true},
		{strings.Repeat("z", 10*limit), strings.Repeat("z", limit), true},
		{`[1,2]`, `[1,2]`, false},
	} {
		got, err := readLimited(strings.NewReader(tc.body), -1, limit)
		if tc.tooLong != errors.Is(err, ErrResponseTooLarge) || (!tc.tooLong && err != nil) {
			t.Fatalf("readLimited(%d bytes): error %v, want too large %v", len(tc.body), err, tc.tooLong)
		}
		if string(got) != tc.want {
			t.Fatalf("readLimited(%d bytes) = %d bytes, want %d", len(tc.body), len(got), len(tc.want))
		}
		if got == nil {
			t.Fatalf("readLimited(%q) = nil, want an empty body", tc.body)
		}
		kept, want = append(kept, got), append(want, tc.want)
	}
	for i := range kept {
		if !bytes.Equal(kept[i], []byte(want[i])) {
			t.Errorf("answer %d changed to %q after later reads", i, kept[i])
		}
	}
}
