package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/sqlite"
)

// One SQLite file, opened with the settings the stores need, serves an
// event log and an idempotency store.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sqlite-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "app.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	log, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	if err != nil {
		panic(err)
	}
	keys, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
	if err != nil {
		panic(err)
	}
	if err := log.Migrate(ctx); err != nil {
		panic(err)
	}
	if err := keys.Migrate(ctx); err != nil {
		panic(err)
	}
	key := idempotency.Derive("tenant-1", "erp/post-shipment", "shipment-1001", "1")
	c, err := keys.Claim(ctx, key, idempotency.Fingerprint{}, time.Minute)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Status)
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		panic(err)
	}
	fmt.Println(mode, db.Stats().MaxOpenConnections)
	// Output:
	// claimed
	// wal 1
}
