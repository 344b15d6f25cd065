package lease_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/lease"
)

// TestWaitIdle scripts the readings of a group's state: WaitIdle returns
// nil at the first idle reading, reading every IdlePoll and riding over
// failed readings; when its context ends first, its error names the last
// successful reading's finding (not a failure's) and wraps the cause.
func TestWaitIdle(t *testing.T) {
	errRead := errors.New("test: read failed")
	type reading struct {
		busy string
		err  error
	}
	tests := []struct {
		name     string
		readings []reading // then busy "partition 9" for ever
		within   time.Duration
		wantErr  string // "" for nil
		wantN    int    // readings made
	}{
		{name: "idle at once", readings: []reading{{}}, within: time.Minute, wantN: 1},
		{name: "idle after busy and a failure", readings: []reading{{busy: "partition 1"}, {err: errRead}, {}}, within: time.Minute, wantN: 3},
		{name: "never idle", readings: []reading{{busy: "partition 1"}}, within: 5 * lease.IdlePoll / 2,
			wantErr: "eventlog: group g not idle: partition 9: context deadline exceeded", wantN: 3},
		{name: "last reading failed", readings: []reading{{busy: "partition 1"}, {err: errRead}, {err: errRead}}, within: 5 * lease.IdlePoll / 2,
			wantErr: "eventlog: group g not idle: partition 1: context deadline exceeded", wantN: 3},
		{name: "never read", readings: []reading{{err: errRead}}, within: lease.IdlePoll / 2,
			wantErr: "eventlog: group g not idle: its state not read yet: context deadline exceeded", wantN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), tt.within)
				defer cancel()
				n := 0
				start := time.Now()
				var at []time.Duration
				err := lease.WaitIdle(ctx, "eventlog", "g", slog.New(slog.DiscardHandler), func(context.Context) (string, error) {
					at = append(at, time.Since(start))
					n++
					if n <= len(tt.readings) {
						r := tt.readings[n-1]
						return r.busy, r.err
					}
					return "partition 9", nil
				})
				if tt.wantErr == "" {
					require.NoError(t, err)
				} else {
					require.EqualError(t, err, tt.wantErr)
					assert.ErrorIs(t, err, context.DeadlineExceeded)
				}
				assert.Equal(t, tt.wantN, n, "readings")
				for i, d := range at {
					assert.Equal(t, time.Duration(i)*lease.IdlePoll, d, "reading %d", i)
				}
			})
		})
	}
}
