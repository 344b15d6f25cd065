package canonical_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestCheckTransitionTable(t *testing.T) {
	D, S, H, A, R, C, X := canonical.CommercialDraft, canonical.CommercialSubmitted, canonical.CommercialOnHold,
		canonical.CommercialAccepted, canonical.CommercialRejected, canonical.CommercialCancelled, canonical.CommercialClosed
	allowed := map[canonical.Action][]canonical.CommercialStatus{
		canonical.ActionSubmit:   {D},
		canonical.ActionAccept:   {S},
		canonical.ActionReject:   {S, H},
		canonical.ActionHold:     {S, H, A},
		canonical.ActionRelease:  {H},
		canonical.ActionChange:   {D, S, H, A},
		canonical.ActionConfirm:  {S, H, A},
		canonical.ActionCancel:   {D, S, H, A},
		canonical.ActionAllocate: {A},
		canonical.ActionShip:     {A},
		canonical.ActionInvoice:  {A, X},
		canonical.ActionReturn:   {A, X},
		canonical.ActionClose:    {A},
	}
	all := []canonical.CommercialStatus{D, S, H, A, R, C, X}
	for a, from := range allowed {
		for _, s := range all {
			err := canonical.CheckTransition(s, a)
			if contains(from, s) {
				assert.NoError(t, err, "%s from %s", a, s)
				continue
			}
			require.Error(t, err, "%s from %s must be refused", a, s)
			assert.ErrorIs(t, err, canonical.ErrTransition, "%s from %s", a, s)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "%s from %s", a, s)
			var te *canonical.TransitionError
			require.ErrorAs(t, err, &te, "%s from %s", a, s)
			assert.Equal(t, s, te.From, "%s from %s", a, s)
			assert.Contains(t, err.Error(), s.String()+" → ", "%s from %s names the current state", a, s)
		}
	}
	err := canonical.CheckTransition(A, 0)
	assert.ErrorIs(t, err, canonical.ErrTransition, "action 0")
	assert.Contains(t, err.Error(), "unknown action")
}

func contains(list []canonical.CommercialStatus, s canonical.CommercialStatus) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestTransitionMessagesNameBothStates(t *testing.T) {
	assert.EqualError(t, canonical.CheckTransition(canonical.CommercialRejected, canonical.ActionShip),
		"canonical: illegal transition: ship: rejected → shipped is not allowed (ship needs accepted)")
	assert.EqualError(t, canonical.CheckTransition(canonical.CommercialCancelled, canonical.ActionAccept),
		"canonical: illegal transition: accept: cancelled → accepted is not allowed (accept needs submitted)")
}

func TestOrderTransitionMethods(t *testing.T) {
	at := t0.Add(time.Hour)
	o := sampleOrder(2)
	o.SubmittedAt, o.AcceptedAt = time.Time{}, time.Time{}

	require.ErrorIs(t, o.Accept(at), canonical.ErrTransition, "accept a draft")
	require.NoError(t, o.Submit(at), "submit a draft")
	require.ErrorIs(t, o.Submit(at), canonical.ErrTransition, "submit twice")
	require.NoError(t, o.PlaceHold(canonical.Hold{Kind: canonical.HoldCredit, Reason: "over limit"}), "hold a submitted order")
	assert.Equal(t, canonical.CommercialOnHold, o.Status().Commercial)
	require.ErrorIs(t, o.Accept(at), canonical.ErrTransition, "accept an order on hold")
	err := o.ReleaseHold(canonical.HoldPricing, at)
	require.ErrorIs(t, err, canonical.ErrTransition, "release a hold that is not there")
	assert.Contains(t, err.Error(), "no active pricing hold")
	require.NoError(t, o.ReleaseHold(canonical.HoldCredit, at), "release the credit hold")
	assert.Equal(t, canonical.CommercialSubmitted, o.Status().Commercial)
	require.ErrorIs(t, o.ReleaseHold(canonical.HoldCredit, at), canonical.ErrTransition, "release when not on hold")
	require.NoError(t, o.Accept(at), "accept after release")
	assert.Equal(t, canonical.CommercialAccepted, o.Status().Commercial)
	require.ErrorIs(t, o.Reject(at), canonical.ErrTransition, "reject an accepted order")
	err = o.PlaceHold(canonical.Hold{Kind: "fraud"})
	require.ErrorIs(t, err, canonical.ErrTransition, "unknown hold kind")
	assert.Contains(t, err.Error(), `unknown hold kind "fraud"`)
	require.ErrorIs(t, o.PlaceHold(canonical.Hold{Kind: canonical.HoldTax, ReleasedAt: at}), canonical.ErrTransition, "released hold")
	require.NoError(t, o.Close(at), "close an accepted order")
	assert.Equal(t, canonical.CommercialClosed, o.Status().Commercial)
	require.ErrorIs(t, o.Cancel(at), canonical.ErrTransition, "cancel a closed order")

	r := sampleOrder(1)
	r.AcceptedAt = time.Time{}
	require.NoError(t, r.Reject(at), "reject a submitted order")
	assert.Equal(t, canonical.CommercialRejected, r.Status().Commercial)

	c := sampleOrder(2)
	require.NoError(t, c.Cancel(at), "cancel an accepted order with nothing shipped")
	assert.Equal(t, canonical.CommercialCancelled, c.Status().Commercial)
	require.ErrorIs(t, c.Accept(at), canonical.ErrTransition, "accept a cancelled order")

	p := sampleOrder(2)
	p.Lines[1].Buckets.Set(canonical.BucketShipped, canonical.DecimalFromInt(1))
	err = p.Cancel(at)
	require.ErrorIs(t, err, canonical.ErrTransition, "cancel a partly shipped order")
	assert.Contains(t, err.Error(), `line "L2"`)
}

