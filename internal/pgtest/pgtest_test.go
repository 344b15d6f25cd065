package pgtest

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestURLCountsSkips checks that a test skipped for want of a server is
// counted, so Main can report it in one line.
func TestURLCountsSkips(t *testing.T) {
	t.Setenv(EnvURL, "")
	t.Setenv("CI", "")
	before := skipped.Load()
	for range 2 {
		t.Run("needs postgres", func(t *testing.T) {
			URL(t)
			t.Error("URL returned without a server")
		})
	}
	assert.Equal(t, before+2, skipped.Load(), "skips counted")
}

func TestWriteSummary(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, ""},
		{1, "1 PostgreSQL test skipped: set DISTSYNC_TEST_POSTGRES_URL to run it\n"},
		{7, "7 PostgreSQL tests skipped: set DISTSYNC_TEST_POSTGRES_URL to run them\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		writeSummary(&out, tt.n)
		assert.Equal(t, tt.want, out.String(), "summary of %d skips", tt.n)
	}
}
