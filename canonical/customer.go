package canonical

import (
	"fmt"
	"log/slog"
	"strings"
)

// Customer is a customer account as the ERP (its system of record) holds
// it: the sold-to party of orders. Contact details are personal data:
// LogValue leaves them out. A Customer is a plain value, safe for
// concurrent reads. The zero value is not valid ([Customer.Validate]
// reports the missing fields).
type Customer struct {
	ID      string `json:"id" validate:"required"`
	Version int64  `json:"version" validate:"gte=0"`
	Refs    Refs   `json:"refs,omitempty" validate:"-"`
	Name    string `json:"name" validate:"required"`
	// Currency is the customer's default order currency.
	Currency Currency `json:"currency" validate:"iso4217"`
	// PaymentTerms is the terms code, such as "NET30".
	PaymentTerms string `json:"paymentTerms,omitempty" validate:"-"`
	// CreditLimit is in Currency, when the ERP has one.
	CreditLimit *Money `json:"creditLimit,omitempty" validate:"-"`
	// Blocked is set when the ERP blocks new orders for the customer.
	Blocked bool       `json:"blocked,omitempty" validate:"-"`
	TaxID   string     `json:"taxId,omitempty" validate:"-"`
	Email   string     `json:"email,omitempty" validate:"omitempty,email"`
	Phone   string     `json:"phone,omitempty" validate:"-"`
	BillTo  *Address   `json:"billTo,omitempty" validate:"-"`
	ShipTo  []PartyRef `json:"shipTo,omitempty" validate:"-"`
	// Extensions are the custom fields the systems carry (see [Extensions]).
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
}

// DocumentKind returns [KindCustomer].
func (c Customer) DocumentKind() string { return KindCustomer }

// Validate checks the customer: ID, name, currency, refs, the credit limit
// (in the customer currency, not negative), the e-mail address, the bill-to
// address and ship-to parties (unique IDs).
func (c Customer) Validate() error {
	v := violations{kind: "customer"}
	structRules(&v, &c)
	v.addErr("refs", c.Refs.Validate())
	if c.CreditLimit != nil {
		checkMoney(&v, "creditLimit", *c.CreditLimit, c.Currency, false)
	}
	if c.BillTo != nil {
		v.addErr("billTo", c.BillTo.Validate())
	}
	for i := range c.ShipTo {
		if err := c.ShipTo[i].Validate(); err != nil {
			v.addErr(indexPath("shipTo", i, ""), err)
		}
	}
	checkUnique(&v, "shipTo", c.ShipTo, "id", func(p *PartyRef) string { return p.ID })
	checkExtensions(&v, "extensions", c.Extensions)
	return v.err()
}

// LogValue logs the customer's ID, version and name, never its contact
// details or tax ID.
func (c Customer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.Int64("version", c.Version), slog.String("name", c.Name))
}

// UnitConversion says how many base units of an item one Unit holds: for 1
// XCS = 24 EA, Unit is XCS and Factor 24. It is a plain value, safe for
// concurrent reads. The zero value is an empty conversion.
type UnitConversion struct {
	Unit   Unit    `json:"unit" validate:"rec20"`
	Factor Decimal `json:"factor" validate:"-"`
	// GTIN identifies the item in this packaging (a case's GTIN-14).
	GTIN GTIN `json:"gtin,omitempty" validate:"omitempty,gtin"`
}

// Item is a sellable item (product master data): its SKU, identifiers, base
// unit and the conversions of its packaging units. An Item is a plain
// value, safe for concurrent reads. The zero value is not valid
// ([Item.Validate] reports the missing fields).
type Item struct {
	SKU         string `json:"sku" validate:"required"`
	Version     int64  `json:"version" validate:"gte=0"`
	Refs        Refs   `json:"refs,omitempty" validate:"-"`
	GTIN        GTIN   `json:"gtin,omitempty" validate:"omitempty,gtin"`
	Description string `json:"description,omitempty" validate:"-"`
	// BaseUnit is the unit stock is kept in, usually EA.
	BaseUnit Unit `json:"baseUnit" validate:"rec20"`
	// Conversions lists the other units the item is sold or shipped in.
	Conversions []UnitConversion `json:"conversions,omitempty" validate:"dive"`
	// Extensions are the custom fields the systems carry (see [Extensions]).
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
}

// DocumentKind returns [KindItem].
func (it Item) DocumentKind() string { return KindItem }

