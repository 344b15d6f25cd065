package canonical_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestOrderValidateOK(t *testing.T) {
	o := sampleOrder(10)
	require.NoError(t, o.Validate(), "sample order")
	o.Totals = &canonical.Totals{
		Subtotal: canonical.MustParseMoney("1250.00", "USD"), Charges: canonical.MustParseMoney("15.00", "USD"),
		Tax: canonical.MustParseMoney("7.81", "USD"), Total: canonical.MustParseMoney("1272.81", "USD"),
	}
	o.BillTo = &canonical.PartyRef{ID: "cust-1-ap"}
	o.Holds = []canonical.Hold{{Kind: canonical.HoldDeliveryBlock}}
	o.Lines[0].Buckets = bk("ordered", "10", "cancelled", "2", "shipped", "8")
	assert.NoError(t, o.Validate(), "order with totals, bill-to, hold and buckets")
	var d canonical.Document = &o
	assert.Equal(t, canonical.KindOrder, d.DocumentKind())
}

func TestOrderValidateRules(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(o *canonical.Order)
		field string
		msg   string
	}{
		{"id required", func(o *canonical.Order) { o.ID = "" }, "id", "is required"},
		{"version not negative", func(o *canonical.Order) { o.Version = -1 }, "version", "must be ≥ 0"},
		{"currency code", func(o *canonical.Order) { o.Currency = "usd" }, "currency", "must be three upper-case letters"},
		{"currency withdrawn", func(o *canonical.Order) { o.Currency = "HRK"; o.Lines = o.Lines[:0] }, "currency", "withdrawn from ISO 4217; use EUR"},
		{"at least one line", func(o *canonical.Order) { o.Lines = nil }, "lines", "is required"},
		{"refs", func(o *canonical.Order) { o.Refs = append(o.Refs, canonical.ExternalRef{System: "erp"}) }, "refs[2].type", "is required"},
		{"sold-to id", func(o *canonical.Order) { o.SoldTo.ID = "" }, "soldTo.id", "is required"},
		{"ship-to country", func(o *canonical.Order) { o.ShipTo.Address.Country = "UK" }, "shipTo.address.country", "use GB"},
		{"bill-to id", func(o *canonical.Order) { o.BillTo = &canonical.PartyRef{} }, "billTo.id", "is required"},
		{"hold kind closed set", func(o *canonical.Order) { o.Holds = []canonical.Hold{{Kind: "fraud"}} }, "holds[0].kind", `must be one of credit, pricing, tax, approval, delivery_block, is "fraud"`},
		{"charge type", func(o *canonical.Order) { o.Charges[0].Type = "" }, "charges[0].type", "is required"},
		{"charge currency", func(o *canonical.Order) { o.Charges[0].Amount.Currency = "EUR" }, "charges[0].amount.currency", "must be the document currency USD, is EUR"},
		{"tax currency", func(o *canonical.Order) { o.Taxes[0].Amount.Currency = "XXX" }, "taxes[0].amount.currency", "not an ISO 4217 code"},
		{"tax taxable currency", func(o *canonical.Order) { o.Taxes[0].Taxable = ptr(canonical.MustParseMoney("1", "EUR")) }, "taxes[0].taxable.currency", "must be the document currency"},
		{"tax rate", func(o *canonical.Order) { o.Taxes[0].Rate = ptr(canonical.MustParseDecimal("-1")) }, "taxes[0].rate", "must not be negative"},
		{"totals currency", func(o *canonical.Order) {
			o.Totals = &canonical.Totals{Subtotal: canonical.MustParseMoney("1", "USD"), Charges: canonical.MustParseMoney("1", "USD"), Tax: canonical.MustParseMoney("1", "USD"), Total: canonical.MustParseMoney("1", "CAD")}
		}, "totals.total.currency", "must be the document currency USD, is CAD"},
		{"note text", func(o *canonical.Order) { o.Notes[0].Text = "" }, "notes[0].text", "is required"},
		{"line id required", func(o *canonical.Order) { o.Lines[3].ID = "" }, "lines[3].id", "is required"},
		{"unique line ids", func(o *canonical.Order) { o.Lines[4].ID = "L2" }, "lines[4].id", `duplicate line ID "L2" (also at lines[1])`},
		{"line sku", func(o *canonical.Order) { o.Lines[1].Item.SKU = "" }, "lines[1].item.sku", "is required"},
		{"line gtin check digit", func(o *canonical.Order) { o.Lines[1].Item.GTIN = "4006381333932" }, "lines[1].item.gtin", "check digit is 2, want 1"},
		{"line refs", func(o *canonical.Order) { o.Lines[0].Refs = canonical.Refs{{Type: "x", Value: "y"}} }, "lines[0].refs[0].system", "is required"},
		{"line quantity positive", func(o *canonical.Order) { o.Lines[2].Quantity.Value = canonical.DecimalFromInt(0) }, "lines[2].quantity.value", "must be > 0"},
		{"line quantity not negative", func(o *canonical.Order) { o.Lines[2].Quantity.Value = canonical.DecimalFromInt(-3) }, "lines[2].quantity.value", "must be > 0, is -3"},
		{"line unit code", func(o *canonical.Order) { o.Lines[2].Quantity.Unit = "CS" }, "lines[2].quantity.unit", "use XCS (case)"},
		{"unit price currency", func(o *canonical.Order) { o.Lines[2].UnitPrice.Currency = "EUR" }, "lines[2].unitPrice.currency", "must be the document currency USD, is EUR"},
		{"unit price not negative", func(o *canonical.Order) { o.Lines[2].UnitPrice.Amount = canonical.DecimalFromInt(-1) }, "lines[2].unitPrice.amount", "must not be negative"},
		{"line note", func(o *canonical.Order) { o.Lines[5].Notes = []canonical.Note{{}} }, "lines[5].notes[0].text", "is required"},
		{"bucket not negative", func(o *canonical.Order) { o.Lines[6].Buckets = bk("ordered", "10", "picked", "-1") }, "lines[6].buckets.picked", "must not be negative"},
		{"shipped ≤ ordered − cancelled", func(o *canonical.Order) { o.Lines[6].Buckets = bk("ordered", "10", "cancelled", "4", "shipped", "7") }, "lines[6].buckets.shipped", "must not exceed ordered − cancelled − rejected = 6, is 7"},
		{"shipped ≤ line quantity when not folded", func(o *canonical.Order) { o.Lines[6].Buckets = bk("shipped", "11") }, "lines[6].buckets.shipped", "= 10, is 11"},
		{"cancelled ≤ ordered", func(o *canonical.Order) { o.Lines[6].Buckets = bk("ordered", "10", "cancelled", "11") }, "lines[6].buckets.cancelled", "must not exceed ordered 10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := sampleOrder(10)
			tc.edit(&o)
			err := o.Validate()
			require.Error(t, err, "%s must be refused", tc.name)
			assert.ErrorIs(t, err, canonical.ErrInvalid, tc.name)
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, tc.name)
			assert.Equal(t, "order", ve.Kind)
			require.True(t, ve.Has(tc.field), "%s: want a violation of %s, got %v", tc.name, tc.field, err)
			for _, fe := range ve.Errors {
				if fe.Field == tc.field {
					assert.Contains(t, fe.Message, tc.msg, "%s: message of %s", tc.name, tc.field)
				}
			}
		})
	}
}

