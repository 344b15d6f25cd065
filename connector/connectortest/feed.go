package connectortest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/kit"
)

// pollFunc is the shape of EventFeed.PollEvents and OrderFeed.PollOrders.
type pollFunc func(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error)

// subscribeTimeout bounds the subscription check, for a subscription that
// never delivers the feed's last event.
const subscribeTimeout = 10 * time.Second

// maxPages bounds a read of a whole feed, so that a feed that never ends
// fails the check instead of hanging it.
const maxPages = 10000

// readFeed reads poll from cursor to its end with pages of limit events,
// checking each page, and returns the events and the last cursor.
func readFeed(t kit.T, poll pollFunc, cursor connector.Cursor, limit int, repeats bool, what string) ([]canonical.Event, connector.Cursor) {
	t.Helper()
	var all []canonical.Event
	for range maxPages {
		p, err := poll(t.Context(), cursor, limit)
		if err != nil {
			t.Fatalf("%s: poll after cursor %q with limit %d: %v", what, cursor, limit, err)
		}
		max := limit
		if max <= 0 {
			max = connector.DefaultPageSize
		}
		if len(p.Events) > max {
			t.Errorf("%s: poll with limit %d returned %d events", what, limit, len(p.Events))
		}
		if len(p.Events) == 0 {
			if p.Next != cursor {
				t.Errorf("%s: an empty page moved the cursor from %q to %q", what, cursor, p.Next)
			}
			return all, cursor
		}
		all = append(all, p.Events...)
		cursor = p.Next
		if !p.More && !repeats {
			// Nothing happened since: the feed must be at its end.
			if q, err := poll(t.Context(), cursor, limit); err == nil && len(q.Events) > 0 {
				t.Errorf("%s: a page said no more events were available, but the next poll returned %d", what, len(q.Events))
			}
		}
	}
	t.Fatalf("%s: the feed did not end after %d pages", what, maxPages)
	return nil, cursor
}

// keysOf returns the set of event keys of es and how many events repeat
// an earlier key.
func keysOf(es []canonical.Event) (map[canonical.EventKey]bool, int) {
	keys := make(map[canonical.EventKey]bool, len(es))
	repeats := 0
	for _, e := range es {
		k := e.Key()
		if keys[k] {
			repeats++
		}
		keys[k] = true
	}
	return keys, repeats
}

