// This file owns the wake-up of Run by the WMS feeds: a feed that can
// push ([connector.Subscriber]) tells Run that it grew, so that Run polls
// it at once instead of at its next tick.

package flow

import (
	"context"
	"errors"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// errFeedGrew ends a subscription of watchFeed at its first event.
var errFeedGrew = errors.New("flow: feed grew")

// feedWaker wakes Run when a WMS feed has events after its stored cursor.
// Run polls on wake and reports each poll of the WMS feeds on polled.
type feedWaker struct {
	wake   chan struct{} // one pending wake-up at most
	polled chan struct{} // one pending report at most
}

// startWaker starts one watcher per WMS feed that implements
// [connector.Subscriber] (found with [connector.As], so under decorators
// too), and returns nil when none does: Run then polls on its ticker only.
// The watchers end with ctx.
func (f *Flow) startWaker(ctx context.Context) *feedWaker {
	var w *feedWaker
	for _, s := range f.systems {
		sub, ok := connector.As[connector.Subscriber](s.feed)
		if !ok {
			continue
		}
		if w == nil {
			w = &feedWaker{wake: make(chan struct{}, 1), polled: make(chan struct{}, 1)}
		}
		go f.watchFeed(ctx, s.cursor, sub, w)
	}
	return w
}

// watchFeed subscribes to the feed from the stored cursor named cursor
// until its first event, wakes Run, waits until Run has polled, and
// subscribes again from the cursor that poll stored. The subscription is a
// hint only: the events are read by the poll, through the decorators. It
// ends, leaving Run to its ticker, when ctx is done or the cursor cannot be
// loaded or the subscription fails.
func (f *Flow) watchFeed(ctx context.Context, cursor string, sub connector.Subscriber, w *feedWaker) {
	for {
		cur, err := f.cursors.Load(ctx, cursor)
		if err != nil {
			return
		}
		err = sub.Subscribe(ctx, cur, func(context.Context, canonical.Event, connector.Cursor) error {
			return errFeedGrew
		})
		if !errors.Is(err, errFeedGrew) {
			if ctx.Err() == nil {
				f.logger.WarnContext(ctx, "flow: subscription to the WMS feed failed; polling on the interval only",
					"feed", cursor, "err", err)
			}
			return
		}
		select { // a report of an earlier poll says nothing of this event
		case <-w.polled:
		default:
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return
		case <-w.polled:
		}
	}
}

// signal wakes the watchers waiting for a poll of the WMS feeds.
func (w *feedWaker) signal() {
	select {
	case w.polled <- struct{}{}:
	default:
	}
}
