package eventlog

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/retry"
)

// TestErrorPolicyDefaultJitter: the zero ErrorPolicy jitters its backoff
// as retry.Policy does (retry.DefaultJitter), within [d/2, 3d/2] of the
// exponential delay d, and retry.NoJitter makes it exact.
func TestErrorPolicyDefaultJitter(t *testing.T) {
	errBoom := errors.New("boom")
	p := ErrorPolicy{}.withDefaults()
	seen := map[time.Duration]bool{}
	for range 100 {
		v, d, attempts := p.decide(errBoom, 1) // the second failed attempt
		require.Equal(t, vRetry, v, "verdict")
		require.Equal(t, 2, attempts, "attempts")
		require.GreaterOrEqual(t, d, 100*time.Millisecond, "jittered 200ms")
		require.LessOrEqual(t, d, 300*time.Millisecond, "jittered 200ms")
		seen[d] = true
	}
	assert.Greater(t, len(seen), 1, "the zero policy's delays are jittered")

	p = ErrorPolicy{Backoff: retry.Backoff{Jitter: retry.NoJitter}}.withDefaults()
	for range 10 {
		_, d, _ := p.decide(errBoom, 1)
		require.Equal(t, 200*time.Millisecond, d, "no jitter: exactly 200ms")
	}
}
