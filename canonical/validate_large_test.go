package canonical_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestOrderValidateLargeValid: an 11,000-line order with unique line IDs
// is valid, and one duplicated ID far down the list is found and points at
// the first line with that ID.
func TestOrderValidateLargeValid(t *testing.T) {
	o := sampleOrder(bigOrderLines)
	require.NoError(t, o.Validate(), "11,000 valid lines")

	o.Lines[10_500].ID = o.Lines[7].ID
	err := o.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve, "duplicate line ID")
	assert.Equal(t, []canonical.FieldError{{Field: "lines[10500].id", Message: `duplicate line ID "L8" (also at lines[7])`}}, ve.Errors)
	assert.Zero(t, ve.Omitted)
}

// TestOrderValidateLargeInvalid: with two violations on each of 11,000
// lines, the error lists the first MaxViolations, counts the rest, says how
// many more there were, and still matches ErrInvalid and
// *ValidationError.
func TestOrderValidateLargeInvalid(t *testing.T) {
	o := invalidOrder(bigOrderLines)
	err := o.Validate()
	require.Error(t, err)
	assert.ErrorIs(t, err, canonical.ErrInvalid)
	wrapped := fmt.Errorf("flow: order ord-1: %w", err)
	var ve *canonical.ValidationError
	require.ErrorAs(t, wrapped, &ve, "a wrapped validation error")
	assert.ErrorIs(t, wrapped, canonical.ErrInvalid, "a wrapped validation error")

	require.Len(t, ve.Errors, canonical.MaxViolations)
	assert.Equal(t, 2*bigOrderLines-canonical.MaxViolations, ve.Omitted)
	assert.Equal(t, 2*bigOrderLines, ve.Count())
	assert.Equal(t, canonical.FieldError{Field: "lines[0].quantity.unit", Message: `invalid unit "CS": not a UN/ECE Rec 20 code; use XCS (case)`}, ve.Errors[0])
	assert.Equal(t, canonical.FieldError{Field: "lines[49].quantity.value", Message: "must be > 0, is 0"}, ve.Errors[99])
	assert.True(t, ve.Has("lines[49].quantity.value"))
	assert.False(t, ve.Has("lines[50].quantity.unit"), "omitted violations are not listed")

	msg := err.Error()
	assert.True(t, strings.HasSuffix(msg, "; lines[49].quantity.value: must be > 0, is 0; ... and 21,900 more"), "message ends %q", msg[max(0, len(msg)-120):])
	assert.Equal(t, canonical.MaxViolations, strings.Count(msg, "quantity."), "violations spelled out")
	assert.Less(t, len(msg), 100*canonical.MaxViolations, "message size is bounded")
}

// TestOrderValidateLargeCost: the violations past MaxViolations cost no
// allocation, so an order with 11,000 bad lines allocates about as much as
// one with 100 (it allocated five times per violation before the cap).
func TestOrderValidateLargeCost(t *testing.T) {
	if raceEnabled {
		// As the standard library's allocation tests do: under -race the
		// counts include the detector's own and vary with the load.
		t.Skip("allocation counts are not the code's under the race detector; run without -race")
	}
	small, large := invalidOrder(canonical.MaxViolations), invalidOrder(bigOrderLines)
	allocsSmall := testing.AllocsPerRun(3, func() { _ = small.Validate() })
	allocsLarge := testing.AllocsPerRun(3, func() { _ = large.Validate() })
	assert.LessOrEqual(t, allocsLarge, allocsSmall+50, "allocations for %d bad lines (%v for %d)", bigOrderLines, allocsLarge, canonical.MaxViolations)
}

// TestRefsValidateLarge: 11,000 refs with every tenth (system, type) pair
// repeated are checked in one pass; every duplicate is counted.
func TestRefsValidateLarge(t *testing.T) {
	rs := manyRefs(bigOrderLines)
	require.NoError(t, rs.Validate())
	for i := 10; i < len(rs); i += 10 {
		rs[i].Type = rs[i-1].Type
	}
	err := rs.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, bigOrderLines/10-1, ve.Count(), "duplicates counted")
	assert.Equal(t, canonical.FieldError{Field: "[10]", Message: `duplicate ref for system "sys" and type "t9" (also at [9])`}, ve.Errors[0])

	o := sampleOrder(1)
	o.Refs = rs
	o.Lines[0].Refs = rs
	err = o.Validate()
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, 2*(bigOrderLines/10-1), ve.Count(), "nested omitted violations are counted by the order")
	assert.Len(t, ve.Errors, canonical.MaxViolations)
	assert.Equal(t, "refs[10]", ve.Errors[0].Field)
	assert.True(t, strings.HasSuffix(err.Error(), "... and 2,098 more"), err.Error()[len(err.Error())-40:])
}

