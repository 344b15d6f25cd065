package flow

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
)

// TestPartitionByOrder: the fulfilment and return events of an order are
// partitioned by its ID, whatever key their feed gave them.
func TestPartitionByOrder(t *testing.T) {
	tests := []struct {
		name string
		in   canonical.Event
		want string
	}{
		{name: "received without key", in: canonical.Event{Type: canonical.EventReturnReceived, Subject: "RET-1", Data: []byte(`{"id":"RET-1","orderId":"ORD-1"}`)}, want: "ORD-1"},
		{name: "authorized without key", in: canonical.Event{Type: canonical.EventReturnAuthorized, Subject: "RET-1", Data: []byte(`{"orderId":"ORD-2"}`)}, want: "ORD-2"},
		{name: "key of the feed replaced", in: canonical.Event{Type: canonical.EventReturnReceived, PartitionKey: "P", Data: []byte(`{"orderId":"ORD-1"}`)}, want: "ORD-1"},
		{name: "key of the feed kept without an order", in: canonical.Event{Type: canonical.EventReturnReceived, PartitionKey: "P", Data: []byte(`{}`)}, want: "P"},
		{name: "shipment keyed by fulfilment order", in: canonical.Event{Type: canonical.EventFulfillmentShipped, Subject: "FO-1", PartitionKey: "FO-1", Data: []byte(`{"orderId":"ORD-1"}`)}, want: "ORD-1"},
		{name: "allocation without key", in: canonical.Event{Type: canonical.EventFulfillmentAllocated, Subject: "FO-1", Data: []byte(`{"orderId":"ORD-3"}`)}, want: "ORD-3"},
		{name: "not an order's", in: canonical.Event{Type: canonical.EventInventoryAdjusted, Subject: "SKU@WH", Data: []byte(`{"orderId":"ORD-1"}`)}, want: ""},
		{name: "no order", in: canonical.Event{Type: canonical.EventReturnReceived, Subject: "RET-1", Data: []byte(`{"id":"RET-1"}`)}, want: ""},
		{name: "bad JSON", in: canonical.Event{Type: canonical.EventReturnReceived, Subject: "RET-1", Data: []byte(`{"orderId":`)}, want: ""},
		{name: "order ID of another type", in: canonical.Event{Type: canonical.EventReturnReceived, Data: []byte(`{"orderId":7}`)}, want: ""},
	}
	for _, tt := range tests {
		e := tt.in
		partitionByOrder(&e)
		assert.Equal(t, tt.want, e.PartitionKey, "partition key of %s", tt.name)
	}
}
