package flow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestEncodeStatePlanOnce: a version 2 state stores a planned fulfilment
// order once when its released copy holds it as planned (the split-shipped
// seed, a version 1 state, loses its two planned fulfilment orders,
// about 900 bytes), decodes to the same plan as the version 1 state did,
// and keeps whole a planned fulfilment order the WMS released changed.
func TestEncodeStatePlanOnce(t *testing.T) {
	seed := seedState(t)
	require.True(t, strings.HasPrefix(string(seed), `{"v":1,`), "the seed is a version 1 state")
	st, err := decodeState("ORD-000001", seed)
	require.NoError(t, err, "decode the seed")
	require.Len(t, st.plan, 2, "the seed's plan")

	b, err := encodeState(st)
	require.NoError(t, err, "encode")
	assert.True(t, strings.HasPrefix(string(b), `{"v":2,`), "encoded as version 2")
	assert.NotContains(t, string(b), `"plan":`, "no planned fulfilment order stored whole")
	assert.Contains(t, string(b), `"planIds":["`+st.plan[0].ID+`","`+st.plan[1].ID+`"]`, "the plan's IDs")
	t.Logf("%d bytes, %d as version 1", len(b), len(seed))
	assert.Less(t, len(b), len(seed)-800, "the plan stored once")
	again, err := decodeState("ORD-000001", b)
	require.NoError(t, err, "decode version 2")
	assert.Equal(t, st.plan, again.plan, "the plan decoded from version 2")
	assert.Equal(t, st.released, again.released, "the released fulfilment orders")

	// A WMS that released the second one with one unit less.
	fo := st.released[st.plan[1].ID]
	fo.Lines = append([]canonical.FulfillmentLine(nil), fo.Lines...)
	fo.Lines[0].Quantity.Value, err = fo.Lines[0].Quantity.Value.Sub(canonical.DecimalFromInt(1))
	require.NoError(t, err, "one less")
	st.released[st.plan[1].ID] = fo
	b, err = encodeState(st)
	require.NoError(t, err, "encode with a changed release")
	assert.Contains(t, string(b), `"plan":[{"id":"`+st.plan[1].ID+`"`, "the changed one stored whole")
	again, err = decodeState("ORD-000001", b)
	require.NoError(t, err, "decode")
	assert.Equal(t, st.plan, again.plan, "the plan")
}

// TestDecodeStatePlanIDs: plan IDs that name a fulfilment order neither
// stored nor released, that leave a stored one out, or in a version 1
// state, are a bad state.
func TestDecodeStatePlanIDs(t *testing.T) {
	const head = `{"v":%s,"order":{"id":"ORD-000001","lines":[{}]},"phase":"accepted",`
	for _, tc := range []struct{ v, rest string }{
		{"2", `"planIds":["FO-1"]}`},
		{"2", `"plan":[{"id":"FO-2"}],"planIds":["FO-1"]}`},
		{"1", `"plan":[{"id":"FO-1"}],"planIds":["FO-1"]}`},
	} {
		data := strings.Replace(head, "%s", tc.v, 1) + tc.rest
		_, err := decodeState("ORD-000001", []byte(data))
		assert.ErrorIs(t, err, ErrBadState, "%s", data)
	}
	_, err := decodeState("ORD-000001", []byte(strings.Replace(head, "%s", "2", 1)+`"plan":[{"id":"FO-1"}],"planIds":["FO-1"]}`))
	assert.NoError(t, err, "a plan stored whole with its IDs")
}
