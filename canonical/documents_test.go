package canonical_test

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

type validator interface{ Validate() error }

type ruleCase[T any] struct {
	name  string
	edit  func(*T)
	field string
	msg   string
}

// checkRules asserts that base() is valid and that each edit makes it
// invalid with a violation of field whose message contains msg.
func checkRules[T validator](t *testing.T, kind string, base func() T, cases []ruleCase[T]) {
	t.Helper()
	b := base()
	require.NoError(t, b.Validate(), "fixture %s must be valid", kind)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.edit(&d)
			err := d.Validate()
			require.Error(t, err, "%s: %s must be refused", kind, tc.name)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "%s: %s", kind, tc.name)
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, "%s: %s", kind, tc.name)
			assert.Equal(t, kind, ve.Kind, "%s: %s", kind, tc.name)
			require.True(t, ve.Has(tc.field), "%s: %s: want a violation of %q, got %v", kind, tc.name, tc.field, err)
			for _, fe := range ve.Errors {
				if fe.Field == tc.field {
					assert.Contains(t, fe.Message, tc.msg, "%s: %s: message of %s", kind, tc.name, tc.field)
				}
			}
		})
	}
}

// checkJSONRoundTrip encodes base() and decodes it into a new T.
func checkJSONRoundTrip[T validator](t *testing.T, kind string, doc T) {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err, "encode %s", kind)
	var back T
	require.NoError(t, json.Unmarshal(data, &back), "decode %s: %s", kind, data)
	assert.Equal(t, doc, back, "%s round trip of %s", kind, data)
	require.NoError(t, back.Validate(), "decoded %s", kind)
}

var (
	addr   = canonical.Address{Name: "Chicago DC", Lines: []string{"100 Logistics Way"}, City: "Chicago", Region: "IL", PostalCode: "60601", Country: "US"}
	sscc1  = canonical.MustParseSSCC("006141411234567890")
	sscc2  = canonical.MustParseSSCC("006141411234567906")
	hammer = canonical.ItemRef{SKU: "HAM-16", GTIN: "4006381333931"}
	usd    = func(s string) canonical.Money { return canonical.MustParseMoney(s, "USD") }
	qty    = canonical.MustParseQuantity
)

func customerFixture() canonical.Customer {
	return canonical.Customer{
		ID: "cust-1", Version: 4, Name: "Acme Hardware", Currency: "USD", PaymentTerms: "NET30",
		Refs:        canonical.Refs{{System: "erp", Type: "customer", Value: "C-100"}},
		CreditLimit: ptr(usd("50000.00")), Email: "ap@acme.example", Phone: "+1 312 555 0100", TaxID: "36-1234567",
		BillTo: &addr, ShipTo: []canonical.PartyRef{{ID: "dock-1", Address: &addr}, {ID: "dock-2"}},
	}
}

func TestCustomer(t *testing.T) {
	type C = canonical.Customer
	checkRules(t, "customer", customerFixture, []ruleCase[C]{
		{"id", func(c *C) { c.ID = "" }, "id", "is required"},
		{"name", func(c *C) { c.Name = "" }, "name", "is required"},
		{"currency", func(c *C) { c.Currency = "US$" }, "currency", "three upper-case letters"},
		{"version", func(c *C) { c.Version = -2 }, "version", "must be ≥ 0"},
		{"email", func(c *C) { c.Email = "not-an-email" }, "email", "breaks rule email"},
		{"credit limit currency", func(c *C) { c.CreditLimit = ptr(canonical.MustParseMoney("1", "EUR")) }, "creditLimit.currency", "must be the document currency USD, is EUR"},
		{"credit limit negative", func(c *C) { c.CreditLimit = ptr(usd("-1")) }, "creditLimit.amount", "must not be negative"},
		{"bill-to", func(c *C) { c.BillTo = &canonical.Address{Country: "US"} }, "billTo.city", "is required"},
		{"ship-to", func(c *C) { c.ShipTo[1].ID = "" }, "shipTo[1].id", "is required"},
		{"ship-to unique", func(c *C) { c.ShipTo[1].ID = "dock-1" }, "shipTo[1].id", `duplicate "dock-1" (also at shipTo[0])`},
		{"refs", func(c *C) { c.Refs[0].Value = "" }, "refs[0].value", "is required"},
	})
	checkJSONRoundTrip(t, "customer", customerFixture())
	assert.Equal(t, canonical.KindCustomer, customerFixture().DocumentKind())

	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("sync", "customer", customerFixture())
	assert.Contains(t, b.String(), "customer.id=cust-1")
	for _, secret := range []string{"ap@acme.example", "555", "36-1234567"} {
		assert.NotContains(t, b.String(), secret, "log line must not carry %s", secret)
	}
}

func itemFixture() canonical.Item {
	return canonical.Item{
		SKU: "HAM-16", GTIN: "4006381333931", BaseUnit: "EA", Description: "Claw hammer 16 oz",
		Conversions: []canonical.UnitConversion{
			{Unit: "XCS", Factor: canonical.DecimalFromInt(24), GTIN: "14006381333938"},
			{Unit: "XPX", Factor: canonical.DecimalFromInt(960)},
		},
	}
}

