package salesforce_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

// readAll polls the feed from cursor to its end with the given limit.
func readAll(t *testing.T, c connector.CRM, cursor connector.Cursor, limit int) ([]canonical.Event, connector.Cursor) {
	t.Helper()
	var es []canonical.Event
	for range 100 {
		p, err := c.PollOrders(t.Context(), cursor, limit)
		require.NoError(t, err)
		es = append(es, p.Events...)
		cursor = p.Next
		if !p.More {
			return es, cursor
		}
	}
	t.Fatal("the feed did not end")
	return nil, ""
}

func TestFeedShapes(t *testing.T) {
	ctx := t.Context()
	o := newOrg(t, sfemu.Config{BatchSize: 2}, nil)
	require.NoError(t, o.addOrders(ctx, 3))
	c := o.connect(t, salesforce.Config{})
	es, end := readAll(t, c, "", 0)
	require.Len(t, es, 3)
	ord, err := canonical.DecodeData[canonical.Order](es[0])
	require.NoError(t, err)
	assert.Equal(t, "801000000000001AAA", ord.ID)
	assert.Equal(t, "C-1", ord.SoldTo.ID)
	assert.Equal(t, "C-1-DC", ord.ShipTo.ID)
	assert.Equal(t, "PO-0", ord.CustomerPO)
	assert.Equal(t, canonical.Currency("USD"), ord.Currency)
	require.Len(t, ord.Lines, 2)
	assert.Equal(t, "9.80", ord.Lines[0].UnitPrice.Amount.String(), "the price keeps the scale Salesforce sent")
	assert.Equal(t, salesforce.Source, es[0].Source)

	// A cancellation of one line and a return, as reduction orders.
	memID, _ := o.emu.SimulatorID(ord.ID)
	mem, _ := o.crm.Order(memID)
	_, err = o.crm.RequestCancellation(ctx, memID, []canonical.CancelLine{{LineID: mem.Lines[1].ID, Quantity: canonical.MustParseQuantity("1", "EA")}}, "customer call")
	require.NoError(t, err)
	require.NoError(t, c.PublishStatus(ctx, connector.OrderStatus{OrderID: ord.ID, Sequence: 1, Status: ord.Status(),
		Lines: []connector.LineStatus{{LineID: ord.Lines[0].ID, Ordered: ord.Lines[0].Quantity, Shipped: ord.Lines[0].Quantity}}}))
	_, err = o.crm.AuthorizeReturn(ctx, crmReturn(memID, mem.Lines[0].ID))
	require.NoError(t, err)

	more, _ := readAll(t, c, end, 0)
	require.Len(t, more, 2, "the cancellation and the return, and not the echo of the status write")
	assert.Equal(t, canonical.EventOrderCancelRequested, more[0].Type)
	cr, err := canonical.DecodeData[canonical.CancelRequest](more[0])
	require.NoError(t, err)
	assert.Equal(t, ord.ID, cr.OrderID)
	assert.Equal(t, ord.ID, more[0].Subject)
	assert.Equal(t, "customer call", cr.Reason)
	require.Len(t, cr.Lines, 1)
	assert.Equal(t, ord.Lines[1].ID, cr.Lines[0].LineID, "OriginalOrderItemId names the order line")
	assert.Equal(t, "1", cr.Lines[0].Quantity.Value.String())

	assert.Equal(t, canonical.EventReturnAuthorized, more[1].Type)
	ret, err := canonical.DecodeData[canonical.Return](more[1])
	require.NoError(t, err)
	assert.Equal(t, ord.ID, ret.OrderID)
	assert.Equal(t, "WH-EAST", ret.Warehouse)
	assert.Equal(t, "RMA-000001", ret.RMANumber)
	require.Len(t, ret.Lines, 1)
	assert.Equal(t, ord.Lines[0].ID, ret.Lines[0].OrderLineID)
	assert.Equal(t, ord.ID, more[1].PartitionKey)
}

