package jsonfast_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/jsonfast"
)

var validSeeds = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"d"}`, ` [ 1 , 2 ] `, `{"a":1,}`, `[1,]`, `[,1]`,
	`{"a" 1}`, `{1:2}`, `"\u00e9\n\t\"\\\/"`, `"\x"`, `"\u12"`, "\"a\x01\"", "\"\xff\xfe\"", `-0`, `-01`, `01`,
	`1.`, `1.5e`, `1.5e+3`, `1E-2`, `-`, `.5`, `tru`, `true`, `truex`, `nul`, `null null`, `false`, `{"a":tru}`,
	`[[]]]`, `[[[`, `{"a":{"b":{}}}`, `"abc`, `123abc`, `[1 2]`, `{"a":1 "b":2}`, "\"\u2028\"",
}

func TestValid(t *testing.T) {
	for _, s := range validSeeds {
		assert.Equal(t, json.Valid([]byte(s)), jsonfast.Valid([]byte(s)), "Valid(%q)", s)
	}
	for _, depth := range []int{9999, 10000, 10001} {
		s := strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
		assert.Equal(t, json.Valid([]byte(s)), jsonfast.Valid([]byte(s)), "Valid of %d nested arrays", depth)
	}
}

// FuzzScan checks, for any input, that Valid agrees with json.Valid; and,
// for a valid object, that the Scanner splits it into the members
// encoding/json sees, that Compact of each value is json.Compact's, and
// that Unquote of each key decodes as encoding/json does unless it
// reports a problem (an unpaired surrogate or invalid UTF-8, which
// encoding/json replaces with U+FFFD).
func FuzzScan(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a" : [1, {"b": "c\"}"}] , "\uD83D\uDE00":"x", "\uDEAD": 1, "é":{ } }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := jsonfast.Valid(b)
		require.Equal(t, json.Valid(b), valid, "Valid(%q)", b)
		if !valid {
			return
		}
		var members map[string]json.RawMessage
		if trimmed := bytes.TrimSpace(b); len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(b, &members) != nil {
			return // not an object
		}
		sc := jsonfast.Scanner{B: b}
		sc.SkipSpace()
		require.Equal(t, byte('{'), sc.Peek(), "%q starts an object", b)
		sc.I++
		n := 0
		for sc.SkipSpace(); sc.Peek() == '"'; n++ {
			rawKey := sc.Value()
			sc.SkipSpace()
			sc.I++ // ':'
			sc.SkipSpace()
			raw := sc.Value()
			var key string
			require.NoError(t, json.Unmarshal(rawKey, &key), "key %q of %q", rawKey, b)
			if got, problem, _ := jsonfast.Unquote(rawKey); problem == jsonfast.StringOK {
				require.Equal(t, key, got, "Unquote(%q)", rawKey)
			} else {
				require.Contains(t, key, "\uFFFD", "Unquote(%q) refuses what encoding/json decodes without replacement", rawKey)
			}
			var want bytes.Buffer
			require.NoError(t, json.Compact(&want, raw), "value %q of %q is valid JSON", raw, b)
			require.Equal(t, want.String(), string(jsonfast.Compact(raw)), "Compact(%q)", raw)
			sc.SkipSpace()
			if sc.Peek() == ',' {
				sc.I++
				sc.SkipSpace()
			}
		}
		require.Equal(t, byte('}'), sc.Peek(), "%q: the scan ends at the closing brace", b)
		if len(members) > 0 {
			require.Positive(t, n, "%q has members", b)
		}
	})
}

func TestKind(t *testing.T) {
	for raw, want := range map[string]string{`{}`: "object", `[1]`: "array", `"s"`: "string", `true`: "boolean", `false`: "boolean", `null`: "null", `-1.5`: "number", ``: "value"} {
		assert.Equal(t, want, jsonfast.Kind([]byte(raw)), "Kind(%q)", raw)
	}
}
