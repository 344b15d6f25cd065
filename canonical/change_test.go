package canonical_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestDiffOrders(t *testing.T) {
	base := sampleOrder(3) // L1 10 EA, L2 10 XCS, L3 10 EA; version 3
	next := func(edit func(o *canonical.Order)) canonical.Order {
		o := sampleOrder(3)
		o.Version = 4
		edit(&o)
		return o
	}
	q := canonical.MustParseQuantity
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		new   canonical.Order
		lines []canonical.LineChange // only LineID, Kind, From, To, Delta compared
		check func(t *testing.T, c canonical.OrderChange)
	}{
		{name: "nothing", new: next(func(o *canonical.Order) {})},
		{name: "price only is no change", new: next(func(o *canonical.Order) { o.Lines[0].UnitPrice = canonical.MustParseMoney("9.99", "USD") })},
		{name: "quantity up", new: next(func(o *canonical.Order) { o.Lines[0].Quantity = q("14", "EA") }),
			lines: []canonical.LineChange{{LineID: "L1", Kind: canonical.LineChangeUpdated, From: q("10", "EA"), To: q("14", "EA"), Delta: q("4", "EA")}}},
		{name: "quantity down in cases", new: next(func(o *canonical.Order) { o.Lines[1].Quantity = q("7.5", "XCS") }),
			lines: []canonical.LineChange{{LineID: "L2", Kind: canonical.LineChangeUpdated, From: q("10", "XCS"), To: q("7.5", "XCS"), Delta: q("-2.5", "XCS")}}},
		{name: "line added", new: next(func(o *canonical.Order) {
			o.Lines = append(o.Lines, canonical.OrderLine{ID: "L9", Item: canonical.ItemRef{SKU: "NEW"}, Quantity: q("3", "EA"), UnitPrice: canonical.MustParseMoney("1", "USD")})
		}), lines: []canonical.LineChange{{LineID: "L9", Kind: canonical.LineChangeAdded, From: q("0", "EA"), To: q("3", "EA"), Delta: q("3", "EA")}}},
		{name: "line removed", new: next(func(o *canonical.Order) { o.Lines = o.Lines[:2] }),
			lines: []canonical.LineChange{{LineID: "L3", Kind: canonical.LineChangeRemoved, From: q("10", "EA"), To: q("0", "EA"), Delta: q("-10", "EA")}}},
		{name: "requested date", new: next(func(o *canonical.Order) { o.Lines[2].RequestedDate = day }),
			lines: []canonical.LineChange{{LineID: "L3", Kind: canonical.LineChangeUpdated, From: q("10", "EA"), To: q("10", "EA"), Delta: q("0", "EA")}},
			check: func(t *testing.T, c canonical.OrderChange) {
				assert.True(t, c.Lines[0].DateChanged(), "date changed")
				assert.False(t, c.Lines[0].QuantityChanged(), "quantity unchanged")
				assert.Equal(t, day, c.Lines[0].ToRequestedDate)
			}},
		{name: "removed, added and updated, in order", new: next(func(o *canonical.Order) {
			o.Lines = []canonical.OrderLine{o.Lines[2], {ID: "L0", Item: canonical.ItemRef{SKU: "X"}, Quantity: q("1", "EA")}}
			o.Lines[0].Quantity = q("11", "EA")
		}), lines: []canonical.LineChange{
			{LineID: "L3", Kind: canonical.LineChangeUpdated, From: q("10", "EA"), To: q("11", "EA"), Delta: q("1", "EA")},
			{LineID: "L0", Kind: canonical.LineChangeAdded, From: q("0", "EA"), To: q("1", "EA"), Delta: q("1", "EA")},
			{LineID: "L1", Kind: canonical.LineChangeRemoved, From: q("10", "EA"), To: q("0", "EA"), Delta: q("-10", "EA")},
			{LineID: "L2", Kind: canonical.LineChangeRemoved, From: q("10", "XCS"), To: q("0", "XCS"), Delta: q("-10", "XCS")},
		}},
		{name: "header fields", new: next(func(o *canonical.Order) {
			o.ShipTo = canonical.PartyRef{ID: "cust-1-other"}
			o.ShipComplete = true
			o.RequestedShipDate = day
		}), check: func(t *testing.T, c canonical.OrderChange) {
			require.NotNil(t, c.ShipTo, "ship-to")
			assert.Equal(t, "cust-1-other", c.ShipTo.ID)
			require.NotNil(t, c.ShipComplete, "ship-complete")
			assert.True(t, *c.ShipComplete)
			require.NotNil(t, c.RequestedShipDate, "requested ship date")
			assert.Equal(t, day, *c.RequestedShipDate)
			assert.Nil(t, c.RequestedDeliveryDate, "delivery date unchanged")
		}},
		{name: "ship-to address edited", new: next(func(o *canonical.Order) {
			a := *o.ShipTo.Address
			a.Lines = []string{"2 Dock Road"}
			o.ShipTo.Address = &a
		}), check: func(t *testing.T, c canonical.OrderChange) {
			require.NotNil(t, c.ShipTo, "ship-to")
			assert.Equal(t, []string{"2 Dock Road"}, c.ShipTo.Address.Lines)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := canonical.DiffOrders(base, tt.new)
			require.NoError(t, err, tt.name)
			assert.Equal(t, "ord-1", c.OrderID)
			assert.Equal(t, int64(3), c.FromVersion)
			assert.Equal(t, int64(4), c.ToVersion)
			require.Len(t, c.Lines, len(tt.lines), "changed lines of %s", tt.name)
			for i, want := range tt.lines {
				got := c.Lines[i]
				assert.Equal(t, want.LineID, got.LineID, "line %d", i)
				assert.Equal(t, want.Kind, got.Kind, "line %s", want.LineID)
				assert.True(t, want.From.Equal(got.From), "line %s from: %s", want.LineID, got.From)
				assert.True(t, want.To.Equal(got.To), "line %s to: %s", want.LineID, got.To)
				assert.True(t, want.Delta.Equal(got.Delta), "line %s delta: %s", want.LineID, got.Delta)
			}
			assert.Equal(t, len(tt.lines) == 0 && tt.check == nil, c.Empty(), "Empty")
			if !c.Empty() {
				require.NoError(t, c.Validate(), "a computed change is valid")
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestDiffOrdersErrors(t *testing.T) {
	base := sampleOrder(2)
	tests := []struct {
		name  string
		edit  func(o *canonical.Order)
		stale bool
		field string
	}{
		{name: "same version", edit: func(o *canonical.Order) { o.Version = 3 }, stale: true},
		{name: "older version", edit: func(o *canonical.Order) { o.Version = 1 }, stale: true},
		{name: "other order", edit: func(o *canonical.Order) { o.ID = "ord-2" }, field: "id"},
		{name: "item changed", edit: func(o *canonical.Order) { o.Lines[1].Item.SKU = "OTHER" }, field: "lines[1].item.sku"},
		{name: "unit changed", edit: func(o *canonical.Order) { o.Lines[0].Quantity.Unit = "KGM" }, field: "lines[0].quantity.unit"},
		{name: "zero quantity", edit: func(o *canonical.Order) { o.Lines[0].Quantity.Value = canonical.Decimal{} }, field: "lines[0].quantity.value"},
		{name: "duplicate line", edit: func(o *canonical.Order) { o.Lines[1].ID = "L1" }, field: "lines[1].id"},
		{name: "line without ID", edit: func(o *canonical.Order) { o.Lines[1].ID = "" }, field: "lines[1].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := sampleOrder(2)
			n.Version = 4
			tt.edit(&n)
			_, err := canonical.DiffOrders(base, n)
			require.Error(t, err, tt.name)
			if tt.stale {
				assert.ErrorIs(t, err, canonical.ErrStaleVersion)
				return
			}
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, tt.name)
			assert.ErrorIs(t, err, canonical.ErrInvalid)
			assert.True(t, ve.Has(tt.field), "%s: want %s in %v", tt.name, tt.field, err)
		})
	}
}

func TestOrderChangeValidate(t *testing.T) {
	q := canonical.MustParseQuantity
	good := canonical.OrderChange{OrderID: "o", FromVersion: 1, ToVersion: 2, Lines: []canonical.LineChange{
		{LineID: "L1", Kind: canonical.LineChangeUpdated, Item: canonical.ItemRef{SKU: "A"}, From: q("5", "EA"), To: q("3", "EA"), Delta: q("-2", "EA")},
	}}
	require.NoError(t, good.Validate())
	tests := []struct {
		name  string
		edit  func(c *canonical.OrderChange)
		field string
	}{
		{"no order", func(c *canonical.OrderChange) { c.OrderID = "" }, "orderId"},
		{"versions", func(c *canonical.OrderChange) { c.ToVersion = 1 }, "toVersion"},
		{"kind", func(c *canonical.OrderChange) { c.Lines[0].Kind = "moved" }, "lines[0].kind"},
		{"delta", func(c *canonical.OrderChange) { c.Lines[0].Delta = q("2", "EA") }, "lines[0].delta.value"},
		{"units", func(c *canonical.OrderChange) { c.Lines[0].Delta = q("-2", "XCS") }, "lines[0].delta.unit"},
		{"added from", func(c *canonical.OrderChange) { c.Lines[0].Kind = canonical.LineChangeAdded }, "lines[0].from.value"},
		{"removed to", func(c *canonical.OrderChange) { c.Lines[0].Kind = canonical.LineChangeRemoved }, "lines[0].to.value"},
		{"sku", func(c *canonical.OrderChange) { c.Lines[0].Item.SKU = "" }, "lines[0].item.sku"},
		{"ship-to", func(c *canonical.OrderChange) { c.ShipTo = &canonical.PartyRef{} }, "shipTo.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			c.Lines = append([]canonical.LineChange(nil), good.Lines...)
			tt.edit(&c)
			err := c.Validate()
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, tt.name)
			assert.True(t, ve.Has(tt.field), "%s: want %s in %v", tt.name, tt.field, err)
		})
	}
}

