package idempotency_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
)

// checkKeyError checks the error contract of Parse and ParseHeader: it
// matches ErrInvalidKey and is a *KeyError whose offset lies within input.
func checkKeyError(t *testing.T, err error, input string) {
	t.Helper()
	require.ErrorIs(t, err, idempotency.ErrInvalidKey, "error for %q", input)
	var ke *idempotency.KeyError
	require.True(t, errors.As(err, &ke), "error for %q is a *KeyError: %v", input, err)
	assert.Equal(t, input, ke.Input, "KeyError.Input for %q", input)
	assert.True(t, ke.Offset >= -1 && ke.Offset <= len(input), "KeyError.Offset %d for %q of length %d", ke.Offset, input, len(input))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a", "order-42", `a"b\c`, " ", "", "caf\u00e9", "tab\t", strings.Repeat("z", 256), idempotency.Derive("s", "o", "i").String()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := idempotency.Parse(s)
		if err != nil {
			checkKeyError(t, err, s)
			return
		}
		require.Equal(t, s, k.String(), "Parse(%q).String()", s)
		text, err := k.MarshalText()
		require.NoError(t, err, "MarshalText of %q", s)
		var back idempotency.Key
		require.NoError(t, back.UnmarshalText(text), "UnmarshalText of %q", text)
		require.Equal(t, k, back, "text round trip of %q", s)
		for _, lenient := range []bool{false, true} {
			h := idempotency.FormatHeader(k)
			fromHeader, err := idempotency.ParseHeader(h, lenient)
			require.NoError(t, err, "ParseHeader(FormatHeader(%q)) = ParseHeader(%q, %v)", s, h, lenient)
			require.Equal(t, k, fromHeader, "header round trip of %q (lenient %v)", s, lenient)
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{`"abc"`, ` "a\"b" ;p=1;q=?0;r=:aGk=:;s=tok;t=-1.25;u="x"`, `bare`, `"unterminated`, `"a\b"`, `""`, `"abc";P=1`, `"x";p=1.2345`} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, v string, lenient bool) {
		k, err := idempotency.ParseHeader(v, lenient)
		if err != nil {
			checkKeyError(t, err, v)
			return
		}
		p, err := idempotency.Parse(k.String())
		require.NoError(t, err, "Parse of the key %q parsed from header %q", k, v)
		require.Equal(t, k, p, "key from header %q", v)
		again, err := idempotency.ParseHeader(idempotency.FormatHeader(k), false)
		require.NoError(t, err, "ParseHeader(FormatHeader(ParseHeader(%q)))", v)
		require.Equal(t, k, again, "header round trip of %q", v)
		if !lenient {
			// Lenient mode accepts everything strict mode accepts, alike.
			l, err := idempotency.ParseHeader(v, true)
			require.NoError(t, err, "lenient ParseHeader(%q) of a strictly valid value", v)
			require.Equal(t, k, l, "lenient and strict keys of %q", v)
		}
	})
}

func FuzzFingerprintText(f *testing.F) {
	f.Add(idempotency.FingerprintBytes([]byte("x")).String())
	f.Add(strings.Repeat("A", 64))
	f.Add("not hex")
	f.Fuzz(func(t *testing.T, s string) {
		var fp idempotency.Fingerprint
		if err := fp.UnmarshalText([]byte(s)); err != nil {
			return
		}
		require.Equal(t, strings.ToLower(s), fp.String(), "String of the fingerprint parsed from %q", s)
		text, err := fp.MarshalText()
		require.NoError(t, err, "MarshalText")
		var back idempotency.Fingerprint
		require.NoError(t, back.UnmarshalText(text), "UnmarshalText(%q)", text)
		require.Equal(t, fp, back, "text round trip of %q", s)
	})
}
