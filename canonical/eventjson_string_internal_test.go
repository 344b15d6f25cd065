package canonical

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzEventJSONString compares the envelope's string decoder with
// encoding/json on every valid JSON string literal: when the literal is
// valid UTF-8 with paired surrogate escapes (encoding/json then makes no
// U+FFFD of its own) both decode it to the same string; otherwise
// eventJSONString refuses it, where encoding/json would put U+FFFD in.
func FuzzEventJSONString(f *testing.F) {
	for _, s := range []string{
		``, `plain`, `\u00e9\n\t\"\\\/\b\f\r`, `\uD83D\uDE00`, `\uDEAD`, `\uD800\u0041`, `\uD800\\u0041`,
		"a\xffb", "\xed\xa0\x80", `\ufffd`, "\uFFFD", `\uD800\uD800\uDC00`, `\u0000`, "é€😀", `x\uDBFF\uDFFF`, `\\ufffd` + "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, inner string) {
		raw := []byte(`"` + inner + `"`)
		if !json.Valid(raw) {
			return
		}
		var want string
		require.NoError(t, json.Unmarshal(raw, &want), "encoding/json decodes %q", raw)
		got, problem := eventJSONString(raw)
		// encoding/json made a U+FFFD of its own when it has more of them
		// than the literal spells out (as a byte sequence or an escape).
		replaced := strings.Count(want, "\uFFFD") > spelledReplacements(inner)
		if problem != "" {
			require.True(t, replaced, "%q refused (%s), but encoding/json decodes it to %q without replacing anything", raw, problem, want)
			require.Empty(t, got, "%q: no string with a problem", raw)
			return
		}
		require.False(t, replaced, "%q accepted as %q, but encoding/json had to replace something in it (%q)", raw, got, want)
		require.Equal(t, want, got, "%q decodes as encoding/json does", raw)
		require.True(t, utf8.ValidString(got), "%q decodes to valid UTF-8", raw)
	})
}

// spelledReplacements counts the U+FFFD a JSON string literal's inside
// spells out: as its UTF-8 bytes or as the escape \uFFFD.
func spelledReplacements(inner string) int {
	n := 0
	for i := 0; i < len(inner); {
		switch {
		case inner[i] == '\\' && i+6 <= len(inner) && inner[i+1] == 'u':
			if strings.EqualFold(inner[i+2:i+6], "fffd") {
				n++
			}
			i += 6
		case inner[i] == '\\':
			i += 2
		case strings.HasPrefix(inner[i:], "\uFFFD"):
			n++
			i += 3
		default:
			i++
		}
	}
	return n
}