func TestItem(t *testing.T) {
	type I = canonical.Item
	checkRules(t, "item", itemFixture, []ruleCase[I]{
		{"sku", func(i *I) { i.SKU = "" }, "sku", "is required"},
		{"gtin", func(i *I) { i.GTIN = "4006381333932" }, "gtin", "check digit"},
		{"base unit", func(i *I) { i.BaseUnit = "PCS" }, "baseUnit", "use H87 (piece) or EA (each)"},
		{"conversion unit", func(i *I) { i.Conversions[0].Unit = "CS" }, "conversions[0].unit", "use XCS (case)"},
		{"conversion gtin", func(i *I) { i.Conversions[0].GTIN = "14006381333930" }, "conversions[0].gtin", "check digit"},
		{"conversion factor", func(i *I) { i.Conversions[1].Factor = canonical.DecimalFromInt(0) }, "conversions[1].factor", "must be > 0"},
		{"conversion of base unit", func(i *I) { i.Conversions[1].Unit = "EA" }, "conversions[1].unit", "must not be the base unit EA"},
		{"conversion unique", func(i *I) { i.Conversions[1].Unit = "XCS" }, "conversions[1].unit", `duplicate "XCS"`},
	})
	checkJSONRoundTrip(t, "item", itemFixture())
	assert.Equal(t, canonical.ItemRef{SKU: "HAM-16", GTIN: "4006381333931", Description: "Claw hammer 16 oz"}, itemFixture().Ref())
}

func TestItemConversions(t *testing.T) {
	it := itemFixture()
	tests := []struct {
		in   canonical.Quantity
		to   canonical.Unit
		want string
		err  error
	}{
		{qty("3", "XCS"), "EA", "72 EA", nil},
		{qty("1.5", "XCS"), "EA", "36 EA", nil},
		{qty("2", "DZN"), "EA", "24 EA", nil},
		{qty("7", "EA"), "EA", "7 EA", nil},
		{qty("30", "EA"), "XCS", "1.25 XCS", nil},
		{qty("1", "XPX"), "XCS", "40 XCS", nil},
		{qty("48", "EA"), "DZN", "4 DZN", nil},
		{qty("10", "EA"), "XPX", "", canonical.ErrInexact},
		{qty("1", "KGM"), "EA", "", canonical.ErrUnitMismatch},
		{qty("1", "XBX"), "EA", "", canonical.ErrUnitMismatch},
		{qty("1", "EA"), "XBX", "", canonical.ErrUnitMismatch},
	}
	for _, tc := range tests {
		got, err := it.Convert(tc.in, tc.to)
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err, "%s in %s", tc.in, tc.to)
			continue
		}
		require.NoError(t, err, "%s in %s", tc.in, tc.to)
		assert.Equal(t, tc.want, got.String(), "%s in %s", tc.in, tc.to)
	}
	base, err := it.ToBase(qty("2", "XCS"))
	require.NoError(t, err)
	assert.Equal(t, "48 EA", base.String(), "2 XCS to base")
	_, err = it.ToBase(canonical.NewQuantity(canonical.MustParseDecimal("9999999999999999999"), "XPX"))
	assert.ErrorIs(t, err, canonical.ErrOverflow, "overflowing conversion")
}

func locationFixture() canonical.Location {
	return canonical.Location{ID: "wh-chi", Name: "Chicago DC", Kind: canonical.LocationWarehouse, Address: addr, TimeZone: "America/Chicago"}
}

func TestLocation(t *testing.T) {
	type L = canonical.Location
	checkRules(t, "location", locationFixture, []ruleCase[L]{
		{"id", func(l *L) { l.ID = "" }, "id", "is required"},
		{"name", func(l *L) { l.Name = "" }, "name", "is required"},
		{"kind", func(l *L) { l.Kind = "depot" }, "kind", "must be one of warehouse, store, third_party, supplier"},
		{"address", func(l *L) { l.Address.Country = "" }, "address.country", "is required"},
		{"time zone", func(l *L) { l.TimeZone = "Central Time" }, "timeZone", "IANA"},
	})
	checkJSONRoundTrip(t, "location", locationFixture())
}

func ackFixture() canonical.OrderAck {
	return canonical.OrderAck{
		OrderID: "ord-1", OrderVersion: 3, Outcome: canonical.AckAcceptedWithChanges, Currency: "USD", AckedAt: t0,
		Refs: canonical.Refs{{System: "erp", Type: "salesOrder", Value: "SO-1001"}},
		Lines: []canonical.AckLine{
			{LineID: "L1", Result: canonical.LineAccepted},
			{LineID: "L2", Result: canonical.LineQuantityChanged, Quantity: ptr(qty("8", "EA")), Messages: []canonical.AckMessage{{Code: "Q01", Severity: canonical.SeverityWarning, Text: "only 8 available", Field: "lines[1].quantity"}}},
			{LineID: "L3", Result: canonical.LinePriceChanged, UnitPrice: ptr(usd("11.00"))},
			{LineID: "L4", Result: canonical.LineDateChanged, PromisedDate: t0.Add(72 * time.Hour)},
			{LineID: "L5", Result: canonical.LineSubstituted, Substitute: &canonical.ItemRef{SKU: "HAM-16B"}},
			{LineID: "L6", Result: canonical.LineBackordered, Quantity: ptr(qty("4", "EA"))},
			{LineID: "L7", Result: canonical.LineRejected},
		},
		Messages: []canonical.AckMessage{{Severity: canonical.SeverityInfo, Text: "credit check passed"}},
	}
}

