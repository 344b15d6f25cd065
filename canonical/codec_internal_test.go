package canonical

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrderEventCodec checks that NewEvent and DecodeData, which use the
// reflection-free order codec, give what encoding/json gives, for an order
// and a pointer to one, and that DecodeData falls back to encoding/json
// (from a zero order) for input the fast path does not take.
func TestOrderEventCodec(t *testing.T) {
	var o Order
	require.NoError(t, json.Unmarshal([]byte(orderSeeds[0]), &o), "seed order")
	o.Lines = o.Lines[:1] // the second line is in another currency
	require.NoError(t, o.Validate(), "seed order is valid")
	want, err := json.Marshal(o)
	require.NoError(t, err, "json.Marshal")
	for name, doc := range map[string]Document{"Order": o, "*Order": &o} {
		ev, err := NewEvent(EventOrderSubmitted, doc)
		require.NoError(t, err, "NewEvent(%s)", name)
		assert.Equal(t, string(want), string(ev.Data), "NewEvent(%s) data is json.Marshal's", name)
	}
	ev, err := NewEvent(EventOrderSubmitted, o)
	require.NoError(t, err, "NewEvent")
	var general Order
	require.NoError(t, json.Unmarshal(ev.Data, &general), "json.Unmarshal")
	var fast Order
	require.True(t, decodeDocumentFast(ev.Data, &fast), "the fast path takes what NewEvent wrote")
	got, err := DecodeData[Order](ev)
	require.NoError(t, err, "DecodeData[Order]")
	assert.Equal(t, general, got, "DecodeData[Order] is json.Unmarshal's")
	gotp, err := DecodeData[*Order](ev)
	require.NoError(t, err, "DecodeData[*Order]")
	assert.Equal(t, general, *gotp, "DecodeData[*Order] is json.Unmarshal's")

	// An unknown member and a member repeated: encoding/json decides.
	for _, data := range []string{
		`{"id":"o","extra":1,"soldTo":{"id":"c"},"shipTo":{"id":"c"},"currency":"USD","lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":"1","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`,
		`{"id":"x","id":"o","soldTo":{"id":"c"},"shipTo":{"id":"c"},"currency":"USD","lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":"1","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`,
	} {
		var z Order
		assert.False(t, decodeDocumentFast([]byte(data), &z), "fast path refuses %s", data)
		assert.Equal(t, Order{}, z, "order left zero after the fast path refused %s", data)
		ev := Event{Type: EventOrderSubmitted, DataContentType: "application/json", Data: json.RawMessage(data)}
		var want Order
		require.NoError(t, json.Unmarshal([]byte(data), &want), "json.Unmarshal %s", data)
		got, err := DecodeData[Order](ev)
		require.NoError(t, err, "DecodeData %s", data)
		assert.Equal(t, want, got, "DecodeData of %s is json.Unmarshal's", data)
	}
}
