package canonical

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
)

// MaxDecimalDigits is the number of significant digits a [Decimal] holds.
// Amounts and quantities of distribution documents need far fewer; an
// operation whose exact result would need more returns [ErrOverflow] instead
// of rounding silently.
const MaxDecimalDigits = 19

// ErrOverflow is returned by arithmetic whose exact result does not fit in
// [MaxDecimalDigits] significant digits.
var ErrOverflow = errors.New("canonical: decimal overflow: the exact result needs more than 19 significant digits")

// ErrInexact is returned by a division or unit conversion whose exact result
// is not a decimal of at most 19 significant digits (1 KGM in LBR).
var ErrInexact = errors.New("canonical: inexact: the exact result is not a decimal of at most 19 significant digits")

// Decimal is an exact decimal number of up to 19 significant digits with a
// scale (digits after the point) of 0 to 19. Its zero value is 0.
//
// Decimal keeps the scale it was given: "12.50" stays "12.50". Two decimals
// that differ only in trailing zeros are equal by [Decimal.Equal] and
// [Decimal.Cmp] but not by ==. Decimal is an immutable value and safe for
// concurrent use. The zero value is 0.
type Decimal struct {
	d decimal.Decimal
}

// ParseDecimal parses a decimal such as "12.50", "-3", "0.001" or, as JSON
// numbers may be written, "1.5e3". It never rounds: an input that has more
// than 19 significant digits, or more than 19 digits after the point once
// trailing zeros are dropped, is rejected. The error matches [ErrInvalid]
// and names the input.
func ParseDecimal(s string) (Decimal, error) {
	d, err := decimal.Parse(s)
	if err != nil {
		return Decimal{}, fmt.Errorf("%w decimal %q", ErrInvalid, s)
	}
	if !parsedExactly(s, d) {
		return Decimal{}, fmt.Errorf("%w decimal %q: more than 19 significant digits or digits after the point", ErrInvalid, s)
	}
	return Decimal{d}, nil
}

// parsedExactly reports whether d, parsed from s, holds the exact value
// written in s: the parser rounds inputs that do not fit.
func parsedExactly(s string, d decimal.Decimal) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return false
		}
		exp, s = e, s[:i]
	}
	ip, fp, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(ip+fp, "0")
	scale := len(fp) - exp
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		scale--
	}
	if digits == "" {
		return d.IsZero()
	}
	for ; scale < 0; scale++ {
		digits += "0"
	}
	t := d.Trim(0)
	return t.Scale() == scale && strconv.FormatUint(t.Coef(), 10) == digits
}

// MustParseDecimal is like [ParseDecimal] but panics on error. It is meant
// for constants in code and tests.
func MustParseDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// NewDecimal returns value × 10^-scale: NewDecimal(1250, 2) is 12.50.
// The scale must be between 0 and 19.
func NewDecimal(value int64, scale int) (Decimal, error) {
	d, err := decimal.New(value, scale)
	if err != nil {
		return Decimal{}, fmt.Errorf("%w decimal %d×10^-%d: scale must be 0 to 19", ErrInvalid, value, scale)
	}
	return Decimal{d}, nil
}

// DecimalFromInt returns the integer v as a Decimal with scale 0.
func DecimalFromInt(v int64) Decimal {
	return Decimal{decimal.MustNew(v, 0)}
}

// Add returns d + e, exactly, or [ErrOverflow].
func (d Decimal) Add(e Decimal) (Decimal, error) {
	r, err := d.d.Add(e.d)
	if err != nil || r.Scale() < max(d.d.Scale(), e.d.Scale()) {
		return Decimal{}, ErrOverflow
	}
	return Decimal{r}, nil
}

// Sub returns d - e, exactly, or [ErrOverflow].
func (d Decimal) Sub(e Decimal) (Decimal, error) {
	r, err := d.d.Sub(e.d)
	if err != nil || r.Scale() < max(d.d.Scale(), e.d.Scale()) {
		return Decimal{}, ErrOverflow
	}
	return Decimal{r}, nil
}

