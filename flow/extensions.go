package flow

import "github.com/distsync/distsync/canonical"

// carryExtensions copies the order's extension attributes onto the
// fulfilment order and each order line's onto the fulfilment lines that
// point to it, so that a custom field set in the CRM reaches the
// warehouse whichever Sourcer planned the release. What the sourcer set
// itself wins over the order's attribute of the same name. The result
// shares no extensions with o; its lines are fo's when neither they nor
// the order lines they point to have any (no copy is made to carry
// nothing).
func carryExtensions(fo canonical.FulfillmentOrder, o *canonical.Order) canonical.FulfillmentOrder {
	fo.Extensions = o.Extensions.Merge(fo.Extensions)
	if len(fo.Lines) == 0 || !linesCarry(fo.Lines, func(l *canonical.FulfillmentLine) (string, canonical.Extensions) {
		return l.OrderLineID, l.Extensions
	}, o, false) {
		return fo
	}
	lines := make([]canonical.FulfillmentLine, len(fo.Lines))
	copy(lines, fo.Lines)
	for i := range lines {
		if ol := o.Line(lines[i].OrderLineID); ol != nil {
			lines[i].Extensions = ol.Extensions.Merge(lines[i].Extensions)
		} else {
			lines[i].Extensions = lines[i].Extensions.Clone()
		}
	}
	fo.Lines = lines
	return fo
}

// carryInvoiceExtensions adds the order's extension attributes to the
// invoice and each order line's to the invoice lines that bill it, for an
// ERP whose invoices do not carry them; what the ERP set wins. The result
// shares no extensions with o; its lines are inv's when neither they nor
// the order lines they bill have any.
func carryInvoiceExtensions(inv canonical.Invoice, o *canonical.Order) canonical.Invoice {
	inv.Extensions = o.Extensions.Merge(inv.Extensions)
	if len(inv.Lines) == 0 || !linesCarry(inv.Lines, func(l *canonical.InvoiceLine) (string, canonical.Extensions) {
		return l.OrderLineID, l.Extensions
	}, o, true) {
		return inv
	}
	lines := make([]canonical.InvoiceLine, len(inv.Lines))
	copy(lines, inv.Lines)
	for i := range lines {
		if ol := o.Line(lines[i].OrderLineID); ol != nil && lines[i].OrderLineID != "" {
			lines[i].Extensions = ol.Extensions.Merge(lines[i].Extensions)
		} else {
			lines[i].Extensions = lines[i].Extensions.Clone()
		}
	}
	inv.Lines = lines
	return inv
}

// linesCarry reports whether a line of lines (whose order line ID and
// extensions of returns) or the order line of o it points to has
// extensions, which the carry functions merge or clone into a copy of the
// lines: without any, the copy would equal the lines. A line's empty but
// not nil extensions count, as their clone or merge changes them. byID
// says that a line with no order line ID points to none (an invoice's
// charge line).
func linesCarry[L any](lines []L, of func(*L) (string, canonical.Extensions), o *canonical.Order, byID bool) bool {
	for i := range lines {
		id, x := of(&lines[i])
		if x != nil {
			return true
		}
		if byID && id == "" {
			continue
		}
		if ol := o.Line(id); ol != nil && len(ol.Extensions) > 0 {
			return true
		}
	}
	return false
}
