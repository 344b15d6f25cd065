package flow

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeState decodes arbitrary bytes as the stored state of order
// ORD-000001 (the seeds under testdata/fuzz are states a flow stored: a
// split order shipped and invoiced, an order on hold, one on hold with a
// line the ERP rejected, a rejected order, an order returned in part and
// then asked to cancel; version 1 states, which the flow encodes again as
// version 2).
// Bad bytes give an error matching ErrBadState that names the order, never
// a panic; a state that decodes folds without panicking and encodes to
// json.Marshal's bytes of its record, which decode to the same encoding.
func FuzzDecodeState(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"v":1}`, `{"v":2,"order":{}}`, `null`, `{"v":1,"order":{"id":"ORD-000001"}}`,
		`{"v":1,"order":{"id":"ORD-000001","lines":[{}]},"phase":"released","invOrder":["S1"]}`,
		`{"v":1,"order":{"id":"ORD-000001","lines":[{}]},"phase":"released","alloc":{"FO":null}}`,
		`{"v":2,"order":{"id":"ORD-000001","lines":[{}]},"phase":"accepted","plan":[{"id":"FO-2"}],"planIds":["FO-1","FO-2"],"released":{"FO-1":{"id":"FO-1","releasedAt":"2026-01-02T03:04:05Z"}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const id = "ORD-000001"
		st, err := decodeState(id, data)
		if err != nil {
			require.ErrorIs(t, err, ErrBadState, "decode %q", data)
			require.True(t, strings.Contains(err.Error(), `"`+id+`"`), "error %q names the order", err)
			return
		}
		var fl Flow
		_ = fl.foldLocked(st)
		b, err := encodeState(st)
		require.NoError(t, err, "encode the state decoded from %q", data)
		want, err := json.Marshal(recordOf(st, nil))
		require.NoError(t, err, "json.Marshal the record of %q", data)
		require.Equal(t, string(want), string(b), "encodeState gives json.Marshal's bytes for %q", data)
		st2, err := decodeState(id, b)
		require.NoError(t, err, "decode the encoding %q of %q", b, data)
		b2, err := encodeState(st2)
		require.NoError(t, err, "encode again %q", b)
		require.Equal(t, string(b), string(b2), "round trip of %q", data)
	})
}

// TestDecodeStateNullAllocation: a stored allocation update that is null
// reads as the zero update (the flow holds its updates by pointer, but
// reads and writes states as it did when it held them in place), so the
// state folds and encodes it as the zero update.
func TestDecodeStateNullAllocation(t *testing.T) {
	st, err := decodeState("ORD-000001", []byte(`{"v":1,"order":{"id":"ORD-000001","lines":[{}]},"phase":"released","alloc":{"FO":null}}`))
	require.NoError(t, err, "decode")
	var fl Flow
	require.NoError(t, fl.foldLocked(st), "fold")
	b, err := encodeState(st)
	require.NoError(t, err, "encode")
	require.Contains(t, string(b), `"alloc":{"FO":{"fulfillmentOrderId":"","orderId":"","warehouse":"","asOf":"0001-01-01T00:00:00Z","sequence":0,"lines":null}}`,
		"the null update is encoded as the zero update")
}