// Mul returns d × e, exactly, or [ErrOverflow]. The scale of the result is
// the sum of the scales.
func (d Decimal) Mul(e Decimal) (Decimal, error) {
	r, err := d.d.Mul(e.d)
	if err != nil || r.Scale() < d.d.Scale()+e.d.Scale() {
		return Decimal{}, ErrOverflow
	}
	return Decimal{r}, nil
}

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d Decimal) Cmp(e Decimal) int { return d.d.Cmp(e.d) }

// Equal reports whether d and e are numerically equal (1.0 equals 1.00).
func (d Decimal) Equal(e Decimal) bool { return d.d.Cmp(e.d) == 0 }

// Less reports whether d < e.
func (d Decimal) Less(e Decimal) bool { return d.d.Cmp(e.d) < 0 }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return d.d.Sign() }

// IsZero reports whether d is 0 at any scale.
func (d Decimal) IsZero() bool { return d.d.IsZero() }

// IsNeg reports whether d < 0.
func (d Decimal) IsNeg() bool { return d.d.IsNeg() }

// IsPos reports whether d > 0.
func (d Decimal) IsPos() bool { return d.d.IsPos() }

// IsInt reports whether d has no fractional part.
func (d Decimal) IsInt() bool { return d.d.IsInt() }

// Neg returns -d.
func (d Decimal) Neg() Decimal { return Decimal{d.d.Neg()} }

// Abs returns |d|.
func (d Decimal) Abs() Decimal { return Decimal{d.d.Abs()} }

// Scale returns the number of digits after the decimal point.
func (d Decimal) Scale() int { return d.d.Scale() }

// Min returns the smaller of d and e.
func (d Decimal) Min(e Decimal) Decimal {
	if d.Cmp(e) <= 0 {
		return d
	}
	return e
}

// Max returns the larger of d and e.
func (d Decimal) Max(e Decimal) Decimal {
	if d.Cmp(e) >= 0 {
		return d
	}
	return e
}

// Round rounds d to scale digits after the point, half away from zero
// (commercial rounding: 0.125 → 0.13, -0.125 → -0.13). A d with fewer digits
// is returned as is.
func (d Decimal) Round(scale int) Decimal {
	if scale < 0 {
		scale = 0
	}
	if d.d.Scale() <= scale {
		return d
	}
	t := d.d.Trunc(scale)
	rem, _ := d.d.Sub(t) // exact: both fit and t has a smaller scale
	half := decimal.MustNew(5, scale+1)
	if rem.Abs().Cmp(half) < 0 {
		return Decimal{t}
	}
	ulp := decimal.MustNew(1, scale)
	if d.d.IsNeg() {
		ulp = ulp.Neg()
	}
	r, err := t.Add(ulp)
	if err != nil {
		return Decimal{t}
	}
	return Decimal{r.Pad(scale)}
}

// Pad returns d with at least scale digits after the point: 12.5 padded to 2
// is 12.50. It never loses digits; a scale past 19 is capped.
func (d Decimal) Pad(scale int) Decimal { return Decimal{d.d.Pad(scale)} }

// Trim returns d without trailing zeros after the point: 12.50 becomes 12.5.
func (d Decimal) Trim() Decimal { return Decimal{d.d.Trim(0)} }

// Int64 returns d as an integer when it has no fractional part and fits.
func (d Decimal) Int64() (int64, bool) {
	if !d.d.IsInt() {
		return 0, false
	}
	whole, _, ok := d.d.Int64(0)
	return whole, ok
}

// String returns d in plain notation with its scale: "12.50", "-3".
func (d Decimal) String() string { return d.d.String() }

// AppendText appends the text form of d to b.
func (d Decimal) AppendText(b []byte) ([]byte, error) { return d.d.AppendText(b) }

// MarshalText returns the text form of d.
func (d Decimal) MarshalText() ([]byte, error) { return d.d.MarshalText() }

// UnmarshalText parses text as [ParseDecimal] does.
func (d *Decimal) UnmarshalText(text []byte) error {
	v, err := ParseDecimal(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON encodes d as a JSON string ("12.50") so that no consumer reads
// it as a binary float.
func (d Decimal) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b, err := d.d.AppendText(b)
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON string ("12.50") or, for interoperability, a
// JSON number literal, which is read exactly from its text. null leaves d
// unchanged.
func (d *Decimal) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return d.UnmarshalText([]byte(s))
}
