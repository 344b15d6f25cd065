package wms_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
)

const fixture = `{
  "name": "fixture",
  "strategy": "fill_from_one",
  "seed": 3,
  "warehouses": [
    {"id": "DC-1", "name": "Main DC", "kind": "warehouse", "address": {"lines": ["1 Dock Rd"], "city": "Columbus", "region": "OH", "country": "US"}}
  ],
  "items": [{"sku": "A-1", "baseUnit": "EA"}, {"sku": "B-2", "baseUnit": "KGM"}],
  "stock": [
    {"warehouse": "DC-1", "sku": "A-1", "lot": "L1", "expiresAt": "2026-09-30T00:00:00Z", "quantity": "12"},
    {"warehouse": "DC-1", "sku": "B-2", "quantity": "2.5"}
  ]
}`

func TestParseConfig(t *testing.T) {
	cfg, err := wms.ParseConfig([]byte(fixture))
	require.NoError(t, err)
	assert.Equal(t, wms.StrategyFillFromOne, cfg.Strategy)
	m := newSim(t, cfg)
	assert.Equal(t, "wms://fixture", m.Source())
	ps, err := m.Inventory(context.Background(), connector.InventoryQuery{})
	require.NoError(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, "12 EA", ps[0].OnHand.String(), "A-1 from the fixture")
	assert.Equal(t, "L1", ps[0].Lot)
	assert.Equal(t, "2.5 KGM", ps[1].OnHand.String(), "B-2 from the fixture")

	tests := []struct {
		name, json, want string
	}{
		{"unknown member", `{"warehouse": []}`, "unknown field"},
		{"unknown strategy", `{"strategy": "closest"}`, "closest"},
		{"strategy as a number", `{"strategy": 1}`, "strategy"},
		{"trailing data", `{} {}`, "after the JSON value"},
		{"not JSON", `{"name": `, "fixture"},
		{"bad quantity", `{"warehouses": [], "items": [], "stock": [{"warehouse": "X", "sku": "Y", "quantity": "1e"}]}`, "stock[0]"},
		{"stock of an unknown SKU", `{"warehouses": [{"id": "W", "name": "W", "kind": "warehouse", "address": {"lines": ["x"], "city": "c", "country": "US"}}], "items": [], "stock": [{"warehouse": "W", "sku": "Y", "quantity": "1"}]}`, "unknown SKU"},
	}
	for _, tt := range tests {
		_, err := wms.ParseConfig([]byte(tt.json))
		assert.ErrorIs(t, err, wms.ErrInvalidConfig, "ParseConfig with %s", tt.name)
		assert.ErrorContains(t, err, tt.want, "ParseConfig with %s", tt.name)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	for _, cfg := range []wms.Config{testWorld(wms.StrategySplit), {Warehouses: wms.DemoWarehouses(), Items: wms.DemoItems(), Stock: wms.DemoStock(), Seed: 9, CompanyPrefix: "123456789"}} {
		b, err := json.Marshal(cfg)
		require.NoError(t, err)
		back, err := wms.ParseConfig(b)
		require.NoError(t, err, "ParseConfig(%s)", b)
		b2, err := json.Marshal(back)
		require.NoError(t, err)
		assert.JSONEq(t, string(b), string(b2), "round trip of %s", b)
	}
}

// FuzzParseConfig checks that ParseConfig never panics and that what it
// accepts encodes to a fixture it reads back to the same encoding.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(fixture))
	b, err := json.Marshal(testWorld(wms.StrategySplit))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"strategy":"split","seed":1,"packageCapacity":"2.5","carrier":{"scac":"FDEG"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := wms.ParseConfig(data)
		if err != nil {
			require.ErrorIs(t, err, wms.ErrInvalidConfig, "ParseConfig(%q)", data)
			return
		}
		enc, err := json.Marshal(cfg)
		require.NoError(t, err, "encoding the config of %q", data)
		back, err := wms.ParseConfig(enc)
		require.NoError(t, err, "ParseConfig of the encoding %s of %q", enc, data)
		enc2, err := json.Marshal(back)
		require.NoError(t, err)
		require.JSONEq(t, string(enc), string(enc2), "round trip of %q", data)
		_, err = wms.New(cfg)
		require.NoError(t, err, "New with the parsed config of %q", data)
	})
}
