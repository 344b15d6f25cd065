package canonical

import (
	"time"
)

// InventoryStatus is the status of a stock quantity, from a closed set. It
// is a comparable value, safe for concurrent use. The zero value is not a
// valid status.
type InventoryStatus string

// Inventory statuses.
const (
	InventoryAvailable   InventoryStatus = "available"
	InventoryQualityHold InventoryStatus = "quality_hold"
	InventoryDamaged     InventoryStatus = "damaged"
	InventoryExpired     InventoryStatus = "expired"
)

// InventoryPosition is the stock of one item at one location (and lot and
// status): on hand, allocated, available and inbound. Kind says whether the
// quantities are absolute as of AsOf (a snapshot) or changes (a delta);
// Sequence orders positions of the same item and location from one source,
// so a consumer ignores stale ones. An InventoryPosition is a plain value,
// safe for concurrent reads. The zero value is not valid
// ([InventoryPosition.Validate] reports the missing fields).
type InventoryPosition struct {
	Item ItemRef `json:"item" validate:"-"`
	// Location is the canonical ID of the [Location].
	Location  string            `json:"location" validate:"required"`
	Lot       string            `json:"lot,omitempty" validate:"-"`
	Status    InventoryStatus   `json:"status" validate:"oneof=available quality_hold damaged expired"`
	Kind      QuantityEventKind `json:"kind" validate:"-"`
	OnHand    Quantity          `json:"onHand" validate:"-"`
	Allocated Quantity          `json:"allocated" validate:"-"`
	// Available is what can be promised; it is negative when more is
	// allocated than on hand.
	Available Quantity  `json:"available" validate:"-"`
	Inbound   Quantity  `json:"inbound" validate:"-"`
	AsOf      time.Time `json:"asOf" validate:"required"`
	Sequence  int64     `json:"sequence" validate:"gte=0"`
}

// DocumentKind returns [KindInventoryPosition].
func (p InventoryPosition) DocumentKind() string { return KindInventoryPosition }

// Validate checks the position: item, location, status, kind, time, and
// that all four quantities share one unit; in a snapshot, on hand,
// allocated and inbound are not negative.
func (p InventoryPosition) Validate() error {
	v := violations{kind: "inventory position"}
	if !inventoryPositionRulesOK(&p) {
		slowRules(&v, p)
	}
	v.addErr("item", p.Item.Validate())
	if p.Kind != QuantityDelta && p.Kind != QuantitySnapshot {
		v.add("kind", "must be delta or snapshot")
	}
	snapshot := p.Kind == QuantitySnapshot
	for _, f := range [...]struct {
		name   string
		q      Quantity
		signed bool
	}{{"onHand", p.OnHand, !snapshot}, {"allocated", p.Allocated, !snapshot}, {"available", p.Available, true}, {"inbound", p.Inbound, !snapshot}} {
		if err := f.q.Unit.Validate(); err != nil {
			v.add(f.name+".unit", errorMessage(err))
		} else if f.q.Unit != p.OnHand.Unit && f.name != "onHand" {
			v.add(f.name+".unit", "must be the onHand unit "+string(p.OnHand.Unit)+", is "+string(f.q.Unit))
		}
		if !f.signed && f.q.Value.IsNeg() {
			v.add(f.name+".value", "must not be negative in a snapshot, is "+f.q.Value.String())
		}
	}
	return v.err()
}

// AdjustmentReason is why stock was adjusted, from a closed set. It is a
// comparable value, safe for concurrent use. The zero value is not a valid
// reason.
type AdjustmentReason string

// Adjustment reasons.
const (
	AdjustCycleCount        AdjustmentReason = "cycle_count"
	AdjustDamage            AdjustmentReason = "damage"
	AdjustShrinkage         AdjustmentReason = "shrinkage"
	AdjustFound             AdjustmentReason = "found"
	AdjustReceiptCorrection AdjustmentReason = "receipt_correction"
	AdjustQualityHold       AdjustmentReason = "quality_hold"
	AdjustQualityRelease    AdjustmentReason = "quality_release"
	AdjustExpiry            AdjustmentReason = "expiry"
	AdjustReturnToStock     AdjustmentReason = "return_to_stock"
	AdjustOther             AdjustmentReason = "other"
)

// InventoryAdjustment is a signed change of the stock of one item at one
// location, with its reason. An InventoryAdjustment is a plain value, safe
// for concurrent reads. The zero value is not valid
// ([InventoryAdjustment.Validate] reports the missing fields).
type InventoryAdjustment struct {
	ID       string          `json:"id" validate:"required"`
	Refs     Refs            `json:"refs,omitempty" validate:"-"`
	Item     ItemRef         `json:"item" validate:"-"`
	Location string          `json:"location" validate:"required"`
	Lot      string          `json:"lot,omitempty" validate:"-"`
	Status   InventoryStatus `json:"status" validate:"oneof=available quality_hold damaged expired"`
	// Delta is the signed change: negative for a loss.
	Delta      Quantity         `json:"delta" validate:"-"`
	Reason     AdjustmentReason `json:"reason" validate:"oneof=cycle_count damage shrinkage found receipt_correction quality_hold quality_release expiry return_to_stock other"`
	Note       string           `json:"note,omitempty" validate:"-"`
	AdjustedAt time.Time        `json:"adjustedAt" validate:"required"`
	Sequence   int64            `json:"sequence" validate:"gte=0"`
}

// DocumentKind returns [KindInventoryAdjustment].
func (a InventoryAdjustment) DocumentKind() string { return KindInventoryAdjustment }

// Validate checks the adjustment: ID, item, location, status, reason, time,
// and a non-zero delta in a valid unit. The reason "other" needs a note.
func (a InventoryAdjustment) Validate() error {
	v := violations{kind: "inventory adjustment"}
	if !inventoryAdjustmentRulesOK(&a) {
		slowRules(&v, a)
	}
	v.addErr("refs", a.Refs.Validate())
	v.addErr("item", a.Item.Validate())
	if err := a.Delta.Unit.Validate(); err != nil {
		v.add("delta.unit", errorMessage(err))
	}
	if a.Delta.Value.IsZero() {
		v.add("delta.value", "must not be zero")
	}
	if a.Reason == AdjustOther && a.Note == "" {
		v.add("note", "is required when the reason is other")
	}
	return v.err()
}
