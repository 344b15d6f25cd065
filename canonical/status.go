package canonical

import (
	"fmt"
	"strconv"
)

// CommercialStatus is the commercial axis of an order's status: where the
// order stands with the ERP. It is derived by [Order.Status]. The zero value
// is not a valid status.
// It is a comparable value, safe for concurrent use.
type CommercialStatus uint8

// Commercial statuses.
const (
	// CommercialDraft: not yet submitted to the ERP.
	CommercialDraft CommercialStatus = iota + 1
	// CommercialSubmitted: submitted, not yet accepted or rejected.
	CommercialSubmitted
	// CommercialOnHold: submitted, with at least one active hold.
	CommercialOnHold
	// CommercialAccepted: accepted by the ERP, which is now its system of
	// record.
	CommercialAccepted
	// CommercialRejected: rejected by the ERP.
	CommercialRejected
	// CommercialCancelled: cancelled as a whole.
	CommercialCancelled
	// CommercialClosed: nothing is left to do.
	CommercialClosed
)

var commercialNames = []string{"", "draft", "submitted", "on_hold", "accepted", "rejected", "cancelled", "closed"}

// FulfillmentStatus is the fulfilment axis of an order's (or a line's)
// status. The zero value is not a valid status.
// It is a comparable value, safe for concurrent use.
type FulfillmentStatus uint8

// Fulfilment statuses.
const (
	// FulfillmentUnfulfilled: nothing allocated, picked or shipped.
	FulfillmentUnfulfilled FulfillmentStatus = iota + 1
	// FulfillmentPartiallyAllocated: some, not all, of the open quantity
	// is allocated or picked.
	FulfillmentPartiallyAllocated
	// FulfillmentAllocated: all of the open quantity is allocated or
	// picked.
	FulfillmentAllocated
	// FulfillmentBackordered: some quantity waits for stock and nothing
	// has shipped.
	FulfillmentBackordered
	// FulfillmentPartiallyShipped: some, not all, of the open quantity has
	// shipped.
	FulfillmentPartiallyShipped
	// FulfillmentShipped: all of the open quantity has shipped.
	FulfillmentShipped
	// FulfillmentDelivered: all of the open quantity was delivered.
	FulfillmentDelivered
	// FulfillmentException: the buckets contradict each other (more
	// shipped than open, more delivered than shipped, a negative bucket).
	FulfillmentException
)

var fulfillmentNames = []string{"", "unfulfilled", "partially_allocated", "allocated", "backordered", "partially_shipped", "shipped", "delivered", "exception"}

// BillingStatus is the billing axis of an order's (or a line's) status.
// The zero value is not a valid status.
// It is a comparable value, safe for concurrent use.
type BillingStatus uint8

// Billing statuses.
const (
	// BillingNotInvoiced: nothing invoiced.
	BillingNotInvoiced BillingStatus = iota + 1
	// BillingPartiallyInvoiced: some, not all, of the open quantity is
	// invoiced.
	BillingPartiallyInvoiced
	// BillingInvoiced: all of the open quantity is invoiced.
	BillingInvoiced
	// BillingCredited: goods came back on an invoiced line, so its billing
	// is corrected by a credit memo.
	BillingCredited
)

var billingNames = []string{"", "not_invoiced", "partially_invoiced", "invoiced", "credited"}

// String returns the status name ("on_hold").
func (s CommercialStatus) String() string {
	return enumString(commercialNames, uint8(s), "CommercialStatus")
}

// Valid reports whether s is one of the CommercialStatus constants: whether
// MarshalText accepts it.
func (s CommercialStatus) Valid() bool { return s != 0 && int(s) < len(commercialNames) }

// MarshalText returns the status name; an invalid status is an error.
func (s CommercialStatus) MarshalText() ([]byte, error) {
	return enumMarshal(commercialNames, uint8(s), "commercial status")
}

