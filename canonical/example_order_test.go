package canonical_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
)

func ExampleOrder_Validate() {
	o := canonical.Order{
		ID:       "ord-1001",
		Version:  1,
		Refs:     canonical.Refs{{System: "crm", Type: "opportunity", Value: "006Qy00000A1"}},
		SoldTo:   canonical.PartyRef{ID: "cust-42", Name: "Acme Hardware"},
		ShipTo:   canonical.PartyRef{ID: "cust-42-dc", Address: &canonical.Address{Lines: []string{"1 Dock Road"}, City: "Springfield", Country: "US"}},
		Currency: "USD",
		Lines: []canonical.OrderLine{
			{ID: "L1", Item: canonical.ItemRef{SKU: "HAM-16"}, Quantity: canonical.MustParseQuantity("24", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
			{ID: "L2", Item: canonical.ItemRef{SKU: "NAIL-BOX"}, Quantity: canonical.MustParseQuantity("3", "XCS"), UnitPrice: canonical.MustParseMoney("40.00", "USD")},
		},
	}
	fmt.Println("valid:", o.Validate() == nil)

	// A CRM sent "CS" for case, a price in euros and a line ID twice.
	o.Lines[1].Quantity.Unit = "CS"
	o.Lines[1].UnitPrice.Currency = "EUR"
	o.Lines[1].ID = "L1"
	err := o.Validate()
	fmt.Println("invalid:", errors.Is(err, canonical.ErrInvalid))
	var ve *canonical.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			fmt.Println(fe)
		}
	}
	// Output:
	// valid: true
	// invalid: true
	// lines[1].id: duplicate line ID "L1" (also at lines[0])
	// lines[1].quantity.unit: invalid unit "CS": not a UN/ECE Rec 20 code; use XCS (case)
	// lines[1].unitPrice.currency: must be the document currency USD, is EUR
}

// Folding a partial shipment, delivered twice, into the order status.
func ExampleLedger_Fold() {
	o := canonical.Order{
		ID: "ord-1", Currency: "USD",
		SubmittedAt: t0, AcceptedAt: t0.Add(time.Minute),
		Lines: []canonical.OrderLine{
			{ID: "L1", Quantity: canonical.MustParseQuantity("10", "EA")},
			{ID: "L2", Quantity: canonical.MustParseQuantity("4", "XCS")},
		},
	}
	events := []canonical.QuantityEvent{
		{LineID: "L1", Bucket: canonical.BucketAllocated, Kind: canonical.QuantitySnapshot, Value: canonical.MustParseDecimal("10"), AsOf: t0.Add(time.Hour), SourceMessageID: "wms/alloc-1"},
		{LineID: "L2", Bucket: canonical.BucketBackordered, Kind: canonical.QuantitySnapshot, Value: canonical.MustParseDecimal("4"), AsOf: t0.Add(time.Hour), SourceMessageID: "wms/alloc-1"},
		{LineID: "L1", Bucket: canonical.BucketShipped, Kind: canonical.QuantityDelta, Value: canonical.MustParseDecimal("6"), AsOf: t0.Add(2 * time.Hour), SourceMessageID: "wms/ship-1"},
		// The same shipment confirmation, delivered twice: it counts once.
		{LineID: "L1", Bucket: canonical.BucketShipped, Kind: canonical.QuantityDelta, Value: canonical.MustParseDecimal("6"), AsOf: t0.Add(2 * time.Hour), SourceMessageID: "wms/ship-1"},
	}
	var l canonical.Ledger
	if err := l.Fold(o.Lines, events); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range o.Lines {
		fmt.Println(line.ID, canonical.LineFulfillment(&line.Buckets), "shipped", line.Buckets.Get(canonical.BucketShipped))
	}
	fmt.Println(o.Status())
	// Output:
	// L1 partially_shipped shipped 6
	// L2 backordered shipped 0
	// accepted/partially_shipped/not_invoiced
}

// Commands are checked against the order before they are issued: a
// rejected order cannot ship, and no more can be cancelled than is open.
func ExampleOrder_CheckQuantityEvent() {
	o := canonical.Order{
		ID: "ord-7", Currency: "USD", SubmittedAt: t0, AcceptedAt: t0.Add(time.Minute),
		Lines: []canonical.OrderLine{{ID: "L1", Quantity: canonical.MustParseQuantity("10", "EA")}},
	}
	o.Lines[0].Buckets.Set(canonical.BucketOrdered, canonical.DecimalFromInt(10))
	o.Lines[0].Buckets.Set(canonical.BucketShipped, canonical.DecimalFromInt(7))

	cancel := canonical.QuantityEvent{LineID: "L1", Bucket: canonical.BucketCancelled, Kind: canonical.QuantityDelta,
		Value: canonical.DecimalFromInt(5), AsOf: t0.Add(time.Hour), SourceMessageID: "crm/cancel-1"}
	fmt.Println(o.CheckQuantityEvent(cancel))

	if err := o.Close(t0.Add(2 * time.Hour)); err != nil {
		fmt.Println(err)
	}
	fmt.Println(o.Accept(t0.Add(3 * time.Hour)))
	// Output:
	// canonical: illegal transition: cancel: line "L1": accepted → cancelled: cancelled 5 EA exceeds what is open: 3 EA (ordered 10 − cancelled 0 − rejected 0 − shipped 7)
	// canonical: illegal transition: accept: closed → accepted is not allowed (accept needs submitted)
}