func TestOrderAck(t *testing.T) {
	type A = canonical.OrderAck
	checkRules(t, "order ack", ackFixture, []ruleCase[A]{
		{"order id", func(a *A) { a.OrderID = "" }, "orderId", "is required"},
		{"outcome", func(a *A) { a.Outcome = "maybe" }, "outcome", "must be one of accepted, accepted_with_changes, rejected, on_hold"},
		{"acked at", func(a *A) { a.AckedAt = time.Time{} }, "ackedAt", "is required"},
		{"currency", func(a *A) { a.Currency = "" }, "currency", "code is empty"},
		{"line result", func(a *A) { a.Lines[0].Result = "ok" }, "lines[0].result", "must be one of accepted, quantity_changed"},
		{"unique lines", func(a *A) { a.Lines[1].LineID = "L1" }, "lines[1].lineId", `duplicate "L1"`},
		{"quantity for quantity_changed", func(a *A) { a.Lines[1].Quantity = nil }, "lines[1].quantity", "is required for quantity_changed"},
		{"quantity for backordered", func(a *A) { a.Lines[5].Quantity = nil }, "lines[5].quantity", "is required for backordered"},
		{"quantity not negative", func(a *A) { a.Lines[1].Quantity = ptr(qty("-1", "EA")) }, "lines[1].quantity.value", "must not be negative"},
		{"price for price_changed", func(a *A) { a.Lines[2].UnitPrice = nil }, "lines[2].unitPrice", "is required for price_changed"},
		{"price currency", func(a *A) { a.Lines[2].UnitPrice = ptr(canonical.MustParseMoney("1", "CAD")) }, "lines[2].unitPrice.currency", "must be the document currency USD"},
		{"date for date_changed", func(a *A) { a.Lines[3].PromisedDate = time.Time{} }, "lines[3].promisedDate", "is required for date_changed"},
		{"substitute for substituted", func(a *A) { a.Lines[4].Substitute = nil }, "lines[4].substitute", "is required for substituted"},
		{"substitute sku", func(a *A) { a.Lines[4].Substitute.SKU = "" }, "lines[4].substitute.sku", "is required"},
		{"message severity", func(a *A) { a.Messages[0].Severity = "fatal" }, "messages[0].severity", "must be one of info, warning, error"},
		{"line message text", func(a *A) { a.Lines[1].Messages[0].Text = "" }, "lines[1].messages[0].text", "is required"},
		{"accepted with changed lines", func(a *A) { a.Outcome = canonical.AckAccepted }, "outcome", "use accepted_with_changes"},
		{"accepted_with_changes without changes", func(a *A) { a.Lines = a.Lines[:1] }, "outcome", "no line is changed or rejected"},
		{"accepted_with_changes all rejected", func(a *A) { a.Lines = a.Lines[6:] }, "outcome", "every line is rejected; use rejected"},
		{"rejected with accepted lines", func(a *A) { a.Outcome = canonical.AckRejected }, "outcome", "is rejected but some lines are not"},
		{"on hold without hold", func(a *A) { a.Outcome = canonical.AckOnHold }, "holds", "at least one hold is required"},
		{"hold kind", func(a *A) { a.Holds = []canonical.Hold{{Kind: "x"}} }, "holds[0].kind", "must be one of credit"},
	})
	checkJSONRoundTrip(t, "order ack", ackFixture())
	onHold := canonical.OrderAck{OrderID: "o", Outcome: canonical.AckOnHold, Currency: "USD", AckedAt: t0, Holds: []canonical.Hold{{Kind: canonical.HoldCredit}}}
	assert.NoError(t, onHold.Validate(), "on-hold ack with a hold and no lines")
	rejected := canonical.OrderAck{OrderID: "o", Outcome: canonical.AckRejected, Currency: "USD", AckedAt: t0, Lines: []canonical.AckLine{{LineID: "L1", Result: canonical.LineRejected}}}
	assert.NoError(t, rejected.Validate(), "rejected ack with every line rejected")
}

func fulfillmentFixture() canonical.FulfillmentOrder {
	return canonical.FulfillmentOrder{
		ID: "fo-1", OrderID: "ord-1", OrderVersion: 3, Warehouse: "wh-chi",
		Split:  canonical.SplitPosition{Group: "ord-1/v3", Index: 1, Count: 2},
		ShipTo: canonical.PartyRef{ID: "dock-1", Address: &addr},
		Lines: []canonical.FulfillmentLine{
			{ID: "FL1", OrderLineID: "L1", Item: hammer, Quantity: qty("6", "EA")},
			{ID: "FL2", OrderLineID: "L2", Item: hammer, Quantity: qty("2", "XCS")},
		},
		ReleasedAt: t0,
	}
}

