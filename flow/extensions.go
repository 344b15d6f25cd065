package flow

import "github.com/distsync/distsync/canonical"

// carryExtensions copies the order's extension attributes onto the
// fulfilment order and each order line's onto the fulfilment lines that
// point to it, so that a custom field set in the CRM reaches the
// warehouse whichever Sourcer planned the release. What the sourcer set
// itself wins over the order's attribute of the same name. The result
// shares no extensions with o.
func carryExtensions(fo canonical.FulfillmentOrder, o *canonical.Order) canonical.FulfillmentOrder {
	fo.Extensions = o.Extensions.Merge(fo.Extensions)
	if len(fo.Lines) == 0 {
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
// shares no extensions with o.
func carryInvoiceExtensions(inv canonical.Invoice, o *canonical.Order) canonical.Invoice {
	inv.Extensions = o.Extensions.Merge(inv.Extensions)
	if len(inv.Lines) == 0 {
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
