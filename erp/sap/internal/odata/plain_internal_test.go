package odata

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/distsync/distsync/canonical"
)

var plainSeeds = []string{`"33609.14"`, `"\/Date(1546992000000)\/"`, `"\/Date(1+0060)\/"`, `"a\"b"`, `"\u0031"`,
	`"\\/"`, `"\\"`, `"é"`, "\"\xff\"", `""`, `"x`, `1`, `null`, `"\/"`, "\"\t\""}

// FuzzPlainString checks that the fast path agrees with encoding/json on
// every JSON string it takes.
func FuzzPlainString(f *testing.F) {
	for _, s := range plainSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPlain(t, data)
	})
}

func TestPlainString(t *testing.T) {
	for _, s := range plainSeeds {
		checkPlain(t, []byte(s))
	}
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`"12.50"`, "12.50", true},
		{`"\/Date(1546992000000)\/"`, "/Date(1546992000000)/", true},
		{`"\u0031"`, "", false},
		{`"é"`, "", false},
	} {
		got, ok := plainString([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("plainString(%s) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func checkPlain(t *testing.T, data []byte) {
	t.Helper()
	got, ok := plainString(data)
	if !ok {
		return
	}
	var want string
	if err := json.Unmarshal(data, &want); err != nil {
		if json.Valid(data) {
			t.Fatalf("plainString(%q) took a valid non-string", data)
		}
		// Called by encoding/json only with valid JSON: any answer will do.
		return
	}
	if got != want {
		t.Fatalf("plainString(%q) = %q, encoding/json decodes %q", data, got, want)
	}
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for _, v := range []string{"0", "-0.001", "33609.14", "123456789012345678.9"} {
		d := Dec(mustDecimal(t, v))
		got, err := d.MarshalJSON()
		want, _ := json.Marshal(d.Decimal.String())
		if err != nil || string(got) != string(want) {
			t.Errorf("Decimal(%s).MarshalJSON() = %s, %v; want %s", v, got, err, want)
		}
	}
	for _, ms := range []int64{0, -1, 1546992000000} {
		d := Date{Time: time.UnixMilli(ms)}
		got, err := d.MarshalJSON()
		want, _ := json.Marshal(FormatDate(d.Time))
		if err != nil || string(got) != string(want) {
			t.Errorf("Date(%d).MarshalJSON() = %s, %v; want %s", ms, got, err, want)
		}
	}
}

func mustDecimal(t *testing.T, s string) canonical.Decimal {
	t.Helper()
	d, err := ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// BenchmarkDecodeSalesOrder decodes a sales order of three items with
// their decimals and dates, as the client reads it.
func BenchmarkDecodeSalesOrder(b *testing.B) {
	net := Dec(canonical.MustParseDecimal("123.45"))
	so := SalesOrder{SalesOrder: "1000001", RequestedDeliveryDate: Date{Time: time.UnixMilli(1546992000000)},
		CreationDate: Date{Time: time.UnixMilli(1546992000000)}, TotalNetAmount: &net, TotalTaxAmount: &net}
	var items []SalesOrderItem
	for i := range 3 {
		items = append(items, SalesOrderItem{SalesOrderItem: strconv.Itoa(10 * (i + 1)), Material: "SKU-100", RequestedQuantity: net, NetAmount: &net, TaxAmount: &net})
	}
	so.Items = &List[SalesOrderItem]{Results: items}
	body, err := json.Marshal(Entity[SalesOrder]{D: so})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var out Entity[SalesOrder]
		if err := json.Unmarshal(body, &out); err != nil {
			b.Fatal(err)
		}
	}
}
