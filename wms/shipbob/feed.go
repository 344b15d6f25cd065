// This file owns the event feed: the polling of orders and returns by last
// update (the fallback when webhooks stop) and the mapping of ShipBob's
// orders, shipments and returns, and of its webhooks, to canonical events.

package shipbob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/webhook"
	"github.com/distsync/distsync/wms/shipbob/internal/wire"
)

// ErrCursor is matched (with errors.Is) by the error PollEvents returns for
// a cursor it did not make (CodeInvalid).
var ErrCursor = errors.New("shipbob: invalid cursor")

// ErrWebhook is matched (with errors.Is) by the error MapWebhook returns for
// a payload it cannot read.
var ErrWebhook = errors.New("shipbob: unreadable webhook")

// maxPoll is the most events one PollEvents call returns.
const maxPoll = 1000

// position is where a stream (orders or returns) was read to: the last
// update time and ID of the entity whose events were delivered, and how
// many of its events.
type position struct {
	at time.Time
	id int64
	n  int
}

func (p position) String() string {
	if p.at.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%d:%d:%d", p.at.UnixMicro(), p.id, p.n)
}

func parsePosition(s string) (position, error) {
	if s == "-" {
		return position{}, nil
	}
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return position{}, errors.New("want MICROS:ID:N")
	}
	us, err1 := strconv.ParseInt(f[0], 10, 64)
	id, err2 := strconv.ParseInt(f[1], 10, 64)
	n, err3 := strconv.Atoi(f[2])
	if err := errors.Join(err1, err2, err3); err != nil || n < 0 {
		return position{}, fmt.Errorf("want MICROS:ID:N: %v", err)
	}
	return position{at: time.UnixMicro(us).UTC(), id: id, n: n}, nil
}

// feedCursor is the cursor of the feed: one position per stream.
type feedCursor struct{ orders, returns position }

func (c feedCursor) String() string { return "v1|" + c.orders.String() + "|" + c.returns.String() }

// parseCursor reads a cursor PollEvents returned; "" is the start.
func parseCursor(c connector.Cursor) (feedCursor, error) {
	if c == "" {
		return feedCursor{}, nil
	}
	f := strings.Split(string(c), "|")
	if len(f) != 3 || f[0] != "v1" {
		return feedCursor{}, fmt.Errorf("%w %q: want v1|ORDERS|RETURNS", ErrCursor, c)
	}
	o, err := parsePosition(f[1])
	if err != nil {
		return feedCursor{}, fmt.Errorf("%w %q: orders position: %v", ErrCursor, c, err)
	}
	r, err := parsePosition(f[2])
	if err != nil {
		return feedCursor{}, fmt.Errorf("%w %q: returns position: %v", ErrCursor, c, err)
	}
	return feedCursor{orders: o, returns: r}, nil
}

// PollEvents returns the canonical events of the orders and returns
// changed after cursor: it lists orders, then returns, by last update
// (GET /order and GET /return with SortOrder=Oldest and
// LastUpdateStartDate, paged by Page and Limit) and maps each with
// orderEvents and returnEvents. The cursor holds, per list, the last update
// time and ID of the entity last delivered and how many of its events, so
// a page never skips an event and a restart resumes where it stopped. An
// entity that changes again is read again and yields its events again,
// with the same keys for what did not change: the feed delivers at least
// once, and consumers deduplicate by event key.
//
// It is the polling fallback of the webhooks (see MapWebhook), and the
// feed connector.WMS needs. A cursor it did not make is CodeInvalid
// matching ErrCursor.
func (c *Client) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollEvents"
	page := connector.Page{Next: cursor}
	if err := ctxErr(ctx, op); err != nil {
		return page, err
	}
	cur, err := parseCursor(cursor)
	if err != nil {
		return page, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	limit = min(limit, maxPoll)
	var events []canonical.Event
	next := cur
	more, err := poll(ctx, c, op, "/order", cur.orders, limit, &events, &next.orders,
		func(o wire.Order) (time.Time, int64) { return o.LastUpdateAt, o.ID }, c.orderEvents)
	if err != nil {
		return page, err
	}
	if !more {
		more, err = poll(ctx, c, op, "/return", cur.returns, limit, &events, &next.returns,
			func(r wire.Return) (time.Time, int64) { return r.LastUpdateAt, r.ID }, c.returnEvents)
		if err != nil {
			return page, err
		}
	}
	if len(events) == 0 {
		return page, nil
	}
	return connector.Page{Events: events, Next: connector.Cursor(next.String()), More: more}, nil
}

