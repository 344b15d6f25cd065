package crm_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func newCRM(t testing.TB) *crm.Memory {
	t.Helper()
	m, err := crm.New(crm.Config{Clock: func() time.Time { return t0 }})
	require.NoError(t, err)
	return m
}

func opp(account string, lines ...crm.OpportunityLine) crm.Opportunity {
	if lines == nil {
		lines = []crm.OpportunityLine{{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}
	}
	return crm.Opportunity{AccountID: account, Name: "Q2 restock", CustomerPO: "PO-1", Lines: lines}
}

// convert opens and converts an opportunity of ACC-0001.
func convert(t *testing.T, m *crm.Memory) canonical.Order {
	t.Helper()
	o, err := m.OpenOpportunity(t.Context(), opp("ACC-0001"))
	require.NoError(t, err)
	order, err := m.ConvertOpportunity(t.Context(), o.ID)
	require.NoError(t, err)
	return order
}

func TestConvertOpportunity(t *testing.T) {
	ctx := t.Context()
	m := newCRM(t)
	o, err := m.OpenOpportunity(ctx, opp("ACC-0002"))
	require.NoError(t, err)
	assert.Equal(t, "OPP-000001", o.ID)

	order, err := m.ConvertOpportunity(ctx, o.ID)
	require.NoError(t, err)
	require.NoError(t, order.Validate())
	assert.Equal(t, "ORD-000001", order.ID)
	assert.Equal(t, "C-2", order.SoldTo.ID, "sold to the ERP customer of the account")
	assert.Equal(t, "C-2-DC", order.ShipTo.ID)
	assert.Equal(t, canonical.CommercialSubmitted, order.Status().Commercial)
	ref, ok := order.Refs.Get("crm", crm.RefOpportunity)
	require.True(t, ok)
	assert.Equal(t, "OPP-000001", ref.Value)
	num, ok := order.Refs.Get("crm", crm.RefOrder)
	require.True(t, ok)
	assert.Equal(t, "00000101", num.Value)

	page, err := m.PollOrders(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Events, 1)
	e := page.Events[0]
	require.NoError(t, e.Validate())
	assert.Equal(t, canonical.EventOrderSubmitted, e.Type)
	assert.Equal(t, crm.Source, e.Source)
	assert.Equal(t, order.ID, e.Subject)
	assert.Equal(t, uint64(1), e.Sequence)
	got, err := canonical.DecodeData[canonical.Order](e)
	require.NoError(t, err)
	assert.Equal(t, order.ID, got.ID)
	assert.Equal(t, order.Lines[0].Quantity, got.Lines[0].Quantity)

	again, err := m.ConvertOpportunity(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, order, again, "converting twice returns the same order")
	page, err = m.PollOrders(ctx, "", 10)
	require.NoError(t, err)
	assert.Len(t, page.Events, 1, "and appends nothing")
	stored, _ := m.Opportunity(o.ID)
	assert.Equal(t, order.ID, stored.OrderID)
	assert.Equal(t, crm.Counts{Opportunities: 1, Orders: 1}, m.Counts())

	_, err = m.ConvertOpportunity(ctx, "OPP-404")
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err))
}

func TestOpenOpportunityInvalid(t *testing.T) {
	line := func(sku, qty, unit, price, cur string) crm.OpportunityLine {
		return crm.OpportunityLine{SKU: sku, Quantity: canonical.Quantity{Value: canonical.MustParseDecimal(qty), Unit: canonical.Unit(unit)},
			UnitPrice: canonical.Money{Amount: canonical.MustParseDecimal(price), Currency: canonical.Currency(cur)}}
	}
	tests := []struct {
		name  string
		opp   crm.Opportunity
		code  connector.Code
		field string
	}{
		{"unknown account", opp("ACC-404"), connector.CodeNotFound, ""},
		{"no lines", crm.Opportunity{AccountID: "ACC-0001"}, connector.CodeInvalid, "lines"},
		{"no SKU", opp("ACC-0001", line("", "1", "EA", "1", "USD")), connector.CodeInvalid, "lines[0].sku"},
		{"zero quantity", opp("ACC-0001", line("SKU-1", "0", "EA", "1", "USD")), connector.CodeInvalid, "lines[0].quantity.value"},
		{"bad unit", opp("ACC-0001", line("SKU-1", "1", "CS", "1", "USD")), connector.CodeInvalid, "lines[0].quantity.unit"},
		{"other currency", opp("ACC-0001", line("SKU-1", "1", "EA", "1", "USD"), line("SKU-1", "1", "EA", "1", "EUR")), connector.CodeInvalid, "lines[1].unitPrice.currency"},
		{"negative price", opp("ACC-0001", line("SKU-1", "1", "EA", "-1", "USD")), connector.CodeInvalid, "lines[0].unitPrice.amount"},
	}
	m := newCRM(t)
	for _, tt := range tests {
		_, err := m.OpenOpportunity(t.Context(), tt.opp)
		require.Error(t, err, tt.name)
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: %v", tt.name, err)
		if tt.field != "" {
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, tt.name)
			assert.True(t, ve.Has(tt.field), "%s: %v names %s", tt.name, err, tt.field)
		}
	}
	assert.Zero(t, m.Counts().Opportunities)
}

