package crm_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

func TestSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newCRM(t)
		convert(t, m)
		convert(t, m)
		ctx, cancel := context.WithCancel(t.Context())
		type delivery struct {
			subject string
			next    connector.Cursor
		}
		var got []delivery
		done := make(chan error)
		go func() {
			done <- m.Subscribe(ctx, "1", func(_ context.Context, e canonical.Event, next connector.Cursor) error {
				got = append(got, delivery{e.Subject, next})
				return nil
			})
		}()
		synctest.Wait() // the backlog is delivered, then Subscribe waits
		assert.Equal(t, []delivery{{"ORD-000002", "2"}}, got, "from cursor 1: the second order")

		convert(t, m) // a new order wakes the subscription
		synctest.Wait()
		assert.Equal(t, []delivery{{"ORD-000002", "2"}, {"ORD-000003", "3"}}, got)

		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
}

func TestSubscribeStops(t *testing.T) {
	m := newCRM(t)
	for range 3 {
		convert(t, m)
	}
	stop := errors.New("enough")
	n := 0
	err := m.Subscribe(t.Context(), "", func(ctx context.Context, e canonical.Event, next connector.Cursor) error {
		n++
		// The callback may call the CRM: no lock is held.
		_, perr := m.PollOrders(ctx, next, 1)
		require.NoError(t, perr)
		if n == 2 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 2, n)
	err = m.Subscribe(t.Context(), "9", func(context.Context, canonical.Event, connector.Cursor) error { return nil })
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "unknown cursor")
}
