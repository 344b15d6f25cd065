package salesforce

// This file owns the writes: status onto the Order (PATCH, or a composite
// request for a batch), availability upserted by external ID, and Health.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// maxComposite is the most sub-requests of one composite request.
const maxComposite = 25

// maxStatusBytes is the size of the long text area DistSync_Status__c.
const maxStatusBytes = 131072

// Field names the connector writes (custom fields the org must have; see
// the package documentation).
const (
	fieldSequence = "DistSync_Sequence__c"
	fieldStatus   = "DistSync_Status__c"
	fieldTracking = "DistSync_Tracking__c"
)

// stale reports whether err is the org's refusal of a sequence at or below
// the one it holds: the update was applied before, or a newer one was.
func stale(err error) bool {
	ae, ok := asAPIError(err)
	if !ok {
		return false
	}
	for _, it := range ae.Errors {
		if it.ErrorCode == "FIELD_CUSTOM_VALIDATION_EXCEPTION" && len(it.Fields) == 1 && it.Fields[0] == fieldSequence {
			return true
		}
	}
	return false
}

func asAPIError(err error) (*APIError, bool) {
	var ae *APIError
	ok := errors.As(err, &ae)
	return ae, ok
}

// isLimit reports whether err is Salesforce's REQUEST_LIMIT_EXCEEDED.
func isLimit(err error) bool {
	ae, ok := asAPIError(err)
	return ok && ae.Has("REQUEST_LIMIT_EXCEEDED")
}

// checkStatus returns a CodeInvalid error naming the fields of a
// malformed status update, or nil.
func checkStatus(op string, s *connector.OrderStatus) error {
	var fes []canonical.FieldError
	if s.OrderID == "" {
		fes = append(fes, canonical.FieldError{Field: "orderId", Message: "required"})
	}
	if s.Sequence < 0 {
		fes = append(fes, canonical.FieldError{Field: "sequence", Message: "must be ≥ 0"})
	}
	if _, err := s.Status.Commercial.MarshalText(); err != nil {
		fes = append(fes, canonical.FieldError{Field: "status.commercial", Message: "invalid status"})
	}
	if _, err := s.Status.Fulfillment.MarshalText(); err != nil {
		fes = append(fes, canonical.FieldError{Field: "status.fulfillment", Message: "invalid status"})
	}
	if _, err := s.Status.Billing.MarshalText(); err != nil {
		fes = append(fes, canonical.FieldError{Field: "status.billing", Message: "invalid status"})
	}
	if fes != nil {
		return connector.NewError(connector.CodeInvalid, System, op, &canonical.ValidationError{Kind: "order_status", Errors: fes})
	}
	return nil
}

// unitless gives a zero quantity without a unit the unit u, so that the
// status document decodes again (canonical refuses an empty unit).
func unitless(q *canonical.Quantity, u canonical.Unit) {
	if q.Unit == "" && q.Value.IsZero() {
		q.Unit = u
	}
}

// statusBody returns the Order fields that show s.
func (c *CRM) statusBody(op string, s *connector.OrderStatus) (map[string]any, error) {
	doc := *s
	doc.Extensions = nil // mapped to fields by Config.Extensions, not kept in the status document
	doc.Lines = slices.Clone(s.Lines)
	for i := range doc.Lines {
		l := &doc.Lines[i]
		for _, q := range []*canonical.Quantity{&l.Shipped, &l.Backordered, &l.Cancelled, &l.Returned} {
			unitless(q, l.Ordered.Unit)
		}
	}
	doc.Returns = slices.Clone(s.Returns)
	for i := range doc.Returns {
		r := &doc.Returns[i]
		r.Lines = slices.Clone(r.Lines)
		for j := range r.Lines {
			unitless(&r.Lines[j].Received, r.Lines[j].Authorized.Unit)
		}
	}
	body, err := statusFields(op, &doc)
	if err != nil {
		return nil, err
	}
	return body, c.writeExtensions(op, s, body)
}

