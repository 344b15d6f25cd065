package odata_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// FuzzParseNumber checks that ParseNumber never panics, that what it
// accepts is a valid JSON number whose exact value (math/big, not a
// float64) equals the decimal's, and that the decimal prints back to a
// number that parses to the same value.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"64821.858", "-0.001", "0", "1e3", "1.5E-3", "+1", "01", "1.", "9007199254740993", "1e-19", "-0e-0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := odata.ParseNumber(s)
		if err != nil {
			return
		}
		if !json.Valid([]byte(s)) {
			t.Fatalf("ParseNumber(%q) accepted invalid JSON", s)
		}
		want, ok := new(big.Rat).SetString(s)
		got, ok2 := new(big.Rat).SetString(d.String())
		if !ok || !ok2 || want.Cmp(got) != 0 {
			t.Fatalf("ParseNumber(%q) = %s, not the same value", s, d)
		}
		again, err := odata.ParseNumber(d.String())
		if err != nil {
			t.Fatalf("ParseNumber(%q) printed %q, which does not parse: %v", s, d, err)
		}
		if !again.Equal(d) || again.String() != d.String() {
			t.Fatalf("round trip of %q: %s, then %s", s, d, again)
		}
	})
}

// FuzzDecodeError checks that DecodeError never panics and that an
// accepted body has a code, a message or an Infolog.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{`{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type 'X'. Infolog: Error: y","type":"T"}}}`,
		`{"error":{}}`, `[]`, `{`, `{"error":{"message":"m"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := odata.DecodeError(b)
		if err != nil {
			return
		}
		if p.Code == "" && p.Message == "" && p.Infolog() == "" {
			t.Fatalf("DecodeError(%q) accepted a body with no code, message or Infolog", b)
		}
		_ = p.Entity()
	})
}

// FuzzReadBatch checks that ReadBatch never panics on any body and that
// what WriteBatch writes reads back unchanged.
func FuzzReadBatch(f *testing.F) {
	var buf bytes.Buffer
	ct, _ := odata.WriteBatch(&buf, []odata.Part{{ContentID: "1", Method: "POST", Target: "SalesOrderHeadersV2", Body: []byte(`{}`)}})
	f.Add(buf.Bytes(), ct)
	f.Add([]byte("--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n\r\n--b--"), "multipart/mixed; boundary=b")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		sets, err := odata.ReadBatch(bytes.NewReader(body), contentType)
		if err != nil {
			return
		}
		for _, set := range sets {
			for _, p := range set {
				if p.Method == "" || p.Target == "" {
					t.Fatalf("ReadBatch accepted a part without method or target: %+v", p)
				}
			}
		}
	})
}

// FuzzParseKey checks that ParseKey never panics, and that a key Key
// writes, with any quotes in its values, parses back to its values.
func FuzzParseKey(f *testing.F) {
	f.Add("usmf", "SO-'1'", "(dataAreaId='usmf',SalesOrderNumber='x')")
	f.Add("", "", "(a='''')")
	f.Add("x,y", "a=b", "(")
	f.Fuzz(func(t *testing.T, area, value, raw string) {
		_, _ = odata.ParseKey(raw)
		m, err := odata.ParseKey(odata.Key(area, "SalesOrderNumber", value))
		if err != nil {
			t.Fatalf("ParseKey(Key(%q, %q)): %v", area, value, err)
		}
		if m["dataAreaId"] != area || m["SalesOrderNumber"] != value || len(m) != 2 {
			t.Fatalf("ParseKey(Key(%q, %q)) = %v", area, value, m)
		}
	})
}