// UnmarshalText parses a status name.
func (s *CommercialStatus) UnmarshalText(text []byte) error {
	return enumUnmarshal(commercialNames, (*uint8)(s), text, "commercial status")
}

// String returns the status name ("partially_shipped").
func (s FulfillmentStatus) String() string {
	return enumString(fulfillmentNames, uint8(s), "FulfillmentStatus")
}

// Valid reports whether s is one of the FulfillmentStatus constants: whether
// MarshalText accepts it.
func (s FulfillmentStatus) Valid() bool { return s != 0 && int(s) < len(fulfillmentNames) }

// MarshalText returns the status name; an invalid status is an error.
func (s FulfillmentStatus) MarshalText() ([]byte, error) {
	return enumMarshal(fulfillmentNames, uint8(s), "fulfillment status")
}

// UnmarshalText parses a status name.
func (s *FulfillmentStatus) UnmarshalText(text []byte) error {
	return enumUnmarshal(fulfillmentNames, (*uint8)(s), text, "fulfillment status")
}

// String returns the status name ("partially_invoiced").
func (s BillingStatus) String() string { return enumString(billingNames, uint8(s), "BillingStatus") }

// Valid reports whether s is one of the BillingStatus constants: whether
// MarshalText accepts it.
func (s BillingStatus) Valid() bool { return s != 0 && int(s) < len(billingNames) }

// MarshalText returns the status name; an invalid status is an error.
func (s BillingStatus) MarshalText() ([]byte, error) {
	return enumMarshal(billingNames, uint8(s), "billing status")
}

// UnmarshalText parses a status name.
func (s *BillingStatus) UnmarshalText(text []byte) error {
	return enumUnmarshal(billingNames, (*uint8)(s), text, "billing status")
}

func enumString(names []string, v uint8, typ string) string {
	if v == 0 || int(v) >= len(names) {
		return typ + "(" + strconv.Itoa(int(v)) + ")"
	}
	return names[v]
}

func enumMarshal(names []string, v uint8, what string) ([]byte, error) {
	if v == 0 || int(v) >= len(names) {
		return nil, fmt.Errorf("%w %s %d", ErrInvalid, what, v)
	}
	return []byte(names[v]), nil
}

func enumUnmarshal(names []string, v *uint8, text []byte, what string) error {
	for i := 1; i < len(names); i++ {
		if names[i] == string(text) {
			*v = uint8(i)
			return nil
		}
	}
	return fmt.Errorf("%w %s %q: want one of %v", ErrInvalid, what, text, names[1:])
}

// Status is an order's status on its three independent axes. It is a
// comparable value, safe for concurrent use. Its zero value holds three
// invalid axes; [Order.Status] derives a valid one.
type Status struct {
	Commercial  CommercialStatus  `json:"commercial"`
	Fulfillment FulfillmentStatus `json:"fulfillment"`
	Billing     BillingStatus     `json:"billing"`
}

// String returns "commercial/fulfillment/billing", such as
// "accepted/partially_shipped/not_invoiced".
func (s Status) String() string {
	return s.Commercial.String() + "/" + s.Fulfillment.String() + "/" + s.Billing.String()
}

// lineFacts is what the order-level derivation needs from one line.
type lineFacts struct {
	fulfillment FulfillmentStatus
	billing     BillingStatus
	live        bool // open > 0
	cancelled   bool // cancelled > 0
	rejected    bool // rejected > 0
	done        bool // delivered ≥ open and invoiced ≥ open
}

// LineFulfillment derives a line's fulfilment status from its buckets.
// With open = ordered − cancelled − rejected, the first rule that holds
// wins:
//
//  1. exception: a bucket is negative, open < 0, shipped > open, or
//     delivered > shipped;
//  2. unfulfilled: open = 0 (nothing left to fulfil);
//  3. delivered: delivered ≥ open;
//  4. shipped: shipped ≥ open;
//  5. partially shipped: shipped > 0;
//  6. backordered: backordered > 0;
//  7. allocated: max(allocated, picked) ≥ open;
//  8. partially allocated: max(allocated, picked) > 0;
//  9. unfulfilled.
func LineFulfillment(bs *Buckets) FulfillmentStatus { return deriveLine(bs).fulfillment }

