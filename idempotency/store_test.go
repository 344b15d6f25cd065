package idempotency_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
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

// openPostgres connects to the server named by DISTSYNC_TEST_POSTGRES_URL.
// Without it the test fails in CI (CI=true) and is skipped elsewhere.
func openPostgres(tb testing.TB) *sql.DB {
	tb.Helper()
	url := os.Getenv("DISTSYNC_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("DISTSYNC_TEST_POSTGRES_URL is not set, and CI=true requires the PostgreSQL tests to run")
		}
		tb.Skip("skipping: DISTSYNC_TEST_POSTGRES_URL is not set (run .ci/run, or set it to a PostgreSQL URL, to run the PostgreSQL tests)")
	}
	db, err := sql.Open("pgx", url)
	require.NoError(tb, err, "open PostgreSQL from DISTSYNC_TEST_POSTGRES_URL")
	tb.Cleanup(func() { _ = db.Close() })
	require.NoError(tb, db.PingContext(context.Background()), "ping PostgreSQL at DISTSYNC_TEST_POSTGRES_URL")
	return db
}

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
