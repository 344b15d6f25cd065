package canonical_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// bk builds buckets from name/value pairs.
func bk(kv ...string) canonical.Buckets {
	var bs canonical.Buckets
	for i := 0; i < len(kv); i += 2 {
		b, err := canonical.ParseBucket(kv[i])
		if err != nil {
			panic(err)
		}
		bs.Set(b, canonical.MustParseDecimal(kv[i+1]))
	}
	return bs
}

func TestLineFulfillmentRules(t *testing.T) {
	tests := []struct {
		name string
		bs   canonical.Buckets
		want canonical.FulfillmentStatus
	}{
		{"1 exception: negative bucket", bk("ordered", "10", "picked", "-1"), canonical.FulfillmentException},
		{"1 exception: cancelled beyond ordered", bk("ordered", "10", "cancelled", "11"), canonical.FulfillmentException},
		{"1 exception: shipped beyond open", bk("ordered", "10", "cancelled", "5", "shipped", "6"), canonical.FulfillmentException},
		{"1 exception: delivered beyond shipped", bk("ordered", "10", "shipped", "2", "delivered", "3"), canonical.FulfillmentException},
		{"2 nothing open", bk("ordered", "10", "cancelled", "10"), canonical.FulfillmentUnfulfilled},
		{"3 delivered", bk("ordered", "10", "cancelled", "2", "shipped", "8", "delivered", "8"), canonical.FulfillmentDelivered},
		{"4 shipped", bk("ordered", "10", "shipped", "10", "delivered", "4"), canonical.FulfillmentShipped},
		{"5 partially shipped", bk("ordered", "10", "allocated", "10", "shipped", "4", "backordered", "6"), canonical.FulfillmentPartiallyShipped},
		{"6 backordered", bk("ordered", "10", "allocated", "4", "backordered", "6"), canonical.FulfillmentBackordered},
		{"7 allocated", bk("ordered", "10", "allocated", "10"), canonical.FulfillmentAllocated},
		{"7 allocated by picking", bk("ordered", "10", "allocated", "3", "picked", "10"), canonical.FulfillmentAllocated},
		{"8 partially allocated", bk("ordered", "10", "allocated", "3"), canonical.FulfillmentPartiallyAllocated},
		{"9 unfulfilled", bk("ordered", "10", "confirmed", "10"), canonical.FulfillmentUnfulfilled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, canonical.LineFulfillment(&tc.bs), "buckets %v", tc.bs)
		})
	}
}

func TestLineBillingRules(t *testing.T) {
	tests := []struct {
		name string
		bs   canonical.Buckets
		want canonical.BillingStatus
	}{
		{"1 credited", bk("ordered", "10", "shipped", "10", "invoiced", "10", "returned", "2"), canonical.BillingCredited},
		{"2 invoiced", bk("ordered", "10", "cancelled", "4", "shipped", "6", "invoiced", "6"), canonical.BillingInvoiced},
		{"3 partially invoiced", bk("ordered", "10", "shipped", "6", "invoiced", "6"), canonical.BillingPartiallyInvoiced},
		{"3 invoiced with nothing open", bk("ordered", "10", "cancelled", "10", "invoiced", "1"), canonical.BillingPartiallyInvoiced},
		{"4 not invoiced", bk("ordered", "10", "shipped", "10"), canonical.BillingNotInvoiced},
		{"4 returned but never invoiced", bk("ordered", "10", "shipped", "10", "returned", "1"), canonical.BillingNotInvoiced},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, canonical.LineBilling(&tc.bs), "buckets %v", tc.bs)
		})
	}
}

// orderWith returns a submitted and accepted order whose lines have the
// given buckets (all in EA, ordered taken from each).
func orderWith(lines ...canonical.Buckets) canonical.Order {
	o := canonical.Order{ID: "o", Currency: "USD", SubmittedAt: t0, AcceptedAt: t0.Add(time.Minute)}
	for i, bs := range lines {
		o.Lines = append(o.Lines, canonical.OrderLine{
			ID: string(rune('A' + i)), Quantity: canonical.NewQuantity(bs.Get(canonical.BucketOrdered), "EA"), Buckets: bs,
		})
	}
	return o
}

