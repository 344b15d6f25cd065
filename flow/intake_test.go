package flow_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// crmOrderEvent returns the CRM feed's order.submitted event of order id.
func crmOrderEvent(t *testing.T, w *world, id string) canonical.Event {
	t.Helper()
	page, err := w.crm.PollOrders(context.Background(), "", 1000)
	require.NoError(t, err, "PollOrders")
	for _, e := range page.Events {
		if e.Type == canonical.EventOrderSubmitted && e.Subject == id {
			return e
		}
	}
	t.Fatalf("the CRM's feed has no order.submitted of %s", id)
	return canonical.Event{}
}

// TestForeignOrderRefused appends to the log order events that did not
// come from the CRM's feed: an order.submitted of another source (a copy
// of a CRM order under a new ID) and an order.accepted, not the flow's
// own, that would resume an order on credit hold. Each is dead-lettered
// with ErrForeignSource before any effect: the ERP accepts nothing for
// them, nothing is released, the CRM shows nothing of the foreign order,
// and the held order stays on hold. An order from the CRM next to them
// completes.
func TestForeignOrderRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		held := w.submit(t, "ACC-0003", "SKU-103:15")
		w.settle(t)
		v, err := w.flow.Where(ctx, held)
		require.NoError(t, err, "Where %s", held)
		require.Equal(t, "on_hold", v.Phase, "phase of %s", held)

		tmpl := w.submit(t, "ACC-0002", "SKU-100:3")
		foreign := crmOrderEvent(t, w, tmpl)
		o, err := canonical.DecodeData[canonical.Order](foreign)
		require.NoError(t, err, "decode the CRM's order")
		o.ID = "ORD-F1"
		foreign, err = canonical.NewEvent(canonical.EventOrderSubmitted, o)
		require.NoError(t, err, "NewEvent foreign order")
		foreign.ID, foreign.Source, foreign.Subject, foreign.PartitionKey, foreign.CorrelationID =
			"evil-1", "urn:example:not-the-crm", o.ID, o.ID, "corr-foreign"

		erpView, err := w.erp.GetOrder(ctx, held)
		require.NoError(t, err, "GetOrder %s", held)
		erpView.Holds = nil
		erpView.AcceptedAt = erpView.SubmittedAt
		resume, err := canonical.NewEvent(canonical.EventOrderAccepted, erpView)
		require.NoError(t, err, "NewEvent foreign order.accepted")
		resume.ID, resume.Source, resume.Subject, resume.PartitionKey, resume.CorrelationID =
			"evil-2", crm.Source, held, held, "corr-foreign"
		require.NoError(t, w.log.Append(ctx, foreign, resume), "Append the foreign events")
		w.settle(t)

		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-foreign"})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 2, "dead letters of the foreign events")
		for _, d := range dls {
			assert.Equal(t, eventlog.ReasonPermanent, d.Reason, "reason for %s", d.Event.ID)
			assert.Equal(t, 1, d.Attempts, "attempts for %s", d.Event.ID)
			assert.Contains(t, d.Error, flow.ErrForeignSource.Error(), "error of %s", d.Event.ID)
			assert.Contains(t, d.Error, d.Event.Source+"/"+d.Event.ID, "error of %s names the event", d.Event.ID)
		}
		assert.Contains(t, dls[0].Error+dls[1].Error, `orders are accepted from ["urn:distsync:crm:memory"] only`, "the reason names the accepted source")

		_, err = w.erp.GetOrder(ctx, "ORD-F1")
		assert.Error(t, err, "the ERP knows nothing of the foreign order")
		_, shown := w.crm.ShownStatus("ORD-F1")
		assert.False(t, shown, "the CRM shows nothing of the foreign order")
		_, err = w.flow.Where(ctx, "ORD-F1")
		assert.ErrorIs(t, err, flow.ErrUnknownOrder, "the flow keeps nothing of the foreign order")
		v, err = w.flow.Where(ctx, held)
		require.NoError(t, err, "Where %s", held)
		assert.Equal(t, "on_hold", v.Phase, "the held order stays on hold")
		assert.Equal(t, 2, w.erp.Counts().Orders, "ERP orders: the held one and the CRM's")
		assert.Equal(t, 1, w.wms.Counts().Releases, "WMS releases: the CRM's order only")
		v = w.agree(t, tmpl)
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "the CRM's order next to the foreign ones")
	})
}

