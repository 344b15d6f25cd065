package canonical

import (
	"fmt"
)

// Unit is a UN/ECE Recommendation 20 unit of measure code such as "EA"
// (each), "KGM" (kilogram) or "XCS" (case). Its zero value is not a valid
// unit. Use [ParseUnit] to obtain a checked value; a Unit converted from an
// arbitrary string is checked by [Unit.Validate] and by every document's
// Validate. A Unit is safe for concurrent use as a value.
type Unit string

// Dimension groups units that convert into each other by a fixed factor.
// The zero value is no dimension. It is safe for concurrent use as a value.
type Dimension string

// Dimensions of the units in the table.
const (
	// DimensionCount: EA, C62, H87 (one piece each) and DZN (twelve).
	DimensionCount Dimension = "count"
	// DimensionMass: KGM, GRM, LBR, ONZ, TNE.
	DimensionMass Dimension = "mass"
	// DimensionLength: MTR, CMT, MMT, INH, FOT.
	DimensionLength Dimension = "length"
	// DimensionArea: MTK.
	DimensionArea Dimension = "area"
	// DimensionVolume: LTR, MLT, MTQ, GLL.
	DimensionVolume Dimension = "volume"
	// DimensionPackage: pairs, sets and package codes (XCS, XCT, ...) whose
	// content depends on the item; convert them with an item's conversions.
	DimensionPackage Dimension = "package"
)

type unitInfo struct {
	name string
	dim  Dimension
	// factor converts one of this unit into the dimension's base unit (EA,
	// KGM, MTR, MTK, LTR); zero for package units.
	factor Decimal
}

// units is the Rec 20 table a distributor uses. Factors are exact by
// definition (1 lb = 0.45359237 kg; 1 US gal = 3.785411784 L).
var units = map[Unit]unitInfo{
	"EA":  {"each", DimensionCount, MustParseDecimal("1")},
	"C62": {"one", DimensionCount, MustParseDecimal("1")},
	"H87": {"piece", DimensionCount, MustParseDecimal("1")},
	"DZN": {"dozen", DimensionCount, MustParseDecimal("12")},
	"PR":  {"pair", DimensionPackage, Decimal{}},
	"SET": {"set", DimensionPackage, Decimal{}},
	"KGM": {"kilogram", DimensionMass, MustParseDecimal("1")},
	"GRM": {"gram", DimensionMass, MustParseDecimal("0.001")},
	"TNE": {"tonne", DimensionMass, MustParseDecimal("1000")},
	"LBR": {"pound", DimensionMass, MustParseDecimal("0.45359237")},
	"ONZ": {"ounce", DimensionMass, MustParseDecimal("0.028349523125")},
	"MTR": {"metre", DimensionLength, MustParseDecimal("1")},
	"CMT": {"centimetre", DimensionLength, MustParseDecimal("0.01")},
	"MMT": {"millimetre", DimensionLength, MustParseDecimal("0.001")},
	"INH": {"inch", DimensionLength, MustParseDecimal("0.0254")},
	"FOT": {"foot", DimensionLength, MustParseDecimal("0.3048")},
	"MTK": {"square metre", DimensionArea, MustParseDecimal("1")},
	"LTR": {"litre", DimensionVolume, MustParseDecimal("1")},
	"MLT": {"millilitre", DimensionVolume, MustParseDecimal("0.001")},
	"MTQ": {"cubic metre", DimensionVolume, MustParseDecimal("1000")},
	"GLL": {"US gallon", DimensionVolume, MustParseDecimal("3.785411784")},
	"XCS": {"case", DimensionPackage, Decimal{}},
	"XCT": {"carton", DimensionPackage, Decimal{}},
	"XBX": {"box", DimensionPackage, Decimal{}},
	"XPX": {"pallet", DimensionPackage, Decimal{}},
	"XPK": {"package", DimensionPackage, Decimal{}},
	"XBG": {"bag", DimensionPackage, Decimal{}},
	"XBE": {"bundle", DimensionPackage, Decimal{}},
	"XRO": {"roll", DimensionPackage, Decimal{}},
}

// unitMistakes maps codes people often send that are not Rec 20 codes (or
// do not mean what the sender thinks) to the code to use.
var unitMistakes = map[string]string{
	"CS":   "XCS (case)",
	"CTN":  "XCT (carton)",
	"CT":   "XCT (carton)",
	"BX":   "XBX (box)",
	"PL":   "XPX (pallet)",
	"PLT":  "XPX (pallet)",
	"PAL":  "XPX (pallet)",
	"PK":   "XPK (package)",
	"PKG":  "XPK (package)",
	"BG":   "XBG (bag)",
	"EACH": "EA (each)",
	"PC":   "H87 (piece) or EA (each)",
	"PCS":  "H87 (piece) or EA (each)",
	"KG":   "KGM (kilogram)",
	"G":    "GRM (gram)",
	"LB":   "LBR (pound)",
	"LBS":  "LBR (pound)",
	"OZ":   "ONZ (ounce)",
	"L":    "LTR (litre)",
	"M":    "MTR (metre)",
	"DZ":   "DZN (dozen)",
}

// ParseUnit returns the unit for a Rec 20 code from the table. An unknown
// code returns an error matching [ErrInvalid] that names the code and, for
// common mistakes such as "CS" or "CTN", the code to use instead.
func ParseUnit(s string) (Unit, error) {
	u := Unit(s)
	if err := u.Validate(); err != nil {
		return "", err
	}
	return u, nil
}

// MustParseUnit is like [ParseUnit] but panics on error.
func MustParseUnit(s string) Unit {
	u, err := ParseUnit(s)
	if err != nil {
		panic(err)
	}
	return u
}

// Validate returns nil for a code in the table, else an error matching
// [ErrInvalid] that names the code.
func (u Unit) Validate() error {
	if _, ok := units[u]; ok {
		return nil
	}
	if u == "" {
		return fmt.Errorf("%w unit: code is empty", ErrInvalid)
	}
	if hint, ok := unitMistakes[string(u)]; ok {
		return fmt.Errorf("%w unit %q: not a UN/ECE Rec 20 code; use %s", ErrInvalid, string(u), hint)
	}
	return fmt.Errorf("%w unit %q: not a supported UN/ECE Rec 20 code", ErrInvalid, string(u))
}

// Name returns the unit's English name ("kilogram"), or "" for an unknown
// code.
func (u Unit) Name() string { return units[u].name }

// Dimension returns the unit's dimension, or "" for an unknown code.
func (u Unit) Dimension() Dimension { return units[u].dim }

// String returns the code.
func (u Unit) String() string { return string(u) }

// MarshalText returns the code as is.
func (u Unit) MarshalText() ([]byte, error) { return []byte(u), nil }

// UnmarshalText parses text as [ParseUnit] does; empty text is the zero
// Unit, which MarshalText writes for it, so that a zero [Quantity]
// round-trips through JSON ([Quantity.Validate] still reports it).
func (u *Unit) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*u = ""
		return nil
	}
	v, err := ParseUnit(string(text))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// unitFactor returns the factor from u to to when both share a fixed-factor
// dimension.
func unitFactor(from, to Unit) (num, den Decimal, ok bool) {
	fi, ok1 := units[from]
	ti, ok2 := units[to]
	if !ok1 || !ok2 || fi.dim != ti.dim || fi.dim == DimensionPackage {
		return Decimal{}, Decimal{}, false
	}
	return fi.factor, ti.factor, true
}