// LineBilling derives a line's billing status from its buckets. With open
// = ordered − cancelled − rejected, the first rule that holds wins:
//
//  1. credited: invoiced > 0 and returned > 0;
//  2. invoiced: open > 0 and invoiced ≥ open;
//  3. partially invoiced: invoiced > 0;
//  4. not invoiced.
func LineBilling(bs *Buckets) BillingStatus { return deriveLine(bs).billing }

// deriveLine derives a line's facts. It works on int64 coefficients at a
// common scale when every bucket fits (the usual case: a few digits), and
// on Decimals otherwise; both apply the same rules.
func deriveLine(bs *Buckets) lineFacts {
	var q [numBuckets]int64
	if bs.scaledInts(&q) {
		return deriveInts(&q)
	}
	return deriveDecimals(bs)
}

// maxScaled bounds the scaled coefficients so that any sum or difference of
// three of them fits in an int64.
const maxScaled = 1 << 60

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// scaledInts stores every bucket as a signed coefficient at the largest
// scale of the buckets. It reports false when one does not fit.
func (bs *Buckets) scaledInts(q *[numBuckets]int64) bool {
	scale, same := bs.v[0].d.Scale(), true
	for i := 1; i < len(bs.v); i++ {
		if s := bs.v[i].d.Scale(); s != scale {
			scale, same = max(scale, s), false
		}
	}
	if same {
		for i := range bs.v {
			c := bs.v[i].d.Coef()
			if c >= maxScaled {
				return false
			}
			q[i] = int64(c)
			if bs.v[i].d.IsNeg() {
				q[i] = -q[i]
			}
		}
		return true
	}
	for i := range bs.v {
		d := bs.v[i].d
		k := scale - d.Scale()
		if k >= len(pow10) {
			return false
		}
		c := d.Coef()
		if c >= maxScaled || int64(c) > maxScaled/pow10[k] {
			return false
		}
		v := int64(c) * pow10[k]
		if d.IsNeg() {
			v = -v
		}
		q[i] = v
	}
	return true
}

func deriveInts(q *[numBuckets]int64) lineFacts {
	get := func(b Bucket) int64 { return q[b-1] }
	var f lineFacts
	f.cancelled = get(BucketCancelled) > 0
	f.rejected = get(BucketRejected) > 0
	open := get(BucketOrdered) - get(BucketCancelled) - get(BucketRejected)
	shipped, delivered, invoiced := get(BucketShipped), get(BucketDelivered), get(BucketInvoiced)

	switch {
	case invoiced > 0 && get(BucketReturned) > 0:
		f.billing = BillingCredited
	case open > 0 && invoiced >= open:
		f.billing = BillingInvoiced
	case invoiced > 0:
		f.billing = BillingPartiallyInvoiced
	default:
		f.billing = BillingNotInvoiced
	}

	negative := false
	for _, v := range q {
		if v < 0 {
			negative = true
			break
		}
	}
	if negative || open < 0 || shipped > open || delivered > shipped {
		f.fulfillment = FulfillmentException
		f.live = true
		return f
	}
	if open <= 0 {
		f.fulfillment = FulfillmentUnfulfilled
		return f
	}
	f.live = true
	f.done = delivered >= open && invoiced >= open
	covered := max(get(BucketAllocated), get(BucketPicked))
	switch {
	case delivered >= open:
		f.fulfillment = FulfillmentDelivered
	case shipped >= open:
		f.fulfillment = FulfillmentShipped
	case shipped > 0:
		f.fulfillment = FulfillmentPartiallyShipped
	case get(BucketBackordered) > 0:
		f.fulfillment = FulfillmentBackordered
	case covered >= open:
		f.fulfillment = FulfillmentAllocated
	case covered > 0:
		f.fulfillment = FulfillmentPartiallyAllocated
	default:
		f.fulfillment = FulfillmentUnfulfilled
	}
	return f
}

