// This file owns the polling of the systems' feeds: the CRM's orders and
// the WMS's events (the ERP's feed is in cancel.go), their partitioning
// by order and correlation, and appending them to the log.

package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/internal/jsonfast"
)

// pollAll polls both feeds and the holds once, returning how many events it
// appended. A failed hold check is logged, not returned: the next round
// checks again, and Drain need not wait for it.
func (f *Flow) pollAll(ctx context.Context) (int, error) {
	a, err1 := f.PollOrders(ctx)
	b, err2 := f.PollWarehouse(ctx)
	// The ERP's feed before the hold checks: many failed checks may open
	// the ERP's breaker, which the feed shares.
	d, err4 := f.PollERP(ctx) // the ERP's optional feed (flow/cancel.go)
	c, err3 := f.CheckHolds(ctx)
	if err3 != nil && ctx.Err() == nil {
		f.logger.WarnContext(ctx, "flow: hold check failed; will retry", "err", err3)
	}
	return a + b + c + d, errors.Join(err1, err2, err4)
}

// PollOrders reads the CRM's order feed from its stored cursor to its end,
// appends the orders to the log with a correlation ID per order, and stores
// the cursor after each page. It returns how many events it appended; 0
// and no error for a flow made by NewInventorySync, which has no CRM order
// feed.
func (f *Flow) PollOrders(ctx context.Context) (int, error) {
	if !f.otc {
		return 0, nil // no CRM order feed (NewInventorySync)
	}
	return f.poll(ctx, FeedCRMOrders, f.crm.PollOrders, func(e *canonical.Event) bool {
		partitionByOrder(e)
		if e.PartitionKey == "" {
			e.PartitionKey = e.Subject
		}
		e.CorrelationID = f.correlation(e.PartitionKey, e.Key())
		return true
	})
}

