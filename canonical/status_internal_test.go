package canonical

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestDerivePathsAgree checks that the int64 fast path and the Decimal path
// of the line derivation agree on random buckets, including mixed scales
// and negative values.
func TestDerivePathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for n := range 20000 {
		var bs Buckets
		for i := range bs.v {
			if rng.IntN(3) == 0 {
				continue
			}
			v := rng.Int64N(25) - 2
			s := strconv.FormatInt(v, 10)
			if rng.IntN(4) == 0 {
				s += ".5"
			}
			bs.v[i] = MustParseDecimal(s)
		}
		var q [numBuckets]int64
		if !bs.scaledInts(&q) {
			t.Fatalf("case %d: %v does not fit", n, bs)
		}
		if a, b := deriveInts(&q), deriveDecimals(&bs); a != b {
			t.Fatalf("case %d: buckets %v: int path %+v, decimal path %+v", n, bs, a, b)
		}
	}
	var big Buckets
	big.v[0] = MustParseDecimal("9999999999999999999")
	var q [numBuckets]int64
	if big.scaledInts(&q) {
		t.Fatalf("19 nines must not take the int64 path")
	}
	big.v[0] = MustParseDecimal("1")
	big.v[1] = MustParseDecimal("0.0000000000000000001")
	if big.scaledInts(&q) {
		t.Fatalf("scale 19 against 0 must not take the int64 path")
	}
	if got := deriveLine(&big).fulfillment; got != FulfillmentUnfulfilled {
		t.Fatalf("decimal fallback: got %v", got)
	}
}
