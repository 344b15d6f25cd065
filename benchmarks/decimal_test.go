package benchmarks

// Decimal library choice for canonical.Money and canonical.Quantity:
// govalues/decimal (allocation-free, fixed 19 digits) against
// shopspring/decimal (arbitrary precision on math/big).

import (
	"testing"

	govalues "github.com/govalues/decimal"
	"github.com/shopspring/decimal"
)

var (
	sinkGV govalues.Decimal
	sinkSS decimal.Decimal
	sinkS  string
)

func BenchmarkDecimalAdd(b *testing.B) {
	b.Run("govalues", func(b *testing.B) {
		x, y := govalues.MustParse("1234.56"), govalues.MustParse("0.99")
		b.ReportAllocs()
		for b.Loop() {
			sinkGV, _ = x.Add(y)
		}
	})
	b.Run("shopspring", func(b *testing.B) {
		x, y := decimal.RequireFromString("1234.56"), decimal.RequireFromString("0.99")
		b.ReportAllocs()
		for b.Loop() {
			sinkSS = x.Add(y)
		}
	})
}

func BenchmarkDecimalMul(b *testing.B) {
	b.Run("govalues", func(b *testing.B) {
		x, y := govalues.MustParse("0.1234"), govalues.MustParse("17")
		b.ReportAllocs()
		for b.Loop() {
			sinkGV, _ = x.Mul(y)
		}
	})
	b.Run("shopspring", func(b *testing.B) {
		x, y := decimal.RequireFromString("0.1234"), decimal.RequireFromString("17")
		b.ReportAllocs()
		for b.Loop() {
			sinkSS = x.Mul(y)
		}
	})
}

func BenchmarkDecimalCmp(b *testing.B) {
	b.Run("govalues", func(b *testing.B) {
		x, y := govalues.MustParse("1234.56"), govalues.MustParse("1234.560")
		b.ReportAllocs()
		for b.Loop() {
			_ = x.Cmp(y)
		}
	})
	b.Run("shopspring", func(b *testing.B) {
		x, y := decimal.RequireFromString("1234.56"), decimal.RequireFromString("1234.560")
		b.ReportAllocs()
		for b.Loop() {
			_ = x.Cmp(y)
		}
	})
}

func BenchmarkDecimalParseString(b *testing.B) {
	b.Run("govalues", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, _ := govalues.Parse("1234.56")
			sinkS = d.String()
		}
	})
	b.Run("shopspring", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, _ := decimal.NewFromString("1234.56")
			sinkS = d.StringFixed(2)
		}
	})
}