func TestQuantityResultAndOutcome(t *testing.T) {
	q := canonical.MustParseQuantity
	tests := []struct {
		name    string
		delta   string
		applied string
		held    bool
		want    canonical.ChangeOutcome
	}{
		{"all", "5", "5", false, canonical.ChangeApplied},
		{"part", "5", "2", false, canonical.ChangePartiallyApplied},
		{"none refused", "-5", "0", false, canonical.ChangeRefused},
		{"none held", "5", "0", true, canonical.ChangeHeld},
		{"part down", "-5", "-3", false, canonical.ChangePartiallyApplied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := canonical.QuantityResult("L1", q(tt.delta, "EA"), q(tt.applied, "EA"), canonical.ChangeReasonPicked, tt.held)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Outcome, tt.name)
			require.NoError(t, r.Validate(), tt.name)
			sum, err := r.Applied.Add(*r.Refused)
			require.NoError(t, err)
			assert.True(t, sum.Equal(q(tt.delta, "EA")), "applied + refused = delta, %s", sum)
		})
	}
	_, err := canonical.QuantityResult("L1", q("1", "EA"), q("1", "XCS"), "", false)
	assert.ErrorIs(t, err, canonical.ErrUnitMismatch)

	r := func(o canonical.ChangeOutcome) canonical.ChangeResult { return canonical.ChangeResult{Outcome: o} }
	for _, tt := range []struct {
		in   []canonical.ChangeResult
		want canonical.ChangeOutcome
	}{
		{nil, canonical.ChangeApplied},
		{[]canonical.ChangeResult{r(canonical.ChangeApplied)}, canonical.ChangeApplied},
		{[]canonical.ChangeResult{r(canonical.ChangeRefused), r(canonical.ChangeRefused)}, canonical.ChangeRefused},
		{[]canonical.ChangeResult{r(canonical.ChangeRefused), r(canonical.ChangeHeld)}, canonical.ChangeHeld},
		{[]canonical.ChangeResult{r(canonical.ChangeApplied), r(canonical.ChangeRefused)}, canonical.ChangePartiallyApplied},
	} {
		assert.Equal(t, tt.want, canonical.ChangeOutcomeOf(tt.in), "%v", tt.in)
	}
}

