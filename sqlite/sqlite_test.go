package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/sqlite"
)

// TestOpenSettings checks that Open's database has the settings the
// package documents: WAL, a 10 s busy timeout, synchronous NORMAL and one
// connection.
func TestOpenSettings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sqlite.Open(ctx, path)
	require.NoError(t, err, "Open %s", path)
	t.Cleanup(func() { _ = db.Close() })
	for _, tt := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"busy_timeout", "10000"},
		{"synchronous", "1"}, // NORMAL
	} {
		var got string
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got), "PRAGMA %s", tt.pragma)
		assert.Equal(t, tt.want, got, "PRAGMA %s", tt.pragma)
	}
	assert.Equal(t, 1, db.Stats().MaxOpenConnections, "max open connections")
	assert.FileExists(t, path, "Open creates the file")
}

func TestOpenInvalidPath(t *testing.T) {
	for _, path := range []string{"", "a?b.db", "a#b.db", "100%.db"} {
		db, err := sqlite.Open(context.Background(), path)
		assert.ErrorIs(t, err, sqlite.ErrInvalidPath, "Open(%q)", path)
		assert.Nil(t, db, "Open(%q)", path)
	}
}

// TestOpenServesBothStores migrates an event log and an idempotency store
// on one database from Open and claims keys from several goroutines at
// once: none fails with SQLITE_BUSY.
func TestOpenServesBothStores(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err, "Open")
	t.Cleanup(func() { _ = db.Close() })
	log, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	require.NoError(t, err, "eventlog.NewSQL")
	require.NoError(t, log.Migrate(ctx), "eventlog Migrate")
	keys, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
	require.NoError(t, err, "idempotency.NewSQLStore")
	require.NoError(t, keys.Migrate(ctx), "idempotency Migrate")

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			key := idempotency.Derive("tenant", "step", "entity", string(rune('a'+i)))
			c, err := keys.Claim(ctx, key, idempotency.Fingerprint{}, time.Minute)
			if err == nil {
				err = keys.Complete(ctx, c.Lease, idempotency.Result{Data: []byte("ok")})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "concurrent claim and complete")
	}
}
