package canonical

import (
	"errors"
	"fmt"
)

// ErrCurrencyMismatch is returned by arithmetic and comparison of two
// [Money] values in different currencies.
var ErrCurrencyMismatch = errors.New("canonical: currency mismatch")

// Money is an exact amount in an ISO 4217 currency. In JSON it is
// {"amount":"12.50","currency":"USD"}, the amount a string.
//
// Unit prices keep the scale the source sent (a price of 0.1234 USD is kept
// as is); [Money.Round] rounds to the currency's minor unit when a total is
// needed. Money is an immutable value and safe for concurrent use. The zero
// value has no currency and is not valid ([Money.Validate]).
type Money struct {
	Amount   Decimal  `json:"amount"`
	Currency Currency `json:"currency"`
}

// NewMoney returns amount in currency c. It does not check c; use
// [ParseMoney] or [Money.Validate] for that.
func NewMoney(amount Decimal, c Currency) Money { return Money{Amount: amount, Currency: c} }

// ParseMoney parses amount as a decimal and currency as an ISO 4217 code.
// The error matches [ErrInvalid] and names what is wrong.
func ParseMoney(amount, currency string) (Money, error) {
	c, err := ParseCurrency(currency)
	if err != nil {
		return Money{}, err
	}
	a, err := ParseDecimal(amount)
	if err != nil {
		return Money{}, fmt.Errorf("%w money amount %q", ErrInvalid, amount)
	}
	return Money{Amount: a, Currency: c}, nil
}

// MustParseMoney is like [ParseMoney] but panics on error.
func MustParseMoney(amount, currency string) Money {
	m, err := ParseMoney(amount, currency)
	if err != nil {
		panic(err)
	}
	return m
}

// Validate checks the currency code.
func (m Money) Validate() error {
	if err := m.Currency.Validate(); err != nil {
		return &ValidationError{Kind: "money", Errors: []FieldError{{Field: "currency", Message: errorMessage(err)}}}
	}
	return nil
}

// Add returns m + o. It returns [ErrCurrencyMismatch] when the currencies
// differ and [ErrOverflow] when the exact sum does not fit.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, currencyMismatch("+", m.Currency, o.Currency)
	}
	a, err := m.Amount.Add(o.Amount)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: a, Currency: m.Currency}, nil
}

// Sub returns m - o, with the errors of [Money.Add].
func (m Money) Sub(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, currencyMismatch("-", m.Currency, o.Currency)
	}
	a, err := m.Amount.Sub(o.Amount)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: a, Currency: m.Currency}, nil
}

// Mul returns m × factor (a unit price times a quantity, a rate), exactly,
// or [ErrOverflow].
func (m Money) Mul(factor Decimal) (Money, error) {
	a, err := m.Amount.Mul(factor)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: a, Currency: m.Currency}, nil
}

// Cmp compares m and o: -1, 0 or +1. It returns [ErrCurrencyMismatch] when
// the currencies differ, never a meaningless order.
func (m Money) Cmp(o Money) (int, error) {
	if m.Currency != o.Currency {
		return 0, currencyMismatch("<=>", m.Currency, o.Currency)
	}
	return m.Amount.Cmp(o.Amount), nil
}

// Equal reports whether m and o have the same currency and numerically
// equal amounts (12.5 USD equals 12.50 USD).
func (m Money) Equal(o Money) bool {
	return m.Currency == o.Currency && m.Amount.Equal(o.Amount)
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Amount.IsZero() }

// Sign returns the sign of the amount.
func (m Money) Sign() int { return m.Amount.Sign() }

// Neg returns -m.
func (m Money) Neg() Money { return Money{Amount: m.Amount.Neg(), Currency: m.Currency} }

// Round rounds the amount to the currency's minor unit, half away from zero:
// 0.125 USD → 0.13 USD, 100.5 JPY → 101 JPY. The result always has exactly
// the minor unit's scale (10 USD → 10.00 USD). An unknown currency rounds
// to 2 digits.
func (m Money) Round() Money {
	scale, ok := m.Currency.MinorUnits()
	if !ok {
		scale = 2
	}
	return Money{Amount: m.Amount.Round(scale).Pad(scale), Currency: m.Currency}
}

// String returns "12.50 USD".
func (m Money) String() string { return m.Amount.String() + " " + string(m.Currency) }

func currencyMismatch(op string, a, b Currency) error {
	return fmt.Errorf("%w: %s %s %s", ErrCurrencyMismatch, a, op, b)
}