// TestOrderSources configures the accepted order sources to a source
// other than the CRM's: the CRM's order appended under that source is
// handled, and the CRM feed's own event of it, from a source no longer
// accepted, is dead-lettered.
func TestOrderSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log, OrderSources: []string{"urn:example:gateway"}})
		ctx := context.Background()
		id := w.submit(t, "ACC-0002", "SKU-100:3")
		ev := crmOrderEvent(t, w, id)
		ev.ID, ev.Source, ev.PartitionKey, ev.CorrelationID = "gw-1", "urn:example:gateway", id, "corr-"+id
		require.NoError(t, w.log.Append(ctx, ev), "Append %s", id)
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "order of the configured source")
		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 1, "dead letters")
		assert.Equal(t, crm.Source, dls[0].Event.Source, "the dead letter is the CRM feed's event")
		assert.Contains(t, dls[0].Error, flow.ErrForeignSource.Error(), "error of the CRM feed's event")
		assert.Contains(t, dls[0].Error, `orders are accepted from ["urn:example:gateway"] only`, "error names the accepted sources")
	})
}

// orderEvent returns an order.submitted event of the CRM's source carrying
// o, partitioned and correlated by its ID. Its data is encoded without
// canonical.NewEvent's validation, which the flow's bounds must not need.
func orderEvent(t *testing.T, o canonical.Order) canonical.Event {
	t.Helper()
	data, err := canonical.Encode(o)
	require.NoError(t, err, "Encode %s", o.ID)
	return canonical.Event{ID: "big-" + o.ID, Source: crm.Source, SpecVersion: canonical.EventSpecVersion,
		Type: canonical.EventOrderSubmitted, Subject: o.ID, DataContentType: "application/json", Data: data,
		PartitionKey: o.ID, CorrelationID: "corr-" + o.ID}
}

// TestEventBounds appends order events beyond the flow's bounds on what
// one event may carry: each is dead-lettered at its first attempt with
// ErrEventTooLarge saying which bound, before any effect, while an order
// within the bounds next to it completes.
func TestEventBounds(t *testing.T) {
	tests := []struct {
		name string
		cfg  flow.Config
		// order changes the template order (one line, from the CRM).
		order func(o *canonical.Order)
		want  string
	}{
		{name: "10 MB note", order: func(o *canonical.Order) {
			o.Notes = []canonical.Note{{Type: "customer", Text: strings.Repeat("x", 10<<20)}}
		}, want: "bytes of data, more than the 4194304 accepted (Config.MaxEventSize)"},
		{name: "60,000 lines, over the size", order: func(o *canonical.Order) { o.Lines = manyLines(o.Lines[0], 60_000) },
			want: "bytes of data, more than the 4194304 accepted (Config.MaxEventSize)"},
		{name: "60,000 lines, over the lines", cfg: flow.Config{MaxEventSize: 64 << 20}, order: func(o *canonical.Order) { o.Lines = manyLines(o.Lines[0], 60_000) },
			want: "60000 lines, more than the 10000 accepted (Config.MaxLines)"},
		{name: "5 lines over a bound of 4", cfg: flow.Config{MaxLines: 4}, order: func(o *canonical.Order) { o.Lines = manyLines(o.Lines[0], 5) },
			want: "5 lines, more than the 4 accepted (Config.MaxLines)"},
		{name: "20,000 notes", order: func(o *canonical.Order) {
			o.Notes = make([]canonical.Note, 20_000)
			for i := range o.Notes {
				o.Notes[i] = canonical.Note{Type: "c", Text: "n"}
			}
		}, want: "20000 notes, more than the 10000 accepted (Config.MaxLines)"},
		{name: "a small size bound", cfg: flow.Config{MaxEventSize: 512}, order: func(o *canonical.Order) {},
			want: "more than the 512 accepted (Config.MaxEventSize)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newSystems(t)
				w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
				cfg := tt.cfg
				cfg.Log = w.log
				w.connect(t, nil, cfg)
				ctx := context.Background()
				tmpl := w.submit(t, "ACC-0002", "SKU-100:2")
				o, err := canonical.DecodeData[canonical.Order](crmOrderEvent(t, w, tmpl))
				require.NoError(t, err, "decode the CRM's order")
				o.ID = "ORD-BIG"
				tt.order(&o)
				big := orderEvent(t, o)
				require.NoError(t, w.log.Append(ctx, big), "Append %s", tt.name)
				if tt.cfg.MaxEventSize == 0 || tt.cfg.MaxEventSize > 1024 {
					w.settle(t)
					v := w.agree(t, tmpl)
					assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "order within the bounds next to %s", tt.name)
				} else {
					require.NoError(t, w.flow.Drain(ctx), "Drain")
				}
				dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: big.CorrelationID})
				require.NoError(t, err, "DeadLetters")
				require.Len(t, dls, 1, "dead letters of %s", tt.name)
				assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason of %s", tt.name)
				assert.Equal(t, 1, dls[0].Attempts, "attempts of %s", tt.name)
				assert.Contains(t, dls[0].Error, flow.ErrEventTooLarge.Error(), "error of %s", tt.name)
				assert.Contains(t, dls[0].Error, tt.want, "error of %s", tt.name)
				_, err = w.erp.GetOrder(ctx, o.ID)
				assert.Error(t, err, "the ERP knows nothing of the order of %s", tt.name)
				_, err = w.flow.Where(ctx, o.ID)
				assert.ErrorIs(t, err, flow.ErrUnknownOrder, "the flow keeps nothing of the order of %s", tt.name)
			})
		})
	}
}

