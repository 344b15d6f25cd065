package flow

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/retry"
)

func TestRetryWait(t *testing.T) {
	const wait = 100 * time.Millisecond
	open := func(d time.Duration) error {
		return fmt.Errorf("flow: poll erp.events: %w", &retry.OpenError{Name: "erp", Until: time.Now().Add(d)})
	}
	tests := []struct {
		name     string
		err      error
		min, max time.Duration
	}{
		{"no breaker", errors.New("unavailable"), wait, wait},
		{"breaker open", open(30 * time.Second), 29 * time.Second, 30 * time.Second},
		{"joined: the last breaker to let a probe through", errors.Join(errors.New("x"), open(10*time.Second), open(20*time.Second)), 19 * time.Second, 20 * time.Second},
		{"half-open (zero Until)", &retry.OpenError{Name: "erp"}, wait, wait},
		{"bounded", open(time.Hour), maxCircuitWait, maxCircuitWait},
	}
	for _, tt := range tests {
		got := retryWait(tt.err, wait)
		assert.GreaterOrEqual(t, got, tt.min, tt.name)
		assert.LessOrEqual(t, got, tt.max, tt.name)
	}
}
