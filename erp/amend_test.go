package erp_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
)

func qp(v, unit string) *canonical.Quantity {
	q := canonical.MustParseQuantity(v, unit)
	return &q
}

func TestAmendOrder(t *testing.T) {
	ctx := context.Background()
	m := newERP(t, erp.Config{})
	o := newOrder("ord-a1", "C-1", line{"SKU-100", "10", "EA", "12.50"}, line{"SKU-104", "2", "XCS", "37.20"})
	_, err := m.AcceptOrder(ctx, "accept-a1", &o)
	require.NoError(t, err, "AcceptOrder")
	_, err = m.PostShipment(ctx, "ship-a1", shipment(o, "shp-a1", "4", ""))
	require.NoError(t, err, "PostShipment 4 of L1")
	eur := canonical.MustParseMoney("1", "EUR")

	tests := []struct {
		name  string
		order string
		lines []canonical.AmendedLine
		code  connector.Code
		field string // named in the error
	}{
		{"unknown order", "nope", []canonical.AmendedLine{{LineID: "L1", Rejected: qp("1", "EA")}}, connector.CodeNotFound, `"nope"`},
		{"no lines", "ord-a1", nil, connector.CodeInvalid, "lines"},
		{"amends nothing", "ord-a1", []canonical.AmendedLine{{LineID: "L1"}}, connector.CodeInvalid, "lines[0]"},
		{"unknown line", "ord-a1", []canonical.AmendedLine{{LineID: "L9", Rejected: qp("1", "EA")}}, connector.CodeInvalid, "lines[0].lineId"},
		{"rejected unit", "ord-a1", []canonical.AmendedLine{{LineID: "L2", Rejected: qp("1", "EA")}}, connector.CodeInvalid, "lines[0].rejected.unit"},
		{"rejected above open and unshipped", "ord-a1", []canonical.AmendedLine{{LineID: "L1", Rejected: qp("7", "EA")}}, connector.CodeConflict, "unshipped 6"},
		{"confirmed above open", "ord-a1", []canonical.AmendedLine{{LineID: "L2", Confirmed: qp("3", "XCS")}}, connector.CodeInvalid, "lines[0].confirmed.value"},
		{"confirmed above open after the rejection", "ord-a1", []canonical.AmendedLine{{LineID: "L1", Rejected: qp("2", "EA"), Confirmed: qp("9", "EA")}}, connector.CodeInvalid, "lines[0].confirmed.value"},
		{"price currency", "ord-a1", []canonical.AmendedLine{{LineID: "L1", UnitPrice: &eur}}, connector.CodeInvalid, "lines[0].unitPrice.currency"},
	}
	for _, tt := range tests {
		_, err := m.AmendOrder(ctx, tt.order, tt.lines, "kit")
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: code of %v", tt.name, err)
		if err != nil {
			assert.Contains(t, err.Error(), tt.field, "%s: error names the field", tt.name)
		}
	}
	p, err := m.PollEvents(ctx, "", 100)
	require.NoError(t, err, "PollEvents")
	assert.Empty(t, p.Events, "refused amendments put nothing on the feed")

	price := canonical.MustParseMoney("11.90", "USD")
	promised := time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)
	a1, err := m.AmendOrder(ctx, "ord-a1", []canonical.AmendedLine{{LineID: "L1", Rejected: qp("2", "EA"), UnitPrice: &price},
		{LineID: "L2", Confirmed: qp("1", "XCS"), PromisedDate: &promised}}, "price list corrected")
	require.NoError(t, err, "AmendOrder 1")
	assert.Equal(t, int64(1), a1.Revision, "first revision")
	assert.Equal(t, "EAM-000001", a1.ID, "first ID")
	a2, err := m.AmendOrder(ctx, "ord-a1", []canonical.AmendedLine{{LineID: "L1", Rejected: qp("3", "EA")}}, "stock written off")
	require.NoError(t, err, "AmendOrder 2")
	assert.Equal(t, int64(2), a2.Revision, "second revision")
	_, err = m.AmendOrder(ctx, "ord-a1", []canonical.AmendedLine{{LineID: "L1", Rejected: qp("1", "EA")}}, "take back")
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "a lower rejected total: %v", err)

	got, err := m.GetOrder(ctx, "ord-a1")
	require.NoError(t, err, "GetOrder")
	assert.Equal(t, "3", got.Line("L1").Buckets.Get(canonical.BucketRejected).String(), "L1 rejected")
	assert.Equal(t, "11.90", got.Line("L1").UnitPrice.Amount.String(), "L1 price")
	assert.Equal(t, "1", got.Line("L2").Buckets.Get(canonical.BucketConfirmed).String(), "L2 confirmed")
	assert.True(t, promised.Equal(got.Line("L2").PromisedDate), "L2 promised date")

	p, err = m.PollEvents(ctx, "", 100)
	require.NoError(t, err, "PollEvents")
	require.Len(t, p.Events, 2, "two amendments on the feed")
	for i, want := range []canonical.OrderAmendment{a1, a2} {
		e := p.Events[i]
		assert.Equal(t, canonical.EventOrderAmended, e.Type, "event %d type", i)
		assert.Equal(t, "ord-a1", e.Subject, "event %d subject", i)
		got, err := canonical.DecodeData[canonical.OrderAmendment](e)
		require.NoError(t, err, "decode event %d", i)
		assert.Equal(t, want.Revision, got.Revision, "event %d revision", i)
	}

	// What the warehouses kept of a rejection comes back.
	r := connector.AmendmentReport{OrderID: "ord-a1", AmendmentID: a2.ID, Revision: 2, Kept: []connector.LineQuantity{lq("L1", "1", "EA")}, Reason: "picked"}
	for _, tt := range []struct {
		name string
		key  string
		r    connector.AmendmentReport
		code connector.Code
	}{
		{"no key", "", r, connector.CodeInvalid},
		{"unknown order", "k0", connector.AmendmentReport{OrderID: "nope"}, connector.CodeNotFound},
		{"unknown line", "k1", connector.AmendmentReport{OrderID: "ord-a1", Kept: []connector.LineQuantity{lq("L9", "1", "EA")}}, connector.CodeInvalid},
		{"unit", "k2", connector.AmendmentReport{OrderID: "ord-a1", Kept: []connector.LineQuantity{lq("L1", "1", "XCS")}}, connector.CodeInvalid},
		{"zero", "k3", connector.AmendmentReport{OrderID: "ord-a1", Kept: []connector.LineQuantity{lq("L1", "0", "EA")}}, connector.CodeInvalid},
		{"more than rejected", "k4", connector.AmendmentReport{OrderID: "ord-a1", Kept: []connector.LineQuantity{lq("L1", "4", "EA")}}, connector.CodeConflict},
	} {
		_, err := m.ReportAmendment(ctx, tt.key, tt.r)
		assert.Equal(t, tt.code, connector.CodeOf(err), "ReportAmendment %s: %v", tt.name, err)
	}
	for i := range 2 {
		got, err = m.ReportAmendment(ctx, "report-1", r)
		require.NoError(t, err, "ReportAmendment %d", i)
		assert.Equal(t, "2", got.Line("L1").Buckets.Get(canonical.BucketRejected).String(), "L1 rejected after report %d", i)
	}
	r.Kept[0].Quantity = canonical.MustParseQuantity("2", "EA")
	_, err = m.ReportAmendment(ctx, "report-1", r)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "the key with another report")
	// The kept quantity ships and is invoiced: 4 shipped + 4 more = 8 = 10 − 2 rejected.
	_, err = m.PostShipment(ctx, "ship-a2", shipment(o, "shp-a2", "4", ""))
	require.NoError(t, err, "PostShipment of the kept quantity")
}
