package canonical_test

import (
	"testing"

	"github.com/distsync/distsync/canonical"
)

var (
	benchMoney canonical.Money
	benchInt   int
)

func BenchmarkMoneyAdd(b *testing.B) {
	x := canonical.MustParseMoney("1234.56", "USD")
	y := canonical.MustParseMoney("0.99", "USD")
	b.ReportAllocs()
	for b.Loop() {
		s, err := x.Add(y)
		if err != nil {
			b.Fatal(err)
		}
		benchMoney = s
	}
}

func BenchmarkMoneyCmp(b *testing.B) {
	x := canonical.MustParseMoney("1234.56", "USD")
	y := canonical.MustParseMoney("1234.560", "USD")
	b.ReportAllocs()
	for b.Loop() {
		c, err := x.Cmp(y)
		if err != nil {
			b.Fatal(err)
		}
		benchInt = c
	}
}

func BenchmarkMoneyMulRound(b *testing.B) {
	price := canonical.MustParseMoney("0.1234", "USD")
	qty := canonical.MustParseDecimal("17")
	b.ReportAllocs()
	for b.Loop() {
		m, err := price.Mul(qty)
		if err != nil {
			b.Fatal(err)
		}
		benchMoney = m.Round()
	}
}

func BenchmarkParseMoney(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := canonical.ParseMoney("1234.56", "USD")
		if err != nil {
			b.Fatal(err)
		}
		benchMoney = m
	}
}
