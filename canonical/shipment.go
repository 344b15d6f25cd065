package canonical

import (
	"time"
)

// Carrier names the carrier of a shipment. It is a plain value, safe for
// concurrent reads. The zero value names no carrier.
type Carrier struct {
	// SCAC is the Standard Carrier Alpha Code: 2 to 4 upper-case letters.
	SCAC string `json:"scac" validate:"required"`
	Name string `json:"name,omitempty" validate:"-"`
}

// LotQuantity is the quantity of one lot (batch) on a shipment line. It is
// a plain value, safe for concurrent reads. The zero value is an empty lot
// quantity.
type LotQuantity struct {
	Lot      string   `json:"lot" validate:"required"`
	Quantity Quantity `json:"quantity" validate:"-"`
	// ExpiresAt is the lot's expiry, when it has one.
	ExpiresAt time.Time `json:"expiresAt,omitzero" validate:"-"`
}

// ShipmentLine is one line of a [Shipment]: what left the warehouse for one
// fulfilment line, and so for one order line. It is a plain value, safe for
// concurrent reads. The zero value is an empty line.
type ShipmentLine struct {
	ID                string   `json:"id" validate:"required"`
	OrderLineID       string   `json:"orderLineId" validate:"required"`
	FulfillmentLineID string   `json:"fulfillmentLineId" validate:"required"`
	Item              ItemRef  `json:"item" validate:"-"`
	Quantity          Quantity `json:"quantity" validate:"-"`
	// Lots, when given, split Quantity by lot; they add up to it.
	Lots []LotQuantity `json:"lots,omitempty" validate:"dive"`
	// Serials lists the serial numbers shipped, when tracked.
	Serials []string `json:"serials,omitempty" validate:"dive,required"`
}

// PackageLine is the quantity of one shipment line packed in a package. It
// is a plain value, safe for concurrent reads. The zero value is an empty
// package line.
type PackageLine struct {
	ShipmentLineID string   `json:"shipmentLineId" validate:"required"`
	Quantity       Quantity `json:"quantity" validate:"-"`
}

// Package is one handling unit of a shipment (a parcel or a pallet),
// identified by its SSCC. It is a plain value, safe for concurrent reads.
// The zero value is an empty package.
type Package struct {
	SSCC           SSCC   `json:"sscc" validate:"sscc"`
	TrackingNumber string `json:"trackingNumber,omitempty" validate:"-"`
	// Weight is the gross weight, in a mass unit.
	Weight *Quantity     `json:"weight,omitempty" validate:"-"`
	Lines  []PackageLine `json:"lines,omitempty" validate:"dive"`
}

// Shipment is a warehouse's confirmation that goods left for one fulfilment
// order; a fulfilment order may ship in several shipments, the last flagged
// FinalForFulfillment. A Shipment is a plain value, safe for concurrent
// reads. The zero value is not valid ([Shipment.Validate] reports the
// missing fields).
type Shipment struct {
	ID                 string `json:"id" validate:"required"`
	Version            int64  `json:"version" validate:"gte=0"`
	Refs               Refs   `json:"refs,omitempty" validate:"-"`
	OrderID            string `json:"orderId" validate:"required"`
	FulfillmentOrderID string `json:"fulfillmentOrderId" validate:"required"`
	// Warehouse is the canonical ID of the shipping [Location].
	Warehouse       string         `json:"warehouse" validate:"required"`
	Carrier         Carrier        `json:"carrier"`
	Service         string         `json:"service,omitempty" validate:"-"`
	TrackingNumbers []string       `json:"trackingNumbers,omitempty" validate:"dive,required"`
	ShippedAt       time.Time      `json:"shippedAt" validate:"required"`
	Packages        []Package      `json:"packages,omitempty" validate:"dive"`
	Lines           []ShipmentLine `json:"lines" validate:"required,min=1,dive"`
	// FinalForFulfillment is set on the last shipment of the fulfilment
	// order: nothing more will ship from it.
	FinalForFulfillment bool `json:"finalForFulfillment,omitempty" validate:"-"`
	// Extensions are the custom fields the systems carry (see [Extensions]).
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
}

// DocumentKind returns [KindShipment].
func (s Shipment) DocumentKind() string { return KindShipment }

