package eventlog_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// openExampleLog returns a migrated SQL log over a new SQLite file in a
// temporary directory, and a function that closes it and removes the
// directory.
func openExampleLog(ctx context.Context) (*eventlog.SQL, func()) {
	dir, err := os.MkdirTemp("", "group-example")
	if err != nil {
		panic(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db")+
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		panic(err)
	}
	db.SetMaxOpenConns(1)
	log, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	if err != nil {
		panic(err)
	}
	if err := log.Migrate(ctx); err != nil {
		panic(err)
	}
	return log, func() { _ = db.Close(); _ = os.RemoveAll(dir) }
}

// Every process runs a member of the partitioned group "orders" over the
// shared database; here one member owns all four partitions and handles
// each order's events in order.
func ExampleSQL_NewGroup() {
	ctx := context.Background()
	log, closeLog := openExampleLog(ctx)
	defer closeLog()

	var mu sync.Mutex
	seen := map[string][]int{}
	all := make(chan struct{})
	g, err := log.NewGroup(eventlog.GroupConfig{
		Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: func(_ context.Context, ev canonical.Event) error {
			var d struct{ N int }
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			seen[ev.Subject] = append(seen[ev.Subject], d.N)
			if len(seen) == 3 && len(seen["order-1"])+len(seen["order-2"])+len(seen["order-3"]) == 6 {
				close(all)
			}
			return nil
		}},
		Partitions: 4,
		Member:     "worker-1",
	})
	if err != nil {
		panic(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Run(runCtx) }()

	for n := 1; n <= 2; n++ {
		for _, key := range []string{"order-1", "order-2", "order-3"} {
			if err := log.Append(ctx, eventlogtest.Event(key, n)); err != nil {
				panic(err)
			}
		}
	}
	<-all
	stop()
	fmt.Println(<-done)
	for _, key := range slices.Sorted(maps.Keys(seen)) {
		fmt.Println(key, eventlog.PartitionGroup("orders", eventlog.PartitionOf(key, 4)), seen[key])
	}
	// Output:
	// context canceled
	// order-1 orders/p1 [1 2]
	// order-2 orders/p0 [1 2]
	// order-3 orders/p3 [1 2]
}
