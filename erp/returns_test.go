package erp_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
)

func TestRequestReturn(t *testing.T) {
	ctx := context.Background()
	m := newERP(t, erp.Config{})
	o := newOrder("ord-r1", "C-1", line{"SKU-100", "10", "EA", "12.50"}, line{"SKU-104", "2", "XCS", "37.20"})
	_, err := m.AcceptOrder(ctx, "accept-r1", &o)
	require.NoError(t, err, "AcceptOrder")
	_, err = m.PostShipment(ctx, "ship-r1", shipment(o, "shp-r1", "4", ""))
	require.NoError(t, err, "PostShipment 4 of L1")
	rl := func(line, qty, unit string) erp.ReturnLineRequest {
		return erp.ReturnLineRequest{LineID: line, Quantity: canonical.MustParseQuantity(qty, unit)}
	}
	tests := []struct {
		name      string
		order, wh string
		lines     []erp.ReturnLineRequest
		code      connector.Code
		field     string // named in the error
	}{
		{name: "unknown order", order: "nope", wh: "WH-EAST", lines: []erp.ReturnLineRequest{rl("L1", "1", "EA")}, code: connector.CodeNotFound, field: `"nope"`},
		{name: "no warehouse", order: "ord-r1", lines: []erp.ReturnLineRequest{rl("L1", "1", "EA")}, code: connector.CodeInvalid, field: "warehouse"},
		{name: "no lines", order: "ord-r1", wh: "WH-EAST", code: connector.CodeInvalid, field: "lines"},
		{name: "unknown line", order: "ord-r1", wh: "WH-EAST", lines: []erp.ReturnLineRequest{rl("L9", "1", "EA")}, code: connector.CodeInvalid, field: "lines[0].lineId"},
		{name: "wrong unit", order: "ord-r1", wh: "WH-EAST", lines: []erp.ReturnLineRequest{rl("L1", "1", "XCS")}, code: connector.CodeInvalid, field: "lines[0].quantity.unit"},
		{name: "zero", order: "ord-r1", wh: "WH-EAST", lines: []erp.ReturnLineRequest{rl("L1", "0", "EA")}, code: connector.CodeInvalid, field: "lines[0].quantity.value"},
		{name: "not shipped", order: "ord-r1", wh: "WH-EAST", lines: []erp.ReturnLineRequest{rl("L2", "1", "XCS")}, code: connector.CodeInvalid, field: "lines[0].quantity.value"},
		{name: "the same line twice adds up", order: "ord-r1", wh: "WH-EAST", lines: []erp.ReturnLineRequest{rl("L1", "3", "EA"), rl("L1", "2", "EA")}, code: connector.CodeInvalid, field: "lines[1].quantity.value"},
	}
	for _, tt := range tests {
		_, err := m.RequestReturn(ctx, tt.order, tt.wh, tt.lines)
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: code of %v", tt.name, err)
		if err != nil {
			assert.Contains(t, err.Error(), tt.field, "%s: error names the field", tt.name)
		}
	}
	page, err := m.PollEvents(ctx, "", 100)
	require.NoError(t, err, "PollEvents")
	assert.Empty(t, page.Events, "refused returns put nothing on the feed")

	r, err := m.RequestReturn(ctx, "ord-r1", "WH-EAST", []erp.ReturnLineRequest{rl("L1", "4", "EA")})
	require.NoError(t, err, "return all that shipped")
	assert.Equal(t, "ERMA-000001", r.RMANumber, "RMA number")
	require.NoError(t, r.Validate(), "the return is a valid document")
	page, err = m.PollEvents(ctx, "", 100)
	require.NoError(t, err, "PollEvents")
	require.Len(t, page.Events, 1, "one event on the feed")
	e := page.Events[0]
	assert.Equal(t, canonical.EventReturnAuthorized, e.Type, "event type")
	assert.Equal(t, "ord-r1", e.PartitionKey, "partitioned by the order")
	got, err := canonical.DecodeData[canonical.Return](e)
	require.NoError(t, err, "decode the return")
	assert.Equal(t, r.ID, got.ID, "the event carries the return")
}