func TestOrderValidateListsEveryViolation(t *testing.T) {
	o := sampleOrder(3)
	o.ID = ""
	o.Lines[2].UnitPrice.Currency = "EUR"
	o.Lines[0].Quantity.Unit = "CTN"
	err := o.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	fields := make([]string, 0, len(ve.Errors))
	for _, fe := range ve.Errors {
		fields = append(fields, fe.Field)
	}
	assert.ElementsMatch(t, []string{"id", "lines[0].quantity.unit", "lines[2].unitPrice.currency"}, fields, "error %v", err)
	assert.Contains(t, err.Error(), `lines[0].quantity.unit: invalid unit "CTN": not a UN/ECE Rec 20 code; use XCT (carton)`)
}

func TestOrderJSONRoundTrip(t *testing.T) {
	o := sampleOrder(3)
	o.Lines[0].Buckets = bk("ordered", "10", "shipped", "4.50")
	o.Holds = []canonical.Hold{{Kind: canonical.HoldCredit, PlacedAt: t0}}
	data, err := json.Marshal(&o)
	require.NoError(t, err)
	for _, want := range []string{`"unitPrice":{"amount":"12.50","currency":"USD"}`, `"buckets":{"ordered":"10","shipped":"4.50"}`, `"customerPO":"PO-77"`, `"submittedAt":"2026-11-02T09:01:00Z"`} {
		assert.Contains(t, string(data), want, "encoded order")
	}
	assert.NotContains(t, string(data), "rejectedAt", "zero times are left out")
	back, err := canonical.DecodeOrder(data)
	require.NoError(t, err)
	assert.Equal(t, o, back, "round trip of %s", data)
}

