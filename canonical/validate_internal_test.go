package canonical

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDupFinderLinear counts the keys dupFinder reads: at most a few per
// item on a long list (the nested scan it replaced read n²/2 on a list
// without duplicates), and the same answers as the scan on short lists.
func TestDupFinderLinear(t *testing.T) {
	for _, n := range []int{0, 1, smallList, smallList + 1, 2000} {
		items := make([]string, n)
		for i := range items {
			items[i] = strconv.Itoa(i % (n/2 + 1)) // the second half repeats the first
		}
		reads := 0
		d := newDupFinder(items, func(s *string) string { reads++; return *s })
		var dups [][2]int
		for i := range items {
			if j, ok := d.first(i, items[i]); ok {
				dups = append(dups, [2]int{i, j})
			}
		}
		if n > smallList {
			assert.LessOrEqual(t, reads, 0, "n=%d: a long list is looked up by key, not rescanned", n)
		}
		want := 0
		for i := range items {
			for j := range i {
				if items[j] == items[i] {
					assert.Contains(t, dups, [2]int{i, j}, "n=%d", n)
					want++
					break
				}
			}
		}
		assert.Len(t, dups, want, "n=%d duplicates", n)
	}
}