func TestEchoIsNotFedBack(t *testing.T) {
	ctx := t.Context()
	o := newOrg(t, sfemu.Config{}, nil)
	require.NoError(t, o.addOrders(ctx, 2))
	c := o.connect(t, salesforce.Config{})
	es, end := readAll(t, c, "", 10)
	require.Len(t, es, 2)
	for i, e := range es {
		ord, err := canonical.DecodeData[canonical.Order](e)
		require.NoError(t, err)
		require.NoError(t, c.PublishStatus(ctx, connector.OrderStatus{OrderID: ord.ID, Sequence: int64(i + 1), Status: ord.Status()}))
	}
	p, err := c.PollOrders(ctx, end, 10)
	require.NoError(t, err)
	assert.Empty(t, p.Events, "our own status writes came back as changes")
	assert.Equal(t, end, p.Next)
}

func crmReturn(orderID, lineID string) crm.ReturnRequest {
	return crm.ReturnRequest{OrderID: orderID, Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{{OrderLineID: lineID, Quantity: canonical.MustParseQuantity("1", "EA"), Reason: "damaged"}}}
}

func TestSessionRefresh(t *testing.T) {
	ctx := t.Context()
	o := newOrg(t, sfemu.Config{}, nil)
	c := o.connect(t, salesforce.Config{})
	require.NoError(t, c.Health(ctx))
	o.emu.RevokeTokens()
	require.NoError(t, c.Health(ctx), "a revoked session is renewed and the call sent once more")
	assert.Equal(t, 2, o.emu.Counts().Tokens)
	assert.Equal(t, 2, o.emu.Counts().APIRequests, "two calls admitted (the one refused for its session is not counted)")
}

func TestBadCredentials(t *testing.T) {
	o := newOrg(t, sfemu.Config{}, nil)
	c, err := salesforce.New(salesforce.Config{LoginURL: o.srv.URL, ClientID: "distsync-app", ClientSecret: "wrong"})
	require.NoError(t, err)
	err = c.Health(t.Context())
	assert.Equal(t, connector.CodeUnauthorized, connector.CodeOf(err), "%v", err)
	assert.Contains(t, err.Error(), "invalid_client")
	var ae *salesforce.APIError
	assert.True(t, errors.As(err, &ae), "%v", err)
}

func TestRequestLimit(t *testing.T) {
	ctx := t.Context()
	o := newOrg(t, sfemu.Config{APILimit: 2}, nil)
	c := o.connect(t, salesforce.Config{LimitPause: 20 * time.Millisecond})
	require.NoError(t, c.Health(ctx))
	// 2 of 2 used: the answer itself pauses the connector.
	start := time.Now()
	require.NoError(t, c.Health(ctx))
	err := c.Health(ctx)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "the connector did not slow down at the limit")
	assert.Equal(t, connector.CodeRateLimited, connector.CodeOf(err), "403 REQUEST_LIMIT_EXCEEDED: %v", err)
	var ce *connector.Error
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, 20*time.Millisecond, ce.RetryAfter())
	assert.False(t, ce.MayHaveApplied())
	assert.Contains(t, err.Error(), "REQUEST_LIMIT_EXCEEDED")
}