// poll reads one list from pos, appending events to out until it holds
// limit, and moves *next past what it appended. It reports whether it
// stopped at the limit (more may follow).
func poll[T any](ctx context.Context, c *Client, op, endpoint string, pos position, limit int, out *[]canonical.Event, next *position,
	key func(T) (time.Time, int64), eventsOf func(T) ([]canonical.Event, error)) (bool, error) {
	// Every entity of ours gives at least one event, and the first one
	// listed may be the one the cursor is in: a page of limit+1 entities
	// usually fills the events asked for.
	size := min(limit+1, MaxPageSize)
	for p := 1; ; p++ {
		q := url.Values{"SortOrder": {"Oldest"}, "Page": {strconv.Itoa(p)}, "Limit": {strconv.Itoa(size)}}
		if !pos.at.IsZero() {
			q.Set("LastUpdateStartDate", pos.at.Format(time.RFC3339Nano))
		}
		items, err := list[T](ctx, c, op, endpoint, q)
		if err != nil {
			return false, err
		}
		for _, it := range items {
			at, id := key(it)
			at = at.UTC().Truncate(time.Microsecond)
			skip := 0
			switch c := at.Compare(pos.at); {
			case c < 0 || c == 0 && id < pos.id:
				continue
			case c == 0 && id == pos.id:
				skip = pos.n
			}
			evs, err := eventsOf(it)
			if err != nil {
				return false, err
			}
			for i := skip; i < len(evs); i++ {
				if len(*out) == limit {
					return true, nil
				}
				*out = append(*out, evs[i])
				*next = position{at: at, id: id, n: i + 1}
			}
		}
		if len(items) < size {
			return false, nil
		}
	}
}

