package flow

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// seedState returns the state of the fuzz seed "split-shipped": an order
// split across two warehouses, shipped and invoiced in two shipments.
func seedState(tb testing.TB) []byte {
	raw, err := os.ReadFile("testdata/fuzz/FuzzDecodeState/seed-split-shipped")
	require.NoError(tb, err, "read the seed")
	_, lit, _ := strings.Cut(string(raw), "\n")
	lit = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lit), "[]byte("), ")")
	s, err := strconv.Unquote(lit)
	require.NoError(tb, err, "unquote the seed")
	return []byte(s)
}

// BenchmarkEncodeState measures encoding an order's state, as each save
// and each compaction does.
func BenchmarkEncodeState(b *testing.B) {
	st, err := decodeState("ORD-000001", seedState(b))
	require.NoError(b, err, "decode the seed")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		data, err := encodeState(st)
		require.NoError(b, err, "encode")
		n = len(data)
	}
	b.ReportMetric(float64(n), "bytes")
}

// BenchmarkDecodeState measures decoding and folding an order's state, as
// a load does.
func BenchmarkDecodeState(b *testing.B) {
	data := seedState(b)
	var f Flow
	b.ReportAllocs()
	for b.Loop() {
		st, err := decodeState("ORD-000001", data)
		require.NoError(b, err, "decode")
		require.NoError(b, f.foldLocked(st), "fold")
	}
}
