package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
)

// slowGroup is a backend whose Group waits for its context to end and
// fails as a database driver does, with the context's error wrapped.
type slowGroup struct {
	eventlog.Backend
	entered chan struct{}
}

func (s slowGroup) Group(ctx context.Context, group string) (eventlog.GroupState, error) {
	close(s.entered)
	<-ctx.Done()
	return eventlog.GroupState{}, fmt.Errorf("driver: %w", ctx.Err())
}

// TestRunStoppedWhileLoadingGroup stops a consumer while it loads its
// group's state: Run returns the context's cause, not the backend's error.
func TestRunStoppedWhileLoadingGroup(t *testing.T) {
	b := slowGroup{Backend: eventlog.NewMemory(eventlog.MemoryConfig{}), entered: make(chan struct{})}
	c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g",
		Handler: func(context.Context, canonical.Event) error { return nil }})
	require.NoError(t, err, "NewConsumer")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	<-b.entered
	stop := errors.New("stop")
	cancel(stop)
	assert.ErrorIs(t, <-done, stop, "Run stopped while loading the group state")
}
