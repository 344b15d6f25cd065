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
