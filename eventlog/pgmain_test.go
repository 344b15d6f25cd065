package eventlog_test

import (
	"os"
	"testing"

	"github.com/distsync/distsync/internal/pgtest"
)

// TestMain runs the tests through pgtest.Main, which prints one line when
// the PostgreSQL tests were skipped.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
