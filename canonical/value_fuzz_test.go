package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/distsync/distsync/canonical"
)

// FuzzParseMoney checks that parsing never panics and that a parsed amount
// survives a JSON round trip exactly, scale included.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []struct{ amount, cur string }{
		{"12.50", "USD"}, {"-0.001", "KWD"}, {"1e3", "JPY"}, {"0.1234567890123456789", "CLF"},
		{"9999999999999999999", "EUR"}, {"", ""}, {"1.", "USD"}, {".5", "XXX"},
	} {
		f.Add(s.amount, s.cur)
	}
	f.Fuzz(func(t *testing.T, amount, cur string) {
		m, err := canonical.ParseMoney(amount, cur)
		if err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal %v: %v", m, err)
		}
		var back canonical.Money
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if back != m {
			t.Fatalf("round trip of %q %q: got %v, want %v", amount, cur, back, m)
		}
		again, err := canonical.ParseMoney(m.Amount.String(), string(m.Currency))
		if err != nil || again != m {
			t.Fatalf("reparse of %v: %v %v", m, again, err)
		}
		if r := m.Round(); !r.Amount.Equal(r.Amount.Round(r.Amount.Scale())) {
			t.Fatalf("round of %v unstable", m)
		}
	})
}

// FuzzParseQuantity checks parsing and the text round trip of quantities.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []struct{ value, unit string }{
		{"12", "EA"}, {"0.5", "KGM"}, {"3", "XCS"}, {"1", "CS"}, {"-1", "CTN"}, {"1e-3", "LTR"},
	} {
		f.Add(s.value, s.unit)
	}
	f.Fuzz(func(t *testing.T, value, unit string) {
		q, err := canonical.ParseQuantity(value, unit)
		if err != nil {
			return
		}
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("marshal %v: %v", q, err)
		}
		var back canonical.Quantity
		if err := json.Unmarshal(b, &back); err != nil || back != q {
			t.Fatalf("round trip of %q %q: got %v (%v), want %v", value, unit, back, err, q)
		}
		if c, err := q.ConvertTo("EA"); err == nil && c.Unit != "EA" {
			t.Fatalf("convert %v gave %v", q, c)
		}
	})
}

// FuzzParseGTIN checks that a GTIN accepted once is accepted again from its
// text, and that changing its check digit makes it invalid.
func FuzzParseGTIN(f *testing.F) {
	for _, s := range []string{"4006381333931", "036000291452", "96385074", "10614141000415", "0", "abcdefgh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := canonical.ParseGTIN(s)
		if err != nil {
			return
		}
		b, _ := g.MarshalText()
		var back canonical.GTIN
		if err := back.UnmarshalText(b); err != nil || back != g {
			t.Fatalf("round trip of %q: %q %v", s, back, err)
		}
		last := s[len(s)-1]
		bad := s[:len(s)-1] + string(rune('0'+(last-'0'+1)%10))
		if _, err := canonical.ParseGTIN(bad); err == nil {
			t.Fatalf("%q accepted with a wrong check digit", bad)
		}
	})
}

// FuzzParseSSCC is FuzzParseGTIN for SSCC-18.
func FuzzParseSSCC(f *testing.F) {
	for _, s := range []string{"106141411234567897", "(00)106141411234567897", "00106141411234567897", "1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := canonical.ParseSSCC(s)
		if err != nil {
			return
		}
		if len(c) != 18 {
			t.Fatalf("%q parsed to %q", s, c)
		}
		back, err := canonical.ParseSSCC(c.String())
		if err != nil || back != c {
			t.Fatalf("reparse of %q: %q %v", c, back, err)
		}
		rebuilt, err := canonical.NewSSCC(string(c[:17]))
		if err != nil || rebuilt != c {
			t.Fatalf("NewSSCC(%q) = %q %v, want %q", c[:17], rebuilt, err, c)
		}
	})
}
