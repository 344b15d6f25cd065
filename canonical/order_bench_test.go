package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/distsync/distsync/canonical"
)

// BenchmarkOrderValidate validates a valid 10-line order.
func BenchmarkOrderValidate(b *testing.B) {
	o := sampleOrder(10)
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrderJSON encodes a 10-line order with EncodeOrder and decodes
// it back with DecodeOrder (roundtrip), each half alone, and the same
// encoding through json.Marshal for comparison.
func BenchmarkOrderJSON(b *testing.B) {
	o := sampleOrder(10)
	o.Lines[0].Buckets.Set(canonical.BucketShipped, canonical.DecimalFromInt(4))
	data, err := json.Marshal(&o)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := canonical.EncodeOrder(o)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := canonical.DecodeOrder(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := canonical.EncodeOrder(o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := json.Marshal(&o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := canonical.DecodeOrder(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOrderValidateParallel validates 10-line orders from every
// processor: the validator's struct cache is shared.
func BenchmarkOrderValidateParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		o := sampleOrder(10)
		for pb.Next() {
			if err := o.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
