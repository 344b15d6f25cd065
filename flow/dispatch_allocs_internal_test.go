//go:build !race

// Under -race the allocation counts include the detector's own.

package flow

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestDispatchAllocs: dispatching an event allocates nothing of its own
// (here one the flow only records); the closure that wrapped a handler's
// errors in the event's EventError, capturing its identity, was allocated
// for every event (1 allocation, 64 bytes, on 53d5a34).
func TestDispatchAllocs(t *testing.T) {
	f := &Flow{otc: true, source: "urn:distsync:flow"}
	ev := canonical.Event{ID: "1", Source: f.source, Type: canonical.EventOrderRejected, Subject: "ORD-1", Data: []byte(`{}`)}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := f.dispatch(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 0.0, allocs, "allocations per dispatch")
}

// TestNameEvent: the EventErrors a route returns, wrapped or joined, are
// named after the event; one that names an event already is left alone.
func TestNameEvent(t *testing.T) {
	inner := badEvent(ErrBadEvent)
	other := &EventError{Type: canonical.EventOrderSubmitted, Source: "crm", ID: "7", Err: ErrBadEvent}
	joined := badEvent(errors.New("joined"))
	err := fmt.Errorf("wrapped: %w", errors.Join(inner, other, fmt.Errorf("deeper: %w", joined)))
	nameEvent(err, canonical.EventFulfillmentShipped, "wms", "42")
	var ee *EventError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, &EventError{Type: canonical.EventFulfillmentShipped, Source: "wms", ID: "42", Err: ErrBadEvent}, inner, "the wrapped one")
	assert.Equal(t, &EventError{Type: canonical.EventOrderSubmitted, Source: "crm", ID: "7", Err: ErrBadEvent}, other, "one naming its event")
	assert.Equal(t, "flow: event distsync.fulfillment.shipped.v1 wms/42: joined", joined.Error(), "one joined deeper")
}
