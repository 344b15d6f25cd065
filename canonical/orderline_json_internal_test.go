package canonical

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var lineSeeds = []string{
	`{"id":"L1","item":{"sku":"SKU-1","gtin":"4006381333931"},"quantity":{"value":"10","unit":"EA"},"unitPrice":{"amount":"12.50","currency":"USD"},"buckets":{"ordered":"10","shipped":"4.5"}}`,
	`{"id":"L2","refs":[{"system":"erp","type":"line","value":"10","version":"3"}],"item":{"sku":"S","description":"Hämmer","refs":[]},"quantity":{"value":"1.5","unit":"KGM"},"unitPrice":{"amount":"0","currency":"JPY"},"requestedDate":"2026-11-02T09:00:00+01:00","promisedDate":"2026-11-03T00:00:00Z","notes":[{"type":"warehouse","text":"fragile"}],"buckets":{}}`,
	` { "id" : "L3" , "quantity" : { "unit" : "XCS" , "value" : "2" } } `,
	`{"id":"L4","ID":"L5"}`,
	`{"id":"L6","id":"L7"}`,
	`{"id":"L8","unitPrice":{"amount":12.5,"currency":"USD"}}`,
	`{"id":"L9","unitPrice":{"amount":"12.5","currency":"usd"}}`,
	`{"id":"L\u0031","extra":true}`,
	`{"id":"L10","buckets":{"packed":"1"}}`,
	`{"id":"L11","buckets":{"ordered":null}}`,
	`{"id":"L12","refs":null,"notes":null,"item":null}`,
	`null`,
	`{"id":"L13","item":{"gtin":""},"requestedDate":"yesterday"}`,
	"{\"id\":\"\xff\"}",
}

// FuzzOrderLineJSON checks that the fast path of OrderLine.UnmarshalJSON
// gives exactly what encoding/json gives without it, for any valid JSON.
func FuzzOrderLineJSON(f *testing.F) {
	for _, s := range lineSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var fast OrderLine
		errFast := json.Unmarshal(data, &fast)
		var slow orderLineJSON
		errSlow := json.Unmarshal(data, &slow)
		require.Equal(t, errSlow == nil, errFast == nil, "input %q: fast error %v, general error %v", data, errFast, errSlow)
		if errFast != nil {
			require.Equal(t, errSlow.Error(), errFast.Error(), "input %q", data)
			return
		}
		if !reflect.DeepEqual(OrderLine(slow), fast) {
			t.Fatalf("input %q:\nfast    %#v\ngeneral %#v", data, fast, OrderLine(slow))
		}
	})
}

func TestOrderLineFastPathTaken(t *testing.T) {
	for i, s := range lineSeeds[:3] {
		var l OrderLine
		sc := lineScanner{b: []byte(s)}
		require.True(t, sc.line(&l) && sc.end(), "seed %d takes the fast path: %s", i, s)
	}
	for i, s := range lineSeeds[3:] {
		var l OrderLine
		sc := lineScanner{b: []byte(s)}
		require.False(t, sc.line(&l) && sc.end(), "seed %d falls back: %s", i+3, s)
	}
}

var orderSeeds = []string{
	`{"id":"o","version":3,"refs":[{"system":"crm","type":"opp","value":"1"}],"customerPO":"PO","soldTo":{"id":"c","name":"Acme","refs":[]},"shipTo":{"id":"d","address":{"name":"Dock","lines":["1 Road"],"city":"X","region":"IL","postalCode":"1","country":"US"}},"billTo":{"id":"b"},"currency":"USD","paymentTerms":"NET30","orderedAt":"2026-11-02T09:00:00Z","requestedShipDate":"2026-11-03T00:00:00Z","requestedDeliveryDate":"2026-11-04T00:00:00-05:00","shipComplete":true,"holds":[{"kind":"credit","reason":"r","code":"C1","placedAt":"2026-11-02T09:00:00Z","releasedAt":"2026-11-02T10:00:00Z"}],"charges":[{"type":"freight","description":"d","amount":{"amount":"15.00","currency":"USD"}}],"taxes":[{"type":"sales","jurisdiction":"IL","rate":"6.25","taxable":{"amount":"100","currency":"USD"},"amount":{"amount":"6.25","currency":"USD"}}],"totals":{"subtotal":{"amount":"1","currency":"USD"},"charges":{"amount":"1","currency":"USD"},"tax":{"amount":"1","currency":"USD"},"total":{"amount":"3","currency":"USD"}},"notes":[{"type":"t","text":"x"}],"lines":[` + lineSeeds[0] + `,` + lineSeeds[1] + `],"submittedAt":"2026-11-02T09:01:00Z","acceptedAt":"2026-11-02T09:02:00Z","rejectedAt":"2026-11-02T09:03:00Z","cancelledAt":"2026-11-02T09:04:00Z","closedAt":"2026-11-02T09:05:00Z"}`,
	`{"id":"o","version":-0,"lines":[]}`,
	`{"id":"o","version":01}`,
	`{"id":"o","version":1.0}`,
	`{"id":"o","version":1e2}`,
	`{"id":"o","shipComplete":tru}`,
	`{"id":"o","billTo":null}`,
	`{"id":"o","lines":[` + lineSeeds[3] + `]}`,
	`{"id":"o"} x`,
	`{"id":"o",}`,
	`{"currency":"usd"}`,
}