func TestFulfillmentOrder(t *testing.T) {
	type F = canonical.FulfillmentOrder
	checkRules(t, "fulfillment order", fulfillmentFixture, []ruleCase[F]{
		{"id", func(f *F) { f.ID = "" }, "id", "is required"},
		{"order id", func(f *F) { f.OrderID = "" }, "orderId", "is required"},
		{"warehouse", func(f *F) { f.Warehouse = "" }, "warehouse", "is required"},
		{"split group", func(f *F) { f.Split.Group = "" }, "split.group", "is required"},
		{"split index", func(f *F) { f.Split.Index = 0 }, "split.index", "must be ≥ 1"},
		{"split count", func(f *F) { f.Split.Count = 0 }, "split.count", "must be ≥ 1"},
		{"split index beyond count", func(f *F) { f.Split.Index = 3 }, "split.index", "must not exceed split.count 2, is 3"},
		{"ship-to", func(f *F) { f.ShipTo.ID = "" }, "shipTo.id", "is required"},
		{"lines", func(f *F) { f.Lines = nil }, "lines", "is required"},
		{"line id unique", func(f *F) { f.Lines[1].ID = "FL1" }, "lines[1].id", `duplicate "FL1"`},
		{"one line per order line", func(f *F) { f.Lines[1].OrderLineID = "L1" }, "lines[1].orderLineId", `duplicate "L1"`},
		{"order line id", func(f *F) { f.Lines[0].OrderLineID = "" }, "lines[0].orderLineId", "is required"},
		{"quantity", func(f *F) { f.Lines[0].Quantity = qty("0", "EA") }, "lines[0].quantity.value", "must be > 0"},
		{"item", func(f *F) { f.Lines[0].Item.SKU = "" }, "lines[0].item.sku", "is required"},
	})
	checkJSONRoundTrip(t, "fulfillment order", fulfillmentFixture())
}

func allocationFixture() canonical.AllocationUpdate {
	return canonical.AllocationUpdate{
		FulfillmentOrderID: "fo-1", OrderID: "ord-1", Warehouse: "wh-chi", AsOf: t0, Sequence: 7,
		Lines: []canonical.AllocationLine{
			{FulfillmentLineID: "FL1", OrderLineID: "L1", Item: hammer, Allocated: qty("4", "EA"), Backordered: qty("2", "EA"), Picked: ptr(qty("4", "EA")), ExpectedDate: t0.Add(96 * time.Hour)},
			{FulfillmentLineID: "FL2", OrderLineID: "L2", Item: hammer, Allocated: qty("2", "XCS"), Backordered: qty("0", "XCS")},
		},
	}
}

func TestAllocationUpdate(t *testing.T) {
	type A = canonical.AllocationUpdate
	checkRules(t, "allocation update", allocationFixture, []ruleCase[A]{
		{"as of", func(a *A) { a.AsOf = time.Time{} }, "asOf", "is required"},
		{"sequence", func(a *A) { a.Sequence = -1 }, "sequence", "must be ≥ 0"},
		{"lines", func(a *A) { a.Lines = nil }, "lines", "is required"},
		{"unique lines", func(a *A) { a.Lines[1].FulfillmentLineID = "FL1" }, "lines[1].fulfillmentLineId", `duplicate "FL1"`},
		{"negative allocated", func(a *A) { a.Lines[0].Allocated = qty("-1", "EA") }, "lines[0].allocated.value", "must not be negative"},
		{"backordered unit", func(a *A) { a.Lines[0].Backordered = qty("1", "XCS") }, "lines[0].backordered.unit", "must be the allocated unit EA, is XCS"},
		{"picked unit", func(a *A) { a.Lines[0].Picked = ptr(qty("1", "XCS")) }, "lines[0].picked.unit", "must be the allocated unit EA"},
		{"missing unit", func(a *A) { a.Lines[1].Backordered = canonical.Quantity{} }, "lines[1].backordered.unit", "code is empty"},
	})
	checkJSONRoundTrip(t, "allocation update", allocationFixture())
}

func shipmentFixture() canonical.Shipment {
	return canonical.Shipment{
		ID: "sh-1", OrderID: "ord-1", FulfillmentOrderID: "fo-1", Warehouse: "wh-chi",
		Carrier: canonical.Carrier{SCAC: "UPSN", Name: "UPS"}, Service: "ground",
		TrackingNumbers: []string{"1Z999AA10123456784"}, ShippedAt: t0.Add(4 * time.Hour),
		Packages: []canonical.Package{
			{SSCC: sscc1, TrackingNumber: "1Z999AA10123456784", Weight: ptr(qty("12.5", "KGM")), Lines: []canonical.PackageLine{{ShipmentLineID: "SL1", Quantity: qty("4", "EA")}}},
			{SSCC: sscc2, Lines: []canonical.PackageLine{{ShipmentLineID: "SL2", Quantity: qty("2", "XCS")}}},
		},
		Lines: []canonical.ShipmentLine{
			{ID: "SL1", OrderLineID: "L1", FulfillmentLineID: "FL1", Item: hammer, Quantity: qty("4", "EA"),
				Lots: []canonical.LotQuantity{{Lot: "A1", Quantity: qty("3", "EA")}, {Lot: "A2", Quantity: qty("1", "EA"), ExpiresAt: t0.AddDate(1, 0, 0)}}, Serials: []string{"S1", "S2", "S3", "S4"}},
			{ID: "SL2", OrderLineID: "L2", FulfillmentLineID: "FL2", Item: hammer, Quantity: qty("2", "XCS")},
		},
		FinalForFulfillment: true,
	}
}

