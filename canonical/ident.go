package canonical

import (
	"fmt"
)

// GTIN is a GS1 Global Trade Item Number: 8, 12, 13 or 14 digits, the last
// a check digit (GTIN-8, UPC-A, EAN-13, GTIN-14). It is kept as the digits
// the source sent. Its zero value means "no GTIN"; use [ParseGTIN] for a
// checked value. A GTIN is safe for concurrent use as a value.
type GTIN string

// ParseGTIN returns s as a GTIN after checking its length, its digits and
// its check digit. The error matches [ErrInvalid] and names the input.
func ParseGTIN(s string) (GTIN, error) {
	g := GTIN(s)
	if err := g.Validate(); err != nil {
		return "", err
	}
	return g, nil
}

// MustParseGTIN is like [ParseGTIN] but panics on error.
func MustParseGTIN(s string) GTIN {
	g, err := ParseGTIN(s)
	if err != nil {
		panic(err)
	}
	return g
}

// Validate checks the length, the digits and the check digit.
func (g GTIN) Validate() error {
	s := string(g)
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return fmt.Errorf("%w GTIN %q: must have 8, 12, 13 or 14 digits, has %d characters", ErrInvalid, s, len(s))
	}
	return checkGS1(s, "GTIN")
}

// GTIN14 returns g padded with leading zeros to 14 digits, the form in
// which two GTINs of different lengths compare.
func (g GTIN) GTIN14() string {
	const zeros = "00000000000000"
	if len(g) >= 14 {
		return string(g)
	}
	return zeros[:14-len(g)] + string(g)
}

// String returns the digits.
func (g GTIN) String() string { return string(g) }

// MarshalText returns the digits.
func (g GTIN) MarshalText() ([]byte, error) { return []byte(g), nil }

// UnmarshalText parses text as [ParseGTIN] does; empty text is the zero
// GTIN.
func (g *GTIN) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*g = ""
		return nil
	}
	v, err := ParseGTIN(string(text))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// SSCC is a GS1 Serial Shipping Container Code: 18 digits, the last a check
// digit, identifying one package or pallet. Its zero value means "no SSCC";
// use [ParseSSCC] for a checked value. An SSCC is safe for concurrent use
// as a value.
type SSCC string

// ParseSSCC returns s as an SSCC after checking its length, its digits and
// its check digit. A leading GS1 application identifier "(00)" or "00" on a
// 20-digit input is removed. The error matches [ErrInvalid] and names the
// input.
func ParseSSCC(s string) (SSCC, error) {
	switch {
	case len(s) == 22 && s[:4] == "(00)":
		s = s[4:]
	case len(s) == 20 && s[:2] == "00":
		s = s[2:]
	}
	c := SSCC(s)
	if err := c.Validate(); err != nil {
		return "", err
	}
	return c, nil
}

// MustParseSSCC is like [ParseSSCC] but panics on error.
func MustParseSSCC(s string) SSCC {
	c, err := ParseSSCC(s)
	if err != nil {
		panic(err)
	}
	return c
}

// NewSSCC builds an SSCC from its 17 leading digits (extension digit, GS1
// company prefix and serial reference) by appending the check digit.
func NewSSCC(digits17 string) (SSCC, error) {
	if len(digits17) != 17 || !allDigits(digits17) {
		return "", fmt.Errorf("%w SSCC base %q: must be 17 digits", ErrInvalid, digits17)
	}
	return SSCC(digits17 + string(rune('0'+gs1CheckDigit(digits17)))), nil
}

// Validate checks the length, the digits and the check digit.
func (c SSCC) Validate() error {
	s := string(c)
	if len(s) != 18 {
		return fmt.Errorf("%w SSCC %q: must have 18 digits, has %d characters", ErrInvalid, s, len(s))
	}
	return checkGS1(s, "SSCC")
}

// String returns the 18 digits.
func (c SSCC) String() string { return string(c) }

// MarshalText returns the 18 digits.
func (c SSCC) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText parses text as [ParseSSCC] does; empty text is the zero
// SSCC.
func (c *SSCC) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*c = ""
		return nil
	}
	v, err := ParseSSCC(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// checkGS1 checks that s is all digits and that its last digit is the GS1
// mod-10 check digit of the others.
func checkGS1(s, what string) error {
	if !allDigits(s) {
		return fmt.Errorf("%w %s %q: must contain digits only", ErrInvalid, what, s)
	}
	body, last := s[:len(s)-1], int(s[len(s)-1]-'0')
	if want := gs1CheckDigit(body); want != last {
		return fmt.Errorf("%w %s %q: check digit is %d, want %d", ErrInvalid, what, s, last, want)
	}
	return nil
}

// gs1CheckDigit computes the GS1 mod-10 check digit of body: from the
// rightmost digit leftwards, weights 3, 1, 3, 1, ...
func gs1CheckDigit(body string) int {
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