// manyLines returns n copies of l with the IDs L1 to Ln.
func manyLines(l canonical.OrderLine, n int) []canonical.OrderLine {
	out := make([]canonical.OrderLine, n)
	for i := range out {
		out[i] = l
		out[i].ID = "L" + strconv.Itoa(i+1)
	}
	return out
}

// TestOrderLinesPerMiB measures the bytes per line of a CRM order and how
// many lines fit into DefaultMaxEventSize, as Config.MaxEventSize's
// documentation says.
func TestOrderLinesPerMiB(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		o, err := canonical.DecodeData[canonical.Order](crmOrderEvent(t, w, w.submit(t, "ACC-0002", "SKU-100:2")))
		require.NoError(t, err, "decode the CRM's order")
		small, big := orderEvent(t, o), o
		big.Lines = manyLines(o.Lines[0], 1001)
		per := (len(orderEvent(t, big).Data) - len(small.Data)) / 1000
		n := (flow.DefaultMaxEventSize - len(small.Data)) / per
		t.Logf("%d bytes per order line: %d lines in %d bytes", per, n, flow.DefaultMaxEventSize)
		assert.InDelta(t, 140, per, 10, "bytes per line of a CRM order (documented as about 140)")
		assert.Greater(t, n, flow.DefaultMaxLines, "lines of a CRM order in DefaultMaxEventSize: more than DefaultMaxLines")
	})
}

// foreignEvent returns an event of type typ carrying doc about orderID
// from source, correlated by corr, encoded without canonical.NewEvent's
// validation.
func foreignEvent(t *testing.T, typ canonical.EventType, doc canonical.Document, id, source, orderID, corr string) canonical.Event {
	t.Helper()
	data, err := canonical.Encode(doc)
	require.NoError(t, err, "Encode %s", id)
	return canonical.Event{ID: id, Source: source, SpecVersion: canonical.EventSpecVersion, Type: typ,
		Subject: orderID, DataContentType: "application/json", Data: data, PartitionKey: orderID, CorrelationID: corr}
}