// TestValidationErrorMessageOmitted covers the summary of a ValidationError built
// by hand (as connectors do) with more than MaxViolations entries, and one
// with only omitted violations.
func TestValidationErrorMessageOmitted(t *testing.T) {
	fes := make([]canonical.FieldError, canonical.MaxViolations+5)
	for i := range fes {
		fes[i] = canonical.FieldError{Field: fmt.Sprintf("f%d", i), Message: "bad"}
	}
	e := &canonical.ValidationError{Kind: "thing", Errors: fes, Omitted: 995}
	msg := e.Error()
	assert.True(t, strings.HasSuffix(msg, "; f99: bad; ... and 1,000 more"), msg[len(msg)-40:])
	assert.NotContains(t, msg, "f100")
	assert.Equal(t, "canonical: invalid value: ... and 1,234,567 more", (&canonical.ValidationError{Omitted: 1234567}).Error())
	assert.Equal(t, "canonical: invalid x: a: b; ... and 999 more",
		(&canonical.ValidationError{Kind: "x", Errors: []canonical.FieldError{{Field: "a", Message: "b"}}, Omitted: 999}).Error())
	assert.True(t, errors.Is(e, canonical.ErrInvalid))
}

// TestShipmentLarge: a shipment line with 11,000 serials, every tenth a
// repeat, is checked in one pass; a shipment of 11,000 lines for 1,000
// order lines sums into one event per order line, in first-seen order.
func TestShipmentLarge(t *testing.T) {
	s := shipmentFixture()
	serials := make([]string, bigOrderLines)
	for i := range serials {
		serials[i] = fmt.Sprintf("SN%05d", i)
		if i%10 == 9 {
			serials[i] = serials[i-1]
		}
	}
	s.Lines[0].Serials = serials
	err := s.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, bigOrderLines/10, ve.Count(), "duplicate serials")
	assert.Equal(t, canonical.FieldError{Field: "lines[0].serials[9]", Message: `duplicate serial "SN00008"`}, ve.Errors[0])

	s = shipmentFixture()
	s.Lines = nil
	for i := range bigOrderLines {
		s.Lines = append(s.Lines, canonical.ShipmentLine{ID: fmt.Sprintf("SL%d", i), OrderLineID: fmt.Sprintf("L%d", i%1000), FulfillmentLineID: "FL", Item: hammer, Quantity: qty("1", "EA")})
	}
	evs, err := s.QuantityEvents("m")
	require.NoError(t, err)
	require.Len(t, evs, 1000)
	for i, e := range evs {
		assert.Equal(t, fmt.Sprintf("L%d", i), e.LineID)
		assert.Equal(t, "11", e.Value.String(), e.LineID)
	}
}

// TestFoldLargeOutOfOrder folds one event per line of an 11,000-line order,
// last line first (each event used to rescan the lines), then reuses the
// Ledger on an order whose line IDs are at other indexes.
func TestFoldLargeOutOfOrder(t *testing.T) {
	var l canonical.Ledger
	for _, shift := range []int{0, 1} {
		o := sampleOrder(bigOrderLines + shift)
		o.Lines = o.Lines[shift:] // line L2 first in the second round
		var events []canonical.QuantityEvent
		for i := len(o.Lines) - 1; i >= 0; i-- {
			events = append(events, delta(o.Lines[i].ID, canonical.BucketAllocated, fmt.Sprint(i%7+1), time.Hour, "wms/alloc"))
		}
		require.NoError(t, l.Fold(o.Lines, events), "shift %d", shift)
		for i := range o.Lines {
			if got := o.Lines[i].Buckets.Get(canonical.BucketAllocated).String(); got != fmt.Sprint(i%7+1) {
				require.Failf(t, "wrong line", "shift %d: %s allocated %s, want %d", shift, o.Lines[i].ID, got, i%7+1)
			}
		}
		events[5].LineID = "L-none"
		assert.ErrorContains(t, l.Fold(o.Lines, events), `quantity event [5]: line "L-none" is not in the order`, "shift %d", shift)
	}
}