func deriveDecimals(bs *Buckets) lineFacts {
	var f lineFacts
	get := func(b Bucket) Decimal { return bs.v[b-1] }
	f.cancelled = get(BucketCancelled).IsPos()
	f.rejected = get(BucketRejected).IsPos()
	open, err := bs.NetOrdered()
	shipped, delivered, invoiced := get(BucketShipped), get(BucketDelivered), get(BucketInvoiced)

	switch {
	case invoiced.IsPos() && get(BucketReturned).IsPos():
		f.billing = BillingCredited
	case open.IsPos() && invoiced.Cmp(open) >= 0:
		f.billing = BillingInvoiced
	case invoiced.IsPos():
		f.billing = BillingPartiallyInvoiced
	default:
		f.billing = BillingNotInvoiced
	}

	negative := false
	for _, d := range bs.v {
		if d.IsNeg() {
			negative = true
			break
		}
	}
	if err != nil || negative || open.IsNeg() || shipped.Cmp(open) > 0 || delivered.Cmp(shipped) > 0 {
		f.fulfillment = FulfillmentException
		f.live = true
		return f
	}
	if !open.IsPos() {
		f.fulfillment = FulfillmentUnfulfilled
		return f
	}
	f.live = true
	f.done = delivered.Cmp(open) >= 0 && invoiced.Cmp(open) >= 0
	covered := get(BucketAllocated).Max(get(BucketPicked))
	switch {
	case delivered.Cmp(open) >= 0:
		f.fulfillment = FulfillmentDelivered
	case shipped.Cmp(open) >= 0:
		f.fulfillment = FulfillmentShipped
	case shipped.IsPos():
		f.fulfillment = FulfillmentPartiallyShipped
	case get(BucketBackordered).IsPos():
		f.fulfillment = FulfillmentBackordered
	case covered.Cmp(open) >= 0:
		f.fulfillment = FulfillmentAllocated
	case covered.IsPos():
		f.fulfillment = FulfillmentPartiallyAllocated
	default:
		f.fulfillment = FulfillmentUnfulfilled
	}
	return f
}

