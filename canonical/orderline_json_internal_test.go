package canonical

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

var lineSeeds = []string{
	`{"id":"L1","item":{"sku":"SKU-1","gtin":"4006381333931"},"quantity":{"value":"10","unit":"EA"},"unitPrice":{"amount":"12.50","currency":"USD"},"buckets":{"ordered":"10","shipped":"4.5"}}`,
	`{"id":"L2","refs":[{"system":"erp","type":"line","value":"10","version":"3"}],"item":{"sku":"S","description":"Hämmer","refs":[]},"quantity":{"value":"1.5","unit":"KGM"},"unitPrice":{"amount":"0","currency":"JPY"},"requestedDate":"2026-11-02T09:00:00+01:00","promisedDate":"2026-11-03T00:00:00Z","notes":[{"type":"warehouse","text":"fragile"}],"buckets":{}}`,
	` { "id" : "L3" , "quantity" : { "unit" : "XCS" , "value" : "2" } } `,
	`{"id":"L4","ID":"L5"}`,
	`{"id":"L6","id":"L7"}`,
	`{"id":"L8","unitPrice":{"amount":12.5,"currency":"USD"}}`,
	`{"id":"L9","unitPrice":{"amount":"12.5","currency":"usd"}}`,
	`{"id":"L\u0031","extra":true}`,
	`{"id":"L10","buckets":{"packed":"1"}}`,
	`{"id":"L11","buckets":{"ordered":null}}`,
	`{"id":"L12","refs":null,"notes":null,"item":null}`,
	`null`,
	`{"id":"L13","item":{"gtin":""},"requestedDate":"yesterday"}`,
	"{\"id\":\"\xff\"}",
}

// FuzzOrderLineJSON checks that the fast path of OrderLine.UnmarshalJSON
// gives exactly what encoding/json gives without it, for any valid JSON.
func FuzzOrderLineJSON(f *testing.F) {
	for _, s := range lineSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var fast OrderLine
		errFast := json.Unmarshal(data, &fast)
		var slow orderLineJSON
		errSlow := json.Unmarshal(data, &slow)
		require.Equal(t, errSlow == nil, errFast == nil, "input %q: fast error %v, general error %v", data, errFast, errSlow)
		if errFast != nil {
			require.Equal(t, errSlow.Error(), errFast.Error(), "input %q", data)
			return
		}
		require.True(t, reflect.DeepEqual(OrderLine(slow), fast), "input %q:\nfast    %#v\ngeneral %#v", data, fast, OrderLine(slow))
	})
}

func TestOrderLineFastPathTaken(t *testing.T) {
	for i, s := range lineSeeds[:3] {
		var l OrderLine
		sc := lineScanner{b: []byte(s)}
		require.True(t, sc.line(&l) && sc.end(), "seed %d takes the fast path: %s", i, s)
	}
	for i, s := range lineSeeds[3:] {
		var l OrderLine
		sc := lineScanner{b: []byte(s)}
		require.False(t, sc.line(&l) && sc.end(), "seed %d falls back: %s", i+3, s)
	}
}