// orderEvents maps a ShipBob order released by this connector (one that
// carries the distsync_fulfillment_order tag; others give no events) to
// canonical events, in this order:
//
//   - fulfilment released, with the fulfilment order (ID
//     "order-ID-released");
//   - per shipment, by its status: Exception gives fulfilment backordered
//     (an allocation update with the shipment's products backordered);
//     Processing after a change (back from Exception or OnHold) gives
//     fulfilment allocated; Completed gives fulfilment shipped, a Shipment
//     with the tracking number and carrier (final when no shipment is
//     open); Cancelled gives fulfilment cancelled, the fulfilment order with
//     the cancelled quantities as its lines. OnHold gives no event.
//
// Event IDs are derived from the shipment ID and status (and the update
// time for the statuses a shipment may take more than once), so the same
// order read twice, or the same change arriving by webhook and by polling,
// gives the same event keys. Subject is the fulfilment order ID and the
// partition key its order ID.
func (c *Client) orderEvents(o wire.Order) ([]canonical.Event, error) {
	fo, ok := storedFO(o)
	if !ok {
		return nil, nil
	}
	fo.Refs = append(fo.Refs, canonical.ExternalRef{System: System, Type: "order", Value: strconv.FormatInt(o.ID, 10)})
	fo.ReleasedAt = o.CreatedDate
	var out []canonical.Event
	add := func(t canonical.EventType, id string, at time.Time, doc canonical.Document) error {
		e, err := canonical.NewEvent(t, doc)
		if err != nil {
			return connector.NewError(connector.CodeInternal, System, "PollEvents", fmt.Errorf("order %d: %w", o.ID, err))
		}
		e.ID, e.Source, e.Subject, e.Time, e.PartitionKey = id, c.cfg.Source, fo.ID, at.UTC(), fo.OrderID
		out = append(out, e)
		return nil
	}
	if err := add(canonical.EventFulfillmentReleased, fmt.Sprintf("order-%d-released", o.ID), o.CreatedDate, fo); err != nil {
		return nil, err
	}
	bySKU := map[string]canonical.FulfillmentLine{}
	for _, l := range fo.Lines {
		bySKU[l.Item.SKU] = l
	}
	anyOpen := slices.ContainsFunc(o.Shipments, func(s wire.Shipment) bool {
		return s.Status != wire.StatusCompleted && s.Status != wire.StatusCancelled
	})
	lastCompleted := int64(0)
	for _, s := range o.Shipments {
		if s.Status == wire.StatusCompleted {
			lastCompleted = max(lastCompleted, s.ID)
		}
	}
	for _, s := range o.Shipments {
		qty := map[string]int64{}
		for _, p := range s.Products {
			qty[skuOf(p)] += p.Quantity
		}
		stamp := s.LastUpdateAt.UTC().UnixMicro()
		var err error
		switch s.Status {
		case wire.StatusException, wire.StatusProcessing:
			if s.Status == wire.StatusProcessing && !s.LastUpdateAt.After(s.CreatedDate) {
				continue
			}
			u := canonical.AllocationUpdate{FulfillmentOrderID: fo.ID, OrderID: fo.OrderID, Warehouse: fo.Warehouse, AsOf: s.LastUpdateAt.UTC(), Sequence: stamp}
			for _, l := range fo.Lines {
				zero := count(0, l.Quantity.Unit.String())
				al := canonical.AllocationLine{FulfillmentLineID: l.ID, OrderLineID: l.OrderLineID, Item: l.Item, Allocated: zero, Backordered: zero}
				if s.Status == wire.StatusException {
					al.Backordered = count(qty[l.Item.SKU], l.Quantity.Unit.String())
				} else {
					al.Allocated = count(qty[l.Item.SKU], l.Quantity.Unit.String())
				}
				u.Lines = append(u.Lines, al)
			}
			t := canonical.EventFulfillmentBackordered
			if s.Status == wire.StatusProcessing {
				t = canonical.EventFulfillmentAllocated
			}
			err = add(t, fmt.Sprintf("shipment-%d-%s-%d", s.ID, strings.ToLower(s.Status), stamp), s.LastUpdateAt, u)
		case wire.StatusCompleted:
			sh := canonical.Shipment{
				ID: fmt.Sprintf("shipbob-%d", s.ID), Version: 1, OrderID: fo.OrderID, FulfillmentOrderID: fo.ID, Warehouse: fo.Warehouse,
				Refs:                canonical.Refs{{System: System, Type: "shipment", Value: strconv.FormatInt(s.ID, 10)}},
				ShippedAt:           firstTime(s.ActualFulfillmentDate, s.LastUpdateAt),
				FinalForFulfillment: !anyOpen && s.ID == lastCompleted,
				Carrier:             canonical.Carrier{SCAC: "UNKN"},
			}
			if t := s.Tracking; t != nil {
				sh.Carrier = canonical.Carrier{SCAC: scac(t.Carrier), Name: t.Carrier}
				sh.Service = t.CarrierService
				if t.TrackingNumber != "" {
					sh.TrackingNumbers = []string{t.TrackingNumber}
				}
			}
			for i, l := range fo.Lines {
				if n := qty[l.Item.SKU]; n > 0 {
					sh.Lines = append(sh.Lines, canonical.ShipmentLine{ID: fmt.Sprintf("%s:%d", sh.ID, i+1), OrderLineID: l.OrderLineID,
						FulfillmentLineID: l.ID, Item: l.Item, Quantity: count(n, l.Quantity.Unit.String())})
				}
			}
			if len(sh.Lines) > 0 {
				err = add(canonical.EventFulfillmentShipped, fmt.Sprintf("shipment-%d-completed", s.ID), sh.ShippedAt, sh)
			}
		case wire.StatusCancelled:
			cf := fo
			cf.Lines = nil
			for _, l := range fo.Lines {
				if n := qty[l.Item.SKU]; n > 0 {
					l.Quantity = count(n, l.Quantity.Unit.String())
					cf.Lines = append(cf.Lines, l)
				}
			}
			if len(cf.Lines) > 0 {
				err = add(canonical.EventFulfillmentCancelled, fmt.Sprintf("shipment-%d-cancelled", s.ID), s.LastUpdateAt, cf)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// returnEvents maps a ShipBob return created by this connector (one that
// carries the distsync_return tag) to canonical events: a Completed return
// gives return received (ID "return-ID-completed"), the return with its
// received quantities, conditions and dispositions; other statuses give
// none.
func (c *Client) returnEvents(r wire.Return) ([]canonical.Event, error) {
	v, ok := wire.TagValue(r.Tags, wire.TagReturn)
	if !ok || r.Status != "Completed" {
		return nil, nil
	}
	var ret canonical.Return
	if err := json.Unmarshal([]byte(v), &ret); err != nil || ret.ID != r.ReferenceID {
		return nil, nil
	}
	ret.Refs = append(ret.Refs, canonical.ExternalRef{System: System, Type: "return", Value: strconv.FormatInt(r.ID, 10)})
	ret.ReceivedAt = firstTime(r.CompletedDate, r.LastUpdateAt).UTC()
	for i := range ret.Lines {
		if i >= len(r.Inventory) || r.Inventory[i].ReceivedQty <= 0 {
			continue
		}
		inv := r.Inventory[i]
		l := &ret.Lines[i]
		l.Received = count(inv.ReceivedQty, l.Authorized.Unit.String())
		l.Condition = canonical.ReturnCondition(inv.Condition)
		if l.Condition == "" {
			l.Condition = canonical.ConditionNew
		}
		l.Disposition = dispositions[inv.ActionTaken]
		if l.Disposition == "" {
			l.Disposition = canonical.DispositionRestock
		}
	}
	e, err := canonical.NewEvent(canonical.EventReturnReceived, ret)
	if err != nil {
		return nil, connector.NewError(connector.CodeInternal, System, "PollEvents", fmt.Errorf("return %d: %w", r.ID, err))
	}
	e.ID, e.Source, e.Subject, e.Time = fmt.Sprintf("return-%d-completed", r.ID), c.cfg.Source, ret.ID, ret.ReceivedAt
	if ret.OrderID != "" {
		e.PartitionKey = ret.OrderID
	}
	return []canonical.Event{e}, nil
}

// dispositions maps ShipBob's action_taken to canonical dispositions.
var dispositions = map[string]canonical.Disposition{
	"Restock": canonical.DispositionRestock, "Quarantine": canonical.DispositionQuarantine,
	"Refurbish": canonical.DispositionRefurbish, "Dispose": canonical.DispositionScrap,
	"ReturnToVendor": canonical.DispositionReturnToVendor,
}

// MapWebhook maps a ShipBob webhook (its topic, from the x-webhook-topic
// header, and its verified body) to canonical events: the same events, with
// the same keys, as PollEvents gives for the entity it names, so that
// consumers deduplicate what arrives both ways. For the order topics
// (order.shipped, order.shipment.exception, order.shipment.on_hold,
// order.shipment.cancelled) the body is a shipment; the connector reads
// its order (one GET /order/{id}) and returns the event of the topic's
// change of that shipment (shipped, backordered, cancelled), or none when
// the shipment has moved on since, as a later webhook brings that change
// (order.shipment.on_hold gives none; a shipment back in Processing after
// an exception has no topic and is seen by polling only). For
// return.completed and the other return topics the body is
// the return itself and no call is made. Other topics give no events. A
// body it cannot read is an error matching ErrWebhook.
func (c *Client) MapWebhook(ctx context.Context, topic string, body []byte) ([]canonical.Event, error) {
	const op = "MapWebhook"
	switch {
	case strings.HasPrefix(topic, "order."):
		var s wire.Shipment
		if err := json.Unmarshal(body, &s); err != nil || s.OrderID == 0 || s.ID == 0 {
			return nil, connector.NewError(connector.CodeInvalid, System, op, fmt.Errorf("%w: topic %s: want a shipment with id and order_id: %v", ErrWebhook, topic, err))
		}
		var o wire.Order
		if err := c.do(ctx, op, http.MethodGet, c.path("/order/"+strconv.FormatInt(s.OrderID, 10)), nil, &o); err != nil {
			return nil, err
		}
		all, err := c.orderEvents(o)
		if err != nil {
			return nil, err
		}
		prefix := fmt.Sprintf("shipment-%d-", s.ID)
		want := topicTypes[topic]
		return slices.DeleteFunc(all, func(e canonical.Event) bool { return !strings.HasPrefix(e.ID, prefix) || e.Type != want }), nil
	case strings.HasPrefix(topic, "return."):
		var r wire.Return
		if err := json.Unmarshal(body, &r); err != nil || r.ID == 0 {
			return nil, connector.NewError(connector.CodeInvalid, System, op, fmt.Errorf("%w: topic %s: want a return with id: %v", ErrWebhook, topic, err))
		}
		return c.returnEvents(r)
	}
	return nil, nil
}

// topicTypes are the event types the order topics map to: a webhook gives
// the event of its own change, and none when the shipment has moved on (a
// later webhook, or the polling feed, brings that change).
var topicTypes = map[string]canonical.EventType{
	wire.TopicOrderShipped:   canonical.EventFulfillmentShipped,
	wire.TopicShipmentExcept: canonical.EventFulfillmentBackordered,
	wire.TopicShipmentCancel: canonical.EventFulfillmentCancelled,
}

// skuOf returns a shipment product's SKU.
func skuOf(p wire.ShipmentProduct) string {
	if p.SKU != "" {
		return p.SKU
	}
	return p.ReferenceID
}

// firstTime returns the first non-zero time.
func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// scac returns the SCAC of a ShipBob carrier name: the known ones mapped,
// others as their first four letters upper-cased ("UNKN" without letters).
func scac(name string) string {
	switch strings.ToUpper(name) {
	case "UPS":
		return "UPSN"
	case "FEDEX":
		return "FDEG"
	case "USPS":
		return "USPS"
	case "DHL", "DHLEXPRESS", "DHL EXPRESS":
		return "DHLC"
	}
	var b []rune
	for _, r := range strings.ToUpper(name) {
		if r >= 'A' && r <= 'Z' && len(b) < 4 {
			b = append(b, r)
		}
	}
	if len(b) < 2 {
		return "UNKN"
	}
	return string(b)
}

// Mapper returns the webhook.Mapper of ShipBob's webhooks for the intake
// (webhook.Handler with a webhook.Standard verifier): MapWebhook of the
// delivery's x-webhook-topic header and body. Its events have their own
// IDs, the same as PollEvents gives, so the intake keeps them and consumers
// deduplicate what arrives both by webhook and by polling.
func (c *Client) Mapper() webhook.Mapper {
	return func(ctx context.Context, d webhook.Delivery) ([]canonical.Event, error) {
		return c.MapWebhook(ctx, d.Header.Get(wire.HeaderTopic), d.Body)
	}
}

// WebhookTopics returns the webhook topics MapWebhook maps, new on every
// call.
func WebhookTopics() []string {
	return []string{
		wire.TopicOrderShipped, wire.TopicShipmentExcept, wire.TopicShipmentOnHold, wire.TopicShipmentCancel,
		wire.TopicReturnCompleted,
	}
}

// Source returns the CloudEvents source of the connector's events
// (Config.Source), the one a flow lists among its WMS sources.
func (c *Client) Source() string { return c.cfg.Source }

// CreateWebhook subscribes url to topics (POST /webhook); no topics means
// WebhookTopics. It returns the subscription's ID. ShipBob signs deliveries with
// the Standard Webhooks scheme; verify them with webhook.Standard and the
// secret of the subscription.
func (c *Client) CreateWebhook(ctx context.Context, url string, topics ...string) (int64, error) {
	const op = "CreateWebhook"
	if err := ctxErr(ctx, op); err != nil {
		return 0, err
	}
	if len(topics) == 0 {
		topics = WebhookTopics()
	}
	var s wire.Subscription
	if err := c.do(ctx, op, http.MethodPost, c.path("/webhook"), wire.Subscription{Topics: topics, URL: url}, &s); err != nil {
		return 0, err
	}
	return s.ID, nil
}
