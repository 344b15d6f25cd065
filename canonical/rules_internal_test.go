package canonical

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rulesOK reports whether s, a pointer to a document, passes the fast
// check of its type; false for a type without one.
func rulesOK(s any) bool {
	switch d := s.(type) {
	case *Order:
		return orderRulesOK(d)
	case *FulfillmentOrder:
		return fulfillmentOrderRulesOK(d)
	case *AllocationUpdate:
		return allocationUpdateRulesOK(d)
	case *Shipment:
		return shipmentRulesOK(d)
	case *Invoice:
		return invoiceRulesOK(d)
	case *InventoryPosition:
		return inventoryPositionRulesOK(d)
	case *InventoryAdjustment:
		return inventoryAdjustmentRulesOK(d)
	}
	return false
}

// rulesSeeds returns documents of each type rulesOK knows with every
// optional list and pointer filled, all passing the struct-tag rules.
func rulesSeeds() []any {
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	usd := MustParseMoney("1.00", "USD")
	rate := MustParseDecimal("20")
	qty := MustParseQuantity("1", "EA")
	notes := []Note{{Type: "customer", Text: "note"}}
	return []any{
		&Order{ID: "o-1", Version: 1, Currency: "USD", BillTo: &PartyRef{},
			Holds:   []Hold{{Kind: HoldCredit, PlacedAt: t0}},
			Charges: []Charge{{Type: "freight", Amount: usd}},
			Taxes:   []Tax{{Type: "vat", Rate: &rate, Taxable: &usd, Amount: usd}},
			Totals:  &Totals{}, Notes: notes,
			Lines: []OrderLine{{ID: "l-1", Quantity: qty, Notes: notes}, {ID: "l-2", Quantity: qty}}},
		&FulfillmentOrder{ID: "fo-1", Version: 1, OrderID: "o-1", OrderVersion: 1, Warehouse: "WH-1",
			Split: SplitPosition{Group: "g", Index: 1, Count: 2},
			Lines: []FulfillmentLine{{ID: "fl-1", OrderLineID: "l-1", Quantity: qty}}},
		&AllocationUpdate{FulfillmentOrderID: "fo-1", OrderID: "o-1", Warehouse: "WH-1", AsOf: t0, Sequence: 1,
			Lines: []AllocationLine{{FulfillmentLineID: "fl-1", OrderLineID: "l-1", Allocated: qty, Picked: &qty, ExpectedDate: t0}}},
		&Shipment{ID: "s-1", Version: 1, OrderID: "o-1", FulfillmentOrderID: "fo-1", Warehouse: "WH-1",
			Carrier: Carrier{SCAC: "UPSN"}, TrackingNumbers: []string{"1Z"}, ShippedAt: t0,
			Packages: []Package{{SSCC: MustParseSSCC("006141411234567890"), Weight: &qty,
				Lines: []PackageLine{{ShipmentLineID: "sl-1", Quantity: qty}}}},
			Lines: []ShipmentLine{{ID: "sl-1", OrderLineID: "l-1", FulfillmentLineID: "fl-1", Quantity: qty,
				Lots: []LotQuantity{{Lot: "A", Quantity: qty}}, Serials: []string{"SN1"}}}},
		&Invoice{ID: "i-1", Version: 1, Kind: InvoiceStandard, Number: "INV-1", Currency: "USD", InvoiceDate: t0,
			Lines:   []InvoiceLine{{ID: "il-1", Quantity: qty, UnitPrice: usd, Amount: usd}},
			Charges: []Charge{{Type: "freight", Amount: usd}},
			Taxes:   []Tax{{Type: "vat", Amount: usd}}},
		&InventoryPosition{Location: "WH-1", Lot: "A", Status: InventoryAvailable, Kind: QuantitySnapshot,
			OnHand: qty, Allocated: qty, Available: qty, Inbound: qty, AsOf: t0, Sequence: 1},
		&InventoryAdjustment{ID: "adj-1", Location: "WH-1", Status: InventoryDamaged, Delta: qty, Reason: AdjustOther,
			Note: "n", AdjustedAt: t0, Sequence: 1},
	}
}

// TestRulesOK checks that the fast checks accept the valid seeds (or the
// fast path would never be taken) and never accept a document the
// validator refuses: every reachable field, list and pointer of each seed
// is in turn zeroed, emptied or corrupted, and whenever rulesOK says yes
// the validator must agree. A tagged field added to a document without its
// fast check fails this test.
func TestRulesOK(t *testing.T) {
	for _, doc := range rulesSeeds() {
		name := reflect.TypeOf(doc).Elem().Name()
		require.NoError(t, structValidator.Struct(doc), "%s seed passes the validator", name)
		require.True(t, rulesOK(doc), "%s seed passes the fast check", name)
		checked := 0
		check := func(path string) {
			checked++
			if rulesOK(doc) {
				assert.NoError(t, structValidator.Struct(doc), "%s with %s changed: rulesOK says valid", name, path)
			}
		}
		mutate(reflect.ValueOf(doc).Elem(), name, check)
		require.True(t, rulesOK(doc), "%s seed restored after the mutations", name)
		assert.Greater(t, checked, 20, "%s: mutations checked", name)
	}
	assert.False(t, rulesOK(&Customer{}), "a type without a fast check goes to the validator")
}

var timeType = reflect.TypeFor[time.Time]()

// mutate changes each settable leaf under v in turn, calls check, and
// restores it.
func mutate(v reflect.Value, path string, check func(path string)) {
	try := func(p string, nv reflect.Value) {
		old := reflect.New(v.Type()).Elem()
		old.Set(v)
		v.Set(nv)
		check(p)
		v.Set(old)
	}
	switch v.Kind() {
	case reflect.String:
		for _, s := range []string{"", "zz?", "credit_memo"} {
			try(path+"="+s, reflect.ValueOf(s).Convert(v.Type()))
		}
	case reflect.Int, reflect.Int64:
		for _, n := range []int64{-1, 0, 5} {
			try(path+"=n", reflect.ValueOf(n).Convert(v.Type()))
		}
	case reflect.Bool:
		try(path+"=flip", reflect.ValueOf(!v.Bool()))
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		try(path+"=nil", reflect.Zero(v.Type()))
		mutate(v.Elem(), path, check)
	case reflect.Slice:
		try(path+"=nil", reflect.Zero(v.Type()))
		try(path+"=[]", reflect.MakeSlice(v.Type(), 0, 0))
		for i := range v.Len() {
			mutate(v.Index(i), path+"[i]", check)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			try(path+"=zero", reflect.Zero(v.Type()))
			try(path+"=zero in a zone", reflect.ValueOf(time.Time{}.In(time.FixedZone("X", 3600))))
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				mutate(f, path+"."+v.Type().Field(i).Name, check)
			}
		}
	}
}