// checkSameKeys reports the keys of want missing from got and the keys of
// got that are not in want.
func checkSameKeys(t kit.T, got, want map[canonical.EventKey]bool, what string) {
	t.Helper()
	for k := range want {
		if !got[k] {
			t.Errorf("%s: event %v was skipped", what, k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s: event %v was delivered but is not in the feed read in one page", what, k)
		}
	}
}

// checkFeed checks the paging of a feed holding at least minEvents events.
// reopen returns the same feed on a new instance over the same state.
func checkFeed(t kit.T, poll pollFunc, reopen func(t kit.T) pollFunc, minEvents int, repeats bool, what string) {
	t.Helper()
	all, end := readFeed(t, poll, "", 1000, repeats, what+" in one read")
	want, _ := keysOf(all)
	if len(want) < minEvents {
		t.Fatalf("%s: the feed holds %d distinct events, want at least %d", what, len(want), minEvents)
	}
	for _, e := range all {
		if err := e.Validate(); err != nil {
			t.Errorf("%s: event %v is invalid: %v", what, e.Key(), err)
		}
		if err := checkData(e); err != nil {
			t.Errorf("%s: event %v of type %q: %v", what, e.Key(), e.Type, err)
		}
	}
	for _, limit := range []int{1, 2, 3, 7, 0} {
		es, _ := readFeed(t, poll, "", limit, repeats, what)
		got, rep := keysOf(es)
		checkSameKeys(t, got, want, what)
		if rep > 0 && !repeats {
			t.Errorf("%s: reading with limit %d repeated %d events", what, limit, rep)
		}
	}

	// At the end: empty, and the cursor stays.
	p, err := poll(t.Context(), end, 5)
	if err != nil {
		t.Fatalf("%s: poll at the end: %v", what, err)
	}
	if len(p.Events) != 0 || p.Next != end {
		t.Errorf("%s: poll at the end returned %d events and cursor %q, want none and %q", what, len(p.Events), p.Next, end)
	}

	// Resume: read about half with this instance, the rest with a new one.
	var first []canonical.Event
	cursor := connector.Cursor("")
	for len(first) < len(want)/2 {
		p, err := poll(t.Context(), cursor, 2)
		if err != nil {
			t.Fatalf("%s: poll: %v", what, err)
		}
		if len(p.Events) == 0 {
			break
		}
		first = append(first, p.Events...)
		cursor = p.Next
	}
	rest, _ := readFeed(t, reopen(t), cursor, 3, repeats, what+" on a reopened instance")
	got, rep := keysOf(append(first, rest...))
	checkSameKeys(t, got, want, what+" resumed from a stored cursor")
	if rep > 0 && !repeats {
		t.Errorf("%s: resuming from a stored cursor repeated %d events", what, rep)
	}

	_, err = poll(cancelled(t), "", 5)
	checkCancelled(t, err, what)
}

// checkSubscriber checks the push subscription of feed against the events
// read by polling, when caps claims it.
func checkSubscriber(t kit.T, feed any, poll pollFunc, caps Capabilities) {
	t.Helper()
	sub, ok := connector.As[connector.Subscriber](feed)
	if caps.Subscribe && !ok {
		t.Errorf("Capabilities.Subscribe is set but %T does not implement connector.Subscriber", feed)
		return
	}
	if !caps.Subscribe {
		return
	}
	all, _ := readFeed(t, poll, "", 1000, caps.RepeatsEvents, "subscriber reference read")
	want, _ := keysOf(all)
	if len(want) == 0 {
		t.Fatalf("Subscribe: the feed is empty")
	}
	// The subscription ends when every event arrived or, for a feed that
	// neither repeats nor reorders, when its last event arrived (a
	// subscription delivers in feed order). The timeout only guards
	// against a subscription that loses an event and waits forever.
	last := all[len(all)-1].Key()
	inOrder := !caps.RepeatsEvents
	errEnough := errors.New("connectortest: enough")
	ctx, cancel := context.WithTimeout(t.Context(), subscribeTimeout)
	defer cancel()
	got := map[canonical.EventKey]bool{}
	err := sub.Subscribe(ctx, "", func(_ context.Context, e canonical.Event, _ connector.Cursor) error {
		got[e.Key()] = true
		if inOrder && e.Key() == last || len(got) == len(want) {
			return errEnough
		}
		return nil
	})
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		t.Errorf("Subscribe: %d of %d events arrived within %v", len(got), len(want), subscribeTimeout)
	case !errors.Is(err, errEnough):
		t.Errorf("Subscribe: returned %v, want the callback's error", err)
	}
	checkSameKeys(t, got, want, "Subscribe")
}

// checkData decodes the data of e into the document its type declares
// ([canonical.EventKind]) and validates it, so that a "shipped" event
// carrying an order, or a document missing its required fields, fails.
func checkData(e canonical.Event) error {
	kind, ok := canonical.EventKind(e.Type)
	if !ok {
		return errors.New("the type is not one of canonical's event types, so its data cannot be checked")
	}
	var err error
	switch kind {
	case canonical.KindOrder:
		_, err = canonical.DecodeData[canonical.Order](e)
	case canonical.KindOrderAck:
		_, err = canonical.DecodeData[canonical.OrderAck](e)
	case canonical.KindCancelRequest:
		_, err = canonical.DecodeData[canonical.CancelRequest](e)
	case canonical.KindOrderAmendment:
		_, err = canonical.DecodeData[canonical.OrderAmendment](e)
	case canonical.KindFulfillmentOrder:
		_, err = canonical.DecodeData[canonical.FulfillmentOrder](e)
	case canonical.KindAllocationUpdate:
		_, err = canonical.DecodeData[canonical.AllocationUpdate](e)
	case canonical.KindShipment:
		_, err = canonical.DecodeData[canonical.Shipment](e)
	case canonical.KindInvoice:
		_, err = canonical.DecodeData[canonical.Invoice](e)
	case canonical.KindInventoryAdjustment:
		_, err = canonical.DecodeData[canonical.InventoryAdjustment](e)
	case canonical.KindInventoryPosition:
		_, err = canonical.DecodeData[canonical.InventoryPosition](e)
	case canonical.KindReturn:
		_, err = canonical.DecodeData[canonical.Return](e)
	default:
		return fmt.Errorf("the kit does not know the document kind %q of this type", kind)
	}
	if err != nil {
		return fmt.Errorf("the data is not the %s document its type declares: %w", kind, err)
	}
	return nil
}
