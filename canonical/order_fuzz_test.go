package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// FuzzOrderJSON checks that decoding never panics, that every failure is a
// *DecodeError matching ErrInvalid, and that a decoded valid order
// re-encodes and decodes to an equal, still valid order with the same
// status. Seeds are in testdata/fuzz/FuzzOrderJSON.
func FuzzOrderJSON(f *testing.F) {
	o := sampleOrder(2)
	o.Lines[0].Buckets = bk("ordered", "10", "allocated", "10", "shipped", "4.5")
	o.Holds = []canonical.Hold{{Kind: canonical.HoldTax, PlacedAt: t0}}
	seed, err := json.Marshal(&o)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"id":"o","currency":"USD","lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":1,"unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := canonical.DecodeOrder(data)
		if err != nil {
			require.ErrorIs(t, err, canonical.ErrInvalid, "input %q", data)
			var de *canonical.DecodeError
			require.ErrorAs(t, err, &de, "input %q", data)
			return
		}
		st := o.Status()
		if o.Validate() != nil {
			return
		}
		enc, err := json.Marshal(&o)
		require.NoError(t, err, "encode the valid order decoded from %q", data)
		o2, err := canonical.DecodeOrder(enc)
		require.NoError(t, err, "decode %s", enc)
		require.NoError(t, o2.Validate(), "re-decoded %s", enc)
		require.Equal(t, st, o2.Status(), "status after round trip of %s", enc)
		enc2, err := json.Marshal(&o2)
		require.NoError(t, err, "re-encode %s", enc)
		require.Equal(t, string(enc), string(enc2), "encoding is stable for %q", data)
		o3, err := canonical.DecodeOrder(enc2)
		require.NoError(t, err, "decode %s", enc2)
		require.Equal(t, o2, o3, "round trip of %s", enc2)
	})
}