func TestShipment(t *testing.T) {
	type S = canonical.Shipment
	checkRules(t, "shipment", shipmentFixture, []ruleCase[S]{
		{"scac required", func(s *S) { s.Carrier.SCAC = "" }, "carrier.scac", "is required"},
		{"scac format", func(s *S) { s.Carrier.SCAC = "ups" }, "carrier.scac", "must be 2 to 4 upper-case letters"},
		{"shipped at", func(s *S) { s.ShippedAt = time.Time{} }, "shippedAt", "is required"},
		{"fulfillment order", func(s *S) { s.FulfillmentOrderID = "" }, "fulfillmentOrderId", "is required"},
		{"tracking number blank", func(s *S) { s.TrackingNumbers = []string{""} }, "trackingNumbers[0]", "is required"},
		{"sscc check digit", func(s *S) { s.Packages[0].SSCC = "006141411234567891" }, "packages[0].sscc", "check digit"},
		{"sscc missing", func(s *S) { s.Packages[0].SSCC = "" }, "packages[0].sscc", "must have 18 digits"},
		{"sscc unique", func(s *S) { s.Packages[1].SSCC = sscc1 }, "packages[1].sscc", "duplicate"},
		{"weight unit", func(s *S) { s.Packages[0].Weight = ptr(qty("3", "LTR")) }, "packages[0].weight.unit", "must be a mass unit"},
		{"package line points nowhere", func(s *S) { s.Packages[0].Lines[0].ShipmentLineID = "SL9" }, "packages[0].lines[0].shipmentLineId", `no line "SL9"`},
		{"package line unit", func(s *S) { s.Packages[1].Lines[0].Quantity = qty("24", "EA") }, "packages[1].lines[0].quantity.unit", "must be the line unit XCS"},
		{"line ids unique", func(s *S) { s.Lines[1].ID = "SL1" }, "lines[1].id", `duplicate "SL1"`},
		{"line points to order line", func(s *S) { s.Lines[0].OrderLineID = "" }, "lines[0].orderLineId", "is required"},
		{"line points to fulfilment line", func(s *S) { s.Lines[0].FulfillmentLineID = "" }, "lines[0].fulfillmentLineId", "is required"},
		{"line quantity", func(s *S) { s.Lines[1].Quantity = qty("-2", "XCS") }, "lines[1].quantity.value", "must be > 0"},
		{"lots add up", func(s *S) { s.Lines[0].Lots[0].Quantity = qty("2", "EA") }, "lines[0].lots", "lot quantities add up to 3, the line quantity is 4"},
		{"lot unit", func(s *S) { s.Lines[0].Lots[0].Quantity = qty("3", "XCS") }, "lines[0].lots[0].quantity.unit", "must be the line unit EA"},
		{"lot name", func(s *S) { s.Lines[0].Lots[0].Lot = "" }, "lines[0].lots[0].lot", "is required"},
		{"lot unique", func(s *S) { s.Lines[0].Lots[1].Lot = "A1" }, "lines[0].lots[1].lot", `duplicate "A1"`},
		{"serial unique", func(s *S) { s.Lines[0].Serials[3] = "S1" }, "lines[0].serials[3]", `duplicate serial "S1"`},
		{"serial blank", func(s *S) { s.Lines[0].Serials[0] = "" }, "lines[0].serials[0]", "is required"},
	})
	checkJSONRoundTrip(t, "shipment", shipmentFixture())
}

func TestShipmentQuantityEvents(t *testing.T) {
	s := shipmentFixture()
	s.Lines = append(s.Lines, canonical.ShipmentLine{ID: "SL3", OrderLineID: "L1", FulfillmentLineID: "FL1", Item: hammer, Quantity: qty("2", "EA")})
	evs, err := s.QuantityEvents("wms/shipment-sh-1")
	require.NoError(t, err)
	require.Len(t, evs, 2, "one event per order line")
	assert.Equal(t, canonical.QuantityEvent{LineID: "L1", Bucket: canonical.BucketShipped, Kind: canonical.QuantityDelta, Value: canonical.DecimalFromInt(6), AsOf: s.ShippedAt, SourceMessageID: "wms/shipment-sh-1"}, evs[0])
	assert.Equal(t, "2", evs[1].Value.String())

	o := sampleOrder(2)
	var l canonical.Ledger
	require.NoError(t, l.Fold(o.Lines, append(evs, evs...)), "the shipment delivered twice")
	assert.Equal(t, "6", o.Lines[0].Buckets.Get(canonical.BucketShipped).String(), "counted once")

	s.Lines[2].Quantity = canonical.NewQuantity(canonical.MustParseDecimal("9999999999999999999"), "EA")
	_, err = s.QuantityEvents("m")
	assert.ErrorIs(t, err, canonical.ErrOverflow)
}

func invoiceFixture() canonical.Invoice {
	return canonical.Invoice{
		ID: "inv-1", Kind: canonical.InvoiceStandard, Number: "INV-2026-0001", OrderID: "ord-1",
		BillTo: canonical.PartyRef{ID: "cust-1"}, Currency: "USD", PaymentTerms: "NET30",
		InvoiceDate: t0, DueDate: t0.AddDate(0, 0, 30),
		Lines: []canonical.InvoiceLine{
			{ID: "IL1", OrderLineID: "L1", ShipmentLineID: "SL1", Item: hammer, Quantity: qty("4", "EA"), UnitPrice: usd("12.50"), Amount: usd("50.00")},
		},
		Charges: []canonical.Charge{{Type: "freight", Amount: usd("10.00")}, {Type: "allowance", Amount: usd("-2.00")}},
		Taxes:   []canonical.Tax{{Type: "sales", Rate: ptr(canonical.MustParseDecimal("6.25")), Taxable: ptr(usd("58.00")), Amount: usd("3.63")}},
		Totals:  canonical.Totals{Subtotal: usd("50.00"), Charges: usd("8.00"), Tax: usd("3.63"), Total: usd("61.63")},
	}
}