func TestErrorNamesCodeAndFields(t *testing.T) {
	ctx := t.Context()
	o := newOrg(t, sfemu.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`[{"message":"Required fields are missing: [DistSync_Status__c]","errorCode":"REQUIRED_FIELD_MISSING","fields":["DistSync_Status__c"]}]`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c := o.connect(t, salesforce.Config{})
	err := c.PublishStatus(ctx, connector.OrderStatus{OrderID: "801000000000001AAA", Sequence: 1, Status: canonical.Status{Commercial: canonical.CommercialSubmitted, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced}})
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	assert.Contains(t, err.Error(), "REQUIRED_FIELD_MISSING [DistSync_Status__c]")
}

func TestPollBadCursor(t *testing.T) {
	o := newOrg(t, sfemu.Config{}, nil)
	c := o.connect(t, salesforce.Config{})
	_, err := c.PollOrders(t.Context(), "not-a-cursor", 10)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	assert.Contains(t, err.Error(), "not-a-cursor")
}

func TestRestartResumes(t *testing.T) {
	ctx := t.Context()
	o := newOrg(t, sfemu.Config{BatchSize: 2}, nil)
	require.NoError(t, o.addOrders(ctx, 5))
	c := o.connect(t, salesforce.Config{})
	p, err := c.PollOrders(ctx, "", 3)
	require.NoError(t, err)
	require.Len(t, p.Events, 3)
	require.True(t, p.More)
	require.NoError(t, o.addOrders(ctx, 2))
	// A new process with the stored cursor reads the rest once.
	rest, _ := readAll(t, o.connect(t, salesforce.Config{}), p.Next, 2)
	var ids []string
	for _, e := range append(p.Events, rest...) {
		ids = append(ids, e.ID)
	}
	assert.Equal(t, []string{"801000000000001AAA", "801000000000002AAA", "801000000000003AAA", "801000000000004AAA",
		"801000000000005AAA", "801000000000006AAA", "801000000000007AAA"}, ids)
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []salesforce.Config{
		{},
		{LoginURL: "login.salesforce.com", ClientID: "a", ClientSecret: "b"},
		{LoginURL: "https://x.my.salesforce.com", ClientID: "a"},
		{LoginURL: "https://x.my.salesforce.com", ClientID: "a", ClientSecret: "b", Version: "62"},
		{LoginURL: "https://x.my.salesforce.com", ClientID: "a", ClientSecret: "b", SlowDownAt: 1},
		{LoginURL: "https://x.my.salesforce.com", ClientID: "a", ClientSecret: "b", LimitPause: -1},
	} {
		_, err := salesforce.New(c)
		assert.ErrorIs(t, err, salesforce.ErrInvalidConfig, "%+v", c)
		assert.True(t, strings.HasPrefix(err.Error(), "salesforce: invalid configuration"))
	}
}

func TestPublishBatches(t *testing.T) {
	ctx := t.Context()
	o := newOrg(t, sfemu.Config{}, nil)
	require.NoError(t, o.addOrders(ctx, 30))
	c := o.connect(t, salesforce.Config{})
	es, _ := readAll(t, c, "", 100)
	require.Len(t, es, 30)
	st := canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced}
	var updates []connector.OrderStatus
	for _, e := range es {
		updates = append(updates, connector.OrderStatus{OrderID: e.Subject, Sequence: 4, Status: st})
	}
	updates = append(updates, connector.OrderStatus{OrderID: "", Sequence: 1, Status: st},
		connector.OrderStatus{OrderID: "801000000000099AAA", Sequence: 1, Status: st})
	before := o.emu.Counts()
	errs, err := c.PublishStatuses(ctx, updates)
	require.NoError(t, err)
	require.Len(t, errs, 32)
	for i, err := range errs[:30] {
		assert.NoError(t, err, "update %d", i)
	}
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(errs[30]), "%v", errs[30])
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(errs[31]), "%v", errs[31])
	after := o.emu.Counts()
	assert.Equal(t, 2, after.Composite-before.Composite, "31 valid updates in composites of at most 25")
	assert.Equal(t, 31, after.SubRequests-before.SubRequests, "the malformed update is not sent")

	// Repeating the batch is harmless: the sequence rule refuses, the
	// connector takes that as done.
	errs, err = c.PublishStatuses(ctx, updates[:30])
	require.NoError(t, err)
	for i, err := range errs {
		assert.NoError(t, err, "repeated update %d", i)
	}
	assert.Equal(t, 30, o.crm.Counts().StatusUpdates)

	// One availability is one upsert; a newer one updates the record.
	a := connector.Availability{SKU: "SKU-9", Location: "WH-EAST", Available: canonical.MustParseQuantity("12", "EA"), AsOf: time.Now(), Sequence: 1}
	require.NoError(t, c.PublishAvailability(ctx, []connector.Availability{a}))
	require.NoError(t, c.PublishAvailability(ctx, []connector.Availability{a}))
	a.Sequence, a.Available = 2, canonical.MustParseQuantity("7", "EA")
	require.NoError(t, c.PublishAvailability(ctx, []connector.Availability{a}))
	shown, ok := o.crm.ShownAvailability("SKU-9", "WH-EAST")
	require.True(t, ok)
	assert.Equal(t, "7", shown.Available.Value.String())
	assert.Equal(t, 2, o.crm.Counts().AvailabilityUpdates)
}
