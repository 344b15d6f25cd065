// This file owns the wake-up of Run by the WMS feeds: a feed that can
// push ([connector.Subscriber]) tells Run that it grew, so that Run polls
// it at once instead of at its next tick.

package flow

import (
	"context"
	"errors"
	"sync"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// errFeedGrew ends a subscription of watchFeed at its first event.
var errFeedGrew = errors.New("flow: feed grew")

// feedWaker wakes Run when a WMS feed has events after its stored cursor:
// one watcher per feed that implements [connector.Subscriber]. Run polls
// the WMS feeds on wake and then calls polled.
type feedWaker struct {
	wake    chan struct{}   // one pending wake-up at most
	polls   []chan struct{} // per watcher, one pending report of a poll at most
	stop    context.CancelFunc
	stopped sync.WaitGroup
}

// startWaker starts one watcher per WMS feed that implements
// [connector.Subscriber] (found with [connector.As], so under the
// decorators too), and returns nil when none does: Run then polls on its
// ticker only. The watchers end with ctx or close.
func (f *Flow) startWaker(ctx context.Context) *feedWaker {
	var w *feedWaker
	for _, s := range f.systems {
		sub, ok := connector.As[connector.Subscriber](s.feed)
		if !ok {
			continue
		}
		if w == nil {
			w = &feedWaker{wake: make(chan struct{}, 1)}
			ctx, w.stop = context.WithCancel(ctx)
		}
		polls := make(chan struct{}, 1)
		w.polls = append(w.polls, polls)
		w.stopped.Go(func() { f.watchFeed(ctx, s.cursor, sub, w.wake, polls) })
	}
	return w
}

// close stops the watchers and waits until they have ended. A nil
// feedWaker has none.
func (w *feedWaker) close() {
	if w == nil {
		return
	}
	w.stop()
	w.stopped.Wait()
}

// polled tells the watchers that Run has polled the WMS feeds.
func (w *feedWaker) polled() {
	for _, c := range w.polls {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// watchFeed subscribes to the feed from the stored cursor named cursor
// until its first event, sends on wake, waits until Run has polled (a
// report on polls), and subscribes again from the cursor that poll
// stored. The subscription is a hint only: the events are read by the
// poll, through the decorators. When the cursor cannot be loaded or the
// subscription fails, it logs a warning (once in a row of failures) and
// tries again after Run's next poll, which its ticker brings. A
// subscription that ends without an error before ctx is done (the feed
// closed it, or it ran to its end) is no failure: it is logged at debug
// level, leaves a row of failures as it is, and is subscribed again after
// Run's next poll too, so a feed that ends every subscription at once is
// subscribed to once a poll, not in a loop. It ends with ctx.
func (f *Flow) watchFeed(ctx context.Context, cursor string, sub connector.Subscriber, wake chan<- struct{}, polls chan struct{}) {
	failing := false
	for {
		cur, err := f.cursors.Load(ctx, cursor)
		if err == nil {
			err = sub.Subscribe(ctx, cur, func(context.Context, canonical.Event, connector.Cursor) error {
				return errFeedGrew
			})
		}
		if ctx.Err() != nil {
			return
		}
		select { // a report of an earlier poll says nothing of this event
		case <-polls:
		default:
		}
		switch {
		case errors.Is(err, errFeedGrew):
			failing = false
			select {
			case wake <- struct{}{}:
			default:
			}
		case err == nil:
			f.logger.DebugContext(ctx, "flow: subscription to the WMS feed ended; subscribing again after the next poll",
				"feed", cursor)
		case !failing:
			failing = true
			f.logger.WarnContext(ctx, "flow: subscription to the WMS feed failed; polling on the interval until it works again",
				"feed", cursor, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-polls:
		}
	}
}
