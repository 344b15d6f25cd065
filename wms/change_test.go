package wms_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
)

func lineDelta(id, v string) connector.ReleaseLineChange {
	return connector.ReleaseLineChange{LineID: id, Delta: qty(v)}
}

// changeOf returns the result of field of line (or of the order, line "").
func changeOf(t *testing.T, r connector.ReleaseChangeResult, line, field string) canonical.ChangeResult {
	t.Helper()
	for _, x := range r.Results {
		if x.LineID == line && x.Field == field {
			require.NoError(t, x.Validate(), "result %s %s", line, field)
			return x
		}
	}
	t.Fatalf("no result for %s %s in %+v", line, field, r.Results)
	return canonical.ChangeResult{}
}

func TestChangeRelease(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	// Line 1: 10 hammers; line 2: 20 drills of which WH-EAST has 10.
	release(t, m, makeFO("fo-ch", "WH-EAST", line{"SKU-100", "10"}, line{"SKU-103", "20"}))

	// Before allocation: more hammers and another ship-to are applied.
	r, err := m.ChangeRelease(ctx, "ch-1", connector.ReleaseChange{FulfillmentOrderID: "fo-ch",
		Lines: []connector.ReleaseLineChange{lineDelta("fo-ch:1", "5")}, ShipTo: &canonical.PartyRef{ID: "C-1-STORE"}})
	require.NoError(t, err)
	assert.Equal(t, canonical.ChangeApplied, changeOf(t, r, "fo-ch:1", canonical.ChangeFieldQuantity).Outcome)
	assert.Equal(t, canonical.ChangeApplied, changeOf(t, r, "", canonical.ChangeFieldShipTo).Outcome)
	fo, err := m.FulfillmentOrder(ctx, "fo-ch")
	require.NoError(t, err)
	assert.Equal(t, "C-1-STORE", fo.ShipTo.ID, "the new ship-to")

	step(t, m, 1) // allocate: 15 hammers, 10 drills, 10 backordered
	_, u := lastAllocation(t, m, "fo-ch")
	assert.Equal(t, "15", u.Lines[0].Allocated.Value.String(), "the increase is allocated")

	// 12 drills fewer: the 10 backordered and 2 allocated ones.
	r, err = m.ChangeRelease(ctx, "ch-2", connector.ReleaseChange{FulfillmentOrderID: "fo-ch", Lines: []connector.ReleaseLineChange{lineDelta("fo-ch:2", "-12")}})
	require.NoError(t, err)
	x := changeOf(t, r, "fo-ch:2", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangeApplied, x.Outcome)
	assert.Equal(t, "-12 EA", x.Applied.String())
	_, avail := onHand(t, m, "WH-EAST", "SKU-103")
	assert.Equal(t, "2", avail, "the allocated drills are free again")
	cancels := ofType(allEvents(t, m), canonical.EventFulfillmentCancelled, "fo-ch")
	require.Len(t, cancels, 1, "the decrease is on the feed")
	data, err := canonical.DecodeData[canonical.FulfillmentOrder](cancels[0])
	require.NoError(t, err)
	assert.Equal(t, "12", data.Lines[0].Quantity.Value.String(), "as a cancellation of 12")
	_, u = lastAllocation(t, m, "fo-ch")
	assert.Equal(t, "8", u.Lines[1].Allocated.Value.String(), "and an allocation update")
	assert.True(t, u.Lines[1].Backordered.IsZero(), "nothing backordered")

	step(t, m, 1) // pick everything allocated
	r, err = m.ChangeRelease(ctx, "ch-3", connector.ReleaseChange{FulfillmentOrderID: "fo-ch",
		Lines: []connector.ReleaseLineChange{lineDelta("fo-ch:1", "-20")}, ShipComplete: new(true)})
	require.NoError(t, err)
	x = changeOf(t, r, "fo-ch:1", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangeRefused, x.Outcome, "picked goods are not changed")
	assert.Equal(t, canonical.ChangeReasonPicked, x.Reason)
	assert.Equal(t, "-20 EA", x.Refused.String())
	assert.Equal(t, canonical.ChangeReasonPicked, changeOf(t, r, "", canonical.ChangeFieldShipComplete).Reason, "no header change after picking")

	_, err = m.Settle(ctx, 20)
	require.NoError(t, err)
	r, err = m.ChangeRelease(ctx, "ch-4", connector.ReleaseChange{FulfillmentOrderID: "fo-ch",
		Lines: []connector.ReleaseLineChange{lineDelta("fo-ch:1", "1"), lineDelta("fo-ch:2", "-1")}})
	require.NoError(t, err)
	assert.Equal(t, canonical.ChangeReasonShipped, changeOf(t, r, "fo-ch:1", canonical.ChangeFieldQuantity).Reason, "a shipped order takes no more")
	assert.Equal(t, canonical.ChangeReasonShipped, changeOf(t, r, "fo-ch:2", canonical.ChangeFieldQuantity).Reason, "nor less")
	assert.Equal(t, map[string]string{"fo-ch:1": "15", "fo-ch:2": "8"}, sumShipped(t, shipments(t, m, "fo-ch")), "shipped what the changes left")
	assert.Equal(t, 2, m.Counts().Changes, "two calls changed something")

	// Replays.
	again, err := m.ChangeRelease(ctx, "ch-2", connector.ReleaseChange{FulfillmentOrderID: "fo-ch", Lines: []connector.ReleaseLineChange{lineDelta("fo-ch:2", "-12")}})
	require.NoError(t, err)
	assert.Equal(t, "-12 EA", changeOf(t, again, "fo-ch:2", canonical.ChangeFieldQuantity).Applied.String(), "the first result")
	assert.Equal(t, 2, m.Counts().Changes, "a replay changes nothing")
	_, err = m.ChangeRelease(ctx, "ch-2", connector.ReleaseChange{FulfillmentOrderID: "fo-ch", Lines: []connector.ReleaseLineChange{lineDelta("fo-ch:2", "-11")}})
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "the key with another request")
}

