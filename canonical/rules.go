package canonical

// Fast checks of the struct-tag rules of the documents on the hot path of
// order-to-cash and inventory sync. Each reports whether the document certainly passes its
// tags' rules; the document's Validate then skips the validator, whose
// reflection costs several microseconds and dozens of allocations per
// document. When a check says no, the validator runs (slowRules) and
// reports the violations, so the messages come from one place. The checks
// must never say yes for a document the validator refuses:
// rules_internal_test.go zeroes and corrupts every field of each document
// in turn and compares.

// slowRules runs the validator on a copy of d, so that the document of
// the caller, checked by its fast check first, does not escape to the
// heap.
func slowRules[T any](v *violations, d T) { structRules(v, &d) }

func orderRulesOK(o *Order) bool {
	if o.ID == "" || o.Version < 0 || o.Currency.Validate() != nil || len(o.Lines) < 1 {
		return false
	}
	for i := range o.Holds {
		if !o.Holds[i].Kind.Valid() {
			return false
		}
	}
	return chargesOK(o.Charges) && taxesOK(o.Taxes) && notesOK(o.Notes)
}

func chargesOK(cs []Charge) bool {
	for i := range cs {
		if cs[i].Type == "" {
			return false
		}
	}
	return true
}

func taxesOK(ts []Tax) bool {
	for i := range ts {
		if ts[i].Type == "" {
			return false
		}
	}
	return true
}

func notesOK(ns []Note) bool {
	for i := range ns {
		if ns[i].Text == "" {
			return false
		}
	}
	return true
}

func stringsOK(ss []string) bool {
	for _, s := range ss {
		if s == "" {
			return false
		}
	}
	return true
}

func fulfillmentOrderRulesOK(f *FulfillmentOrder) bool {
	if f.ID == "" || f.Version < 0 || f.OrderID == "" || f.OrderVersion < 0 || f.Warehouse == "" ||
		f.Split.Group == "" || f.Split.Index < 1 || f.Split.Count < 1 || len(f.Lines) < 1 {
		return false
	}
	for i := range f.Lines {
		if f.Lines[i].ID == "" || f.Lines[i].OrderLineID == "" {
			return false
		}
	}
	return true
}

func allocationUpdateRulesOK(a *AllocationUpdate) bool {
	// The validator's "required" on a time.Time refuses only the zero
	// struct (no instant and no location).
	var zero AllocationUpdate
	if a.FulfillmentOrderID == "" || a.OrderID == "" || a.Warehouse == "" || a.AsOf == zero.AsOf ||
		a.Sequence < 0 || len(a.Lines) < 1 {
		return false
	}
	for i := range a.Lines {
		if a.Lines[i].FulfillmentLineID == "" || a.Lines[i].OrderLineID == "" {
			return false
		}
	}
	return true
}

func shipmentRulesOK(s *Shipment) bool {
	var zero Shipment
	if s.ID == "" || s.Version < 0 || s.OrderID == "" || s.FulfillmentOrderID == "" || s.Warehouse == "" ||
		s.Carrier.SCAC == "" || !stringsOK(s.TrackingNumbers) || s.ShippedAt == zero.ShippedAt || len(s.Lines) < 1 {
		return false
	}
	for i := range s.Packages {
		p := &s.Packages[i]
		if p.SSCC.Validate() != nil {
			return false
		}
		for j := range p.Lines {
			if p.Lines[j].ShipmentLineID == "" {
				return false
			}
		}
	}
	for i := range s.Lines {
		l := &s.Lines[i]
		if l.ID == "" || l.OrderLineID == "" || l.FulfillmentLineID == "" || !stringsOK(l.Serials) {
			return false
		}
		for j := range l.Lots {
			if l.Lots[j].Lot == "" {
				return false
			}
		}
	}
	return true
}

func invoiceRulesOK(in *Invoice) bool {
	var zero Invoice
	if in.ID == "" || in.Version < 0 || in.Kind != InvoiceStandard && in.Kind != InvoiceCreditMemo || in.Number == "" ||
		in.Currency.Validate() != nil || in.InvoiceDate == zero.InvoiceDate || len(in.Lines) < 1 {
		return false
	}
	for i := range in.Lines {
		if in.Lines[i].ID == "" {
			return false
		}
	}
	return chargesOK(in.Charges) && taxesOK(in.Taxes)
}

func inventoryStatusOK(s InventoryStatus) bool {
	switch s {
	case InventoryAvailable, InventoryQualityHold, InventoryDamaged, InventoryExpired:
		return true
	}
	return false
}

func inventoryPositionRulesOK(p *InventoryPosition) bool {
	var zero InventoryPosition
	return p.Location != "" && inventoryStatusOK(p.Status) && p.AsOf != zero.AsOf && p.Sequence >= 0
}

func inventoryAdjustmentRulesOK(a *InventoryAdjustment) bool {
	var zero InventoryAdjustment
	switch a.Reason {
	case AdjustCycleCount, AdjustDamage, AdjustShrinkage, AdjustFound, AdjustReceiptCorrection, AdjustQualityHold,
		AdjustQualityRelease, AdjustExpiry, AdjustReturnToStock, AdjustOther:
	default:
		return false
	}
	return a.ID != "" && a.Location != "" && inventoryStatusOK(a.Status) && a.AdjustedAt != zero.AdjustedAt && a.Sequence >= 0
}
