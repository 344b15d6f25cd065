package logtest_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/internal/logtest"
)

// TestRecorder checks that a Recorder keeps the records at its level and
// above, in order, with their attributes.
func TestRecorder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level slog.Level
		want  []string
	}{
		{"zero value", 0, []string{"info n=2", "warn n=3"}},
		{"warn", slog.LevelWarn, []string{"warn n=3"}},
		{"debug", slog.LevelDebug, []string{"debug n=1", "info n=2", "warn n=3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &logtest.Recorder{Level: tc.level}
			log := slog.New(r)
			ctx := context.Background()
			log.DebugContext(ctx, "debug", "n", 1)
			log.InfoContext(ctx, "info", "n", 2)
			log.WarnContext(ctx, "warn", "n", 3)
			assert.Equal(t, tc.want, r.Lines(), "lines")
			assert.Len(t, r.Records(), len(tc.want), "records")
		})
	}
}
