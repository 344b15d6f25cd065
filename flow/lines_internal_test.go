package flow

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestLineLookupsLinear runs the per-line lookups the flow makes under its
// mutex on documents of DefaultMaxLines lines: the release of a held order
// (releasedLines), the check and the limits of a cancel request, the merge
// of a shipment's invoiced quantities, the check of a return and of its
// receipt, and checks their results. One scan of the other list per line
// took about 1.8 s in all; BenchmarkLineLookups measures them now.
func TestLineLookupsLinear(t *testing.T) {
	lineLookups(t, DefaultMaxLines)
}

// BenchmarkLineLookups measures the lookups of TestLineLookupsLinear on
// documents of DefaultMaxLines lines.
func BenchmarkLineLookups(b *testing.B) {
	for b.Loop() {
		lineLookups(b, DefaultMaxLines)
	}
}

// lineLookups builds documents of n lines and runs the lookups on them.
func lineLookups(t testing.TB, n int) {
	lines := make([]canonical.OrderLine, n)
	held := make([]canonical.AckLine, n)
	cancel := canonical.CancelRequest{ID: "C", OrderID: "O"}
	qe := make([]canonical.QuantityEvent, n)
	ret := canonical.Return{ID: "R", Version: 1, RMANumber: "RMA-1", OrderID: "O", Customer: canonical.PartyRef{ID: "C"},
		Warehouse: "WH", AuthorizedAt: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	for i := range lines {
		id := "L" + strconv.Itoa(i+1)
		q := canonical.MustParseQuantity("1", "EA")
		lines[i] = canonical.OrderLine{ID: id, Item: canonical.ItemRef{SKU: "S"}, Quantity: q}
		lines[i].Buckets.Set(canonical.BucketShipped, q.Value)
		held[i] = canonical.AckLine{LineID: id, Result: canonical.LineAccepted}
		if i == n-1 {
			held[i].Result = canonical.LineRejected
		}
		cancel.Lines = append(cancel.Lines, canonical.CancelLine{LineID: id, Quantity: q})
		qe[i] = canonical.QuantityEvent{LineID: id, Value: q.Value}
		ret.Lines = append(ret.Lines, canonical.ReturnLine{ID: "R" + id, OrderLineID: id, Item: canonical.ItemRef{SKU: "S"},
			Authorized: q, Received: canonical.MustParseQuantity("0", "EA")})
	}
	rcv := ret
	rcv.Lines = make([]canonical.ReturnLine, n)
	for i, l := range ret.Lines {
		l.Received = l.Authorized
		rcv.Lines[n-1-i] = l // in another order
	}
	o := canonical.Order{ID: "O", Lines: lines}
	st := &orderState{order: o}

	out := releasedLines(lines, held, lines)
	require.NoError(t, checkCancelLines(&o, cancel), "checkCancelLines")
	lim, err := limits(&o, cancel)
	require.NoError(t, err, "limits")
	merged := mergeEvents(append(qe, qe...))
	known, rerr := checkReturnLocked(st, ret)
	require.NoError(t, rerr, "checkReturnLocked")
	require.NoError(t, checkReceipt(ret, rcv), "checkReceipt")

	assert.Len(t, out, n, "released lines")
	assert.Equal(t, canonical.LineRejected, out[n-1].Result, "the line rejected on hold")
	assert.Equal(t, canonical.LineAccepted, out[0].Result, "a line accepted on hold")
	assert.Len(t, lim, n, "cancel limits")
	require.Len(t, merged, n, "merged events")
	assert.Equal(t, "2", merged[0].Value.String(), "a merged line")
	assert.False(t, known, "a new return")
}
