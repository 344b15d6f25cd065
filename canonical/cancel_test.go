package canonical_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func cancelFixture() canonical.CancelRequest {
	return canonical.CancelRequest{ID: "CR-1", OrderID: "ord-1", RequestedBy: "crm", Reason: "customer changed plans", RequestedAt: t0,
		Lines: []canonical.CancelLine{{LineID: "L1", Quantity: qty("4", "EA")}, {LineID: "L2", Quantity: qty("1", "XCS")}}}
}

func TestCancelRequest(t *testing.T) {
	type C = canonical.CancelRequest
	checkRules(t, "cancel request", cancelFixture, []ruleCase[C]{
		{"id", func(c *C) { c.ID = "" }, "id", "is required"},
		{"order id", func(c *C) { c.OrderID = "" }, "orderId", "is required"},
		{"requested by", func(c *C) { c.RequestedBy = "" }, "requestedBy", "is required"},
		{"requested at", func(c *C) { c.RequestedAt = time.Time{} }, "requestedAt", "is required"},
		{"line id", func(c *C) { c.Lines[1].LineID = "" }, "lines[1].lineId", "is required"},
		{"unique lines", func(c *C) { c.Lines[1].LineID = "L1" }, "lines[1].lineId", `duplicate "L1"`},
		{"quantity positive", func(c *C) { c.Lines[0].Quantity = qty("0", "EA") }, "lines[0].quantity.value", "must be > 0, is 0"},
		{"quantity not negative", func(c *C) { c.Lines[0].Quantity = qty("-2", "EA") }, "lines[0].quantity.value", "must be > 0, is -2"},
		{"quantity unit", func(c *C) { c.Lines[1].Quantity.Unit = "CS" }, "lines[1].quantity.unit", "CS"},
	})
	checkJSONRoundTrip(t, "cancel request", cancelFixture())

	all := cancelFixture()
	all.Lines = nil
	require.NoError(t, all.Validate(), "a request without lines cancels the whole remainder")
	assert.True(t, all.All(), "no lines: All")
	assert.False(t, cancelFixture().All(), "lines: not All")

	// Every violation is reported at once.
	bad := canonical.CancelRequest{Lines: []canonical.CancelLine{{}}}
	var ve *canonical.ValidationError
	require.ErrorAs(t, bad.Validate(), &ve, "empty request")
	for _, f := range []string{"id", "orderId", "requestedBy", "requestedAt", "lines[0].lineId", "lines[0].quantity.value", "lines[0].quantity.unit"} {
		assert.True(t, ve.Has(f), "empty request: violation of %s in %v", f, ve)
	}

	ev, err := canonical.NewEvent(canonical.EventOrderCancelRequested, cancelFixture())
	require.NoError(t, err, "cancel_requested event")
	back, err := canonical.DecodeData[canonical.CancelRequest](ev)
	require.NoError(t, err, "decode cancel_requested event")
	assert.Equal(t, cancelFixture(), back, "cancel request through an event")
	_, err = canonical.DecodeData[canonical.Order](ev)
	assert.ErrorIs(t, err, canonical.ErrEventType, "a cancel_requested event does not carry an order")
}

// FuzzCancelRequestJSON checks that decoding a cancel request never
// panics, that errors match ErrInvalid, and that a decoded valid request
// encodes and decodes back to the same, valid request.
func FuzzCancelRequestJSON(f *testing.F) {
	valid, err := json.Marshal(cancelFixture())
	require.NoError(f, err, "encode seed")
	for _, seed := range []string{
		string(valid),
		`{"id":"x","orderId":"o","requestedBy":"erp","requestedAt":"2026-01-05T08:00:00Z"}`,
		`{"lines":[{"lineId":"L1","quantity":{"value":"1.5","unit":"KGM"}}]}`,
		`{"lines":[{"quantity":{"value":"x","unit":"EA"}}]}`,
		`{"lines":{}}`,
		`{"requestedAt":"yesterday"}`,
		`[`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		c, err := canonical.Decode[canonical.CancelRequest](input)
		if err != nil {
			require.ErrorIs(t, err, canonical.ErrInvalid, "decode error of %q", input)
			var de *canonical.DecodeError
			require.ErrorAs(t, err, &de, "decode error of %q", input)
			assert.Equal(t, canonical.KindCancelRequest, de.Kind, "kind in the error of %q", input)
			return
		}
		if err := c.Validate(); err != nil {
			// An invalid request (an empty unit) need not survive
			// encoding; it must only be refused with ErrInvalid.
			require.ErrorIs(t, err, canonical.ErrInvalid, "validation error of %q", input)
			return
		}
		enc, err := json.Marshal(c)
		require.NoError(t, err, "encode request decoded from %q", input)
		back, err := canonical.Decode[canonical.CancelRequest](enc)
		require.NoError(t, err, "decode %s (encoded from %q)", enc, input)
		enc2, err := json.Marshal(back)
		require.NoError(t, err, "re-encode %s", enc)
		require.Equal(t, string(enc), string(enc2), "encode→decode→encode is stable for %q", input)
		assert.Equal(t, c.All(), back.All(), "All after a round trip of %q ([] and null lines both mean all)", input)
		if len(c.Lines) > 0 {
			assert.Equal(t, c.Lines, back.Lines, "lines after a round trip of %q", input)
		}
		assert.NoError(t, back.Validate(), "a valid request stays valid after a round trip of %q", input)
	})
}