func TestOrderFulfillmentRules(t *testing.T) {
	shipped := bk("ordered", "10", "shipped", "10")
	delivered := bk("ordered", "10", "shipped", "10", "delivered", "10")
	partShipped := bk("ordered", "10", "shipped", "3")
	backordered := bk("ordered", "10", "backordered", "10")
	allocated := bk("ordered", "10", "allocated", "10")
	partAllocated := bk("ordered", "10", "allocated", "2")
	open := bk("ordered", "10")
	cancelled := bk("ordered", "10", "cancelled", "10")
	broken := bk("ordered", "10", "shipped", "12")
	tests := []struct {
		name  string
		lines []canonical.Buckets
		want  canonical.FulfillmentStatus
	}{
		{"1 exception wins", []canonical.Buckets{delivered, broken}, canonical.FulfillmentException},
		{"2 no live line", []canonical.Buckets{cancelled, cancelled}, canonical.FulfillmentUnfulfilled},
		{"3 all delivered (cancelled line ignored)", []canonical.Buckets{delivered, cancelled, delivered}, canonical.FulfillmentDelivered},
		{"4 shipped and delivered", []canonical.Buckets{delivered, shipped}, canonical.FulfillmentShipped},
		{"5 mixed: shipped, backordered, cancelled", []canonical.Buckets{shipped, backordered, cancelled}, canonical.FulfillmentPartiallyShipped},
		{"5 one line partially shipped", []canonical.Buckets{partShipped, allocated}, canonical.FulfillmentPartiallyShipped},
		{"5 one shipped, one open", []canonical.Buckets{shipped, open}, canonical.FulfillmentPartiallyShipped},
		{"6 backordered and allocated", []canonical.Buckets{backordered, allocated}, canonical.FulfillmentBackordered},
		{"7 all allocated", []canonical.Buckets{allocated, allocated, cancelled}, canonical.FulfillmentAllocated},
		{"8 allocated and open", []canonical.Buckets{allocated, open}, canonical.FulfillmentPartiallyAllocated},
		{"8 partially allocated", []canonical.Buckets{partAllocated}, canonical.FulfillmentPartiallyAllocated},
		{"9 nothing yet", []canonical.Buckets{open, open}, canonical.FulfillmentUnfulfilled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderWith(tc.lines...)
			assert.Equal(t, tc.want, o.Status().Fulfillment, "lines %v", tc.lines)
		})
	}
}

func TestOrderBillingRules(t *testing.T) {
	invoiced := bk("ordered", "10", "shipped", "10", "invoiced", "10")
	partInvoiced := bk("ordered", "10", "shipped", "10", "invoiced", "4")
	notInvoiced := bk("ordered", "10", "shipped", "10")
	credited := bk("ordered", "10", "shipped", "10", "invoiced", "10", "returned", "1")
	cancelled := bk("ordered", "10", "cancelled", "10")
	tests := []struct {
		name  string
		lines []canonical.Buckets
		want  canonical.BillingStatus
	}{
		{"1 credited wins", []canonical.Buckets{invoiced, credited}, canonical.BillingCredited},
		{"2 nothing invoiced", []canonical.Buckets{notInvoiced, cancelled}, canonical.BillingNotInvoiced},
		{"3 every live line invoiced", []canonical.Buckets{invoiced, cancelled, invoiced}, canonical.BillingInvoiced},
		{"4 one invoiced one not", []canonical.Buckets{invoiced, notInvoiced}, canonical.BillingPartiallyInvoiced},
		{"4 partially invoiced line", []canonical.Buckets{partInvoiced}, canonical.BillingPartiallyInvoiced},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderWith(tc.lines...)
			assert.Equal(t, tc.want, o.Status().Billing, "lines %v", tc.lines)
		})
	}
}