// FuzzDecodeOrderFast checks that the fast path of DecodeOrder only accepts
// valid JSON and then gives exactly what encoding/json gives.
func FuzzDecodeOrderFast(f *testing.F) {
	for _, s := range orderSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastDecode(t, "order", data, decodeOrderFast)
	})
}

func TestOrderFastPathTaken(t *testing.T) {
	for i, s := range orderSeeds {
		var o Order
		took := decodeOrderFast([]byte(s), &o)
		require.Equal(t, i < 2, took, "seed %d: %s", i, s)
	}
}

// FuzzEncodeOrder checks that EncodeOrder writes exactly what json.Marshal
// writes, for every order DecodeOrder accepts.
func FuzzEncodeOrder(f *testing.F) {
	for _, s := range orderSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"id":"<a&b>\u2028\u2029\u0001\t\"\\é","customerPO":"\ud800","lines":null,"soldTo":{"id":"x","address":{"country":"\u007f"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := DecodeOrder(data)
		if err != nil {
			return
		}
		want, wantErr := json.Marshal(o)
		got, gotErr := EncodeOrder(o)
		require.Equal(t, wantErr == nil, gotErr == nil, "input %q: json.Marshal error %v, EncodeOrder error %v", data, wantErr, gotErr)
		if string(want) != string(got) { // no testify diff: it is slow on long strings
			t.Fatalf("input %q:\njson.Marshal %s\nEncodeOrder  %s", data, want, got)
		}
	})
}

func TestEncodeOrderMatchesMarshal(t *testing.T) {
	o := Order{
		ID: "<a&b>\u2028\u2029\x01\x7f\t\n\r\b\f\"\\é\xff", Version: -3, CustomerPO: "PO",
		SoldTo: PartyRef{ID: "c", Name: "n", Refs: Refs{{System: "s", Type: "t", Value: "v", Version: "1"}}, Address: &Address{Name: "a", Lines: []string{"l1", "l2"}, City: "c", Region: "r", PostalCode: "p", Country: "US"}},
		ShipTo: PartyRef{ID: "d"}, BillTo: &PartyRef{ID: "b"}, Currency: "USD", PaymentTerms: "NET30",
		OrderedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 3600)), ShipComplete: true,
		Holds:   []Hold{{Kind: HoldTax, Reason: "r", Code: "c", PlacedAt: time.Unix(1, 0).UTC(), ReleasedAt: time.Unix(2, 0).UTC()}},
		Charges: []Charge{{Type: "f", Description: "d", Amount: MustParseMoney("-1.50", "USD")}},
		Taxes:   []Tax{{Type: "vat", Jurisdiction: "DE", Rate: new(MustParseDecimal("19")), Taxable: new(MustParseMoney("10", "EUR")), Amount: MustParseMoney("1.90", "EUR")}, {Type: "x", Amount: MustParseMoney("0", "USD")}},
		Totals:  &Totals{Subtotal: MustParseMoney("1", "USD"), Charges: MustParseMoney("2", "USD"), Tax: MustParseMoney("3", "USD"), Total: MustParseMoney("6", "USD")},
		Notes:   []Note{{Text: "t"}, {Type: "x", Text: "y"}},
		Lines: []OrderLine{{ID: "L1", Refs: Refs{{System: "s", Type: "t", Value: "v"}}, Item: ItemRef{SKU: "s", GTIN: "4006381333931", Description: "d", Refs: Refs{{System: "a", Type: "b", Value: "c"}}},
			Quantity: MustParseQuantity("1.000", "KGM"), UnitPrice: MustParseMoney("0.0001", "USD"), RequestedDate: time.Unix(3, 0).UTC(), PromisedDate: time.Unix(4, 0).UTC(), Notes: []Note{{Text: "n"}}}, {}},
		SubmittedAt: time.Unix(5, 0).UTC(), AcceptedAt: time.Unix(6, 0).UTC(), RejectedAt: time.Unix(7, 0).UTC(), CancelledAt: time.Unix(8, 0).UTC(), ClosedAt: time.Unix(9, 0).UTC(),
	}
	o.Lines[0].Buckets.Set(BucketShipped, MustParseDecimal("0.50"))
	o.Lines[0].Buckets.Set(BucketReturned, MustParseDecimal("1"))
	want, err := json.Marshal(o)
	require.NoError(t, err)
	got, err := EncodeOrder(o)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "every field set")

	want, err = json.Marshal(Order{})
	require.NoError(t, err)
	got, err = EncodeOrder(Order{})
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "zero order")

	_, err = EncodeOrder(Order{OrderedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.ErrorContains(t, err, "canonical: encode order: orderedAt: ", "year 10000")
}
