package canonical

import (
	"strconv"
	"time"
)

// SplitPosition places a [FulfillmentOrder] in the split of its order: the
// Index-th (1-based) of Count fulfilment orders of the split Group. An
// order filled by one warehouse has Index 1 and Count 1. It is a plain
// value, safe for concurrent reads. The zero value is an empty position.
type SplitPosition struct {
	Group string `json:"group" validate:"required"`
	Index int    `json:"index" validate:"gte=1"`
	Count int    `json:"count" validate:"gte=1"`
}

// FulfillmentLine is one line of a [FulfillmentOrder], pointing back to its
// order line. It is a plain value, safe for concurrent reads. The zero
// value is an empty line.
type FulfillmentLine struct {
	ID          string `json:"id" validate:"required"`
	OrderLineID string `json:"orderLineId" validate:"required"`
	// Item is the item to ship. Required: its SKU must be set.
	Item ItemRef `json:"item" validate:"-"`
	// Quantity is what this warehouse is asked to ship; it must be
	// positive.
	Quantity Quantity `json:"quantity" validate:"-"`
	// Extensions are copied from the order line.
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
}

// FulfillmentOrder is what is released to one warehouse for one order: the
// order is split into one fulfilment order per warehouse. A
// FulfillmentOrder is a plain value, safe for concurrent reads. The zero
// value is not valid ([FulfillmentOrder.Validate] reports the missing
// fields).
type FulfillmentOrder struct {
	ID           string `json:"id" validate:"required"`
	Version      int64  `json:"version" validate:"gte=0"`
	Refs         Refs   `json:"refs,omitempty" validate:"-"`
	OrderID      string `json:"orderId" validate:"required"`
	OrderVersion int64  `json:"orderVersion" validate:"gte=0"`
	// Warehouse is the canonical ID of the [Location].
	Warehouse string        `json:"warehouse" validate:"required"`
	Split     SplitPosition `json:"split"`
	// ShipTo is where the warehouse ships the goods. Required: its ID must
	// be set.
	ShipTo            PartyRef  `json:"shipTo" validate:"-"`
	ShipComplete      bool      `json:"shipComplete,omitempty" validate:"-"`
	RequestedShipDate time.Time `json:"requestedShipDate,omitzero" validate:"-"`
	// Extensions are copied from the order when it is released.
	Extensions Extensions        `json:"extensions,omitempty" validate:"-"`
	Lines      []FulfillmentLine `json:"lines" validate:"required,min=1,dive"`
	ReleasedAt time.Time         `json:"releasedAt,omitzero" validate:"-"`
}

// DocumentKind returns [KindFulfillmentOrder].
func (f FulfillmentOrder) DocumentKind() string { return KindFulfillmentOrder }

// Validate checks the fulfilment order: IDs, warehouse, split position
// (1 ≤ index ≤ count), ship-to party, unique line IDs, at most one line per
// order line, item refs and positive quantities.
func (f FulfillmentOrder) Validate() error {
	v := violations{kind: "fulfillment order"}
	if !fulfillmentOrderRulesOK(&f) {
		slowRules(&v, f)
	}
	v.addErr("refs", f.Refs.Validate())
	if f.Split.Index > f.Split.Count && f.Split.Count >= 1 {
		v.add("split.index", "must not exceed split.count "+strconv.Itoa(f.Split.Count)+", is "+strconv.Itoa(f.Split.Index))
	}
	v.addErr("shipTo", f.ShipTo.Validate())
	checkUnique(&v, "lines", f.Lines, "id", func(l *FulfillmentLine) string { return l.ID })
	checkUnique(&v, "lines", f.Lines, "orderLineId", func(l *FulfillmentLine) string { return l.OrderLineID })
	for i := range f.Lines {
		l := &f.Lines[i]
		if err := l.Item.Validate(); err != nil {
			v.addErr(indexPath("lines", i, "item"), err)
		}
		checkQuantity(&v, "lines", i, "quantity", l.Quantity, true)
	}
	checkExtensions(&v, "extensions", f.Extensions)
	checkLineExtensions(&v, f.Lines, func(l *FulfillmentLine) Extensions { return l.Extensions })
	return v.err()
}

// AllocationLine is a warehouse's allocation state of one fulfilment line.
// Its quantities are absolute as of the update's AsOf. It is a plain value,
// safe for concurrent reads. The zero value is an empty line.
type AllocationLine struct {
	FulfillmentLineID string   `json:"fulfillmentLineId" validate:"required"`
	OrderLineID       string   `json:"orderLineId" validate:"required"`
	Item              ItemRef  `json:"item" validate:"-"`
	Allocated         Quantity `json:"allocated" validate:"-"`
	Backordered       Quantity `json:"backordered" validate:"-"`
	// Picked is set once picking has started.
	Picked *Quantity `json:"picked,omitempty" validate:"-"`
	// ExpectedDate is when backordered stock is expected, if known.
	ExpectedDate time.Time `json:"expectedDate,omitzero" validate:"-"`
}

// AllocationUpdate is a warehouse's report of allocation, backorder and
// picking for a fulfilment order: a snapshot as of AsOf. Sequence orders
// updates for the same fulfilment order. An AllocationUpdate is a plain
// value, safe for concurrent reads. The zero value is not valid
// ([AllocationUpdate.Validate] reports the missing fields).
type AllocationUpdate struct {
	FulfillmentOrderID string           `json:"fulfillmentOrderId" validate:"required"`
	OrderID            string           `json:"orderId" validate:"required"`
	Warehouse          string           `json:"warehouse" validate:"required"`
	AsOf               time.Time        `json:"asOf" validate:"required"`
	Sequence           int64            `json:"sequence" validate:"gte=0"`
	Lines              []AllocationLine `json:"lines" validate:"required,min=1,dive"`
}

// DocumentKind returns [KindAllocationUpdate].
func (a AllocationUpdate) DocumentKind() string { return KindAllocationUpdate }

// Validate checks the update: IDs, time, unique fulfilment line IDs, and
// per line non-negative quantities in one unit.
func (a AllocationUpdate) Validate() error {
	v := violations{kind: "allocation update"}
	if !allocationUpdateRulesOK(&a) {
		slowRules(&v, a)
	}
	checkUnique(&v, "lines", a.Lines, "fulfillmentLineId", func(l *AllocationLine) string { return l.FulfillmentLineID })
	for i := range a.Lines {
		l := &a.Lines[i]
		if err := l.Item.Validate(); err != nil {
			v.addErr(indexPath("lines", i, "item"), err)
		}
		checkQuantity(&v, "lines", i, "allocated", l.Allocated, false)
		checkQuantity(&v, "lines", i, "backordered", l.Backordered, false)
		if l.Backordered.Unit != l.Allocated.Unit && l.Backordered.Unit.Validate() == nil {
			v.add(indexPath("lines", i, "backordered.unit"), "must be the allocated unit "+string(l.Allocated.Unit)+", is "+string(l.Backordered.Unit))
		}
		if l.Picked != nil {
			checkQuantity(&v, "lines", i, "picked", *l.Picked, false)
			if l.Picked.Unit != l.Allocated.Unit && l.Picked.Unit.Validate() == nil {
				v.add(indexPath("lines", i, "picked.unit"), "must be the allocated unit "+string(l.Allocated.Unit)+", is "+string(l.Picked.Unit))
			}
		}
	}
	return v.err()
}