func TestInvoice(t *testing.T) {
	type I = canonical.Invoice
	checkRules(t, "invoice", invoiceFixture, []ruleCase[I]{
		{"kind", func(i *I) { i.Kind = "debit" }, "kind", "must be one of invoice, credit_memo"},
		{"number", func(i *I) { i.Number = "" }, "number", "is required"},
		{"invoice date", func(i *I) { i.InvoiceDate = time.Time{} }, "invoiceDate", "is required"},
		{"due before invoice", func(i *I) { i.DueDate = t0.Add(-time.Hour) }, "dueDate", "must not be before invoiceDate"},
		{"credit memo needs invoice", func(i *I) { i.Kind = canonical.InvoiceCreditMemo }, "creditsInvoiceId", "is required for a credit memo"},
		{"invoice credits nothing", func(i *I) { i.CreditsInvoiceID = "inv-0" }, "creditsInvoiceId", "must be empty for an invoice"},
		{"bill-to", func(i *I) { i.BillTo.ID = "" }, "billTo.id", "is required"},
		{"lines", func(i *I) { i.Lines = nil }, "lines", "is required"},
		{"line quantity", func(i *I) { i.Lines[0].Quantity = qty("0", "EA") }, "lines[0].quantity.value", "must be > 0"},
		{"line amount negative", func(i *I) { i.Lines[0].Amount = usd("-50.00") }, "lines[0].amount.amount", "must not be negative"},
		{"line price currency", func(i *I) { i.Lines[0].UnitPrice = canonical.MustParseMoney("12.50", "EUR") }, "lines[0].unitPrice.currency", "must be the document currency USD, is EUR"},
		{"charge currency", func(i *I) { i.Charges[0].Amount = canonical.MustParseMoney("1", "EUR") }, "charges[0].amount.currency", "must be the document currency"},
		{"tax negative", func(i *I) { i.Taxes[0].Amount = usd("-1") }, "taxes[0].amount.amount", "must not be negative"},
		{"tax rate negative", func(i *I) { i.Taxes[0].Rate = ptr(canonical.MustParseDecimal("-6")) }, "taxes[0].rate", "must not be negative"},
		{"totals currency", func(i *I) { i.Totals.Tax = canonical.MustParseMoney("3.63", "CAD") }, "totals.tax.currency", "must be the document currency USD, is CAD"},
		{"total negative", func(i *I) { i.Totals.Total = usd("-1") }, "totals.total.amount", "a credit is a credit_memo"},
	})
	checkJSONRoundTrip(t, "invoice", invoiceFixture())
	memo := invoiceFixture()
	memo.ID, memo.Kind, memo.CreditsInvoiceID, memo.ReturnID = "cm-1", canonical.InvoiceCreditMemo, "inv-1", "rma-1"
	assert.NoError(t, memo.Validate(), "credit memo")
	assert.Equal(t, canonical.KindInvoice, memo.DocumentKind())
}

func positionFixture() canonical.InventoryPosition {
	return canonical.InventoryPosition{
		Item: hammer, Location: "wh-chi", Lot: "A1", Status: canonical.InventoryAvailable, Kind: canonical.QuantitySnapshot,
		OnHand: qty("100", "EA"), Allocated: qty("110", "EA"), Available: qty("-10", "EA"), Inbound: qty("48", "EA"),
		AsOf: t0, Sequence: 42,
	}
}

func TestInventoryPosition(t *testing.T) {
	type P = canonical.InventoryPosition
	checkRules(t, "inventory position", positionFixture, []ruleCase[P]{
		{"location", func(p *P) { p.Location = "" }, "location", "is required"},
		{"status", func(p *P) { p.Status = "blocked" }, "status", "must be one of available, quality_hold, damaged, expired"},
		{"kind", func(p *P) { p.Kind = 0 }, "kind", "must be delta or snapshot"},
		{"as of", func(p *P) { p.AsOf = time.Time{} }, "asOf", "is required"},
		{"sequence", func(p *P) { p.Sequence = -1 }, "sequence", "must be ≥ 0"},
		{"item", func(p *P) { p.Item.GTIN = "123" }, "item.gtin", "must have 8, 12, 13 or 14 digits"},
		{"unit", func(p *P) { p.Inbound.Unit = "XCS" }, "inbound.unit", "must be the onHand unit EA, is XCS"},
		{"bad unit", func(p *P) { p.OnHand.Unit = "CTN" }, "onHand.unit", "use XCT (carton)"},
		{"snapshot on hand negative", func(p *P) { p.OnHand = qty("-1", "EA") }, "onHand.value", "must not be negative in a snapshot"},
		{"snapshot allocated negative", func(p *P) { p.Allocated = qty("-1", "EA") }, "allocated.value", "must not be negative in a snapshot"},
	})
	checkJSONRoundTrip(t, "inventory position", positionFixture())
	d := positionFixture()
	d.Kind, d.OnHand, d.Allocated, d.Inbound = canonical.QuantityDelta, qty("-5", "EA"), qty("-2", "EA"), qty("-48", "EA")
	assert.NoError(t, d.Validate(), "a delta may be negative")
}

