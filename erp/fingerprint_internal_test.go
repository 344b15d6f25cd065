package erp

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestEncodePositions checks that the fingerprint of positions is taken
// over json.Marshal's bytes, and tells positions that encode differently
// apart.
func TestEncodePositions(t *testing.T) {
	q := canonical.MustParseQuantity("3", "EA")
	p := canonical.InventoryPosition{Item: canonical.ItemRef{SKU: "SKU-1"}, Location: "WH-1", Status: canonical.InventoryAvailable,
		Kind: canonical.QuantitySnapshot, OnHand: q, Allocated: q, Available: q, Inbound: q, AsOf: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Sequence: 2}
	for _, ps := range [][]canonical.InventoryPosition{nil, {}, {p}, {p, p}} {
		want, err := json.Marshal(ps)
		require.NoError(t, err, "json.Marshal of %d positions", len(ps))
		got, err := encodePositions(ps)
		require.NoError(t, err, "encodePositions of %d positions", len(ps))
		assert.Equal(t, string(want), string(got), "encoding of %d positions", len(ps))
		fp, err := positionsFingerprint(ps)
		require.NoError(t, err, "positionsFingerprint of %d positions", len(ps))
		assert.Equal(t, fingerprintBytes(want), fp, "fingerprint of %d positions", len(ps))
	}
	// Positions that encode differently have different fingerprints.
	seen := map[positionsFP]string{}
	other := p
	other.OnHand = canonical.MustParseQuantity("3.0", "EA")
	for _, ps := range [][]canonical.InventoryPosition{nil, {}, {p}, {p, p}, {other}, {p, other}} {
		enc, err := encodePositions(ps)
		require.NoError(t, err, "encodePositions")
		fp, err := positionsFingerprint(ps)
		require.NoError(t, err, "positionsFingerprint")
		prev, dup := seen[fp]
		assert.False(t, dup, "fingerprint of %s equals that of %s", enc, prev)
		seen[fp] = string(enc)
	}
	_, err := encodePositions([]canonical.InventoryPosition{{}})
	assert.Error(t, err, "a position without a kind fails as in json.Marshal")
	_, err = positionsFingerprint([]canonical.InventoryPosition{p, {}})
	assert.Error(t, err, "positionsFingerprint of a position without a kind")
}