func TestPollOrdersPaging(t *testing.T) {
	ctx := t.Context()
	m := newCRM(t)
	for range 7 {
		convert(t, m)
	}
	tests := []struct {
		cursor   connector.Cursor
		limit    int
		want     []string // subjects
		next     connector.Cursor
		more     bool
		wantCode connector.Code // CodeUnknown: the poll succeeds
	}{
		{"", 3, []string{"ORD-000001", "ORD-000002", "ORD-000003"}, "3", true, connector.CodeUnknown},
		{"3", 3, []string{"ORD-000004", "ORD-000005", "ORD-000006"}, "6", true, connector.CodeUnknown},
		{"6", 3, []string{"ORD-000007"}, "7", false, connector.CodeUnknown},
		{"7", 3, nil, "7", false, connector.CodeUnknown},
		{"5", 0, []string{"ORD-000006", "ORD-000007"}, "7", false, connector.CodeUnknown},
		{"8", 3, nil, "", false, connector.CodeInvalid},
		{"-1", 3, nil, "", false, connector.CodeInvalid},
		{"03", 3, nil, "", false, connector.CodeInvalid},
		{"x", 3, nil, "", false, connector.CodeInvalid},
	}
	for _, tt := range tests {
		p, err := m.PollOrders(ctx, tt.cursor, tt.limit)
		what := fmt.Sprintf("cursor %q limit %d", tt.cursor, tt.limit)
		if tt.wantCode != connector.CodeUnknown {
			require.Equal(t, tt.wantCode, connector.CodeOf(err), "%s: %v", what, err)
			continue
		}
		require.NoError(t, err, what)
		var subjects []string
		for _, e := range p.Events {
			subjects = append(subjects, e.Subject)
		}
		assert.Equal(t, tt.want, subjects, what)
		assert.Equal(t, tt.next, p.Next, what)
		assert.Equal(t, tt.more, p.More, what)
	}

	// A reopened handle resumes from a stored cursor.
	p, err := m.Reopen().PollOrders(ctx, "6", 10)
	require.NoError(t, err)
	require.Len(t, p.Events, 1)
	assert.Equal(t, "ORD-000007", p.Events[0].Subject)
}

func status(orderID string, seq int64, msg string) connector.OrderStatus {
	return connector.OrderStatus{OrderID: orderID, Sequence: seq, UpdatedAt: t0, Messages: []string{msg},
		Status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced}}
}

func TestPublishStatusSequence(t *testing.T) {
	tests := []struct {
		name    string
		seqs    []int64
		want    int64
		updates int
	}{
		{"in order", []int64{1, 2, 3}, 3, 3},
		{"repeated", []int64{2, 2, 2}, 2, 1},
		{"older ignored", []int64{3, 1, 2}, 3, 1},
		{"gap then late", []int64{1, 4, 2, 5}, 5, 3},
		{"zero first", []int64{0, 0, 1}, 1, 2},
	}
	for _, tt := range tests {
		m := newCRM(t)
		o := convert(t, m)
		for _, seq := range tt.seqs {
			require.NoError(t, m.PublishStatus(t.Context(), status(o.ID, seq, fmt.Sprintf("seq %d", seq))), tt.name)
		}
		shown, ok := m.ShownStatus(o.ID)
		require.True(t, ok, tt.name)
		assert.Equal(t, tt.want, shown.Sequence, tt.name)
		assert.Equal(t, []string{fmt.Sprintf("seq %d", tt.want)}, shown.Messages, "%s: the shown update is the newest", tt.name)
		assert.Equal(t, tt.updates, m.Counts().StatusUpdates, tt.name)
	}
}