func adjustmentFixture() canonical.InventoryAdjustment {
	return canonical.InventoryAdjustment{
		ID: "adj-1", Item: hammer, Location: "wh-chi", Status: canonical.InventoryAvailable,
		Delta: qty("-3", "EA"), Reason: canonical.AdjustDamage, AdjustedAt: t0, Sequence: 43,
	}
}

func TestInventoryAdjustment(t *testing.T) {
	type A = canonical.InventoryAdjustment
	checkRules(t, "inventory adjustment", adjustmentFixture, []ruleCase[A]{
		{"id", func(a *A) { a.ID = "" }, "id", "is required"},
		{"reason closed set", func(a *A) { a.Reason = "lost" }, "reason", "must be one of cycle_count, damage, shrinkage"},
		{"reason other needs note", func(a *A) { a.Reason = canonical.AdjustOther }, "note", "is required when the reason is other"},
		{"delta zero", func(a *A) { a.Delta = qty("0", "EA") }, "delta.value", "must not be zero"},
		{"delta unit", func(a *A) { a.Delta.Unit = "" }, "delta.unit", "code is empty"},
		{"adjusted at", func(a *A) { a.AdjustedAt = time.Time{} }, "adjustedAt", "is required"},
		{"item", func(a *A) { a.Item.SKU = "" }, "item.sku", "is required"},
	})
	checkJSONRoundTrip(t, "inventory adjustment", adjustmentFixture())
	for _, r := range []canonical.AdjustmentReason{canonical.AdjustCycleCount, canonical.AdjustDamage, canonical.AdjustShrinkage, canonical.AdjustFound, canonical.AdjustReceiptCorrection, canonical.AdjustQualityHold, canonical.AdjustQualityRelease, canonical.AdjustExpiry, canonical.AdjustReturnToStock} {
		a := adjustmentFixture()
		a.Reason = r
		assert.NoError(t, a.Validate(), "reason %s", r)
	}
}

func returnFixture() canonical.Return {
	return canonical.Return{
		ID: "rma-1", RMANumber: "RMA-0042", OrderID: "ord-1", Customer: canonical.PartyRef{ID: "cust-1"}, Warehouse: "wh-chi",
		AuthorizedAt: t0, ReceivedAt: t0.Add(48 * time.Hour),
		Lines: []canonical.ReturnLine{
			{ID: "RL1", OrderLineID: "L1", Item: hammer, Authorized: qty("2", "EA"), Received: qty("2", "EA"), Condition: canonical.ConditionDamaged, Disposition: canonical.DispositionScrap, Reason: "broken handle"},
			{ID: "RL2", OrderLineID: "L2", Item: hammer, Authorized: qty("1", "XCS"), Received: qty("0", "XCS")},
		},
	}
}

func TestReturn(t *testing.T) {
	type R = canonical.Return
	checkRules(t, "return", returnFixture, []ruleCase[R]{
		{"rma number", func(r *R) { r.RMANumber = "" }, "rmaNumber", "is required"},
		{"warehouse", func(r *R) { r.Warehouse = "" }, "warehouse", "is required"},
		{"authorized at", func(r *R) { r.AuthorizedAt = time.Time{} }, "authorizedAt", "is required"},
		{"customer", func(r *R) { r.Customer.ID = "" }, "customer.id", "is required"},
		{"lines", func(r *R) { r.Lines = nil }, "lines", "is required"},
		{"unique lines", func(r *R) { r.Lines[1].ID = "RL1" }, "lines[1].id", `duplicate "RL1"`},
		{"authorized positive", func(r *R) { r.Lines[1].Authorized = qty("0", "XCS") }, "lines[1].authorized.value", "must be > 0"},
		{"received not above authorized", func(r *R) { r.Lines[0].Received = qty("3", "EA") }, "lines[0].received.value", "must not exceed authorized 2, is 3"},
		{"received unit", func(r *R) { r.Lines[1].Received = qty("1", "EA") }, "lines[1].received.unit", "must be the authorized unit XCS, is EA"},
		{"received negative", func(r *R) { r.Lines[0].Received = qty("-1", "EA") }, "lines[0].received.value", "must not be negative"},
		{"condition closed set", func(r *R) { r.Lines[0].Condition = "meh" }, "lines[0].condition", "must be one of new, opened, damaged, defective"},
		{"condition once received", func(r *R) { r.Lines[0].Condition = "" }, "lines[0].condition", "is required once goods are received"},
		{"disposition closed set", func(r *R) { r.Lines[0].Disposition = "burn" }, "lines[0].disposition", "must be one of restock, refurbish, scrap, return_to_vendor, quarantine"},
		{"disposition once received", func(r *R) { r.Lines[0].Disposition = "" }, "lines[0].disposition", "is required once goods are received"},
		{"received at", func(r *R) { r.ReceivedAt = time.Time{} }, "receivedAt", "is required once goods are received"},
	})
	checkJSONRoundTrip(t, "return", returnFixture())
}