// Status derives the order's status on its three axes from the order-level
// facts (SubmittedAt, AcceptedAt, RejectedAt, CancelledAt, ClosedAt, Holds)
// and the buckets of its lines (see [Ledger] for how buckets are folded).
// A line is live when its open quantity (ordered − cancelled − rejected) is
// positive or its buckets are contradictory. The first rule that holds
// wins on each axis.
//
// Commercial:
//
//  1. rejected: RejectedAt is set;
//  2. cancelled: CancelledAt is set;
//  3. the order has lines and none is live: cancelled when some line has
//     cancelled quantity, else rejected (the ERP rejected every line);
//  4. closed: ClosedAt is set;
//  5. closed: AcceptedAt is set and every live line has delivered ≥ open
//     and invoiced ≥ open;
//  6. draft: SubmittedAt is not set;
//  7. on hold: a hold is active (not released);
//  8. accepted: AcceptedAt is set;
//  9. submitted.
//
// Fulfilment, over the live lines' [LineFulfillment]:
//
//  1. exception: some line is an exception;
//  2. unfulfilled: no line is live;
//  3. delivered: every line is delivered;
//  4. shipped: every line is shipped or delivered;
//  5. partially shipped: some line is partially shipped, shipped or
//     delivered;
//  6. backordered: some line is backordered;
//  7. allocated: every line is allocated;
//  8. partially allocated: some line is allocated or partially allocated;
//  9. unfulfilled.
//
// Billing, over every line's [LineBilling]:
//
//  1. credited: some line is credited;
//  2. not invoiced: no line has invoiced quantity;
//  3. invoiced: every live line is invoiced;
//  4. partially invoiced.
func (o *Order) Status() Status {
	// Status does not allocate (BenchmarkFoldAndStatus).
	var (
		anyLive, anyCancelled, allDone                         = false, false, true
		nLive, nException, nDelivered, nShippedUp, nShippedAny int
		nBackordered, nAllocated, nAllocatedAny                int
		nCredited, nInvoicedAny, nLiveInvoiced                 int
	)
	for i := range o.Lines {
		bs := &o.Lines[i].Buckets
		var unfolded Buckets
		if bs.v[BucketOrdered-1].IsZero() {
			unfolded = *bs
			unfolded.v[BucketOrdered-1] = o.Lines[i].Quantity.Value
			bs = &unfolded
		}
		f := deriveLine(bs)
		if f.cancelled {
			anyCancelled = true
		}
		switch f.billing {
		case BillingCredited:
			nCredited++
			nInvoicedAny++
		case BillingInvoiced, BillingPartiallyInvoiced:
			nInvoicedAny++
		}
		if !f.live {
			continue
		}
		anyLive = true
		nLive++
		if !f.done {
			allDone = false
		}
		if f.billing == BillingInvoiced {
			nLiveInvoiced++
		}
		switch f.fulfillment {
		case FulfillmentException:
			nException++
		case FulfillmentDelivered:
			nDelivered++
			nShippedUp++
			nShippedAny++
		case FulfillmentShipped:
			nShippedUp++
			nShippedAny++
		case FulfillmentPartiallyShipped:
			nShippedAny++
		case FulfillmentBackordered:
			nBackordered++
		case FulfillmentAllocated:
			nAllocated++
			nAllocatedAny++
		case FulfillmentPartiallyAllocated:
			nAllocatedAny++
		}
	}

	var s Status
	switch {
	case !o.RejectedAt.IsZero():
		s.Commercial = CommercialRejected
	case !o.CancelledAt.IsZero():
		s.Commercial = CommercialCancelled
	case len(o.Lines) > 0 && !anyLive && anyCancelled:
		s.Commercial = CommercialCancelled
	case len(o.Lines) > 0 && !anyLive:
		s.Commercial = CommercialRejected
	case !o.ClosedAt.IsZero():
		s.Commercial = CommercialClosed
	case !o.AcceptedAt.IsZero() && anyLive && allDone && nException == 0:
		s.Commercial = CommercialClosed
	case o.SubmittedAt.IsZero():
		s.Commercial = CommercialDraft
	case o.hasActiveHold():
		s.Commercial = CommercialOnHold
	case !o.AcceptedAt.IsZero():
		s.Commercial = CommercialAccepted
	default:
		s.Commercial = CommercialSubmitted
	}

	switch {
	case nException > 0:
		s.Fulfillment = FulfillmentException
	case nLive == 0:
		s.Fulfillment = FulfillmentUnfulfilled
	case nDelivered == nLive:
		s.Fulfillment = FulfillmentDelivered
	case nShippedUp == nLive:
		s.Fulfillment = FulfillmentShipped
	case nShippedAny > 0:
		s.Fulfillment = FulfillmentPartiallyShipped
	case nBackordered > 0:
		s.Fulfillment = FulfillmentBackordered
	case nAllocated == nLive:
		s.Fulfillment = FulfillmentAllocated
	case nAllocatedAny > 0:
		s.Fulfillment = FulfillmentPartiallyAllocated
	default:
		s.Fulfillment = FulfillmentUnfulfilled
	}

	switch {
	case nCredited > 0:
		s.Billing = BillingCredited
	case nInvoicedAny == 0:
		s.Billing = BillingNotInvoiced
	case nLive > 0 && nLiveInvoiced == nLive:
		s.Billing = BillingInvoiced
	default:
		s.Billing = BillingPartiallyInvoiced
	}
	return s
}

func (o *Order) hasActiveHold() bool {
	for i := range o.Holds {
		if o.Holds[i].Active() {
			return true
		}
	}
	return false
}
