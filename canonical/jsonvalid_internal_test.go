package canonical

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var validJSONSeeds = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"d"}`, ` [ 1 , 2 ] `, `{"a":1,}`, `[1,]`, `[,1]`,
	`{"a" 1}`, `{1:2}`, `"\u00e9\n\t\"\\\/"`, `"\x"`, `"\u12"`, "\"a\x01\"", "\"\xff\xfe\"", `-0`, `-01`, `01`,
	`1.`, `1.5e`, `1.5e+3`, `1E-2`, `-`, `.5`, `tru`, `true`, `truex`, `nul`, `null null`, `false`, `{"a":tru}`,
	`[[]]]`, `[[[`, `{"a":{"b":{}}}`, `"abc`, `123abc`, `[1 2]`, `{"a":1 "b":2}`, "\"\u2028\"",
}

func TestValidJSON(t *testing.T) {
	for _, s := range validJSONSeeds {
		assert.Equal(t, json.Valid([]byte(s)), validJSON([]byte(s)), "validJSON(%q)", s)
	}
	for _, depth := range []int{9999, 10000, 10001} {
		for _, open := range []string{"[", `{"a":`} {
			close := "]"
			if open != "[" {
				close = "}"
			}
			s := strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth)
			assert.Equal(t, json.Valid([]byte(s)), validJSON([]byte(s)), "validJSON of %d nested %s", depth, open)
		}
	}
}

// FuzzValidJSON checks that validJSON agrees with json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, s := range validJSONSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(orderSeeds[0]))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}