// TestForeignCancelAndReturnRefused appends to the log a cancel request
// and a return authorization that did not come from a trusted source
// (the CRM's feed, the ERP's feed, the flow's own AuthorizeReturn): a
// cancel request for a released order that has shipped nothing, and a
// return of a shipped order. Each is dead-lettered with ErrForeignSource
// at its first attempt, before any effect: no warehouse cancels or
// expects anything, the ERP cancels nothing, the CRM is shown nothing new
// and the flow's state has neither. The same requests from the CRM then
// have their effects, which shows the counts would see them.
func TestForeignCancelAndReturnRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		shipped := shipForReturn(t, w)
		open := w.submit(t, "ACC-0002", "SKU-100:4")
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		v, err := w.flow.Where(ctx, open)
		require.NoError(t, err, "Where %s", open)
		require.Equal(t, "released", v.Phase, "phase of %s before the cancel request", open)

		const evil = "urn:example:not-trusted"
		cancel := foreignEvent(t, canonical.EventOrderCancelRequested, canonical.CancelRequest{ID: "CCR-EVIL",
			OrderID: open, RequestedBy: "evil", RequestedAt: time.Now()}, "evil-cancel", evil, open, "corr-foreign")
		evilRet := erpReturn(shipped, "RET-EVIL", "L1:3")
		evilRet.AuthorizedAt = time.Now()
		require.NoError(t, evilRet.Validate(), "the foreign return is valid")
		ret := foreignEvent(t, canonical.EventReturnAuthorized, evilRet, "evil-return", evil, shipped, "corr-foreign")
		erpBefore, wmsBefore := w.erp.Counts(), w.wms.Counts()
		crmOpen, _ := w.crm.ShownStatus(open)
		crmShipped, _ := w.crm.ShownStatus(shipped)
		require.NoError(t, w.log.Append(ctx, cancel, ret), "Append the foreign events")
		require.NoError(t, w.flow.Drain(ctx), "Drain")

		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-foreign"})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 2, "dead letters of the foreign events")
		for _, d := range dls {
			assert.Equal(t, eventlog.ReasonPermanent, d.Reason, "reason for %s", d.Event.ID)
			assert.Equal(t, 1, d.Attempts, "attempts for %s", d.Event.ID)
			assert.Contains(t, d.Error, flow.ErrForeignSource.Error(), "error of %s", d.Event.ID)
			assert.Contains(t, d.Error, evil+"/"+d.Event.ID, "error of %s names the event", d.Event.ID)
		}
		assert.Contains(t, dls[0].Error+dls[1].Error, `cancel requests are accepted from ["urn:distsync:crm:memory" "urn:distsync:erp:memory"] only`,
			"the reason names the accepted sources")
		assert.Contains(t, dls[0].Error+dls[1].Error, `returns are accepted from ["urn:distsync:crm:memory" "urn:distsync:erp:memory" "urn:distsync:flow"] only`,
			"the reason names the accepted sources")

		erpAfter, wmsAfter := w.erp.Counts(), w.wms.Counts()
		assert.Equal(t, erpBefore.Cancellations, erpAfter.Cancellations, "ERP cancellations")
		assert.Equal(t, wmsBefore.Cancellations, wmsAfter.Cancellations, "WMS cancellations")
		assert.Equal(t, wmsBefore.ReturnAuthorizations, wmsAfter.ReturnAuthorizations, "WMS return authorizations")
		_, err = w.wms.Return(ctx, "RET-EVIL")
		assert.Error(t, err, "the WMS expects nothing of the foreign return")
		now, _ := w.crm.ShownStatus(open)
		assert.Equal(t, crmOpen, now, "the CRM's status of %s", open)
		now, _ = w.crm.ShownStatus(shipped)
		assert.Equal(t, crmShipped, now, "the CRM's status of %s", shipped)
		v, err = w.flow.Where(ctx, open)
		require.NoError(t, err, "Where %s", open)
		assert.Equal(t, "0", bucket(t, v, "L1", canonical.BucketCancelled), "cancelled of %s", open)
		v, err = w.flow.Where(ctx, shipped)
		require.NoError(t, err, "Where %s", shipped)
		assert.Empty(t, v.Returns, "returns of %s", shipped)

		_, err = w.crm.RequestCancellation(ctx, open, nil, "")
		require.NoError(t, err, "RequestCancellation %s", open)
		w.authorize(t, shipped, "L1:3")
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		assert.Equal(t, wmsBefore.Cancellations+1, w.wms.Counts().Cancellations, "WMS cancellations of the CRM's request")
		assert.Equal(t, wmsBefore.ReturnAuthorizations+1, w.wms.Counts().ReturnAuthorizations, "WMS return authorizations of the CRM's return")
	})
}

