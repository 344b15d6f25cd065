// Package sqlite opens a SQLite database file the way distsync's SQL
// stores need it, so one *sql.DB serves an event log ([eventlog.NewSQL]),
// an idempotency store ([idempotency.NewSQLStore]) and a flow's state
// ([flow.NewSQLState]), each with the SQLite dialect.
//
// SQLite has one writer at a time. [Open] uses the pure-Go driver
// modernc.org/sqlite (registered by this package under the name "sqlite")
// with the settings that make concurrent writers wait rather than fail:
//
//   - the WAL journal (journal_mode(WAL)), so readers do not block the
//     writer;
//   - a busy timeout of 10 seconds (busy_timeout(10000)), so a writer
//     waits for another instead of failing with SQLITE_BUSY;
//   - synchronous(NORMAL), durable in WAL mode up to the last checkpoint;
//   - immediate transactions (_txlock=immediate), so a transaction takes
//     the write lock when it begins and never fails to upgrade midway;
//   - one connection (db.SetMaxOpenConns(1)): goroutines writing at once
//     (a consumer's workers, concurrent claims) then queue in
//     database/sql's pool, rather than in SQLite's busy handler, which
//     sleeps (1 ms, 2 ms, 5 ms...) between tries.
//
// A program that opens the database itself can use [DSN] and set one
// connection as Open does.
//
// [eventlog.NewSQL]: https://pkg.go.dev/github.com/distsync/distsync/eventlog#NewSQL
// [idempotency.NewSQLStore]: https://pkg.go.dev/github.com/distsync/distsync/idempotency#NewSQLStore
// [flow.NewSQLState]: https://pkg.go.dev/github.com/distsync/distsync/flow#NewSQLState
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DriverName is the database/sql driver name Open uses, that of
// modernc.org/sqlite.
const DriverName = "sqlite"

// ErrInvalidPath is returned by [Open] for a path that is empty or holds a
// character a file: URI cannot carry as is (?, # or %).
var ErrInvalidPath = errors.New("sqlite: invalid path")

// DSN returns the data source name Open gives the driver for the file at
// path: "file:PATH?" followed by the WAL journal, a 10 s busy timeout,
// synchronous NORMAL and immediate transactions. It does not check path;
// Open does.
func DSN(path string) string {
	// synchronous(NORMAL) rather than FULL for its cost: in WAL mode it
	// syncs the files at checkpoints only, not at every commit, and the
	// stores commit many small transactions (FULL is much slower).
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Open opens the SQLite database file at path, creating it if it does not
// exist, with [DSN]'s settings and one connection, and checks that the
// settings took hold. The caller closes the returned *sql.DB. An empty path,
// or one holding ?, # or %, gives an error matching [ErrInvalidPath].
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || strings.ContainsAny(path, "?#%") {
		return nil, fmt.Errorf("%w: %q: it must be a file name without ?, # or %%", ErrInvalidPath, path)
	}
	db, err := sql.Open(DriverName, DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: journal mode is %q, not WAL", path, mode)
	}
	return db, nil
}
