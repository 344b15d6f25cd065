package canonical

import (
	"time"
)

// ReturnCondition is the condition of returned goods, from a closed set. It
// is a comparable value, safe for concurrent use. The zero value is not a
// valid condition.
type ReturnCondition string

// Return conditions.
const (
	ConditionNew       ReturnCondition = "new" // unopened, resaleable
	ConditionOpened    ReturnCondition = "opened"
	ConditionDamaged   ReturnCondition = "damaged"
	ConditionDefective ReturnCondition = "defective"
)

// Disposition is what is done with returned goods, from a closed set. It is
// a comparable value, safe for concurrent use. The zero value is not a
// valid disposition.
type Disposition string

// Dispositions.
const (
	DispositionRestock        Disposition = "restock"
	DispositionRefurbish      Disposition = "refurbish"
	DispositionScrap          Disposition = "scrap"
	DispositionReturnToVendor Disposition = "return_to_vendor"
	DispositionQuarantine     Disposition = "quarantine"
)

// ReturnLine is one line of a [Return]: what was authorized and what was
// received. It is a plain value, safe for concurrent reads. The zero value
// is an empty line.
type ReturnLine struct {
	// ID identifies the line within the return. Required.
	ID string `json:"id" validate:"required"`
	// OrderLineID is the order line the goods were sold on, when known.
	OrderLineID string `json:"orderLineId,omitempty" validate:"-"`
	// Item is the returned item. Required: its SKU must be set.
	Item ItemRef `json:"item" validate:"-"`
	// Authorized is the quantity the customer may return. Required: it
	// must be positive, with a valid unit.
	Authorized Quantity `json:"authorized" validate:"-"`
	// Received is what the warehouse received, in the Authorized unit and
	// not more than Authorized. It is the zero Quantity (no value, no unit)
	// until the warehouse receives the goods, and the zero value is valid.
	Received Quantity `json:"received" validate:"-"`
	// Condition and Disposition are required once something is received.
	Condition   ReturnCondition `json:"condition,omitempty" validate:"omitempty,oneof=new opened damaged defective"`
	Disposition Disposition     `json:"disposition,omitempty" validate:"omitempty,oneof=restock refurbish scrap return_to_vendor quarantine"`
	Reason      string          `json:"reason,omitempty" validate:"-"`
}

// Return is a return merchandise authorization (RMA) and, once goods come
// back, what was received. A Return is a plain value, safe for concurrent
// reads. The zero value is not valid ([Return.Validate] reports the missing
// fields).
type Return struct {
	ID      string `json:"id" validate:"required"`
	Version int64  `json:"version" validate:"gte=0"`
	Refs    Refs   `json:"refs,omitempty" validate:"-"`
	// RMANumber is the authorization number given to the customer.
	RMANumber string `json:"rmaNumber" validate:"required"`
	// OrderID is the order the goods were sold on, when known.
	OrderID string `json:"orderId,omitempty" validate:"-"`
	// Customer is the returning customer. Required: its ID must be set.
	Customer PartyRef `json:"customer" validate:"-"`
	// Warehouse is the canonical ID of the receiving [Location].
	Warehouse    string       `json:"warehouse" validate:"required"`
	AuthorizedAt time.Time    `json:"authorizedAt" validate:"required"`
	ReceivedAt   time.Time    `json:"receivedAt,omitzero" validate:"-"`
	Lines        []ReturnLine `json:"lines" validate:"required,min=1,dive"`
	// Extensions are the custom fields the systems carry (see [Extensions]).
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
}

// DocumentKind returns [KindReturn].
func (r Return) DocumentKind() string { return KindReturn }

// Validate checks the return: fields, customer, unique line IDs, a
// positive authorized quantity, a non-negative received quantity in the
// authorized unit and not above it, a condition and a disposition for
// every received line, and a receivedAt once anything is received.
func (r Return) Validate() error {
	v := violations{kind: "return"}
	structRules(&v, &r)
	v.addErr("refs", r.Refs.Validate())
	v.addErr("customer", r.Customer.Validate())
	checkUnique(&v, "lines", r.Lines, "id", func(l *ReturnLine) string { return l.ID })
	received := false
	for i := range r.Lines {
		l := &r.Lines[i]
		if err := l.Item.Validate(); err != nil {
			v.addErr(indexPath("lines", i, "item"), err)
		}
		checkQuantity(&v, "lines", i, "authorized", l.Authorized, true)
		// The zero Received (no unit, no value) is "nothing received yet".
		if l.Received.Unit != "" || !l.Received.Value.IsZero() {
			checkQuantity(&v, "lines", i, "received", l.Received, false)
			if l.Received.Unit != l.Authorized.Unit && l.Received.Unit.Validate() == nil {
				v.add(indexPath("lines", i, "received.unit"), "must be the authorized unit "+string(l.Authorized.Unit)+", is "+string(l.Received.Unit))
			} else if l.Received.Value.Cmp(l.Authorized.Value) > 0 {
				v.add(indexPath("lines", i, "received.value"), "must not exceed authorized "+l.Authorized.Value.String()+", is "+l.Received.Value.String())
			}
		}
		if l.Received.Value.IsPos() {
			received = true
			if l.Condition == "" {
				v.add(indexPath("lines", i, "condition"), "is required once goods are received")
			}
			if l.Disposition == "" {
				v.add(indexPath("lines", i, "disposition"), "is required once goods are received")
			}
		}
	}
	if received && r.ReceivedAt.IsZero() {
		v.add("receivedAt", "is required once goods are received")
	}
	checkExtensions(&v, "extensions", r.Extensions)
	return v.err()
}