// TestERPSources configures the accepted ERP sources to a source other
// than the ERP's: a cancel request and a return requested in the ERP,
// read from its feed under its own source, are dead-lettered with
// ErrForeignSource before any effect.
func TestERPSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log, ERPSources: []string{"urn:example:erp-gateway"}})
		ctx := context.Background()
		shipped := shipForReturn(t, w)
		open := w.submit(t, "ACC-0002", "SKU-100:4")
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		erpBefore, wmsBefore := w.erp.Counts(), w.wms.Counts()
		_, err := w.erp.RequestCancellation(ctx, open, nil, "credit risk")
		require.NoError(t, err, "ERP RequestCancellation %s", open)
		_, err = w.erp.RequestReturn(ctx, shipped, returnWH, []erp.ReturnLineRequest{
			{LineID: "L1", Quantity: canonical.MustParseQuantity("3", "EA"), Reason: "damaged"}})
		require.NoError(t, err, "ERP RequestReturn %s", shipped)
		require.NoError(t, w.flow.Drain(ctx), "Drain")

		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 2, "dead letters")
		for _, d := range dls {
			assert.Equal(t, erp.Source, d.Event.Source, "the dead letter is the ERP feed's event")
			assert.Contains(t, d.Error, flow.ErrForeignSource.Error(), "error of %s", d.Event.ID)
			assert.Contains(t, d.Error, "urn:example:erp-gateway", "error of %s names the accepted sources", d.Event.ID)
		}
		assert.Equal(t, erpBefore.Cancellations, w.erp.Counts().Cancellations, "ERP cancellations")
		assert.Equal(t, wmsBefore.Cancellations, w.wms.Counts().Cancellations, "WMS cancellations")
		assert.Equal(t, wmsBefore.ReturnAuthorizations, w.wms.Counts().ReturnAuthorizations, "WMS return authorizations")
	})
}

// TestShipmentBounds appends a new shipment of a shipped order's
// fulfilment order carrying 100,000 packages, and one carrying 100,000
// tracking numbers, within a raised MaxEventSize: each is dead-lettered
// at its first attempt with ErrEventTooLarge naming the list, and the ERP
// posts nothing for them.
func TestShipmentBounds(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *canonical.Shipment)
		want   string
	}{
		{name: "100,000 packages", change: func(s *canonical.Shipment) {
			s.Packages = make([]canonical.Package, 100_000)
			for i := range s.Packages {
				s.Packages[i] = canonical.Package{TrackingNumber: strconv.Itoa(i)}
			}
		}, want: "100000 packages, more than the 10000 accepted (Config.MaxLines)"},
		{name: "100,000 tracking numbers", change: func(s *canonical.Shipment) {
			s.TrackingNumbers = make([]string, 100_000)
			for i := range s.TrackingNumbers {
				s.TrackingNumbers[i] = "1Z" + strconv.Itoa(i)
			}
		}, want: "100000 trackingNumbers, more than the 10000 accepted (Config.MaxLines)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newSystems(t)
				w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
				w.connect(t, nil, flow.Config{Log: w.log, MaxEventSize: 64 << 20})
				ctx := context.Background()
				id := w.submit(t, "ACC-0002", "SKU-100:2")
				w.settle(t)
				ev := wmsShipmentEvent(t, w, id)
				s, err := canonical.DecodeData[canonical.Shipment](ev)
				require.NoError(t, err, "decode the shipment")
				s.ID = "SHP-BIG"
				tt.change(&s)
				data, err := canonical.Encode(s)
				require.NoError(t, err, "Encode %s", tt.name)
				ev.ID, ev.Data, ev.CorrelationID = "big-ship", data, "corr-big"
				invoices := w.erp.Counts().Invoices
				require.NoError(t, w.log.Append(ctx, ev), "Append %s", tt.name)
				require.NoError(t, w.flow.Drain(ctx), "Drain")
				dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-big"})
				require.NoError(t, err, "DeadLetters")
				require.Len(t, dls, 1, "dead letters of %s", tt.name)
				assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason of %s", tt.name)
				assert.Equal(t, 1, dls[0].Attempts, "attempts of %s", tt.name)
				assert.Contains(t, dls[0].Error, flow.ErrEventTooLarge.Error(), "error of %s", tt.name)
				assert.Contains(t, dls[0].Error, tt.want, "error of %s", tt.name)
				assert.Equal(t, invoices, w.erp.Counts().Invoices, "ERP invoices after %s", tt.name)
			})
		})
	}
}

// subjectKeyedWMS is a WMS whose feed keys its events by their subject
// (a fulfilment order, a return), not by their order, as a vendor's feed
// may.
type subjectKeyedWMS struct{ connector.WMS }

func (w subjectKeyedWMS) PollEvents(ctx context.Context, cur connector.Cursor, limit int) (connector.Page, error) {
	p, err := w.WMS.PollEvents(ctx, cur, limit)
	p.Events = slices.Clone(p.Events)
	for i := range p.Events {
		p.Events[i].PartitionKey = p.Events[i].Subject
	}
	return p, err
}

func (w subjectKeyedWMS) Unwrap() any { return w.WMS }