// PollWarehouse reads the WMS's event feed from its stored cursor to its
// end and appends the fulfilment events to the log with their order's
// correlation ID, the inventory events for inventory sync and the returns
// received, storing the cursor after each page. The fulfilment events and
// returns are partitioned by their order, whatever key the feed gave them
// (the flow handles an order's events one at a time, and an order.*,
// fulfillment.* or return.* event in another partition than its order's
// is dead-lettered with ErrBadEvent). A flow made by NewInventorySync
// appends the inventory events only. It returns how many events it
// appended. The events of each page are appended in per-subject sequence
// order (see inSequence): a return's receipts each carry the return as
// received so far, so a later receipt handled before an earlier one would
// credit both in one credit memo, and the earlier one none.
//
// With Config.Warehouses it reads every system's feed, each from its own
// cursor (FeedWMSEvents+"/"+WarehouseSystem.Name), into the one log; a
// failing system does not stop the others, and the error names it.
func (f *Flow) PollWarehouse(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for _, s := range f.systems {
		k, err := f.pollWarehouse(ctx, s)
		n += k
		if err != nil && len(f.systems) > 1 {
			err = fmt.Errorf("flow: WMS %s: %w", s.name, err)
		}
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

func (f *Flow) pollWarehouse(ctx context.Context, s *wmsSystem) (int, error) {
	return f.poll(ctx, s.cursor, s.feed.PollEvents, func(e *canonical.Event) bool {
		if isInventory(e.Type) {
			return true
		}
		if !f.otc {
			return false // inventory sync only (NewInventorySync)
		}
		partitionByOrder(e)
		if strings.HasPrefix(string(e.Type), "distsync.inventory.") {
			return false
		}
		if corr := f.correlationOf(ctx, e.Partition()); corr != "" {
			e.CorrelationID = corr
		}
		return true
	})
}

// partitionByOrder sets the partition key of a fulfilment or return
// event to the order ID its data names, replacing the one its feed set (a
// warehouse may key its events by fulfilment order or return): the flow
// handles one event of an order at a time only because the consumer hands
// one partition's events to one handler at a time, so an order's events
// must share one partition. Data that names no order is left to the
// handler, which dead-letters it.
func partitionByOrder(e *canonical.Event) {
	switch e.Type {
	case canonical.EventFulfillmentReleased, canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered,
		canonical.EventFulfillmentPicked, canonical.EventFulfillmentShipped, canonical.EventFulfillmentCancelled,
		canonical.EventReturnAuthorized, canonical.EventReturnReceived:
	default:
		return
	}
	if id := orderIDOf(e.Data, e.PartitionKey); id != "" {
		e.PartitionKey = id
	}
}

// orderIDOf returns the top-level "orderId" of data as json.Unmarshal into
// a struct with that one field reads it (keys matched without regard to
// case, the last match winning), or "" when data does not decode so. Plain
// data, whose keys and order ID have no escapes or non-ASCII bytes, is
// scanned without decoding it; anything else is left to json.Unmarshal.
// When the order ID is have, have is returned (not a copy).
func orderIDOf(data []byte, have string) string {
	id, ok := scanOrderID(data, have)
	if ok {
		return id
	}
	var d struct {
		OrderID string `json:"orderId"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	return d.OrderID
}

// scanOrderID is the fast path of orderIDOf; ok is false when the data is
// not plain and json.Unmarshal must decide.
func scanOrderID(data []byte, have string) (id string, ok bool) {
	if !jsonfast.Valid(data) { // json.Valid's answer, without its per-byte calls
		return "", true // json.Unmarshal fails too
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false // null, or not an object: an error or nothing
	}
	i = skipSpace(data, i+1)
	if data[i] == '}' {
		return "", true
	}
	for {
		// data[i] is the '"' of a key: data is valid JSON.
		end := i + 1
		for data[end] != '"' {
			if data[end] == '\\' || data[end] >= 0x80 {
				return "", false
			}
			end++
		}
		match := asciiEqualFold(data[i+1:end], "orderid")
		i = skipSpace(data, end+1) // at ':'
		i = skipSpace(data, i+1)   // at the value
		vend := skipValue(data, i)
		if match {
			switch data[i] {
			case '"':
				v := data[i+1 : vend-1]
				for _, c := range v {
					if c == '\\' || c >= 0x80 {
						return "", false
					}
				}
				if string(v) == have {
					id = have // the feed's key is the order's already
				} else {
					id = string(v)
				}
			case 'n': // null leaves the field as it is
			default:
				return "", true // json.Unmarshal reports a type error
			}
		}
		i = skipSpace(data, vend)
		if data[i] == '}' {
			return id, true
		}
		i = skipSpace(data, i+1) // after ','
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just after the JSON value starting at
// data[i], which is valid JSON.
func skipValue(data []byte, i int) int {
	depth := 0
	for ; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			for i++; data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of a scalar before its container's end
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// asciiEqualFold reports whether b equals lower, which is lower-case
// ASCII, ignoring ASCII case.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// correlation returns the correlation ID of an order: the one it has, else
// a new one derived from the event that brings it, so that the same event
// read twice gets the same ID.
func (f *Flow) correlation(orderID string, k canonical.EventKey) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.orders[orderID]; st != nil {
		return st.corr
	}
	return eventID("correlation", k.Source, k.ID)
}

func (f *Flow) poll(ctx context.Context, feed string, read func(context.Context, connector.Cursor, int) (connector.Page, error), keep func(*canonical.Event) bool) (int, error) {
	cur, err := f.cursors.Load(ctx, feed)
	if err != nil {
		return 0, fmt.Errorf("flow: load cursor of %s: %w", feed, err)
	}
	n := 0
	for {
		page, err := read(ctx, cur, f.pageSize)
		if err != nil {
			return n, fmt.Errorf("flow: poll %s: %w", feed, err)
		}
		// keep edits a copy of the page's events (the page may share its
		// feed's memory), made in a pooled buffer: Log.Append keeps no
		// slice it is given.
		buf := pageBufs.Get().(*[]canonical.Event)
		evs := append((*buf)[:0], page.Events...)
		k := 0
		for i := range evs {
			if keep(&evs[i]) {
				if k != i {
					evs[k] = evs[i]
				}
				k++
			}
		}
		evs = evs[:k]
		inSequence(evs, !slices.ContainsFunc(page.Events, func(e canonical.Event) bool { return e.Type != canonical.EventOrderSubmitted }))
		err, kept := f.append(ctx, evs), len(evs)
		putPageBuf(buf, evs[:len(page.Events)])
		if err != nil {
			return n, fmt.Errorf("flow: append %s: %w", feed, err)
		}
		n += kept
		if page.Next != cur {
			if err := f.cursors.Save(ctx, feed, page.Next); err != nil {
				return n, fmt.Errorf("flow: save cursor of %s: %w", feed, err)
			}
			cur = page.Next
		}
		if !page.More || len(page.Events) == 0 {
			return n, nil
		}
	}
}

// pageBufs holds the buffers poll copies a page's events into.
var pageBufs = sync.Pool{New: func() any { return new([]canonical.Event) }}

// maxPooledPage is the most events a pooled page buffer keeps room for:
// a larger one (a caller's large Config.PageSize) is left to the
// collector.
const maxPooledPage = 1024

// putPageBuf gives the buffer back to pageBufs once its events, used, are
// cleared, so that the pool keeps no event alive.
func putPageBuf(buf *[]canonical.Event, used []canonical.Event) {
	clear(used)
	if cap(used) > maxPooledPage {
		return
	}
	*buf = used[:0]
	pageBufs.Put(buf)
}

// append appends evs to the log. When the log refuses the batch for an
// invalid event, it appends the valid ones and dead-letters the invalid
// ones with the reason, so that one bad event never blocks the others.
func (f *Flow) append(ctx context.Context, evs []canonical.Event) error {
	if len(evs) == 0 {
		return nil
	}
	err := f.log.Append(ctx, evs...)
	if !errors.Is(err, eventlog.ErrInvalidEvent) {
		return err
	}
	for _, e := range evs {
		err := f.log.Append(ctx, e)
		if !errors.Is(err, eventlog.ErrInvalidEvent) {
			if err != nil {
				return err
			}
			continue
		}
		t := f.now()
		if _, err := f.log.Put(ctx, eventlog.DeadLetter{Consumer: f.group, Event: e, Reason: eventlog.ReasonPermanent,
			Error: err.Error(), ErrorClass: "invalid", Attempts: 1, FirstFailure: t, LastFailure: t,
			CorrelationID: e.CorrelationID}); err != nil {
			return err
		}
		f.count(ctx, CounterDeadLettered, e.Type)
	}
	return nil
}