func TestPublishStatusErrors(t *testing.T) {
	m := newCRM(t)
	o := convert(t, m)
	bad := status(o.ID, 1, "x")
	bad.Status.Billing = 0
	tests := []struct {
		name  string
		s     connector.OrderStatus
		code  connector.Code
		field string
	}{
		{"unknown order", status("ORD-404", 1, "x"), connector.CodeNotFound, ""},
		{"no order ID", status("", 1, "x"), connector.CodeInvalid, "orderId"},
		{"negative sequence", status(o.ID, -1, "x"), connector.CodeInvalid, "sequence"},
		{"invalid status", bad, connector.CodeInvalid, "status.billing"},
	}
	for _, tt := range tests {
		err := m.PublishStatus(t.Context(), tt.s)
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: %v", tt.name, err)
		if tt.field != "" {
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, tt.name)
			assert.True(t, ve.Has(tt.field), "%s: %v names %s", tt.name, err, tt.field)
		}
	}
	_, shown := m.ShownStatus(o.ID)
	assert.False(t, shown)

	// The stored status does not alias the caller's slices.
	s := status(o.ID, 1, "first")
	require.NoError(t, m.PublishStatus(t.Context(), s))
	s.Messages[0] = "changed by the caller"
	got, _ := m.ShownStatus(o.ID)
	assert.Equal(t, "first", got.Messages[0])
}

func TestPublishStatuses(t *testing.T) {
	m := newCRM(t)
	o := convert(t, m)
	errs, err := m.PublishStatuses(t.Context(), []connector.OrderStatus{status(o.ID, 2, "a"), status("ORD-404", 1, "b"), status(o.ID, 1, "c")})
	require.NoError(t, err)
	require.Len(t, errs, 3)
	assert.NoError(t, errs[0])
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(errs[1]))
	assert.NoError(t, errs[2], "an older sequence is ignored without error")
	shown, _ := m.ShownStatus(o.ID)
	assert.Equal(t, int64(2), shown.Sequence)
}

func TestPublishStatusConcurrent(t *testing.T) {
	m := newCRM(t)
	o := convert(t, m)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			assert.NoError(t, m.PublishStatus(t.Context(), status(o.ID, int64(i%8), "s")))
			m.ShownStatus(o.ID)
		})
	}
	wg.Wait()
	shown, _ := m.ShownStatus(o.ID)
	assert.Equal(t, int64(7), shown.Sequence, "the highest sequence wins whatever the order")
	n := m.Counts().StatusUpdates
	assert.True(t, n >= 1 && n <= 8, "between 1 and 8 updates change what is shown, got %d", n)
}

func TestPublishAvailability(t *testing.T) {
	ctx := t.Context()
	m := newCRM(t)
	av := func(sku, loc, qty string, seq int64) connector.Availability {
		return connector.Availability{SKU: sku, Location: loc, Available: canonical.MustParseQuantity(qty, "EA"), AsOf: t0, Sequence: seq}
	}
	steps := []struct {
		items []connector.Availability
		want  string // shown for SKU-100 at WH-EAST
	}{
		{[]connector.Availability{av("SKU-100", "WH-EAST", "120", 1), av("SKU-100", "WH-WEST", "60", 1)}, "120"},
		{[]connector.Availability{av("SKU-100", "WH-EAST", "100", 3)}, "100"},
		{[]connector.Availability{av("SKU-100", "WH-EAST", "110", 2)}, "100"}, // stale
		{[]connector.Availability{av("SKU-100", "WH-EAST", "90", 3)}, "100"},  // repeated sequence
		{[]connector.Availability{av("SKU-100", "WH-EAST", "-4", 4)}, "-4"},   // oversold
	}
	for i, st := range steps {
		require.NoError(t, m.PublishAvailability(ctx, st.items), "step %d", i)
		a, ok := m.ShownAvailability("SKU-100", "WH-EAST")
		require.True(t, ok, "step %d", i)
		assert.Equal(t, st.want, a.Available.Value.String(), "step %d", i)
	}
	west, _ := m.ShownAvailability("SKU-100", "WH-WEST")
	assert.Equal(t, "60", west.Available.Value.String(), "locations are apart")
	assert.Equal(t, 4, m.Counts().AvailabilityUpdates)
	_, ok := m.ShownAvailability("SKU-100", "WH-SOUTH")
	assert.False(t, ok)

	bad := []connector.Availability{av("SKU-101", "WH-EAST", "1", 9), av("", "", "1", -1)}
	err := m.PublishAvailability(ctx, bad)
	require.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, f := range []string{"items[1].sku", "items[1].location", "items[1].sequence"} {
		assert.True(t, ve.Has(f), "%v names %s", err, f)
	}
	_, ok = m.ShownAvailability("SKU-101", "WH-EAST")
	assert.False(t, ok, "nothing of an invalid batch is shown")
}