// TestDocumentsImplementDocument checks every document's kind and that the
// documents travel through DecodeData as values.
func TestDocumentsImplementDocument(t *testing.T) {
	docs := map[string]canonical.Document{
		canonical.KindOrder:               sampleOrder(1),
		canonical.KindOrderAck:            ackFixture(),
		canonical.KindFulfillmentOrder:    fulfillmentFixture(),
		canonical.KindAllocationUpdate:    allocationFixture(),
		canonical.KindShipment:            shipmentFixture(),
		canonical.KindInvoice:             invoiceFixture(),
		canonical.KindInventoryPosition:   positionFixture(),
		canonical.KindInventoryAdjustment: adjustmentFixture(),
		canonical.KindReturn:              returnFixture(),
		canonical.KindCustomer:            customerFixture(),
		canonical.KindItem:                itemFixture(),
		canonical.KindCancelRequest:       cancelFixture(),
		canonical.KindOrderAmendment:      amendmentFixture(),
	}
	for kind, d := range docs {
		assert.Equal(t, kind, d.DocumentKind(), "%s", reflect.TypeOf(d))
		assert.NoError(t, d.Validate(), "%s fixture", kind)
	}
	ev, err := canonical.NewEvent(canonical.EventShipmentConfirmed, shipmentFixture())
	require.NoError(t, err, "shipment event")
	back, err := canonical.DecodeData[canonical.Shipment](ev)
	require.NoError(t, err, "decode shipment event")
	assert.Equal(t, shipmentFixture(), back, "shipment through an event")
}

func TestDecodeDocuments(t *testing.T) {
	data, err := json.Marshal(shipmentFixture())
	require.NoError(t, err)
	s, err := canonical.Decode[canonical.Shipment](data)
	require.NoError(t, err)
	assert.Equal(t, shipmentFixture(), s, "shipment round trip")

	bad := strings.Replace(string(data), `"sscc":"006141411234567906"`, `"sscc":"006141411234567907"`, 1)
	require.NotEqual(t, string(data), bad, "fixture must contain the second SSCC")
	_, err = canonical.Decode[canonical.Shipment]([]byte(bad))
	var de *canonical.DecodeError
	require.ErrorAs(t, err, &de, "bad SSCC")
	assert.Equal(t, "packages[1].sscc", de.Field)
	assert.Equal(t, "shipment", de.Kind)
	assert.ErrorIs(t, err, canonical.ErrInvalid)

	_, err = canonical.Decode[canonical.InventoryAdjustment]([]byte(`{"delta":{"value":"x","unit":"EA"}}`))
	require.ErrorAs(t, err, &de, "bad delta")
	assert.Equal(t, "delta.value", de.Field)
	assert.Contains(t, err.Error(), "canonical: decode inventory_adjustment: delta.value: ")

	_, err = canonical.Decode[*canonical.Return]([]byte(`{"lines":[{"authorized":{"unit":"CS"}}]}`))
	require.ErrorAs(t, err, &de, "bad unit through a pointer type")
	assert.Equal(t, "lines[0].authorized.unit", de.Field)
	assert.Equal(t, "document", de.Kind)
}

func TestValidateConcurrently(t *testing.T) {
	o := sampleOrder(10)
	bad := sampleOrder(10)
	bad.Lines[3].Quantity.Unit = "CS"
	done := make(chan error, 16)
	for i := range 16 {
		go func() {
			if i%2 == 0 {
				done <- o.Validate()
				return
			}
			done <- bad.Validate()
		}()
	}
	var nerr int
	for range 16 {
		if err := <-done; err != nil {
			nerr++
			assert.Contains(t, err.Error(), "lines[3].quantity.unit", "concurrent validation")
		}
	}
	assert.Equal(t, 8, nerr, "half the orders are invalid")
}

func TestUniqueIDsOnLongLists(t *testing.T) {
	s := shipmentFixture()
	for i := range 40 {
		s.Lines = append(s.Lines, canonical.ShipmentLine{ID: "X" + strconv.Itoa(i), OrderLineID: "L1", FulfillmentLineID: "FL1", Item: hammer, Quantity: qty("1", "EA")})
	}
	require.NoError(t, s.Validate(), "42 distinct lines")
	s.Lines[41].ID = "X3"
	err := s.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve, "42 lines, one duplicate")
	assert.True(t, ve.Has("lines[41].id"), "duplicate at the end: %v", err)
	assert.Contains(t, err.Error(), `duplicate "X3" (also at lines[5])`)
}

// TestReturnLineReceivedZeroValue checks ReturnLine.Received's documented
// zero value: a line not received yet leaves Received zero (no unit), and
// the return validates.
func TestReturnLineReceivedZeroValue(t *testing.T) {
	r := returnFixture()
	r.Lines[1].Received = canonical.Quantity{}
	assert.NoError(t, r.Validate(), "a return line with the zero Received")

	r.Lines = r.Lines[1:]
	r.ReceivedAt = time.Time{}
	assert.NoError(t, r.Validate(), "a return whose only line has the zero Received, nothing received yet")

	r.Lines[0].Received = canonical.Quantity{Value: canonical.MustParseDecimal("1")}
	assert.Error(t, r.Validate(), "a received quantity without a unit")
}