func statusFields(op string, s *connector.OrderStatus) (map[string]any, error) {
	doc, err := json.Marshal(s)
	if err != nil {
		return nil, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	if len(doc) > maxStatusBytes {
		return nil, connector.NewError(connector.CodeInvalid, System, op,
			fmt.Errorf("the status of order %s is %d bytes, over the %d of %s", s.OrderID, len(doc), maxStatusBytes, fieldStatus))
	}
	return map[string]any{fieldSequence: s.Sequence, fieldStatus: string(doc), fieldTracking: strings.Join(s.TrackingNumbers, "\n")}, nil
}

// PublishStatus shows s on the Order with ID s.OrderID: one PATCH of its
// DistSync fields. It is idempotent by (OrderID, Sequence): the org's
// validation rule refuses a sequence at or below the one shown, which the
// connector takes as done. CodeNotFound for an unknown order; CodeInvalid
// naming the fields for an update without an order ID, with a negative
// sequence or an invalid status.
func (c *CRM) PublishStatus(ctx context.Context, s connector.OrderStatus) error {
	const op = "PublishStatus"
	if err := checkStatus(op, &s); err != nil {
		return err
	}
	body, err := c.statusBody(op, &s)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, op, http.MethodPatch, "sobjects/Order/"+url.PathEscape(s.OrderID), body)
	if stale(err) {
		return nil
	}
	return err
}

// subRequest and subResponse are the parts of a composite request.
type subRequest struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	ReferenceID string `json:"referenceId"`
	Body        any    `json:"body,omitempty"`
}

type subResponse struct {
	Body           json.RawMessage `json:"body"`
	HTTPStatusCode int             `json:"httpStatusCode"`
	ReferenceID    string          `json:"referenceId"`
}

// composite sends the sub-requests, at most maxComposite at a time, with
// allOrNone false, and returns one error (or nil) per sub-request.
func (c *CRM) composite(ctx context.Context, op string, subs []subRequest) ([]error, error) {
	errs := make([]error, len(subs))
	for from := 0; from < len(subs); from += maxComposite {
		chunk := subs[from:min(from+maxComposite, len(subs))]
		resp, err := c.do(ctx, op, http.MethodPost, "composite", map[string]any{"allOrNone": false, "compositeRequest": chunk})
		if err != nil {
			return nil, err
		}
		var out struct {
			Responses []subResponse `json:"compositeResponse"`
		}
		if err := resp.DecodeJSON(&out); err != nil {
			return nil, err
		}
		if len(out.Responses) != len(chunk) {
			return nil, connector.NewError(connector.CodeInternal, System, op,
				fmt.Errorf("composite answer holds %d responses for %d sub-requests", len(out.Responses), len(chunk)), connector.WithMayHaveApplied(true))
		}
		for i, r := range out.Responses {
			if r.ReferenceID != chunk[i].ReferenceID {
				return nil, connector.NewError(connector.CodeInternal, System, op,
					fmt.Errorf("composite response %d is for %q, not %q", i, r.ReferenceID, chunk[i].ReferenceID), connector.WithMayHaveApplied(true))
			}
			errs[from+i] = subError(op, r.HTTPStatusCode, r.Body)
		}
	}
	return errs, nil
}

// subError returns the error of a sub-response, nil for a 2xx.
func subError(op string, status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	detail := DecodeError(status, body)
	if detail == nil {
		detail = fmt.Errorf("HTTP %d", status)
	}
	code := connector.CodeInvalid
	switch {
	case status == http.StatusNotFound:
		code = connector.CodeNotFound
	case status == http.StatusForbidden && isLimit(detail):
		code = connector.CodeRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		code = connector.CodeUnauthorized
	case status == http.StatusConflict || status == http.StatusPreconditionFailed || status == http.StatusMultipleChoices:
		code = connector.CodeConflict
	case status >= 500:
		code = connector.CodeUnavailable
	}
	return connector.NewError(code, System, op, fmt.Errorf("sub-request answered %d: %w", status, detail))
}

