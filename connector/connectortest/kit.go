package connectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/kit"
)

// duplicates is how many goroutines the concurrency checks start with the
// same call.
const duplicates = 8

// kitTime is the fixed instant of the documents the kit builds, so that
// runs are reproducible.
var kitTime = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

// ShipAll returns a shipment of every line of order in full, from warehouse
// "WH1", with IDs derived from the order's ID and n. It is the default of
// [ERPHarness.Shipment].
func ShipAll(order canonical.Order, n int) canonical.Shipment {
	s := canonical.Shipment{
		ID:                  fmt.Sprintf("kit-shp-%s-%d", order.ID, n),
		Version:             1,
		OrderID:             order.ID,
		FulfillmentOrderID:  "kit-fo-" + order.ID,
		Warehouse:           "WH1",
		Carrier:             canonical.Carrier{SCAC: "UPSN", Name: "UPS"},
		TrackingNumbers:     []string{"1Z" + order.ID},
		ShippedAt:           kitTime,
		FinalForFulfillment: true,
	}
	for i, l := range order.Lines {
		s.Lines = append(s.Lines, canonical.ShipmentLine{
			ID:                fmt.Sprintf("%s-l%d", s.ID, i+1),
			OrderLineID:       l.ID,
			FulfillmentLineID: "kit-fl-" + l.ID,
			Item:              l.Item,
			Quantity:          l.Quantity,
		})
	}
	return s
}

// ReturnAll returns a received return of every line of shipment in full,
// in new condition and restocked, with IDs derived from the shipment's ID
// and n. It is the default of [ERPHarness.Return].
func ReturnAll(order canonical.Order, shipment canonical.Shipment, n int) canonical.Return {
	r := canonical.Return{
		ID:           fmt.Sprintf("kit-ret-%s-%d", shipment.ID, n),
		Version:      1,
		RMANumber:    fmt.Sprintf("RMA-%s-%d", shipment.ID, n),
		OrderID:      order.ID,
		Customer:     order.SoldTo,
		Warehouse:    shipment.Warehouse,
		AuthorizedAt: kitTime,
		ReceivedAt:   kitTime.Add(time.Hour),
	}
	for i, l := range shipment.Lines {
		r.Lines = append(r.Lines, canonical.ReturnLine{
			ID:          fmt.Sprintf("%s-l%d", r.ID, i+1),
			OrderLineID: l.OrderLineID,
			Item:        l.Item,
			Authorized:  l.Quantity,
			Received:    l.Quantity,
			Condition:   canonical.ConditionNew,
			Disposition: canonical.DispositionRestock,
		})
	}
	return r
}

// cancelled returns a context that is already cancelled.
func cancelled(t kit.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// checkCode reports an error unless err carries code.
func checkCode(t kit.T, err error, want connector.Code, what string) bool {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, want)
		return false
	}
	if got := connector.CodeOf(err); got != want {
		t.Errorf("%s: error code = %v, want %v (error: %v)", what, got, want, err)
		return false
	}
	return true
}

// checkInvalid reports an error unless err carries CodeInvalid and names
// one of the fields of want (the canonical validation error of the same
// input), or field when want names none.
func checkInvalid(t kit.T, err error, want error, field, what string) {
	t.Helper()
	if !checkCode(t, err, connector.CodeInvalid, what) {
		return
	}
	fields := []string{}
	var ve *canonical.ValidationError
	if errors.As(want, &ve) {
		for _, fe := range ve.Errors {
			fields = append(fields, fe.Field)
		}
	}
	if len(fields) == 0 {
		fields = append(fields, field)
	}
	var got *canonical.ValidationError
	hasVE := errors.As(err, &got)
	for _, f := range fields {
		if hasVE && got.Has(f) || strings.Contains(err.Error(), f) {
			return
		}
	}
	t.Errorf("%s: error %q names none of the fields %q", what, err, fields)
}

// checkCancelled reports an error unless err matches context.Canceled.
func checkCancelled(t kit.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a cancelled context: error = %v, want one matching context.Canceled", what, err)
	}
}

// runDuplicates calls fn from duplicates goroutines at once and returns
// their results and errors in order.
func runDuplicates[T any](fn func() (T, error)) ([]T, []error) {
	results := make([]T, duplicates)
	errs := make([]error, duplicates)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range duplicates {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			results[i], errs[i] = fn()
		}()
	}
	close(start)
	for range duplicates {
		<-done
	}
	return results, errs
}

// sameJSON reports whether a and b encode to the same JSON: results are
// compared as they would travel, so that an implementation may return
// equal values that are not identical in memory (time zones, decimals of
// equal scale).
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}
