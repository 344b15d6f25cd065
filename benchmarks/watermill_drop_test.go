package benchmarks_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
)

// TestFailOnce runs the scenario the eventlog issue names: a handler fails
// once, for one event, and then would succeed. The event must be handled.
// With Watermill's middlewares in the order of the benchmark (Retry outside
// the Deduplicator), the retry meets the key the Deduplicator marked seen
// before the failed attempt, and the event is acknowledged without being
// handled; this test records that, so a Watermill upgrade that changes it
// shows up here. distsync's consumer handles the event.
func TestFailOnce(t *testing.T) {
	t.Run("impl=watermill", func(t *testing.T) {
		wlog := watermill.NopLogger{}
		pubSub := gochannel.NewGoChannel(gochannel.Config{}, wlog)
		router, err := message.NewRouter(message.RouterConfig{}, wlog)
		require.NoError(t, err, "NewRouter")
		repo, err := middleware.NewMapExpiringKeyRepository(time.Hour)
		require.NoError(t, err, "NewMapExpiringKeyRepository")
		dedup := &middleware.Deduplicator{KeyFactory: func(m *message.Message) (string, error) { return m.UUID, nil }, Repository: repo}
		// The outermost middleware reports what the router acknowledges
		// (nil: Ack) or not.
		finished := make(chan error, 4)
		observe := func(h message.HandlerFunc) message.HandlerFunc {
			return func(m *message.Message) ([]*message.Message, error) {
				out, err := h(m)
				finished <- err
				return out, err
			}
		}
		router.AddMiddleware(observe, middleware.CorrelationID,
			middleware.Retry{MaxRetries: 3, InitialInterval: time.Millisecond, Logger: wlog}.Middleware,
			dedup.Middleware)
		var mu sync.Mutex
		calls, handled := 0, 0
		router.AddNoPublisherHandler("h", "events", pubSub, func(msg *message.Message) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return errors.New("ERP briefly unavailable")
			}
			handled++
			return nil
		})
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- router.Run(ctx) }()
		<-router.Running()
		require.NoError(t, pubSub.Publish("events", message.NewMessage("order-1-1", []byte(`{}`))), "Publish")
		select {
		case err := <-finished:
			assert.NoError(t, err, "Watermill: the message is acknowledged")
		case <-time.After(10 * time.Second):
			t.Fatal("the handler chain never returned")
		}
		cancel()
		require.NoError(t, <-errc, "router.Run")
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 1, calls, "Watermill: the handler ran once (it failed) and the retry was deduplicated away")
		assert.Equal(t, 0, handled, "Watermill: the event was acknowledged but never handled")
	})
	t.Run("impl=distsync", func(t *testing.T) {
		log := eventlog.NewMemory(eventlog.MemoryConfig{})
		dedupe, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: -1, MaxBytes: -1})
		require.NoError(t, err, "NewMemoryStore")
		defer dedupe.Close()
		var mu sync.Mutex
		calls := 0
		handled := make(chan struct{})
		c, err := eventlog.NewConsumer(log, eventlog.ConsumerConfig{Group: "h", Dedupe: dedupe,
			Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{InitialInterval: time.Millisecond, Jitter: retry.NoJitter}},
			Handler: func(context.Context, canonical.Event) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls == 1 {
					return errors.New("ERP briefly unavailable")
				}
				close(handled)
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx) }()
		require.NoError(t, log.Append(ctx, eventlogtest.Event("order-1", 1)), "Append")
		select {
		case <-handled:
		case <-time.After(10 * time.Second):
			t.Fatal("distsync: the event was never handled")
		}
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled, "Run")
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 2, calls, "distsync: the failed attempt and the successful retry")
	})
}