func TestChangeReleaseErrors(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	release(t, m, makeFO("fo-e", "WH-EAST", line{"SKU-100", "10"}))
	tests := []struct {
		name  string
		key   string
		req   connector.ReleaseChange
		code  connector.Code
		field string
	}{
		{"no key", "", connector.ReleaseChange{FulfillmentOrderID: "fo-e"}, connector.CodeInvalid, "key"},
		{"no ID", "k", connector.ReleaseChange{}, connector.CodeInvalid, "fulfillmentOrderId"},
		{"unknown", "k", connector.ReleaseChange{FulfillmentOrderID: "nope"}, connector.CodeNotFound, `"nope"`},
		{"unknown line", "k", connector.ReleaseChange{FulfillmentOrderID: "fo-e", Lines: []connector.ReleaseLineChange{lineDelta("x", "1")}}, connector.CodeInvalid, "lines[0].lineId"},
		{"repeated line", "k", connector.ReleaseChange{FulfillmentOrderID: "fo-e", Lines: []connector.ReleaseLineChange{lineDelta("fo-e:1", "1"), lineDelta("fo-e:1", "1")}}, connector.CodeInvalid, "lines[1].lineId"},
		{"zero", "k", connector.ReleaseChange{FulfillmentOrderID: "fo-e", Lines: []connector.ReleaseLineChange{lineDelta("fo-e:1", "0")}}, connector.CodeInvalid, "lines[0].delta.value"},
		{"unit", "k", connector.ReleaseChange{FulfillmentOrderID: "fo-e", Lines: []connector.ReleaseLineChange{{LineID: "fo-e:1", Delta: canonical.MustParseQuantity("1", "XCS")}}}, connector.CodeInvalid, "lines[0].delta.unit"},
		{"ship-to", "k", connector.ReleaseChange{FulfillmentOrderID: "fo-e", ShipTo: &canonical.PartyRef{}}, connector.CodeInvalid, "shipTo.id"},
	}
	for _, tt := range tests {
		_, err := m.ChangeRelease(ctx, tt.key, tt.req)
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: %v", tt.name, err)
		if err != nil {
			assert.Contains(t, err.Error(), tt.field, "%s names the field", tt.name)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := m.ChangeRelease(cctx, "k", connector.ReleaseChange{FulfillmentOrderID: "fo-e", Lines: []connector.ReleaseLineChange{lineDelta("fo-e:1", "1")}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, m.Counts().Changes, "no error changed anything")
}