// TestOrderEventsPartitionedByOrder: the events of an order are handled
// one at a time only when they share the order's partition. A split
// order's fulfilment events read from a feed that keys them by fulfilment
// order are appended to the log under the order's ID, and the order
// completes; a shipment appended to the log under its fulfilment order's
// key is dead-lettered with ErrBadEvent naming the partition, before any
// effect.
func TestOrderEventsPartitionedByOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.wrapWMS = func(c connector.WMS) connector.WMS { return subjectKeyedWMS{c} }
		w.connect(t, nil, flow.Config{Log: w.log})
		ctx := context.Background()
		id := w.submit(t, "ACC-0002", "SKU-101:100")
		w.settle(t)
		v := w.agree(t, id)
		require.Len(t, v.FulfillmentOrders, 2, "fulfilment orders of %s", id)
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment of %s", id)
		assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
		entries, err := w.log.Read(ctx, 0, 10_000)
		require.NoError(t, err, "Read the log")
		fulfilment := 0
		for _, e := range entries {
			if strings.HasPrefix(string(e.Event.Type), "distsync.fulfillment.") {
				fulfilment++
				assert.Equal(t, id, e.Event.PartitionKey, "partition of %s %s (subject %s)", e.Event.Type, e.Event.ID, e.Event.Subject)
			}
		}
		assert.Greater(t, fulfilment, 4, "fulfilment events in the log")

		ship := wmsShipmentEvent(t, w, id)
		s, err := canonical.DecodeData[canonical.Shipment](ship)
		require.NoError(t, err, "decode the shipment")
		s.ID = "SHP-OTHER"
		ship.Data, err = canonical.Encode(s)
		require.NoError(t, err, "Encode")
		ship.ID, ship.PartitionKey, ship.CorrelationID = "keyed-by-fo", s.FulfillmentOrderID, "corr-fo"
		invoices := w.erp.Counts().Invoices
		require.NoError(t, w.log.Append(ctx, ship), "Append")
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-fo"})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 1, "dead letters")
		assert.Equal(t, 1, dls[0].Attempts, "attempts")
		assert.Contains(t, dls[0].Error, flow.ErrBadEvent.Error(), "error")
		assert.Contains(t, dls[0].Error, `fulfillment.shipped of order "`+id+`" is in partition "`+s.FulfillmentOrderID+`", not the order's`, "error")
		assert.Equal(t, invoices, w.erp.Counts().Invoices, "ERP invoices")
	})
}

// TestForeignWarehouseEventRefused appends to the log warehouse events
// that did not come from the WMS's feed: a second shipment of a shipped
// order's fulfilment order and an inventory adjustment. Each is
// dead-lettered with ErrForeignSource at its first attempt, before any
// effect: the ERP posts and invoices nothing and applies no inventory.
func TestForeignWarehouseEventRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		id := w.submit(t, "ACC-0002", "SKU-101:100")
		w.settle(t)
		v := w.agree(t, id)
		require.Len(t, v.FulfillmentOrders, 2, "fulfilment orders of %s", id)
		ship := wmsShipmentEvent(t, w, id)
		s, err := canonical.DecodeData[canonical.Shipment](ship)
		require.NoError(t, err, "decode the shipment")
		s.ID = "SHP-EVIL"
		ship.Data, err = canonical.Encode(s)
		require.NoError(t, err, "Encode")
		const evil = "urn:example:not-the-wms"
		ship.ID, ship.Source, ship.CorrelationID = "evil-ship", evil, "corr-foreign"
		adj := foreignEvent(t, canonical.EventInventoryAdjusted, canonical.InventoryAdjustment{ID: "ADJ-EVIL",
			Item: canonical.ItemRef{SKU: "SKU-100"}, Location: "WH-EAST", Status: canonical.InventoryAvailable,
			Delta: canonical.MustParseQuantity("1000", "EA"), Reason: canonical.AdjustFound, AdjustedAt: time.Now(), Sequence: 1000},
			"evil-adj", evil, "SKU-100@WH-EAST", "corr-foreign")
		before := w.erp.Counts()
		require.NoError(t, w.log.Append(ctx, ship, adj), "Append the foreign events")
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-foreign"})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 2, "dead letters of the foreign events")
		for _, d := range dls {
			assert.Equal(t, 1, d.Attempts, "attempts for %s", d.Event.ID)
			assert.Contains(t, d.Error, flow.ErrForeignSource.Error(), "error of %s", d.Event.ID)
			assert.Contains(t, d.Error, `warehouse events are accepted from ["`+w.wms.Source()+`"] only (Config.WMSSources)`, "error of %s", d.Event.ID)
		}
		after := w.erp.Counts()
		assert.Equal(t, before.Invoices, after.Invoices, "ERP invoices")
		assert.Equal(t, before.InventoryApplications, after.InventoryApplications, "ERP inventory applications")

	})
}