func TestChangeResultValidate(t *testing.T) {
	q := canonical.MustParseQuantity
	qp := func(s string) *canonical.Quantity { x := q(s, "EA"); return &x }
	tests := []struct {
		name  string
		r     canonical.ChangeResult
		field string
	}{
		{"applied with reason", canonical.ChangeResult{Field: "shipTo", Outcome: canonical.ChangeApplied, Reason: canonical.ChangeReasonPicked}, "reason"},
		{"refused without reason", canonical.ChangeResult{Field: "shipTo", Outcome: canonical.ChangeRefused}, "reason"},
		{"unknown reason", canonical.ChangeResult{Field: "shipTo", Outcome: canonical.ChangeRefused, Reason: "moon"}, "reason"},
		{"quantity without amounts", canonical.ChangeResult{Field: "quantity", Outcome: canonical.ChangeApplied}, "applied"},
		{"refused but applied", canonical.ChangeResult{Field: "quantity", Outcome: canonical.ChangeRefused, Reason: canonical.ChangeReasonShipped, Applied: qp("1"), Refused: qp("1")}, "applied"},
		{"no field", canonical.ChangeResult{Outcome: canonical.ChangeApplied}, "field"},
	}
	for _, tt := range tests {
		var ve *canonical.ValidationError
		require.ErrorAs(t, tt.r.Validate(), &ve, tt.name)
		assert.True(t, ve.Has(tt.field), "%s: want %s in %v", tt.name, tt.field, ve)
	}
}

