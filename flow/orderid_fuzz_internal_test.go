package flow

import (
	"encoding/json"
	"testing"
)

// orderIDReference is what partitionByOrder read before orderIDOf: the
// orderId json.Unmarshal decodes into a struct with that one field.
func orderIDReference(data []byte) string {
	var d struct {
		OrderID string `json:"orderId"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	return d.OrderID
}

var orderIDSeeds = []string{
	``, `null`, `{}`, `[]`, `"x"`, `{"orderId":"SO-1"}`, ` { "orderId" : "SO-1" } `,
	`{"fulfillmentOrderId":"FO-1","orderId":"ORD-000001","lines":[{"orderId":"inner"}]}`,
	`{"lines":[{"orderId":"inner"}],"orderId":"outer","n":1.5e3,"b":true,"z":null}`,
	`{"OrderID":"upper"}`, `{"ORDERID":"a","orderId":"b"}`, `{"orderId":"a","orderid":"b"}`,
	`{"orderId":null}`, `{"orderId":"a","orderId":null}`, `{"orderId":12}`, `{"orderId":"a","x":{"orderId":1}}`,
	`{"orderId":"a\"b"}`, `{"orderId":"\u00e9"}`, `{"orderId":"é"}`, `{"order\u0049d":"esc"}`, `{"orderId":"a"`,
	`{"orderId":"a"} x`, `{"x":"}\\","orderId":"q"}`, `{"x":[1,2,{"y":"]"}],"orderId":"r"}`, "{\"orderId\":\"tab\"\t}",
	`{"x":-0.5,"orderId":"s"}`, `{"orderId":""}`, `{"oRdErId":"mixed"}`, `{"orderId":"a","orderId":"b"}`,
}

// TestOrderIDOf checks orderIDOf against json.Unmarshal on the seeds.
func TestOrderIDOf(t *testing.T) {
	for _, s := range orderIDSeeds {
		for _, have := range []string{"", "SO-1", "outer"} {
			if got, want := orderIDOf([]byte(s), have), orderIDReference([]byte(s)); got != want {
				t.Errorf("orderIDOf(%s, %q) = %q, json.Unmarshal reads %q", s, have, got, want)
			}
		}
	}
}

// FuzzOrderIDOf checks that orderIDOf reads what json.Unmarshal reads from
// any bytes, and never panics.
func FuzzOrderIDOf(f *testing.F) {
	for _, s := range orderIDSeeds {
		f.Add([]byte(s), "SO-1")
	}
	f.Fuzz(func(t *testing.T, data []byte, have string) {
		if got, want := orderIDOf(data, have), orderIDReference(data); got != want {
			t.Fatalf("orderIDOf(%q, %q) = %q, json.Unmarshal reads %q", data, have, got, want)
		}
	})
}
