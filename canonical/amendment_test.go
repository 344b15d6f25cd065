package canonical_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func amendmentFixture() canonical.OrderAmendment {
	rej, conf := qty("2", "EA"), qty("5", "XCS")
	price := canonical.MustParseMoney("11.40", "USD")
	promised := t0.Add(72 * time.Hour)
	return canonical.OrderAmendment{ID: "EAM-1", OrderID: "ord-1", Revision: 1, Reason: "price list corrected", AmendedAt: t0,
		Lines: []canonical.AmendedLine{{LineID: "L1", Rejected: &rej, UnitPrice: &price}, {LineID: "L2", Confirmed: &conf, PromisedDate: &promised}}}
}

func TestOrderAmendment(t *testing.T) {
	type A = canonical.OrderAmendment
	checkRules(t, "order amendment", amendmentFixture, []ruleCase[A]{
		{"id", func(a *A) { a.ID = "" }, "id", "is required"},
		{"order id", func(a *A) { a.OrderID = "" }, "orderId", "is required"},
		{"revision zero", func(a *A) { a.Revision = 0 }, "revision", "must be > 0, is 0"},
		{"revision negative", func(a *A) { a.Revision = -3 }, "revision", "must be > 0, is -3"},
		{"amended at", func(a *A) { a.AmendedAt = time.Time{} }, "amendedAt", "is required"},
		{"no lines", func(a *A) { a.Lines = nil }, "lines", "at least one line"},
		{"line id", func(a *A) { a.Lines[1].LineID = "" }, "lines[1].lineId", "is required"},
		{"unique lines", func(a *A) { a.Lines[1].LineID = "L1" }, "lines[1].lineId", `duplicate "L1"`},
		{"amends nothing", func(a *A) { a.Lines[0] = canonical.AmendedLine{LineID: "L1"} }, "lines[0]", "amends nothing"},
		{"rejected negative", func(a *A) { q := qty("-1", "EA"); a.Lines[0].Rejected = &q }, "lines[0].rejected.value", "-1"},
		{"confirmed unit", func(a *A) {
			q := canonical.Quantity{Value: canonical.MustParseDecimal("1"), Unit: "CS"}
			a.Lines[1].Confirmed = &q
		}, "lines[1].confirmed.unit", "CS"},
		{"price negative", func(a *A) { m := canonical.MustParseMoney("-1", "USD"); a.Lines[0].UnitPrice = &m }, "lines[0].unitPrice.amount", "must not be negative"},
	})
	checkJSONRoundTrip(t, "order amendment", amendmentFixture())

	zero := qty("0", "EA")
	a := amendmentFixture()
	a.Lines[0].Rejected = &zero
	assert.NoError(t, a.Validate(), "a zero rejected total is valid")

	ev, err := canonical.NewEvent(canonical.EventOrderAmended, amendmentFixture())
	require.NoError(t, err, "order.amended event")
	back, err := canonical.DecodeData[canonical.OrderAmendment](ev)
	require.NoError(t, err, "decode order.amended event")
	assert.Equal(t, amendmentFixture(), back, "amendment through an event")
	_, err = canonical.DecodeData[canonical.Order](ev)
	assert.ErrorIs(t, err, canonical.ErrEventType, "an order.amended event does not carry an order")
}
