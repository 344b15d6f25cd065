package httpkit

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimiterPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(0, 0)
		start := time.Now()
		require.NoError(t, l.wait(context.Background()))
		assert.Equal(t, time.Duration(0), time.Since(start), "no pause, no wait")

		l.pauseUntil(start.Add(3 * time.Second))
		l.pauseUntil(start.Add(time.Second)) // an earlier end changes nothing
		require.NoError(t, l.wait(context.Background()))
		assert.Equal(t, 3*time.Second, time.Since(start), "waited out the pause")

		l.pauseUntil(time.Now().Add(time.Minute))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		before := time.Now()
		err := l.wait(ctx)
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		assert.Equal(t, time.Duration(0), time.Since(before), "a pause past the deadline fails at once")
	})
}

func TestLimiterRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(2, 1) // 2 per second, burst 1
		start := time.Now()
		for range 5 {
			require.NoError(t, l.wait(context.Background()))
		}
		assert.Equal(t, 2*time.Second, time.Since(start), "5 requests at 2/s with burst 1")
	})
}
