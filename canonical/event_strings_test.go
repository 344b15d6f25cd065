package canonical_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestEventUnmarshalJSONBadStrings: invalid UTF-8 and escapes of unpaired
// UTF-16 surrogates in any string attribute or extension are refused under
// the attribute's name, never replaced by U+FFFD as encoding/json does.
func TestEventUnmarshalJSONBadStrings(t *testing.T) {
	t.Parallel()
	attrs := []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema",
		"correlationid", "causationid", "traceparent", "subjectseq", "sequence", "partitionkey", "data_base64", "comexampleext"}
	bad := []struct {
		name, value, msg string
	}{
		{"lone low surrogate", `\uDEAD`, `must not contain the unpaired UTF-16 low surrogate escape "\uDEAD"`},
		{"lone low surrogate lower case", `x\udead`, `must not contain the unpaired UTF-16 low surrogate escape "\uDEAD"`},
		{"lone high surrogate at end", `ab\uD800`, `must not contain the unpaired UTF-16 high surrogate escape "\uD800"`},
		{"high surrogate then letter", `\uD800\u0041`, `must not contain the unpaired UTF-16 high surrogate escape "\uD800"`},
		{"high surrogate then text", `\uD83Dxxxxxx`, `must not contain the unpaired UTF-16 high surrogate escape "\uD83D"`},
		{"two high surrogates", `\uD800\uD800`, `must not contain the unpaired UTF-16 high surrogate escape "\uD800"`},
		{"low then high", `\uDC00\uD800`, `must not contain the unpaired UTF-16 low surrogate escape "\uDC00"`},
		{"high surrogate then other escape", `\uD800\n`, `must not contain the unpaired UTF-16 high surrogate escape "\uD800"`},
		{"invalid byte", "a\xffb", "must be valid UTF-8 (bad byte at 1)"},
		{"invalid byte after escape", `\u00e9` + "\xff", "must be valid UTF-8 (bad byte at 2)"},
		{"UTF-8 encoded surrogate", "\xed\xa0\x80", "must be valid UTF-8 (bad byte at 0)"},
		{"truncated sequence", "\xe2\x82", "must be valid UTF-8 (bad byte at 0)"},
		{"overlong encoding", "\xc0\xaf", "must be valid UTF-8 (bad byte at 0)"},
	}
	const head = `"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"s"`
	for _, attr := range attrs {
		for _, b := range bad {
			input := `{` + head + `,"` + attr + `":"` + b.value + `"}`
			if attr == "specversion" || attr == "id" || attr == "source" || attr == "type" || attr == "subject" {
				input = `{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"s","` + attr + `":"` + b.value + `"}`
				input = removeFirst(input, attr)
			}
			t.Run(attr+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				for _, decode := range []func([]byte, *canonical.Event) error{
					func(b []byte, e *canonical.Event) error { return e.UnmarshalJSON(b) },
					func(b []byte, e *canonical.Event) error { return json.Unmarshal(b, e) },
				} {
					e := canonical.Event{ID: "untouched"}
					err := decode([]byte(input), &e)
					require.Error(t, err, "decode %q", input)
					assert.ErrorIs(t, err, canonical.ErrInvalid)
					var ve *canonical.ValidationError
					require.ErrorAs(t, err, &ve, "decode %q", input)
					assert.Equal(t, []canonical.FieldError{{Field: attr, Message: b.msg}}, ve.Errors, "decode %q", input)
					assert.NotContains(t, err.Error(), "\ufffd", "no replacement character in the error")
					assert.Equal(t, canonical.Event{ID: "untouched"}, e, "event unchanged")
				}
			})
		}
	}
}

// removeFirst drops the first member named attr from the JSON object
// input, so that the last one (the bad value) is the only one.
func removeFirst(input, attr string) string {
	key := `"` + attr + `":"`
	i := strings.Index(input, key)
	j := i + len(key)
	for input[j] != '"' {
		j++
	}
	j++ // closing quote
	if input[j] == ',' {
		j++
	}
	return input[:i] + input[j:]
}

// TestEventUnmarshalJSONGoodEscapes: surrogate pairs and the other escapes
// decode, in attributes and in extensions, with and without raw non-ASCII
// text beside them.
func TestEventUnmarshalJSONGoodEscapes(t *testing.T) {
	t.Parallel()
	input := `{"specversion":"1.0","id":"\ud83d\ude00-\u00e9-é","source":"\/s","type":"t\"q\\","ext":"\uD83D\uDE00😀\u0041","\u0065xt2":"x"}`
	var e canonical.Event
	require.NoError(t, json.Unmarshal([]byte(input), &e))
	assert.Equal(t, "😀-é-é", e.ID)
	assert.Equal(t, "/s", e.Source)
	assert.Equal(t, canonical.EventType(`t"q\`), e.Type)
	assert.Equal(t, map[string]any{"ext": "😀😀A", "ext2": "x"}, e.Extensions)
}

// TestEventUnmarshalJSONBadName: a member name with an unpaired surrogate
// or invalid UTF-8 is refused as written.
func TestEventUnmarshalJSONBadName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, field, msg string }{
		{`\uDEAD`, `\uDEAD`, `attribute name must not contain the unpaired UTF-16 low surrogate escape "\uDEAD"`},
		{"a\xff", "a\ufffd", "attribute name must be valid UTF-8 (bad byte at 1)"},
	} {
		input := `{"specversion":"1.0","id":"1","source":"/s","type":"t","` + tt.name + `":"v"}`
		var e canonical.Event
		err := e.UnmarshalJSON([]byte(input))
		var ve *canonical.ValidationError
		require.ErrorAs(t, err, &ve, "decode %q", input)
		assert.Equal(t, []canonical.FieldError{{Field: tt.field, Message: tt.msg}}, ve.Errors, "decode %q", input)
	}
}