// Validate checks the SKU, GTINs, base unit and conversions: every factor
// is positive, no conversion is of the base unit, and no unit appears
// twice.
func (it Item) Validate() error {
	v := violations{kind: "item"}
	structRules(&v, &it)
	v.addErr("refs", it.Refs.Validate())
	for i := range it.Conversions {
		c := &it.Conversions[i]
		if !c.Factor.IsPos() {
			v.add(indexPath("conversions", i, "factor"), "must be > 0, is "+c.Factor.String())
		}
		if c.Unit == it.BaseUnit && c.Unit != "" {
			v.add(indexPath("conversions", i, "unit"), "must not be the base unit "+string(it.BaseUnit))
		}
	}
	checkUnique(&v, "conversions", it.Conversions, "unit", func(c *UnitConversion) string { return string(c.Unit) })
	checkExtensions(&v, "extensions", it.Extensions)
	return v.err()
}

// Ref returns the [ItemRef] that names the item on a document line.
func (it Item) Ref() ItemRef {
	return ItemRef{SKU: it.SKU, GTIN: it.GTIN, Description: it.Description, Refs: it.Refs}
}

// ToBase converts q to the item's base unit, using the item's conversions
// for package units (3 XCS → 72 EA when 1 XCS = 24 EA) and the fixed
// factors of [Quantity.ConvertTo] otherwise (2 DZN → 24 EA). It returns an
// error matching [ErrUnitMismatch] when there is no way to convert, and
// [ErrOverflow] when the result does not fit.
func (it Item) ToBase(q Quantity) (Quantity, error) {
	if q.Unit == it.BaseUnit {
		return q, nil
	}
	for _, c := range it.Conversions {
		if c.Unit == q.Unit {
			v, err := q.Value.Mul(c.Factor)
			if err != nil {
				return Quantity{}, err
			}
			return Quantity{Value: v.Trim(), Unit: it.BaseUnit}, nil
		}
	}
	b, err := q.ConvertTo(it.BaseUnit)
	if err != nil {
		return Quantity{}, fmt.Errorf("%w: item %q has no conversion from %s to its base unit %s", ErrUnitMismatch, it.SKU, q.Unit, it.BaseUnit)
	}
	return b, nil
}

// Convert converts q to unit to through the base unit: 30 EA is 1.25 XCS
// when 1 XCS = 24 EA. It returns [ErrInexact] when the result is not an
// exact decimal (10 EA in XCS of 3), and the errors of [Item.ToBase].
func (it Item) Convert(q Quantity, to Unit) (Quantity, error) {
	b, err := it.ToBase(q)
	if err != nil || to == it.BaseUnit {
		return b, err
	}
	for _, c := range it.Conversions {
		if c.Unit == to {
			v, err := exactQuo(b.Value, c.Factor)
			if err != nil {
				return Quantity{}, fmt.Errorf("%w: %s of item %q in %s", err, q, it.SKU, to)
			}
			return Quantity{Value: v, Unit: to}, nil
		}
	}
	r, err := b.ConvertTo(to)
	if err != nil {
		return Quantity{}, fmt.Errorf("%w: item %q has no conversion from its base unit %s to %s", ErrUnitMismatch, it.SKU, it.BaseUnit, to)
	}
	return r, nil
}

// LocationKind is the kind of a [Location], from a closed set. It is a
// comparable value, safe for concurrent use. The zero value is not a valid
// kind.
type LocationKind string

// Location kinds.
const (
	LocationWarehouse  LocationKind = "warehouse"
	LocationStore      LocationKind = "store"
	LocationThirdParty LocationKind = "third_party" // a 3PL warehouse
	LocationSupplier   LocationKind = "supplier"    // drop-ship from a supplier
)

// Location is a place stock is kept and shipped from: a warehouse (the unit
// of a fulfilment split), a store, a 3PL or a drop-ship supplier. A
// Location is a plain value, safe for concurrent reads. The zero value is
// not valid ([Location.Validate] reports the missing fields).
type Location struct {
	ID      string       `json:"id" validate:"required"`
	Version int64        `json:"version" validate:"gte=0"`
	Refs    Refs         `json:"refs,omitempty" validate:"-"`
	Name    string       `json:"name" validate:"required"`
	Kind    LocationKind `json:"kind" validate:"oneof=warehouse store third_party supplier"`
	Address Address      `json:"address" validate:"-"`
	// TimeZone is the IANA time zone name, such as "America/Chicago".
	TimeZone string `json:"timeZone,omitempty" validate:"-"`
}

// Validate checks the ID, name, kind, refs and address, and that a time
// zone name, when set, has the IANA form (no spaces).
func (l Location) Validate() error {
	v := violations{kind: "location"}
	structRules(&v, &l)
	v.addErr("refs", l.Refs.Validate())
	v.addErr("address", l.Address.Validate())
	if strings.ContainsAny(l.TimeZone, " \t") {
		v.add("timeZone", "must be an IANA time zone name such as America/Chicago")
	}
	return v.err()
}
