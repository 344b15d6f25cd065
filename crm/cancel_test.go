package crm_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

func TestRequestCancellation(t *testing.T) {
	ctx := context.Background()
	m := newCRM(t)
	o := convert(t, m)
	line := o.Lines[0]
	q := func(v string, u canonical.Unit) canonical.Quantity { return canonical.MustParseQuantity(v, string(u)) }
	tests := []struct {
		name  string
		order string
		lines []canonical.CancelLine
		code  connector.Code
		field string
	}{
		{name: "unknown order", order: "ORD-999999", code: connector.CodeNotFound, field: `"ORD-999999"`},
		{name: "unknown line", order: o.ID, lines: []canonical.CancelLine{{LineID: "L9", Quantity: q("1", line.Quantity.Unit)}}, code: connector.CodeInvalid, field: "lines[0].lineId"},
		{name: "wrong unit", order: o.ID, lines: []canonical.CancelLine{{LineID: line.ID, Quantity: q("1", "XCS")}}, code: connector.CodeInvalid, field: "lines[0].quantity.unit"},
		{name: "zero", order: o.ID, lines: []canonical.CancelLine{{LineID: line.ID, Quantity: q("0", line.Quantity.Unit)}}, code: connector.CodeInvalid, field: "lines[0].quantity.value"},
		{name: "duplicate line", order: o.ID, lines: []canonical.CancelLine{{LineID: line.ID, Quantity: q("1", line.Quantity.Unit)}, {LineID: line.ID, Quantity: q("1", line.Quantity.Unit)}},
			code: connector.CodeInvalid, field: "lines[1].lineId"},
	}
	for _, tt := range tests {
		_, err := m.RequestCancellation(ctx, tt.order, tt.lines, "")
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: code of %v", tt.name, err)
		if err != nil {
			assert.Contains(t, err.Error(), tt.field, "%s: error names the field", tt.name)
		}
	}
	page, err := m.PollOrders(ctx, "", 100)
	require.NoError(t, err, "PollOrders")
	require.Len(t, page.Events, 1, "refused requests put nothing on the feed")

	r, err := m.RequestCancellation(ctx, o.ID, []canonical.CancelLine{{LineID: line.ID, Quantity: q("1", line.Quantity.Unit)}}, "customer call")
	require.NoError(t, err, "RequestCancellation")
	assert.Equal(t, "CCR-000001", r.ID, "the first request's ID (refused ones use none)")
	r2, err := m.RequestCancellation(ctx, o.ID, nil, "")
	require.NoError(t, err, "RequestCancellation of everything open")
	assert.True(t, r2.All(), "a request without lines cancels every open quantity")
	page, err = m.PollOrders(ctx, page.Next, 100)
	require.NoError(t, err, "PollOrders after the requests")
	require.Len(t, page.Events, 2, "two requests on the feed after the order")
	for i, e := range page.Events {
		assert.Equal(t, canonical.EventOrderCancelRequested, e.Type, "event %d type", i)
		assert.Equal(t, o.ID, e.Subject, "event %d subject", i)
		assert.Equal(t, uint64(i+2), e.Sequence, "event %d: the order's submission is sequence 1", i)
		got, err := canonical.DecodeData[canonical.CancelRequest](e)
		require.NoError(t, err, "decode event %d", i)
		assert.Equal(t, crm.System, got.RequestedBy, "event %d requested by", i)
		assert.Equal(t, o.ID, got.OrderID, "event %d order", i)
	}
	_, err = m.RequestCancellation(canceledContext(), o.ID, nil, "")
	assert.ErrorIs(t, err, context.Canceled, "a cancelled context")
}

func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestRequestCancellationManyBadLines: a request of 60,000 lines that all name
// unknown lines is refused in one pass, listing at most
// canonical.MaxViolations violations and counting the rest.
func TestRequestCancellationManyBadLines(t *testing.T) {
	ctx := context.Background()
	m := newCRM(t)
	o := convert(t, m)
	unit := o.Lines[0].Quantity.Unit
	const n = 60000
	lines := make([]canonical.CancelLine, n)
	for i := range lines {
		lines[i] = canonical.CancelLine{LineID: "X" + strconv.Itoa(i), Quantity: canonical.MustParseQuantity("1", string(unit))}
	}
	_, err := m.RequestCancellation(ctx, o.ID, lines, "")
	require.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "code of %v", err)
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve, "a validation error")
	assert.Len(t, ve.Errors, canonical.MaxViolations, "violations listed")
	assert.Equal(t, n, ve.Count(), "every unknown line is counted")
	assert.Contains(t, err.Error(), "more", "the message says how many more")
}
