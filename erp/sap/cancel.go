package sap

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

var _ connector.OrderCanceller = (*Client)(nil)

// CancelOrderLines cancels open quantities of a sales order: it reads the
// order (its __metadata.etag), then PATCHes A_SalesOrder('N') with If-Match
// and the cancellation in custom fields (YY1_CancellationKey_SDH carries the
// key). A 412 (the order changed since it was read) is resolved by reading
// it again and sending the update once more with the fresh ETag when every
// line is still on the order; the ERP then judges the quantities and the
// key (a replayed key cancels nothing more). It returns the order as read
// after the update.
func (c *Client) CancelOrderLines(ctx context.Context, key string, req connector.OrderCancellation) (canonical.Order, error) {
	const op = "CancelOrderLines"
	switch {
	case req.OrderID == "":
		return canonical.Order{}, c.invalid(op, fieldError("cancellation", "orderId", "is required"))
	case len(req.Lines) == 0:
		return canonical.Order{}, c.invalid(op, fieldError("cancellation", "lines", "must name at least one line"))
	case key == "":
		return canonical.Order{}, c.invalid(op, errors.New("sap: idempotency key is empty"))
	}
	for i, l := range req.Lines {
		if !l.Quantity.Value.IsPos() {
			return canonical.Order{}, c.invalid(op, fieldError("cancellation", fmt.Sprintf("lines[%d].quantity", i), "must be > 0"))
		}
	}
	for attempt := 0; ; attempt++ {
		so, err := c.orderFor(ctx, op, req.OrderID)
		if err != nil {
			return canonical.Order{}, err
		}
		body, err := cancellationBody(&so, key, req)
		if err != nil {
			return canonical.Order{}, c.invalid(op, err)
		}
		etag := ""
		if so.Metadata != nil {
			etag = so.Metadata.ETag
		}
		_, err = c.write(ctx, op, http.MethodPatch, salesOrderService+"A_SalesOrder('"+so.SalesOrder+"')", body, http.Header{"If-Match": {etag}})
		if err != nil {
			if attempt == 0 && httpkit.Status(err) == http.StatusPreconditionFailed {
				continue // changed since read: reread and try once more
			}
			return canonical.Order{}, err
		}
		return c.GetOrder(ctx, req.OrderID)
	}
}

func fieldError(kind, field, msg string) error {
	return &canonical.ValidationError{Kind: kind, Errors: []canonical.FieldError{{Field: field, Message: msg}}}
}

// cancellationBody maps the cancellation's lines to the order's items;
// an unknown line or another unit is a validation error.
func cancellationBody(so *odata.SalesOrder, key string, req connector.OrderCancellation) (map[string]string, error) {
	parts := make([]string, 0, len(req.Lines))
	for i, l := range req.Lines {
		var item *odata.SalesOrderItem
		if so.Items != nil {
			for j := range so.Items.Results {
				if so.Items.Results[j].LineID == l.LineID {
					item = &so.Items.Results[j]
				}
			}
		}
		if item == nil {
			return nil, fieldError("cancellation", fmt.Sprintf("lines[%d].lineId", i), fmt.Sprintf("names no item of sales order %s", so.SalesOrder))
		}
		if string(l.Quantity.Unit) != item.RequestedQuantityISOUnit {
			return nil, fieldError("cancellation", fmt.Sprintf("lines[%d].quantity.unit", i), fmt.Sprintf("is %q, the item's unit is %q", l.Quantity.Unit, item.RequestedQuantityISOUnit))
		}
		parts = append(parts, item.SalesOrderItem+":"+l.Quantity.Value.String())
	}
	return map[string]string{"YY1_CancellationKey_SDH": key, "YY1_CancellationRequest_SDH": strings.Join(parts, ","),
		"YY1_CancellationReason_SDH": req.Reason}, nil
}