func TestCancelled(t *testing.T) {
	m := newCRM(t)
	o := convert(t, m)
	before := m.Counts()
	cause := errors.New("deploy")
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(cause)
	calls := map[string]func() error{
		"OpenOpportunity":    func() error { _, err := m.OpenOpportunity(ctx, opp("ACC-0001")); return err },
		"ConvertOpportunity": func() error { _, err := m.ConvertOpportunity(ctx, "OPP-000001"); return err },
		"PollOrders":         func() error { _, err := m.PollOrders(ctx, "", 1); return err },
		"PublishStatus":      func() error { return m.PublishStatus(ctx, status(o.ID, 5, "x")) },
		"PublishStatuses": func() error {
			_, err := m.PublishStatuses(ctx, []connector.OrderStatus{status(o.ID, 5, "x")})
			return err
		},
		"PublishAvailability": func() error {
			return m.PublishAvailability(ctx, []connector.Availability{{SKU: "S", Location: "L", Available: canonical.MustParseQuantity("1", "EA")}})
		},
		"Health": func() error { return m.Health(ctx) },
	}
	for name, call := range calls {
		assert.ErrorIs(t, call(), cause, name)
	}
	assert.Equal(t, before, m.Counts())
	assert.NoError(t, m.Health(t.Context()))
}

func TestNewRejectsBadConfig(t *testing.T) {
	dup := append(crm.DemoAccounts(), crm.DemoAccounts()[0])
	noCustomer := crm.DemoAccounts()
	noCustomer[1].CustomerID = ""
	tests := []struct {
		name string
		cfg  crm.Config
		text string
	}{
		{"duplicate", crm.Config{Accounts: dup}, `accounts[3]: duplicate account ID "ACC-0001"`},
		{"no customer", crm.Config{Accounts: noCustomer}, "accounts[1]: no customer ID"},
		{"no ID", crm.Config{Accounts: []crm.Account{{}}}, "accounts[0]: no ID"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		require.ErrorIs(t, err, crm.ErrInvalidConfig, tt.name)
		assert.Contains(t, err.Error(), tt.text, tt.name)
	}
	assert.NoError(t, crm.Config{}.Validate())
}

func TestParseConfig(t *testing.T) {
	good := `{"accounts": [{"id": "001A", "name": "Kestrel Foods", "customerId": "K-1", "currency": "EUR",
		"shipTo": {"id": "K-1-BER", "address": {"lines": ["Hafenstraße 1"], "city": "Berlin", "country": "DE"}}}]}`
	cfg, err := crm.ParseConfig([]byte(good))
	require.NoError(t, err)
	require.Len(t, cfg.Accounts, 1)
	assert.Equal(t, "K-1", cfg.Accounts[0].CustomerID)
	m, err := crm.New(cfg)
	require.NoError(t, err)
	o, err := m.OpenOpportunity(t.Context(), crm.Opportunity{AccountID: "001A", Lines: []crm.OpportunityLine{{SKU: "TEA-1",
		Quantity: canonical.MustParseQuantity("6", "XCT"), UnitPrice: canonical.MustParseMoney("58.00", "EUR")}}})
	require.NoError(t, err)
	order, err := m.ConvertOpportunity(t.Context(), o.ID)
	require.NoError(t, err)
	assert.Equal(t, canonical.Currency("EUR"), order.Currency)

	def, err := crm.ParseConfig([]byte(`{}`))
	require.NoError(t, err)
	assert.Nil(t, def.Accounts, "absent accounts: the demo accounts")

	tests := []struct{ name, json, text string }{
		{"unknown member", `{"acounts": []}`, `unknown field "acounts"`},
		{"malformed", `{"accounts": [`, "unexpected EOF"},
		{"two values", `{} {}`, "data after the JSON object"},
		{"invalid account", `{"accounts": [{"id": "A"}]}`, "accounts[0]: no customer ID"},
	}
	for _, tt := range tests {
		_, err := crm.ParseConfig([]byte(tt.json))
		require.ErrorIs(t, err, crm.ErrInvalidConfig, tt.name)
		assert.Contains(t, err.Error(), tt.text, tt.name)
	}
}