func TestOrderCommercialRules(t *testing.T) {
	open := bk("ordered", "10")
	cancelled := bk("ordered", "10", "cancelled", "10")
	rejected := bk("ordered", "10", "rejected", "10")
	done := bk("ordered", "10", "shipped", "10", "delivered", "10", "invoiced", "10")
	at := t0.Add(time.Hour)
	held := []canonical.Hold{{Kind: canonical.HoldCredit, PlacedAt: t0}}
	released := []canonical.Hold{{Kind: canonical.HoldCredit, PlacedAt: t0, ReleasedAt: at}}
	tests := []struct {
		name  string
		edit  func(o *canonical.Order)
		lines []canonical.Buckets
		want  canonical.CommercialStatus
	}{
		{"1 rejectedAt wins over everything", func(o *canonical.Order) { o.RejectedAt = at; o.CancelledAt = at; o.Holds = held }, []canonical.Buckets{open}, canonical.CommercialRejected},
		{"2 cancelledAt", func(o *canonical.Order) { o.CancelledAt = at; o.ClosedAt = at }, []canonical.Buckets{open}, canonical.CommercialCancelled},
		{"3 every line cancelled", nil, []canonical.Buckets{cancelled, cancelled}, canonical.CommercialCancelled},
		{"3 every line cancelled or rejected", nil, []canonical.Buckets{rejected, cancelled}, canonical.CommercialCancelled},
		{"3 every line rejected", nil, []canonical.Buckets{rejected, rejected}, canonical.CommercialRejected},
		{"4 closedAt", func(o *canonical.Order) { o.ClosedAt = at }, []canonical.Buckets{open}, canonical.CommercialClosed},
		{"5 everything delivered and invoiced", nil, []canonical.Buckets{done, cancelled}, canonical.CommercialClosed},
		{"5 not closed when not accepted", func(o *canonical.Order) { o.AcceptedAt = time.Time{} }, []canonical.Buckets{done}, canonical.CommercialSubmitted},
		{"6 draft", func(o *canonical.Order) { o.SubmittedAt, o.AcceptedAt = time.Time{}, time.Time{} }, []canonical.Buckets{open}, canonical.CommercialDraft},
		{"6 draft ignores holds", func(o *canonical.Order) { o.SubmittedAt, o.AcceptedAt = time.Time{}, time.Time{}; o.Holds = held }, []canonical.Buckets{open}, canonical.CommercialDraft},
		{"7 on hold after acceptance", func(o *canonical.Order) { o.Holds = held }, []canonical.Buckets{open}, canonical.CommercialOnHold},
		{"7 on hold before acceptance", func(o *canonical.Order) { o.AcceptedAt = time.Time{}; o.Holds = held }, []canonical.Buckets{open}, canonical.CommercialOnHold},
		{"8 accepted, hold released", func(o *canonical.Order) { o.Holds = released }, []canonical.Buckets{open}, canonical.CommercialAccepted},
		{"9 submitted", func(o *canonical.Order) { o.AcceptedAt = time.Time{} }, []canonical.Buckets{open}, canonical.CommercialSubmitted},
		{"9 submitted order without lines", func(o *canonical.Order) { o.AcceptedAt = time.Time{} }, nil, canonical.CommercialSubmitted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderWith(tc.lines...)
			if tc.edit != nil {
				tc.edit(&o)
			}
			assert.Equal(t, tc.want, o.Status().Commercial, "%s: order %+v", tc.name, o)
		})
	}
}

func TestStatusUsesLineQuantityWhenNotFolded(t *testing.T) {
	o := sampleOrder(2)
	assert.Equal(t, canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced}, o.Status(), "unfolded order")
	o.Lines[0].Buckets.Set(canonical.BucketShipped, canonical.DecimalFromInt(10))
	assert.Equal(t, canonical.FulfillmentPartiallyShipped, o.Status().Fulfillment, "line 1 shipped in full, ordered from its quantity")
}

