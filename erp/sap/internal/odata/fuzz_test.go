package odata_test

import (
	"testing"

	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// FuzzParseDate checks that ParseDate never panics and that what it accepts
// formats back to a date that parses to the same instant.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"/Date(1546992000000)/", "/Date(-1)/", "/Date(0+0060)/", "/Date(1-0000)/", "/Date()/", "/Date(x)/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := odata.ParseDate(s)
		if err != nil {
			return
		}
		again, err := odata.ParseDate(odata.FormatDate(d))
		if err != nil {
			t.Fatalf("ParseDate(FormatDate(ParseDate(%q))): %v", s, err)
		}
		if !again.Equal(d) {
			t.Fatalf("round trip of %q: %v, then %v", s, d, again)
		}
	})
}

// FuzzParseDecimal checks that ParseDecimal never panics and that what it
// accepts prints back to a string that parses to the same value.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"33609.14", "-0.001", "0", "1e3", "+1", "1.", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := odata.ParseDecimal(s)
		if err != nil {
			return
		}
		again, err := odata.ParseDecimal(d.String())
		if err != nil {
			t.Fatalf("ParseDecimal(%q) printed %q, which does not parse: %v", s, d.String(), err)
		}
		if !again.Equal(d) {
			t.Fatalf("round trip of %q: %s, then %s", s, d, again)
		}
	})
}

// FuzzDecodeError checks that DecodeError never panics and that an accepted
// body has a code or a message.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{`{"error":{"code":"X","message":{"value":"m"},"innererror":{"errordetails":[{"code":"c","message":"m","propertyref":"to_Item/0/Material"}]}}}`,
		`{"error":{}}`, `[]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := odata.DecodeError(b)
		if err != nil {
			return
		}
		if p.Code == "" && p.Message.Value == "" {
			t.Fatalf("DecodeError(%q) accepted a body with no code and no message", b)
		}
		for _, d := range p.InnerError.ErrorDetails {
			odata.FieldPath(d.PropertyRef)
		}
	})
}
