package wms

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSeqID checks that seqID writes what fmt.Sprintf wrote for the
// simulator's IDs (event IDs and adjustment refs keep their form).
func TestSeqID(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		n      int64
		width  int
	}{
		{"EV-", 1, 10}, {"EV-", 0, 10}, {"EV-", 9999999999, 10}, {"EV-", 12345678901, 10},
		{"ADJ-", 42, 6}, {"ADJ-", 1234567, 6}, {"", 7, 0}, {"X", 123, 2},
	} {
		want := fmt.Sprintf(tc.prefix+"%0*d", tc.width, tc.n)
		assert.Equal(t, want, seqID(tc.prefix, tc.n, tc.width), "seqID(%q, %d, %d)", tc.prefix, tc.n, tc.width)
	}
}