func TestStatusText(t *testing.T) {
	s := canonical.Status{Commercial: canonical.CommercialOnHold, Fulfillment: canonical.FulfillmentPartiallyAllocated, Billing: canonical.BillingPartiallyInvoiced}
	assert.Equal(t, "on_hold/partially_allocated/partially_invoiced", s.String())
	for c := canonical.CommercialDraft; c <= canonical.CommercialClosed; c++ {
		text, err := c.MarshalText()
		require.NoError(t, err, "commercial %d", c)
		var back canonical.CommercialStatus
		require.NoError(t, back.UnmarshalText(text), "commercial %s", text)
		assert.Equal(t, c, back, "round trip of %s", text)
	}
	for f := canonical.FulfillmentUnfulfilled; f <= canonical.FulfillmentException; f++ {
		text, err := f.MarshalText()
		require.NoError(t, err, "fulfillment %d", f)
		var back canonical.FulfillmentStatus
		require.NoError(t, back.UnmarshalText(text), "fulfillment %s", text)
		assert.Equal(t, f, back, "round trip of %s", text)
	}
	for b := canonical.BillingNotInvoiced; b <= canonical.BillingCredited; b++ {
		text, err := b.MarshalText()
		require.NoError(t, err, "billing %d", b)
		var back canonical.BillingStatus
		require.NoError(t, back.UnmarshalText(text), "billing %s", text)
		assert.Equal(t, b, back, "round trip of %s", text)
	}
	var c canonical.CommercialStatus
	assert.ErrorIs(t, c.UnmarshalText([]byte("open")), canonical.ErrInvalid, "open")
	_, err := canonical.FulfillmentStatus(0).MarshalText()
	assert.ErrorIs(t, err, canonical.ErrInvalid, "zero fulfillment status")
	assert.Equal(t, "BillingStatus(9)", canonical.BillingStatus(9).String())
}

func TestBucketsNetOrdered(t *testing.T) {
	tests := []struct {
		name string
		bs   canonical.Buckets
		want string
	}{
		{"nothing", bk(), "0"},
		{"ordered only", bk("ordered", "10"), "10"},
		{"shipping does not reduce it", bk("ordered", "10", "allocated", "10", "shipped", "6", "invoiced", "6"), "10"},
		{"cancelled and rejected reduce it", bk("ordered", "10", "cancelled", "2", "rejected", "1", "shipped", "3"), "7"},
		{"over-cancelled is negative", bk("ordered", "2", "cancelled", "3"), "-1"},
	}
	for _, tt := range tests {
		got, err := tt.bs.NetOrdered()
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, got.String(), "NetOrdered of %s", tt.name)
	}
}

// TestStatusValid checks that Valid accepts exactly what MarshalText
// encodes, on every axis.
func TestStatusValid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		valid   func(uint8) bool
		marshal func(uint8) error
	}{
		{"commercial", func(v uint8) bool { return canonical.CommercialStatus(v).Valid() },
			func(v uint8) error { _, err := canonical.CommercialStatus(v).MarshalText(); return err }},
		{"fulfillment", func(v uint8) bool { return canonical.FulfillmentStatus(v).Valid() },
			func(v uint8) error { _, err := canonical.FulfillmentStatus(v).MarshalText(); return err }},
		{"billing", func(v uint8) bool { return canonical.BillingStatus(v).Valid() },
			func(v uint8) error { _, err := canonical.BillingStatus(v).MarshalText(); return err }},
	} {
		valid := 0
		for v := range 256 {
			err := tc.marshal(uint8(v))
			assert.Equal(t, err == nil, tc.valid(uint8(v)), "%s status %d: Valid agrees with MarshalText (%v)", tc.name, v, err)
			if err == nil {
				valid++
			}
		}
		assert.Greater(t, valid, 2, "%s: some statuses are valid", tc.name)
		assert.False(t, tc.valid(0), "%s: the zero status is invalid", tc.name)
	}
}
