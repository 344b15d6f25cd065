package canonical

import (
	"errors"
	"fmt"
)

// ErrUnitMismatch is returned by arithmetic and comparison of two
// [Quantity] values in different units, and by a conversion between units
// that have no fixed factor.
var ErrUnitMismatch = errors.New("canonical: unit mismatch")

// Quantity is an exact amount in a UN/ECE Rec 20 unit. In JSON it is
// {"value":"12","unit":"EA"}, the value a string. Quantity is an immutable
// value and safe for concurrent use. The zero value has no unit and is not
// valid ([Quantity.Validate]).
type Quantity struct {
	Value Decimal `json:"value"`
	Unit  Unit    `json:"unit"`
}

// NewQuantity returns value in unit u. It does not check u; use
// [ParseQuantity] or [Quantity.Validate] for that.
func NewQuantity(value Decimal, u Unit) Quantity { return Quantity{Value: value, Unit: u} }

// ParseQuantity parses value as a decimal and unit as a Rec 20 code. The
// error matches [ErrInvalid] and names what is wrong.
func ParseQuantity(value, unit string) (Quantity, error) {
	u, err := ParseUnit(unit)
	if err != nil {
		return Quantity{}, err
	}
	v, err := ParseDecimal(value)
	if err != nil {
		return Quantity{}, fmt.Errorf("%w quantity value %q", ErrInvalid, value)
	}
	return Quantity{Value: v, Unit: u}, nil
}

// MustParseQuantity is like [ParseQuantity] but panics on error.
func MustParseQuantity(value, unit string) Quantity {
	q, err := ParseQuantity(value, unit)
	if err != nil {
		panic(err)
	}
	return q
}

// Validate checks the unit code.
func (q Quantity) Validate() error {
	if err := q.Unit.Validate(); err != nil {
		return &ValidationError{Kind: "quantity", Errors: []FieldError{{Field: "unit", Message: errorMessage(err)}}}
	}
	return nil
}

// Add returns q + o. It returns [ErrUnitMismatch] when the units differ and
// [ErrOverflow] when the exact sum does not fit.
func (q Quantity) Add(o Quantity) (Quantity, error) {
	if q.Unit != o.Unit {
		return Quantity{}, unitMismatch("+", q.Unit, o.Unit)
	}
	v, err := q.Value.Add(o.Value)
	if err != nil {
		return Quantity{}, err
	}
	return Quantity{Value: v, Unit: q.Unit}, nil
}

// Sub returns q - o, with the errors of [Quantity.Add].
func (q Quantity) Sub(o Quantity) (Quantity, error) {
	if q.Unit != o.Unit {
		return Quantity{}, unitMismatch("-", q.Unit, o.Unit)
	}
	v, err := q.Value.Sub(o.Value)
	if err != nil {
		return Quantity{}, err
	}
	return Quantity{Value: v, Unit: q.Unit}, nil
}

// Cmp compares q and o: -1, 0 or +1, or [ErrUnitMismatch] when the units
// differ.
func (q Quantity) Cmp(o Quantity) (int, error) {
	if q.Unit != o.Unit {
		return 0, unitMismatch("<=>", q.Unit, o.Unit)
	}
	return q.Value.Cmp(o.Value), nil
}

// Equal reports whether q and o have the same unit and numerically equal
// values.
func (q Quantity) Equal(o Quantity) bool { return q.Unit == o.Unit && q.Value.Equal(o.Value) }

// IsZero reports whether the value is zero.
func (q Quantity) IsZero() bool { return q.Value.IsZero() }

// Sign returns the sign of the value.
func (q Quantity) Sign() int { return q.Value.Sign() }

// ConvertTo converts q to unit u when both units share a fixed-factor
// dimension (2 DZN → 24 EA, 1 LBR → 0.45359237 KGM). It returns
// [ErrUnitMismatch] for units of different dimensions or package units,
// whose content depends on the item, and [ErrInexact] when the exact
// result is not a decimal of at most 19 digits.
func (q Quantity) ConvertTo(u Unit) (Quantity, error) {
	if q.Unit == u {
		return q, nil
	}
	num, den, ok := unitFactor(q.Unit, u)
	if !ok {
		return Quantity{}, fmt.Errorf("%w: no fixed conversion from %s to %s", ErrUnitMismatch, q.Unit, u)
	}
	base, err := q.Value.Mul(num)
	if err != nil {
		return Quantity{}, err
	}
	v, err := exactQuo(base, den)
	if err != nil {
		return Quantity{}, err
	}
	return Quantity{Value: v, Unit: u}, nil
}

// String returns "12 EA".
func (q Quantity) String() string { return q.Value.String() + " " + string(q.Unit) }

// exactQuo returns a / b when the quotient is exact within 19 digits, else
// [ErrInexact].
func exactQuo(a, b Decimal) (Decimal, error) {
	if b.IsZero() {
		return Decimal{}, fmt.Errorf("%w: division by zero", ErrInvalid)
	}
	r, err := a.d.Quo(b.d)
	if err != nil {
		return Decimal{}, ErrInexact
	}
	r = r.Trim(0)
	back, err := r.Mul(b.d)
	if err != nil || back.Cmp(a.d) != 0 {
		return Decimal{}, ErrInexact
	}
	return Decimal{r}, nil
}

func unitMismatch(op string, a, b Unit) error {
	return fmt.Errorf("%w: %s %s %s", ErrUnitMismatch, a, op, b)
}
