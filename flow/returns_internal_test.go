package flow

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
)

func TestPartitionReturn(t *testing.T) {
	tests := []struct {
		name string
		in   canonical.Event
		want string
	}{
		{name: "received without key", in: canonical.Event{Type: canonical.EventReturnReceived, Subject: "RET-1", Data: []byte(`{"id":"RET-1","orderId":"ORD-1"}`)}, want: "ORD-1"},
		{name: "authorized without key", in: canonical.Event{Type: canonical.EventReturnAuthorized, Subject: "RET-1", Data: []byte(`{"orderId":"ORD-2"}`)}, want: "ORD-2"},
		{name: "key kept", in: canonical.Event{Type: canonical.EventReturnReceived, PartitionKey: "P", Data: []byte(`{"orderId":"ORD-1"}`)}, want: "P"},
		{name: "no order", in: canonical.Event{Type: canonical.EventReturnReceived, Subject: "RET-1", Data: []byte(`{"id":"RET-1"}`)}, want: ""},
		{name: "bad JSON", in: canonical.Event{Type: canonical.EventReturnReceived, Subject: "RET-1", Data: []byte(`{"orderId":`)}, want: ""},
		{name: "order ID of another type", in: canonical.Event{Type: canonical.EventReturnReceived, Data: []byte(`{"orderId":7}`)}, want: ""},
		{name: "not a return", in: canonical.Event{Type: canonical.EventFulfillmentShipped, Subject: "FO-1", Data: []byte(`{"orderId":"ORD-1"}`)}, want: ""},
	}
	for _, tt := range tests {
		e := tt.in
		partitionReturn(&e)
		assert.Equal(t, tt.want, e.PartitionKey, "partition key of %s", tt.name)
	}
}
