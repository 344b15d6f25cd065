package flow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/flow"
)

// BenchmarkSQLStateSave measures one save of an order's state in SQLite
// (an upsert of a row over 1,000 orders), for states of 2 KB and 11 KB
// (an order of one line in flight; one split in two shipments, invoiced).
func BenchmarkSQLStateSave(b *testing.B) {
	for _, size := range []int{2 << 10, 11 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			s := sqliteStateB(b)
			data := []byte(strings.Repeat(`{"k":"value-12345"}`, size/19))
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				err := s.SaveState(ctx, flow.StoredState{OrderID: fmt.Sprintf("ORD-%06d", i%1000), Data: data, Version: int64(i/1000 + 1)})
				require.NoError(b, err, "SaveState")
				i++
			}
		})
	}
}
