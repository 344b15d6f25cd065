package d365

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

var _ connector.OrderCanceller = (*Client)(nil)

// CancelOrderLines cancels open quantities of a sales order: it reads the
// order (its @odata.etag), then PATCHes
// SalesOrderHeadersV2(dataAreaId='..',SalesOrderNumber='..') with If-Match
// and the cancellation in extension fields (DSyncCancellationKey carries
// the key). A 412 (the order changed since it was read) is resolved by
// reading it again and sending the update once more with the fresh ETag
// when every line is still on the order; the ERP then judges the
// quantities and the key (a replayed key cancels nothing more). It
// returns the order as read after the update.
func (c *Client) CancelOrderLines(ctx context.Context, key string, req connector.OrderCancellation) (canonical.Order, error) {
	const op = "CancelOrderLines"
	switch {
	case req.OrderID == "":
		return canonical.Order{}, c.invalid(op, fieldError("cancellation", "orderId", "is required"))
	case len(req.Lines) == 0:
		return canonical.Order{}, c.invalid(op, fieldError("cancellation", "lines", "must name at least one line"))
	case key == "":
		return canonical.Order{}, c.invalid(op, errors.New("d365: idempotency key is empty"))
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
		r, err := c.http.NewRequest(op, http.MethodPatch, headerSet+odata.Key(so.DataAreaID, "SalesOrderNumber", so.SalesOrderNumber), body)
		if err != nil {
			return canonical.Order{}, err
		}
		r.Header.Set("If-Match", so.ETag)
		if _, err = c.http.Do(ctx, op, r); err != nil {
			if attempt == 0 && httpkit.Status(err) == http.StatusPreconditionFailed {
				continue // changed since read: reread and try once more
			}
			return canonical.Order{}, err
		}
		return c.GetOrder(ctx, req.OrderID)
	}
}

// cancellationBody maps the cancellation's lines to the order's lines
// (InventoryLotId); an unknown line or another unit is a validation
// error.
func cancellationBody(so *odata.SalesOrderHeader, key string, req connector.OrderCancellation) (odata.Cancellation, error) {
	parts := make([]string, 0, len(req.Lines))
	for i, l := range req.Lines {
		var line *odata.SalesOrderLine
		for j := range so.Lines {
			if so.Lines[j].LineID == l.LineID {
				line = &so.Lines[j]
			}
		}
		if line == nil {
			return odata.Cancellation{}, fieldError("cancellation", fmt.Sprintf("lines[%d].lineId", i), "names no line of sales order "+so.SalesOrderNumber)
		}
		if string(l.Quantity.Unit) != line.SalesUnitSymbol {
			return odata.Cancellation{}, fieldError("cancellation", fmt.Sprintf("lines[%d].quantity.unit", i), fmt.Sprintf("is %q, the line's unit is %q", l.Quantity.Unit, line.SalesUnitSymbol))
		}
		parts = append(parts, line.InventoryLotID+":"+l.Quantity.Value.String())
	}
	return odata.Cancellation{Key: key, Request: strings.Join(parts, ","), Reason: req.Reason}, nil
}
