package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/distsync/distsync/canonical"
)

// The zero values of the value types are written to JSON and read back as
// they were; validation, not decoding, says they are incomplete.
func TestZeroValuesRoundTripJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
		new  func() any
	}{
		{"Quantity", canonical.Quantity{}, func() any { return new(canonical.Quantity) }},
		{"Money", canonical.Money{}, func() any { return new(canonical.Money) }},
		{"Unit", canonical.Unit(""), func() any { return new(canonical.Unit) }},
		{"Currency", canonical.Currency(""), func() any { return new(canonical.Currency) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			got := tt.new()
			if err := json.Unmarshal(b, got); err != nil {
				t.Fatalf("Unmarshal(%s): %v; want the zero value back", b, err)
			}
			if back, _ := json.Marshal(got); string(back) != string(b) {
				t.Fatalf("round trip %s -> %s", b, back)
			}
		})
	}
	if err := (canonical.Quantity{}).Validate(); err == nil {
		t.Error("the zero Quantity validates; want an error naming its unit")
	}
	var u canonical.Unit
	if err := json.Unmarshal([]byte(`"XYZ-not-a-unit"`), &u); err == nil {
		t.Error("an unknown unit decodes; want an error")
	}
}