// FuzzDiffOrders checks that DiffOrders never panics, that a computed
// change is valid and survives JSON, and that applying its deltas to the
// old quantities gives the new ones.
func FuzzDiffOrders(f *testing.F) {
	f.Add("10", "14", "3", true, false)
	f.Add("10", "0.5", "0", false, true)
	f.Add("1", "1", "-1", true, true)
	f.Add("99999999999999999999", "1e3", "7", false, false)
	f.Fuzz(func(t *testing.T, q1, q2, q3 string, addLine, removeLine bool) {
		old := sampleOrder(2)
		n := sampleOrder(2)
		n.Version = old.Version + 1
		d1, err1 := canonical.ParseDecimal(q1)
		d2, err2 := canonical.ParseDecimal(q2)
		d3, err3 := canonical.ParseDecimal(q3)
		if err1 != nil || err2 != nil || err3 != nil {
			return
		}
		old.Lines[0].Quantity.Value = d1
		n.Lines[0].Quantity.Value = d2
		if addLine {
			n.Lines = append(n.Lines, canonical.OrderLine{ID: "N", Item: canonical.ItemRef{SKU: "N"}, Quantity: canonical.NewQuantity(d3, "EA")})
		}
		if removeLine {
			n.Lines = n.Lines[:1]
		}
		c, err := canonical.DiffOrders(old, n)
		if err != nil {
			require.True(t, errors.Is(err, canonical.ErrInvalid), "error %v", err)
			return
		}
		if !c.Empty() {
			require.NoError(t, c.Validate(), "computed change")
		}
		b, err := json.Marshal(c)
		require.NoError(t, err)
		var back canonical.OrderChange
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		b2, err := json.Marshal(back)
		require.NoError(t, err)
		require.JSONEq(t, string(b), string(b2), "round trip")
		// Old quantities plus deltas give the new ones.
		got := map[string]canonical.Quantity{}
		for _, l := range old.Lines {
			got[l.ID] = l.Quantity
		}
		for _, l := range c.Lines {
			sum, err := l.From.Add(l.Delta)
			require.NoError(t, err)
			require.True(t, sum.Equal(l.To), "line %s: %s + %s = %s", l.LineID, l.From, l.Delta, l.To)
			got[l.LineID] = l.To
		}
		for _, l := range n.Lines {
			require.True(t, got[l.ID].Equal(l.Quantity), "line %s: %s, want %s", l.ID, got[l.ID], l.Quantity)
			delete(got, l.ID)
		}
		for id, q := range got {
			require.True(t, q.IsZero(), "line %s removed but left at %s", id, q)
		}
	})
}