// Validate checks the shipment. Besides the fields, it checks the SCAC
// format, SSCC check digits and uniqueness, unique line IDs, positive line
// quantities, lots that add up to their line's quantity in its unit,
// unique serial numbers, package weights in a mass unit, and package lines
// that point to lines of this shipment in their unit.
func (s Shipment) Validate() error {
	v := violations{kind: "shipment"}
	if !shipmentRulesOK(&s) {
		slowRules(&v, s)
	}
	v.addErr("refs", s.Refs.Validate())
	if s.Carrier.SCAC != "" && !validSCAC(s.Carrier.SCAC) {
		v.add("carrier.scac", "must be 2 to 4 upper-case letters, is "+quote(s.Carrier.SCAC))
	}
	checkUnique(&v, "lines", s.Lines, "id", func(l *ShipmentLine) string { return l.ID })
	checkUnique(&v, "packages", s.Packages, "sscc", func(p *Package) string { return string(p.SSCC) })
	lineUnit := make(map[string]Unit, len(s.Lines))
	for i := range s.Lines {
		l := &s.Lines[i]
		lineUnit[l.ID] = l.Quantity.Unit
		if err := l.Item.Validate(); err != nil {
			v.addErr(indexPath("lines", i, "item"), err)
		}
		checkQuantity(&v, "lines", i, "quantity", l.Quantity, true)
		if len(l.Lots) > 0 {
			sum, ok := Decimal{}, true
			for j := range l.Lots {
				lot := &l.Lots[j]
				p := indexPath("lines", i, "lots") + "[" + itoa(j) + "].quantity"
				checkPositive(&v, p, lot.Quantity)
				if lot.Quantity.Unit != l.Quantity.Unit {
					v.add(p+".unit", "must be the line unit "+string(l.Quantity.Unit)+", is "+string(lot.Quantity.Unit))
					ok = false
					continue
				}
				var err error
				if sum, err = sum.Add(lot.Quantity.Value); err != nil {
					ok = false
				}
			}
			checkUnique(&v, indexPath("lines", i, "lots"), l.Lots, "lot", func(x *LotQuantity) string { return x.Lot })
			if ok && !sum.Equal(l.Quantity.Value) {
				v.add(indexPath("lines", i, "lots"), "lot quantities add up to "+sum.String()+", the line quantity is "+l.Quantity.Value.String())
			}
		}
		serials := newDupFinder(l.Serials, func(s *string) string { return *s })
		for j := range l.Serials {
			if _, dup := serials.first(j, l.Serials[j]); dup {
				if v.full() {
					v.skip(1)
					continue
				}
				v.add(indexPath("lines", i, "serials")+"["+itoa(j)+"]", "duplicate serial "+quote(l.Serials[j]))
			}
		}
	}
	for i := range s.Packages {
		p := &s.Packages[i]
		if p.Weight != nil {
			wp := indexPath("packages", i, "weight")
			checkPositive(&v, wp, *p.Weight)
			if p.Weight.Unit.Validate() == nil && p.Weight.Unit.Dimension() != DimensionMass {
				v.add(wp+".unit", "must be a mass unit (KGM, LBR, ...), is "+string(p.Weight.Unit))
			}
		}
		for j := range p.Lines {
			pl := &p.Lines[j]
			u, ok := lineUnit[pl.ShipmentLineID]
			if quantityOK(pl.Quantity, true) && (pl.ShipmentLineID == "" || ok && u == pl.Quantity.Unit) {
				continue
			}
			path := indexPath("packages", i, "lines") + "[" + itoa(j) + "]"
			checkPositive(&v, path+".quantity", pl.Quantity)
			switch {
			case pl.ShipmentLineID == "":
			case !ok:
				v.add(path+".shipmentLineId", "no line "+quote(pl.ShipmentLineID)+" in this shipment")
			case u != pl.Quantity.Unit:
				v.add(path+".quantity.unit", "must be the line unit "+string(u)+", is "+string(pl.Quantity.Unit))
			}
		}
	}
	checkExtensions(&v, "extensions", s.Extensions)
	return v.err()
}

// QuantityEvents returns the shipment as deltas of the shipped bucket of
// each order line, as of ShippedAt and tagged with sourceMessageID, ready
// for [Ledger.Fold]. Shipments add up, so the deltas of several shipments,
// from several warehouses, fold correctly. Quantities are taken as they
// are: they must be in the unit of the order line. Two lines of one
// shipment for the same order line are summed into one event, since the
// ledger counts one event per message, line and bucket.
func (s Shipment) QuantityEvents(sourceMessageID string) ([]QuantityEvent, error) {
	out := make([]QuantityEvent, 0, len(s.Lines))
	lines := newDupFinder(s.Lines, func(l *ShipmentLine) string { return l.OrderLineID })
	at := make([]int, 0, len(s.Lines)) // at[j] is the index in out of the event of s.Lines[j]
	for i := range s.Lines {
		l := &s.Lines[i]
		if j, dup := lines.first(i, l.OrderLineID); dup {
			k := at[j]
			sum, err := out[k].Value.Add(l.Quantity.Value)
			if err != nil {
				return nil, err
			}
			out[k].Value = sum
			at = append(at, k)
			continue
		}
		at = append(at, len(out))
		out = append(out, QuantityEvent{LineID: l.OrderLineID, Bucket: BucketShipped, Kind: QuantityDelta,
			Value: l.Quantity.Value, AsOf: s.ShippedAt, SourceMessageID: sourceMessageID})
	}
	return out, nil
}

func validSCAC(s string) bool {
	if len(s) < 2 || len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
