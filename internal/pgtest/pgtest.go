// Package pgtest gives tests the PostgreSQL server that .ci/run starts: its
// URL comes from DISTSYNC_TEST_POSTGRES_URL. Without it a test fails when
// CI=true (the PostgreSQL tests must run in CI) and is skipped, saying why,
// elsewhere. A package whose tests use it runs them through [Main], so
// the skips show as one line without -v.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"sync/atomic"
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
		skipped.Add(1)
		tb.Skip("skipping: " + EnvURL + " is not set (run .ci/run, or set it to a PostgreSQL URL, to run the PostgreSQL tests)")
	}
	return url
}

// skipped counts the tests and benchmarks [URL] skipped in this test
// binary; [Main] reports it.
var skipped atomic.Int64

// Main runs the package's tests and benchmarks and, when [URL] skipped
// some for want of a server, writes one line to stderr saying how many
// and which variable to set. It returns m.Run's exit code. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// The line shows without -v when go test runs in the package's directory
// (go test, go test -run X); given package paths (go test ./...), the go
// command drops a passing package's output unless -v is set.
func Main(m *testing.M) int {
	code := m.Run()
	writeSummary(os.Stderr, skipped.Load())
	return code
}

// writeSummary writes the line [Main] writes when n tests were skipped,
// and nothing when none were.
func writeSummary(w io.Writer, n int64) {
	switch n {
	case 0:
	case 1:
		fmt.Fprintf(w, "1 PostgreSQL test skipped: set %s to run it\n", EnvURL)
	default:
		fmt.Fprintf(w, "%d PostgreSQL tests skipped: set %s to run them\n", n, EnvURL)
	}
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
