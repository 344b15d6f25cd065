package sapemu

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// cancellation is the body of a PATCH of A_SalesOrder('N') that cancels
// open quantities: custom fields, as a key-user extension with a
// determination would take them (an assumption; see package sap).
type cancellation struct {
	Key     string `json:"YY1_CancellationKey_SDH"`
	Request string `json:"YY1_CancellationRequest_SDH"` // "10:1,20:2.5": item number and quantity
	Reason  string `json:"YY1_CancellationReason_SDH"`
}

// patchSalesOrder updates a sales order under optimistic concurrency:
// If-Match must carry the current ETag (428 without it, 412 when stale).
// The update it takes is a cancellation of open quantities; it answers 204.
func (s *Server) patchSalesOrder(w http.ResponseWriter, r *http.Request, resource string) {
	number, single, err := keyOf(resource)
	if err != nil || !single {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "PATCH needs A_SalesOrder('number')"))
		return
	}
	var body cancellation
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.orders[number]
	if rec == nil {
		notFound(w, "Sales order "+number)
		return
	}
	switch match := r.Header.Get("If-Match"); {
	case match == "":
		writeError(w, http.StatusPreconditionRequired, odata.NewError("/IWBEP/CM_MGW_RT/428", "If-Match is required for A_SalesOrder"))
		return
	case match != "*" && match != rec.etag():
		writeError(w, http.StatusPreconditionFailed, odata.NewError("/IWBEP/CM_MGW_RT/412", "The sales order was changed since it was read (ETag mismatch)"))
		return
	}
	if body.Key == "" {
		missing(w, "YY1_CancellationKey_SDH")
		return
	}
	c := connector.OrderCancellation{OrderID: rec.orderID, Reason: body.Reason}
	for i, part := range strings.Split(body.Request, ",") {
		item, qty, ok := strings.Cut(part, ":")
		d, err := odata.ParseDecimal(qty)
		line := rec.lineOf(item)
		if !ok || err != nil || line == "" {
			writeError(w, http.StatusBadRequest, odata.NewError("YY1/CANCELLATION", fmt.Sprintf("entry %d %q of YY1_CancellationRequest_SDH is not item:quantity of an item", i, part),
				odata.ErrorDetail{Code: "YY1/CANCELLATION", Message: "names no item", PropertyRef: fmt.Sprintf("to_Item/%d/YY1_CanonicalLineID_SDI", i), Severity: "error"}))
			return
		}
		o, err := s.m.GetOrder(r.Context(), rec.orderID)
		if err != nil {
			writeConnectorError(w, err, odata.PropertyRef)
			return
		}
		unit := canonical.Unit("")
		if l := o.Line(line); l != nil {
			unit = l.Quantity.Unit
		}
		c.Lines = append(c.Lines, connector.LineQuantity{LineID: line, Quantity: canonical.Quantity{Value: d, Unit: unit}})
	}
	before := s.m.Counts().Cancellations
	if _, err := s.m.CancelOrderLines(r.Context(), body.Key, c); err != nil {
		writeConnectorError(w, err, odata.PropertyRef)
		return
	}
	if s.m.Counts().Cancellations != before {
		rec.touch(s.cfg.Now())
	}
	w.Header().Set("ETag", rec.etag())
	w.WriteHeader(http.StatusNoContent)
}
