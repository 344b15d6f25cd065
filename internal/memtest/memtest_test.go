package memtest_test

import (
	"testing"

	"github.com/distsync/distsync/internal/memtest"
)

var sink []byte

func TestAllocated(t *testing.T) {
	for _, n := range []int{0, 1 << 10, 1 << 20} {
		got := memtest.Allocated(func() {
			if n > 0 {
				sink = make([]byte, n)
			}
		})
		if got < uint64(n) || got > uint64(n)+4<<10 {
			t.Errorf("Allocated of a %d-byte slice = %d", n, got)
		}
	}
}
