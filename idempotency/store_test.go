package idempotency_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
	"github.com/distsync/distsync/internal/pgtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	idempotencytest.Run(t, func(t *testing.T, cfg idempotencytest.Config) idempotency.Store {
		return newMemoryStore(t, idempotency.MemoryConfig{Retention: cfg.Retention, Now: cfg.Now, ReapInterval: -1})
	})
}

func TestSQLiteStoreConformance(t *testing.T) {
	idempotencytest.Run(t, func(t *testing.T, cfg idempotencytest.Config) idempotency.Store {
		return newSQLStore(t, openSQLite(t), idempotency.SQLConfig{Dialect: idempotency.SQLite, Retention: cfg.Retention, Now: cfg.Now})
	})
}

func TestPostgresStoreConformance(t *testing.T) {
	db := openPostgres(t)
	idempotencytest.Run(t, func(t *testing.T, cfg idempotencytest.Config) idempotency.Store {
		return newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.Postgres, Retention: cfg.Retention, Now: cfg.Now})
	})
}

func newMemoryStore(tb testing.TB, cfg idempotency.MemoryConfig) *idempotency.MemoryStore {
	tb.Helper()
	s, err := idempotency.NewMemoryStore(cfg)
	require.NoError(tb, err, "NewMemoryStore(%+v)", cfg)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// openSQLite opens a fresh SQLite database file in a temporary directory,
// in WAL mode with a busy timeout.
func openSQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "idem.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
	require.NoError(tb, err, "open SQLite %s", path)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// openPostgres connects to the test server (see [pgtest.URL]).
func openPostgres(tb testing.TB) *sql.DB { return pgtest.Open(tb, pgtest.URL(tb)) }

// newSQLStore creates a store on a table of its own (random name), migrated,
// and drops the table at the end of the test.
func newSQLStore(tb testing.TB, db *sql.DB, cfg idempotency.SQLConfig) *idempotency.SQLStore {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg.Table = "idem_test_" + hex.EncodeToString(b[:])
	s, err := idempotency.NewSQLStore(db, cfg)
	require.NoError(tb, err, "NewSQLStore(%v, table %s)", cfg.Dialect, cfg.Table)
	require.NoError(tb, s.Migrate(context.Background()), "Migrate %s", cfg.Table)
	require.NoError(tb, s.Migrate(context.Background()), "second Migrate %s", cfg.Table)
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close store on %s: %v", cfg.Table, err)
		}
		_, err := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+cfg.Table)
		if err != nil {
			tb.Errorf("drop table %s: %v", cfg.Table, err)
		}
	})
	return s
}
