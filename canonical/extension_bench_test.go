package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/distsync/distsync/canonical"
)

// BenchmarkOrderJSONExtensions encodes and decodes a 10-line order with
// three extensions on the order and on every line, through the fast
// paths and through encoding/json, and reads one typed.
func BenchmarkOrderJSONExtensions(b *testing.B) {
	o := sampleOrder(10)
	var x canonical.Extensions
	for _, err := range []error{
		canonical.SetExt(&x, "crm:costCentre", "CC-12"),
		canonical.SetExt(&x, "crm:discount", canonical.MustParseDecimal("2.50")),
		canonical.SetExt(&x, "salesforce:Gift_Wrap__c", true),
	} {
		if err != nil {
			b.Fatal(err)
		}
	}
	o.Extensions = x
	for i := range o.Lines {
		o.Lines[i].Extensions = x
	}
	data, err := canonical.EncodeOrder(o)
	if err != nil {
		b.Fatal(err)
	}
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
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := o.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ext-decimal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := canonical.Ext[canonical.Decimal](o.Lines[9].Extensions, "crm:discount"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
