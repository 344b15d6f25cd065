package canonical

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Bucket names one quantity bucket of an order line. Quantities are the
// truth of an order; its status is derived from them (see [Order.Status]).
// The zero Bucket is not a valid bucket.
// It is a comparable value, safe for concurrent use.
type Bucket uint8

// The quantity buckets of an order line, in the order of the order-to-cash
// flow. Every bucket holds a quantity in the unit of the line's ordered
// quantity.
const (
	// BucketOrdered is the quantity the customer ordered.
	BucketOrdered Bucket = iota + 1
	// BucketConfirmed is the quantity the ERP confirmed.
	BucketConfirmed
	// BucketRejected is the quantity the ERP rejected.
	BucketRejected
	// BucketCancelled is the quantity cancelled after it was ordered.
	BucketCancelled
	// BucketAllocated is the quantity a warehouse reserved for the line.
	BucketAllocated
	// BucketBackordered is the quantity waiting for stock.
	BucketBackordered
	// BucketPicked is the quantity picked in a warehouse.
	BucketPicked
	// BucketShipped is the quantity that left a warehouse.
	BucketShipped
	// BucketDelivered is the quantity the carrier delivered.
	BucketDelivered
	// BucketInvoiced is the quantity invoiced (credit memos do not reduce it).
	BucketInvoiced
	// BucketReturned is the quantity the customer sent back and a warehouse
	// received.
	BucketReturned

	numBuckets = int(BucketReturned)
)

var bucketNames = [...]string{
	"", "ordered", "confirmed", "rejected", "cancelled", "allocated",
	"backordered", "picked", "shipped", "delivered", "invoiced", "returned",
}

// AllBuckets returns every bucket in flow order.
func AllBuckets() []Bucket {
	out := make([]Bucket, numBuckets)
	for i := range out {
		out[i] = Bucket(i + 1)
	}
	return out
}

// ParseBucket returns the bucket named s ("ordered", "shipped", ...). The
// error matches [ErrInvalid] and names s.
func ParseBucket(s string) (Bucket, error) {
	for i := 1; i < len(bucketNames); i++ {
		if bucketNames[i] == s {
			return Bucket(i), nil
		}
	}
	return 0, fmt.Errorf("%w bucket %q: want one of ordered, confirmed, rejected, cancelled, allocated, backordered, picked, shipped, delivered, invoiced, returned", ErrInvalid, s)
}

// Valid reports whether b is one of the Bucket constants.
func (b Bucket) Valid() bool { return b >= BucketOrdered && b <= BucketReturned }

// String returns the bucket's name ("shipped"), or "Bucket(N)" for an
// invalid value.
func (b Bucket) String() string {
	if !b.Valid() {
		return "Bucket(" + strconv.Itoa(int(b)) + ")"
	}
	return bucketNames[b]
}

// MarshalText returns the bucket's name; an invalid bucket is an error.
func (b Bucket) MarshalText() ([]byte, error) {
	if !b.Valid() {
		return nil, fmt.Errorf("%w bucket %d", ErrInvalid, int(b))
	}
	return []byte(bucketNames[b]), nil
}

// UnmarshalText parses a bucket name as [ParseBucket] does.
func (b *Bucket) UnmarshalText(text []byte) error {
	v, err := ParseBucket(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Buckets holds the quantity buckets of one order line, each a [Decimal]
// in the unit of the line's ordered quantity. The zero value has every
// bucket at zero. It is a fixed-size value with no pointers: copying it
// copies the quantities, and reading it needs no lock as long as nobody
// writes it at the same time.
//
// In JSON, Buckets is an object keyed by bucket name with string values,
// {"ordered":"10","shipped":"4"}; buckets equal to the zero Decimal are
// left out. It is a plain value, safe for concurrent reads. The zero value
// is valid: every bucket zero.
type Buckets struct {
	v [numBuckets]Decimal
}

// Get returns the quantity in bucket b, or zero for an invalid bucket.
func (bs *Buckets) Get(b Bucket) Decimal {
	if !b.Valid() {
		return Decimal{}
	}
	return bs.v[b-1]
}

// Set sets bucket b to q. Setting an invalid bucket does nothing.
func (bs *Buckets) Set(b Bucket, q Decimal) {
	if b.Valid() {
		bs.v[b-1] = q
	}
}

// IsZero reports whether every bucket is zero.
func (bs Buckets) IsZero() bool {
	for _, d := range bs.v {
		if !d.IsZero() {
			return false
		}
	}
	return true
}

// Equal reports whether every bucket of bs and o is numerically equal.
func (bs Buckets) Equal(o Buckets) bool {
	for i := range bs.v {
		if !bs.v[i].Equal(o.v[i]) {
			return false
		}
	}
	return true
}

// NetOrdered returns the quantity the line still asks for in total:
// ordered − cancelled − rejected. It does not subtract what has already
// been allocated, shipped or invoiced (the quantity still to ship is
// NetOrdered − shipped). It is negative when more was cancelled or rejected
// than ordered, which [Buckets.Validate] reports.
func (bs *Buckets) NetOrdered() (Decimal, error) {
	o, err := bs.Get(BucketOrdered).Sub(bs.Get(BucketCancelled))
	if err != nil {
		return Decimal{}, err
	}
	return o.Sub(bs.Get(BucketRejected))
}

// Validate checks the rules that hold for the buckets of any line: every
// bucket is non-negative, and cancelled + rejected ≤ ordered and shipped ≤
// ordered − cancelled − rejected (no more leaves the warehouse than is
// open). Paths are bucket names.
func (bs Buckets) Validate() error {
	v := violations{kind: "buckets"}
	bs.check(&v, "")
	return v.err()
}

func (bs *Buckets) check(v *violations, prefix string) {
	for i, d := range bs.v {
		if d.IsNeg() {
			v.add(joinPath(prefix, bucketNames[i+1]), "must not be negative, is "+d.String())
		}
	}
	open, err := bs.NetOrdered()
	if err != nil {
		v.add(prefix, errorMessage(err))
		return
	}
	if open.IsNeg() {
		v.add(joinPath(prefix, "cancelled"), "cancelled + rejected must not exceed ordered "+bs.Get(BucketOrdered).String())
		return
	}
	if s := bs.Get(BucketShipped); s.Cmp(open) > 0 {
		v.add(joinPath(prefix, "shipped"), "must not exceed ordered − cancelled − rejected = "+open.String()+", is "+s.String())
	}
}

// MarshalJSON encodes the non-zero buckets as an object of strings in flow
// order.
func (bs Buckets) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 128)
	b = append(b, '{')
	first := true
	for i, d := range bs.v {
		if d == (Decimal{}) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, bucketNames[i+1]...)
		b = append(b, `":"`...)
		var err error
		if b, err = d.AppendText(b); err != nil {
			return nil, err
		}
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// UnmarshalJSON decodes an object keyed by bucket name. An unknown bucket
// name or a malformed quantity is an error naming it; null leaves bs
// unchanged.
func (bs *Buckets) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var m map[string]Decimal
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%w buckets: %s", ErrInvalid, errorMessage(err))
	}
	var out Buckets
	for k, d := range m {
		b, err := ParseBucket(k)
		if err != nil {
			return err
		}
		out.v[b-1] = d
	}
	*bs = out
	return nil
}
