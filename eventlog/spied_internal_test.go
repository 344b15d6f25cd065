package eventlog

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/pgtest"
	"github.com/distsync/distsync/internal/sqlspy"
)

// openSpied opens a database of dialect d whose statements spy counts,
// closed at the end of the test: a new SQLite file with one connection,
// or the PostgreSQL test server, with a table prefix of its own (stem and
// random hex), which it returns ("" on SQLite).
func openSpied(t *testing.T, d Dialect, spy *sqlspy.Spy, stem string) (*sql.DB, string) {
	t.Helper()
	var db *sql.DB
	var err error
	prefix := ""
	if d == SQLite {
		path := filepath.Join(t.TempDir(), "log.db")
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_txlock=immediate"
		raw, err := sql.Open("sqlite", dsn)
		require.NoError(t, err, "open SQLite")
		t.Cleanup(func() { _ = raw.Close() })
		db, err = sqlspy.Open(raw, dsn, spy)
		require.NoError(t, err, "sqlspy.Open")
		db.SetMaxOpenConns(1)
	} else {
		url := pgtest.URL(t)
		db, err = sqlspy.Open(pgtest.Open(t, url), url, spy)
		require.NoError(t, err, "sqlspy.Open")
		var r [6]byte
		_, _ = rand.Read(r[:])
		prefix = stem + hex.EncodeToString(r[:]) + "_"
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, prefix
}