// PublishStatuses publishes several status updates with the contract of
// [CRM.PublishStatus] for each: one composite request per 25 updates
// (allOrNone false, so one update's failure leaves the others), one error
// (or nil) per update. A malformed update is not sent. The second result
// is the failure of a composite request as a whole; updates sent before it
// may have been applied, and repeating them is harmless.
func (c *CRM) PublishStatuses(ctx context.Context, updates []connector.OrderStatus) ([]error, error) {
	const op = "PublishStatuses"
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	errs := make([]error, len(updates))
	var subs []subRequest
	var index []int
	for i := range updates {
		s := &updates[i]
		if errs[i] = checkStatus(op, s); errs[i] != nil {
			continue
		}
		body, err := c.statusBody(op, s)
		if err != nil {
			errs[i] = err
			continue
		}
		subs = append(subs, subRequest{Method: http.MethodPatch, URL: c.path("sobjects/Order/" + url.PathEscape(s.OrderID)),
			ReferenceID: "s" + strconv.Itoa(i), Body: body})
		index = append(index, i)
	}
	if len(subs) == 0 {
		return errs, nil
	}
	got, err := c.composite(ctx, op, subs)
	if err != nil {
		return nil, err
	}
	for j, e := range got {
		if stale(e) {
			e = nil
		}
		errs[index[j]] = e
	}
	return errs, nil
}

// availabilityKey is the external ID DistSync_Key__c of a
// Product_Availability__c record: "SKU@Location".
func availabilityKey(a *connector.Availability) string { return a.SKU + "@" + a.Location }

func availabilityBody(a *connector.Availability) map[string]any {
	return map[string]any{"Sku__c": a.SKU, "Location__c": a.Location, "Available__c": json.Number(a.Available.Value.String()),
		"Unit__c": string(a.Available.Unit), "As_Of__c": a.AsOf.UTC().Format(sfTime), fieldSequence: a.Sequence}
}

// PublishAvailability upserts one Product_Availability__c record per item
// by its external ID DistSync_Key__c ("SKU@Location"): one PATCH for one
// item, composite requests of up to 25 for more. It is idempotent by
// (SKU, Location, Sequence): the org's validation rule refuses a sequence
// at or below the one shown, which the connector takes as done.
// CodeInvalid, naming items[i] and the field, when any item lacks a SKU or
// a location, has a negative sequence or an invalid unit; then nothing is
// sent. Otherwise the first sub-request's failure is returned.
func (c *CRM) PublishAvailability(ctx context.Context, items []connector.Availability) error {
	const op = "PublishAvailability"
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	var fes []canonical.FieldError
	for i, a := range items {
		p := "items[" + strconv.Itoa(i) + "]"
		if a.SKU == "" {
			fes = append(fes, canonical.FieldError{Field: p + ".sku", Message: "required"})
		}
		if a.Location == "" {
			fes = append(fes, canonical.FieldError{Field: p + ".location", Message: "required"})
		}
		if a.Sequence < 0 {
			fes = append(fes, canonical.FieldError{Field: p + ".sequence", Message: "must be ≥ 0"})
		}
		if a.Available.Unit.Validate() != nil {
			fes = append(fes, canonical.FieldError{Field: p + ".available.unit", Message: "invalid unit " + strconv.Quote(string(a.Available.Unit))})
		}
	}
	if fes != nil {
		return connector.NewError(connector.CodeInvalid, System, op, &canonical.ValidationError{Kind: "availability", Errors: fes})
	}
	switch len(items) {
	case 0:
		return nil
	case 1:
		_, err := c.do(ctx, op, http.MethodPatch, "sobjects/Product_Availability__c/DistSync_Key__c/"+url.PathEscape(availabilityKey(&items[0])), availabilityBody(&items[0]))
		if stale(err) {
			return nil
		}
		return err
	}
	subs := make([]subRequest, len(items))
	for i := range items {
		subs[i] = subRequest{Method: http.MethodPatch, ReferenceID: "a" + strconv.Itoa(i),
			URL:  c.path("sobjects/Product_Availability__c/DistSync_Key__c/" + url.PathEscape(availabilityKey(&items[i]))),
			Body: availabilityBody(&items[i])}
	}
	errs, err := c.composite(ctx, op, subs)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil && !stale(e) {
			return e
		}
	}
	return nil
}

// Health reports whether the org answers: one GET of the limits resource.
// It returns nil, or the error (CodeUnauthorized for refused credentials,
// CodeUnavailable or CodeTimeout when the org does not answer).
func (c *CRM) Health(ctx context.Context) error {
	_, err := c.do(ctx, "Health", http.MethodGet, "limits", nil)
	return err
}
