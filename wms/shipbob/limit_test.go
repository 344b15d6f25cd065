package shipbob_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// frozen is a clock that stands still.
type frozen struct {
	mu sync.Mutex
	t  time.Time
}

func (f *frozen) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// TestRateLimitHonoured checks that a 429 from ShipBob becomes a
// CodeRateLimited error carrying x-retry-after as its retry-after.
func TestRateLimitHonoured(t *testing.T) {
	clk := &frozen{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	w := newWorld(t, shipbobemu.Config{RateLimit: 2, Clock: clk.Now}, nil)
	c := w.client(t, func(c *shipbob.Config) { c.LowRemaining = -1 })
	ctx := t.Context()
	require.NoError(t, c.Health(ctx), "call 1 of 2")
	require.NoError(t, c.Health(ctx), "call 2 of 2")
	err := c.Health(ctx)
	require.Error(t, err, "call 3 of 2")
	assert.Equal(t, connector.CodeRateLimited, connector.CodeOf(err))
	var ce *connector.Error
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, 60*time.Second, ce.RetryAfter(), "x-retry-after: 60 (the window, the clock standing still)")
	assert.Contains(t, err.Error(), "Rate limit is exceeded")
}

// TestSlowDown checks that the connector spreads its calls once
// x-remaining-calls falls to LowRemaining: the call after such an answer
// waits one call's share of the minute.
func TestSlowDown(t *testing.T) {
	clk := &frozen{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	w := newWorld(t, shipbobemu.Config{RateLimit: 5, Clock: clk.Now}, nil)
	share := 100 * time.Millisecond
	c := w.client(t, func(c *shipbob.Config) {
		c.RateLimit = int(time.Minute / share)
		c.LowRemaining = 3
	})
	ctx := t.Context()
	require.NoError(t, c.Health(ctx)) // 4 left
	start := time.Now()
	require.NoError(t, c.Health(ctx)) // 3 left: slow down
	require.NoError(t, c.Health(ctx))
	assert.GreaterOrEqual(t, time.Since(start), share, "the call after x-remaining-calls 3 waited")
}

// TestRateLimitOverTheWire runs a burst of calls against the emulator's
// real sliding window (10 calls per 500ms) through connector.WrapWMS: with
// the slow-down the connector spreads its calls and is never refused;
// without it, the few 429s it meets pause it for their x-retry-after and
// every call still succeeds, without hammering the API.
func TestRateLimitOverTheWire(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about three seconds of real time")
	}
	cases := []struct {
		name   string
		low    int
		max429 int
		min429 int
	}{
		{"slowing down on low x-remaining-calls", 10, 0, 0},
		{"honouring x-retry-after only", -1, 4, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, shipbobemu.Config{RateLimit: 10, Window: 500 * time.Millisecond}, nil)
			c := w.client(t, func(c *shipbob.Config) {
				c.RateLimit = 1000 // one call's share: 60ms
				c.LowRemaining = tc.low
			})
			wrapped, err := connector.WrapWMS(c, connector.Options{MaxAttempts: 5})
			require.NoError(t, err)
			h, ok := connector.As[connector.HealthChecker](wrapped)
			require.True(t, ok)
			for i := range 25 {
				require.NoError(t, h.Health(t.Context()), "call %d", i)
			}
			got := w.emu.Counts().RateLimited
			assert.LessOrEqual(t, got, tc.max429, "429s met")
			assert.GreaterOrEqual(t, got, tc.min429, "429s met")
		})
	}
}
