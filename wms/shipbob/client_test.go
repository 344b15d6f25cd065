package shipbob_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms/shipbob"
)

func TestConfigValidate(t *testing.T) {
	good := shipbob.Config{BaseURL: "https://api.shipbob.com", Token: "t", ChannelID: 1}
	cases := []struct {
		name   string
		change func(*shipbob.Config)
		field  string
	}{
		{"good", func(*shipbob.Config) {}, ""},
		{"relative URL", func(c *shipbob.Config) { c.BaseURL = "/api" }, "BaseURL"},
		{"no token", func(c *shipbob.Config) { c.Token = "" }, "Token"},
		{"no channel", func(c *shipbob.Config) { c.ChannelID = 0 }, "ChannelID"},
		{"version with a slash", func(c *shipbob.Config) { c.Version = "2026/07" }, "Version"},
		{"unknown order type", func(c *shipbob.Config) { c.OrderType = "Retail" }, "OrderType"},
		{"negative rate", func(c *shipbob.Config) { c.RateLimit = -1 }, "RateLimit"},
		{"bad location", func(c *shipbob.Config) { c.Locations = map[string]int64{"WH": 0} }, "Locations"},
		{"bad default address", func(c *shipbob.Config) { c.DefaultAddress = canonical.Address{Lines: []string{"x"}} }, "DefaultAddress"},
	}
	for _, tc := range cases {
		cfg := good
		tc.change(&cfg)
		err := cfg.Validate()
		_, newErr := shipbob.New(cfg)
		if tc.field == "" {
			assert.NoError(t, err, tc.name)
			assert.NoError(t, newErr, tc.name)
			continue
		}
		assert.ErrorIs(t, err, shipbob.ErrInvalidConfig, tc.name)
		assert.ErrorContains(t, err, tc.field, tc.name)
		assert.ErrorIs(t, newErr, shipbob.ErrInvalidConfig, tc.name)
	}
}

// TestRefusals checks the requests the connector refuses, before or after
// asking ShipBob, with the code and field they name.
func TestRefusals(t *testing.T) {
	w := newWorld(t, roomy, nil)
	c := w.client(t, nil)
	noAddress := w.client(t, func(c *shipbob.Config) { c.DefaultAddress = canonical.Address{} })
	ctx := t.Context()
	_, err := c.Release(ctx, kitFO(1))
	require.NoError(t, err)
	_, err = c.AuthorizeReturn(ctx, kitReturn(1))
	require.NoError(t, err)

	cases := []struct {
		name  string
		call  func() error
		code  connector.Code
		field string
	}{
		{"unknown warehouse", func() error {
			fo := kitFO(2)
			fo.Warehouse = "WH-MOON"
			_, err := c.Release(ctx, fo)
			return err
		}, connector.CodeInvalid, "warehouse"},
		{"fractional quantity", func() error {
			fo := kitFO(2)
			fo.Lines[0].Quantity = canonical.MustParseQuantity("1.5", "EA")
			_, err := c.Release(ctx, fo)
			return err
		}, connector.CodeInvalid, "lines[0].quantity"},
		{"two lines of one SKU", func() error {
			fo := kitFO(2)
			fo.Lines[1].Item.SKU = fo.Lines[0].Item.SKU
			_, err := c.Release(ctx, fo)
			return err
		}, connector.CodeInvalid, "lines[1].item.sku"},
		{"unknown SKU, refused by ShipBob", func() error {
			fo := kitFO(2)
			fo.Lines[0].Item.SKU = "SKU-NOPE"
			_, err := c.Release(ctx, fo)
			return err
		}, connector.CodeInvalid, "products[0]"},
		{"a comma in the ID", func() error {
			fo := kitFO(2)
			fo.ID = "a,b"
			_, err := c.Release(ctx, fo)
			return err
		}, connector.CodeInvalid, "id"},
		{"no address", func() error {
			_, err := noAddress.Release(ctx, kitFO(2))
			return err
		}, connector.CodeInvalid, "shipTo.address"},
		{"released again with other lines", func() error {
			fo := kitFO(1)
			fo.Lines = fo.Lines[:1]
			_, err := c.Release(ctx, fo)
			return err
		}, connector.CodeConflict, ""},
		{"return again with other lines", func() error {
			r := kitReturn(1)
			r.Lines[0].Authorized = canonical.MustParseQuantity("2", "EA")
			_, err := c.AuthorizeReturn(ctx, r)
			return err
		}, connector.CodeConflict, ""},
		{"return in cases", func() error {
			r := kitReturn(2)
			r.Lines[0].Authorized = canonical.MustParseQuantity("1", "XCS")
			_, err := c.AuthorizeReturn(ctx, r)
			return err
		}, connector.CodeInvalid, "lines[0].authorized"},
		{"cancel of part of an order", func() error {
			fo := kitFO(1)
			_, err := c.CancelRelease(ctx, "k", connector.CancelRequest{FulfillmentOrderID: fo.ID,
				Lines: []connector.LineQuantity{{LineID: fo.Lines[0].ID, Quantity: canonical.MustParseQuantity("1", "EA")}}})
			return err
		}, connector.CodeInvalid, "lines"},
		{"unknown fulfilment order", func() error {
			_, err := c.CancelRelease(ctx, "k", connector.CancelRequest{FulfillmentOrderID: "nope"})
			return err
		}, connector.CodeNotFound, ""},
		{"wrong token", func() error {
			return w.client(t, func(c *shipbob.Config) { c.Token = "stolen" }).Health(ctx)
		}, connector.CodeUnauthorized, ""},
	}
	for _, tc := range cases {
		err := tc.call()
		assert.Equal(t, tc.code, connector.CodeOf(err), "%s: %v", tc.name, err)
		if tc.field != "" && err != nil {
			assert.Contains(t, err.Error(), tc.field, tc.name)
		}
	}
	assert.Equal(t, 1, w.emu.WMS().Counts().Releases, "refused releases released nothing")
	assert.Zero(t, w.emu.WMS().Counts().Cancellations, "a refused cancel cancelled nothing")
}

// TestInventoryQuantities checks on-hand, allocated and available after
// a release is allocated.
func TestInventoryQuantities(t *testing.T) {
	w := newWorld(t, roomy, nil)
	c := w.client(t, nil)
	ctx := t.Context()
	_, err := c.Release(ctx, kitFO(1))
	require.NoError(t, err)
	settle(t, w, 1)
	ps, err := c.Inventory(ctx, connector.InventoryQuery{SKUs: []string{"SKU-100"}, Locations: []string{"WH-EAST"}})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "120", ps[0].OnHand.Value.String())
	assert.Equal(t, "2", ps[0].Allocated.Value.String())
	assert.Equal(t, "118", ps[0].Available.Value.String())
	assert.Equal(t, canonical.QuantitySnapshot, ps[0].Kind)
}
