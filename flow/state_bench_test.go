package flow_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/flow"
)

// BenchmarkSQLStateSave measures one save of an order's state in SQLite
// (a new version of one of 1,000 orders), for states of 2 KB and 11 KB (an
// order of one line in flight; one split in two shipments, invoiced), by
// one saver and by parallel savers.
func BenchmarkSQLStateSave(b *testing.B) {
	for _, size := range []int{2 << 10, 11 << 10} {
		data := []byte(strings.Repeat(`{"k":"value-12345"}`, size/19))
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			s := sqliteStateB(b)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				err := s.SaveState(ctx, flow.StoredState{OrderID: fmt.Sprintf("ORD-%06d", i%1000), Data: data, Version: int64(i/1000 + 1)})
				require.NoError(b, err, "SaveState")
				i++
			}
		})
		b.Run(fmt.Sprintf("%dKB-parallel", size>>10), func(b *testing.B) {
			s := sqliteStateB(b)
			ctx := context.Background()
			var saver atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(2) // 4 savers on 2 cores, as the flow's 4 workers
			b.RunParallel(func(pb *testing.PB) {
				me := saver.Add(1)
				for i := 0; pb.Next(); i++ {
					err := s.SaveState(ctx, flow.StoredState{OrderID: fmt.Sprintf("ORD-%d-%03d", me, i%100), Data: data, Version: int64(i/100 + 1)})
					require.NoError(b, err, "SaveState")
				}
			})
		})
	}
}
