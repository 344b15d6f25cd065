// Package pgtest gives tests the PostgreSQL server that .ci/run starts: its
// URL comes from DISTSYNC_TEST_POSTGRES_URL. Without it a test fails when
// CI=true (the PostgreSQL tests must run in CI) and is skipped, saying why,
// elsewhere.
package pgtest

import (
	"context"
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvURL is the environment variable that names the test server.
const EnvURL = "DISTSYNC_TEST_POSTGRES_URL"

// URL returns the test server's URL, failing tb under CI=true and skipping
// it elsewhere when none is set.
func URL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal(EnvURL + " is not set, and CI=true requires the PostgreSQL tests to run")
		}
		tb.Skip("skipping: " + EnvURL + " is not set (run .ci/run, or set it to a PostgreSQL URL, to run the PostgreSQL tests)")
	}
	return url
}

// Open connects to url with the pgx driver, checks the connection and
// closes it at the end of the test.
func Open(tb testing.TB, url string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		tb.Fatalf("open PostgreSQL from %s: %v", EnvURL, err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		tb.Fatalf("ping PostgreSQL at %s: %v", EnvURL, err)
	}
	return db
}
