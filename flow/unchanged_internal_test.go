package flow

import (
	"fmt"
	"hash/maphash"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// Every test of the package runs with deferSave's check that a state it
// does not encode, because no handler marked it changed, is as it last
// encoded it (see checkUnchanged): a handler path that changes an order
// without marking it fails the test that runs it, crash and chaos tests
// included: the check prints the order and stops the test binary, as a
// panic in a handler would be recovered by the consumer and retried.
func init() {
	checkUnchanged = func(err error) {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(3)
	}
}

// TestCheckUnchanged checks the check itself: a state changed after its
// last encoding without being marked fails it, naming the order; one left
// as encoded passes.
func TestCheckUnchanged(t *testing.T) {
	f := &Flow{seed: maphash.MakeSeed()}
	for _, tc := range []struct {
		name   string
		change func(st *orderState)
		fails  bool
	}{
		{"unchanged", func(*orderState) {}, false},
		{"message appended", func(st *orderState) { st.messages = append(st.messages, "late") }, true},
		{"sequence moved", func(st *orderState) { st.seq += 100 }, true},
		{"shipment marked", func(st *orderState) { st.shipped["S-NEW"] = true }, true},
		{"line bucket moved", func(st *orderState) {
			st.order.Lines[0].Buckets.Set(canonical.BucketShipped, canonical.MustParseDecimal("99"))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := decodeState("ORD-000001", seedState(t))
			require.NoError(t, err, "decode the seed")
			data, err := encodeState(st)
			require.NoError(t, err, "encode the seed")
			st.snapSum = maphash.Bytes(f.seed, data)
			tc.change(st)
			err = f.checkUnchangedLocked(st, canonical.EventFulfillmentReleased)
			if tc.fails {
				require.EqualError(t, err,
					`flow: order "ORD-000001" changed without being marked changed (after distsync.fulfillment.released.v1): the change would not be saved`,
					"a change the check must see: %s", tc.name)
			} else {
				require.NoError(t, err, "a state left as encoded")
			}
		})
	}
}