func TestCheckQuantityEvent(t *testing.T) {
	S, Cn := canonical.BucketShipped, canonical.BucketCancelled
	accepted := func() canonical.Order {
		o := sampleOrder(1)
		o.Lines[0].Buckets = bk("ordered", "10", "cancelled", "2", "shipped", "5")
		return o
	}
	rejected := func() canonical.Order {
		o := accepted()
		o.AcceptedAt = time.Time{}
		o.RejectedAt = t0
		o.Lines[0].Buckets = bk("ordered", "10")
		return o
	}
	tests := []struct {
		name  string
		order func() canonical.Order
		ev    canonical.QuantityEvent
		want  error
		text  string
	}{
		{"ship the rest", accepted, delta("L1", S, "3", h, "s"), nil, ""},
		{"ship more than open", accepted, delta("L1", S, "4", h, "s"), canonical.ErrTransition, "shipped 9 EA exceeds what is open: 3 EA (ordered 10 − cancelled 2 − rejected 0 − shipped 5)"},
		{"ship snapshot within open", accepted, snap("L1", S, "8", h, "s"), nil, ""},
		{"ship a rejected order", rejected, delta("L1", S, "1", h, "s"), canonical.ErrTransition, "ship: line \"L1\": rejected → shipped is not allowed"},
		{"cancel what is open", accepted, delta("L1", Cn, "3", h, "c"), nil, ""},
		{"cancel more than is open", accepted, delta("L1", Cn, "4", h, "c"), canonical.ErrTransition, "cancelled 6 EA exceeds what is open: 3 EA"},
		{"cancel below zero", accepted, delta("L1", Cn, "-3", h, "c"), canonical.ErrTransition, "cancelled would become -1 EA"},
		{"deliver more than shipped", accepted, delta("L1", canonical.BucketDelivered, "6", h, "d"), canonical.ErrTransition, "delivered 6 EA exceeds shipped 5 EA"},
		{"invoice an accepted order", accepted, delta("L1", canonical.BucketInvoiced, "5", h, "i"), nil, ""},
		{"allocate a rejected order", rejected, snap("L1", canonical.BucketAllocated, "1", h, "a"), canonical.ErrTransition, "allocate"},
		{"unknown line", accepted, delta("L7", S, "1", h, "s"), canonical.ErrInvalid, `line "L7" is not in order "ord-1"`},
		{"invalid event", accepted, delta("L1", S, "1", h, ""), canonical.ErrInvalid, "sourceMessageId: is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.order()
			err := o.CheckQuantityEvent(tc.ev)
			if tc.want == nil {
				assert.NoError(t, err, "event %+v", tc.ev)
				return
			}
			require.Error(t, err, "event %+v", tc.ev)
			assert.True(t, errors.Is(err, tc.want), "%s: %v is not %v", tc.name, err, tc.want)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "event %+v", tc.ev)
			assert.Contains(t, err.Error(), tc.text, "event %+v", tc.ev)
		})
	}
}

func TestBucketAction(t *testing.T) {
	for _, b := range canonical.AllBuckets() {
		assert.NotZero(t, canonical.BucketAction(b), "bucket %s has an action", b)
	}
	assert.Zero(t, canonical.BucketAction(0))
	assert.Equal(t, canonical.ActionShip, canonical.BucketAction(canonical.BucketShipped))
	assert.Equal(t, "ship", canonical.ActionShip.String())
}