func TestDecodeOrderErrors(t *testing.T) {
	good, err := json.Marshal(sampleOrder(3))
	require.NoError(t, err)
	replace := func(old, new string) string {
		s := string(good)
		if !strings.Contains(s, old) {
			panic("fixture lacks " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
	tests := []struct {
		name  string
		input string
		field string
		text  string
	}{
		{"syntax", `{"id": "x",`, "", "malformed JSON at line 1, column 11"},
		{"syntax on line 2", "{\"id\": \"x\",\n \"lines\": [}", "", "malformed JSON at line 2, column 12"},
		{"not an object", `[1,2]`, "", "must be a JSON object, got array"},
		{"wrong type for id", `{"id": 7}`, "id", "must be a JSON string, got number"},
		{"wrong type for version", `{"version": "3"}`, "version", "must be a JSON number, got string"},
		{"bad currency", `{"currency": "usd"}`, "currency", `currency "usd": must be three upper-case letters`},
		{"bad unit price currency", replace(`"unitPrice":{"amount":"12.50","currency":"USD"}`, `"unitPrice":{"amount":"12.50","currency":"CHX"}`), "lines[0].unitPrice.currency", `currency "CHX": not an ISO 4217 code`},
		{"bad amount", replace(`"amount":"12.50"`, `"amount":"12,50"`), "lines[0].unitPrice.amount", `decimal "12,50"`},
		{"bad unit", replace(`"unit":"XCS"`, `"unit":"CS"`), "lines[1].quantity.unit", "use XCS (case)"},
		{"bad gtin", replace(`"gtin":"4006381333931"`, `"gtin":"4006381333930"`), "lines[0].item.gtin", "check digit"},
		{"lines not an array", `{"lines": {}}`, "lines", "must be a JSON array, got object"},
		{"bad bucket", `{"lines":[{"id":"L1"},{"id":"L2","buckets":{"packed":"1"}}]}`, "lines[1].buckets", `bucket "packed"`},
		{"bad time", `{"submittedAt": "yesterday"}`, "submittedAt", "yesterday"},
		{"case-insensitive key", `{"ID": true}`, "id", "must be a JSON string, got bool"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := canonical.DecodeOrder([]byte(tc.input))
			require.Error(t, err, "input %s", tc.input)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "input %s", tc.input)
			var de *canonical.DecodeError
			require.ErrorAs(t, err, &de, "input %s", tc.input)
			assert.Equal(t, tc.field, de.Field, "%s: field of %v", tc.name, err)
			assert.Contains(t, err.Error(), tc.text, "input %s", tc.input)
			if tc.field != "" {
				assert.Contains(t, err.Error(), "canonical: decode order: "+tc.field+": ", "input %s", tc.input)
			}
		})
	}
	_, err = canonical.DecodeOrder([]byte(`{"id":`))
	var se *json.SyntaxError
	assert.True(t, errors.As(err, &se), "a syntax error unwraps to *json.SyntaxError: %v", err)
}

func TestOrderWithEmptyLines(t *testing.T) {
	o := sampleOrder(1)
	o.Lines = []canonical.OrderLine{}
	err := o.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve, "empty lines")
	require.True(t, ve.Has("lines"), "empty lines: %v", err)
	assert.Contains(t, err.Error(), "lines: must have at least one item")
	s := shipmentFixture()
	s.Lines = []canonical.ShipmentLine{}
	assert.ErrorContains(t, s.Validate(), "lines: must have at least one item", "shipment without lines")
}