// TestHeldOrderNearTheBound: an order within Config.MaxEventSize whose
// ERP view is larger (the ERP adds buckets, promised dates and refs to
// every line) is held and then released: the flow's own order.accepted,
// which carries the ERP's view, is not refused as too large, and the order
// is released. Flow.AuthorizeReturn refuses a return beyond the bounds.
func TestHeldOrderNearTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		const size = 64 << 10
		w.connect(t, nil, flow.Config{Log: w.log, MaxEventSize: size, MaxLines: 300})
		ctx := context.Background()
		lines := make([]string, 250)
		for i := range lines {
			lines[i] = "SKU-103:1"
		}
		id := w.submit(t, "ACC-0003", lines...)
		require.Less(t, len(crmOrderEvent(t, w, id).Data), size, "the order as submitted is within the bound")
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		require.Equal(t, "on_hold", v.Phase, "phase before the release")
		view, err := w.erp.ReleaseHold(ctx, id, canonical.HoldCredit)
		require.NoError(t, err, "ReleaseHold %s", id)
		data, err := canonical.Encode(view)
		require.NoError(t, err, "Encode the ERP's view")
		require.Greater(t, len(data), size, "the ERP's view is beyond the bound")
		require.NoError(t, w.flow.Drain(ctx), "Drain") // the hold watcher resumes the order
		v, err = w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
		assert.Equal(t, "released", v.Phase, "phase after the release")
		assert.Positive(t, w.wms.Counts().Releases, "WMS releases")

		ret := erpReturn(id, "RET-BIG")
		ret.AuthorizedAt = time.Now()
		for i := range 301 {
			ret.Lines = append(ret.Lines, canonical.ReturnLine{ID: "R" + strconv.Itoa(i), OrderLineID: "L1", Item: canonical.ItemRef{SKU: "SKU-103"},
				Authorized: canonical.MustParseQuantity("0", "EA"), Received: canonical.MustParseQuantity("0", "EA")})
		}
		before := len(mustRead(t, w.log))
		err = w.flow.AuthorizeReturn(ctx, ret)
		require.ErrorIs(t, err, flow.ErrEventTooLarge, "AuthorizeReturn of 301 lines")
		assert.Contains(t, err.Error(), "301 lines, more than the 300 accepted (Config.MaxLines)", "error")
		assert.Len(t, mustRead(t, w.log), before, "events in the log after the refused return")
	})
}

// mustRead returns the entries of the log.
func mustRead(t *testing.T, l eventlog.Backend) []eventlog.Entry {
	t.Helper()
	es, err := l.Read(context.Background(), 0, 1_000_000)
	require.NoError(t, err, "Read the log")
	return es
}

// TestOrderAtTheLineBound runs an order of DefaultMaxLines lines through a
// flow with the default bounds: the order as submitted, the ERP's view of
// it and the warehouse's allocation, pick and shipment updates of it
// (which carry up to one and a half times the bytes per line of the order)
// are all within DefaultMaxEventSize, so nothing is dead-lettered and
// the order ships. (With a 1 MiB default, an order above about 7,500
// lines was refused for its size, and one of 5,000 to 7,500 lines was
// accepted and then had its pick update refused.)
func TestOrderAtTheLineBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		lines := make([]string, flow.DefaultMaxLines)
		for i := range lines {
			lines[i] = "SKU-102:1"
		}
		for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
			w.adjust(t, "ADJ-"+wh, "SKU-102", wh, "10000")
		}
		id := w.submit(t, "ACC-0002", lines...)
		w.settle(t)
		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		for _, d := range v.DeadLetters {
			t.Errorf("dead letter %s: %.300s", d.Event.Type, d.Error)
		}
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment of %s", id)
		largest := 0
		for _, e := range mustRead(t, w.log) {
			largest = max(largest, len(e.Event.Data))
		}
		t.Logf("largest event of an order of %d lines: %d bytes (%d per line)", flow.DefaultMaxLines, largest, largest/flow.DefaultMaxLines)
	})
}
