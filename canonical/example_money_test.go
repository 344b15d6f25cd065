package canonical_test

import (
	"errors"
	"fmt"

	"github.com/distsync/distsync/canonical"
)

func ExampleMoney_Add() {
	price := canonical.MustParseMoney("19.99", "USD")
	freight := canonical.MustParseMoney("5.00", "USD")

	total, err := price.Add(freight)
	fmt.Println(total, err)

	// Mixing currencies is an error, never a wrong number.
	_, err = price.Add(canonical.MustParseMoney("5.00", "EUR"))
	fmt.Println(errors.Is(err, canonical.ErrCurrencyMismatch), err)
	// Output:
	// 24.99 USD <nil>
	// true canonical: currency mismatch: USD + EUR
}

func ExampleMoney_Mul() {
	// A unit price keeps the scale the source sent; round for the total.
	unitPrice := canonical.MustParseMoney("0.1234", "USD")
	line, _ := unitPrice.Mul(canonical.MustParseDecimal("7"))
	fmt.Println(line, "→", line.Round())

	yen, _ := canonical.MustParseMoney("99.5", "JPY").Mul(canonical.MustParseDecimal("3"))
	fmt.Println(yen, "→", yen.Round())
	// Output:
	// 0.8638 USD → 0.86 USD
	// 298.5 JPY → 299 JPY
}

func ExampleParseUnit() {
	_, err := canonical.ParseUnit("CS")
	fmt.Println(err)
	u, _ := canonical.ParseUnit("XCS")
	fmt.Println(u, u.Name())
	// Output:
	// canonical: invalid unit "CS": not a UN/ECE Rec 20 code; use XCS (case)
	// XCS case
}

func ExampleQuantity_ConvertTo() {
	q := canonical.MustParseQuantity("2", "DZN")
	ea, _ := q.ConvertTo("EA")
	fmt.Println(ea)
	// Output:
	// 24 EA
}

func ExampleParseGTIN() {
	g, err := canonical.ParseGTIN("4006381333931")
	fmt.Println(g.GTIN14(), err)
	_, err = canonical.ParseGTIN("4006381333932")
	fmt.Println(err)
	// Output:
	// 04006381333931 <nil>
	// canonical: invalid GTIN "4006381333932": check digit is 2, want 1
}
