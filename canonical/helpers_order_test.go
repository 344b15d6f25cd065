package canonical_test

import (
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// sampleOrder returns a valid, accepted order with n lines L1..Ln of 10 EA
// (line i has i+1 XCS for odd i) at 12.50 USD.
func sampleOrder(n int) canonical.Order {
	addr := &canonical.Address{Name: "Acme Receiving", Lines: []string{"1 Dock Road"}, City: "Springfield", Region: "IL", PostalCode: "62701", Country: "US"}
	o := canonical.Order{
		ID:           "ord-1",
		Version:      3,
		Refs:         canonical.Refs{{System: "crm", Type: "opportunity", Value: "006A"}, {System: "erp", Type: "salesOrder", Value: "SO-1001", Version: "7"}},
		CustomerPO:   "PO-77",
		SoldTo:       canonical.PartyRef{ID: "cust-1", Name: "Acme"},
		ShipTo:       canonical.PartyRef{ID: "cust-1-dock", Address: addr},
		Currency:     "USD",
		PaymentTerms: "NET30",
		OrderedAt:    t0,
		Charges:      []canonical.Charge{{Type: "freight", Amount: canonical.MustParseMoney("15.00", "USD")}},
		Taxes:        []canonical.Tax{{Type: "sales", Jurisdiction: "US-IL", Rate: ptr(canonical.MustParseDecimal("6.25")), Amount: canonical.MustParseMoney("7.81", "USD")}},
		Notes:        []canonical.Note{{Type: "warehouse", Text: "call before delivery"}},
		SubmittedAt:  t0.Add(time.Minute),
		AcceptedAt:   t0.Add(2 * time.Minute),
	}
	for i := range n {
		unit := canonical.Unit("EA")
		if i%2 == 1 {
			unit = "XCS"
		}
		o.Lines = append(o.Lines, canonical.OrderLine{
			ID:        fmt.Sprintf("L%d", i+1),
			Item:      canonical.ItemRef{SKU: fmt.Sprintf("SKU-%03d", i), GTIN: "4006381333931"},
			Quantity:  canonical.NewQuantity(canonical.DecimalFromInt(10), unit),
			UnitPrice: canonical.MustParseMoney("12.50", "USD"),
		})
	}
	return o
}

func qe(line string, b canonical.Bucket, kind canonical.QuantityEventKind, v string, at time.Duration, src string) canonical.QuantityEvent {
	return canonical.QuantityEvent{LineID: line, Bucket: b, Kind: kind, Value: canonical.MustParseDecimal(v), AsOf: t0.Add(at), SourceMessageID: src}
}

func delta(line string, b canonical.Bucket, v string, at time.Duration, src string) canonical.QuantityEvent {
	return qe(line, b, canonical.QuantityDelta, v, at, src)
}

func snap(line string, b canonical.Bucket, v string, at time.Duration, src string) canonical.QuantityEvent {
	return qe(line, b, canonical.QuantitySnapshot, v, at, src)
}

// fiftyEvents returns 50 quantity events over the 10 lines of sampleOrder(10),
// including duplicates, snapshots and deltas: allocate, pick, ship part.
func fiftyEvents() []canonical.QuantityEvent {
	var ev []canonical.QuantityEvent
	for i := range 10 {
		l := fmt.Sprintf("L%d", i+1)
		ev = append(ev,
			snap(l, canonical.BucketConfirmed, "10", time.Hour, "erp/ack-1"),
			snap(l, canonical.BucketAllocated, "10", 2*time.Hour, fmt.Sprintf("wms/alloc-%d", i)),
			delta(l, canonical.BucketPicked, "6", 3*time.Hour, fmt.Sprintf("wms/pick-%d", i)),
			delta(l, canonical.BucketShipped, "6", 4*time.Hour, fmt.Sprintf("wms/ship-%d", i)),
			delta(l, canonical.BucketShipped, "6", 4*time.Hour, fmt.Sprintf("wms/ship-%d", i)), // redelivered
		)
	}
	return ev
}

func ptr[T any](v T) *T { return &v }
