package idempotency_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in       string
		lenient  bool
		want     string
		wantErr  string
		atOffset int // byte offset of the error, -1 for none
	}{
		{in: `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, want: "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{in: `  "abc"  `, want: "abc"},
		{in: `"a\"b"`, want: `a"b`},
		{in: `"a\\b"`, want: `a\b`},
		{in: `"with spaces inside"`, want: "with spaces inside"},
		{in: `"abc";p=1`, want: "abc"},
		{in: `"abc"; p="x";q;r=?1;s=:aGk=:;t=tok/en:x;u=-1.5;v=*`, want: "abc"},
		{in: `"abc"`, lenient: true, want: "abc"},
		{in: `abc`, lenient: true, want: "abc"},
		{in: `  stripe_key-123  `, lenient: true, want: "stripe_key-123"},
		{in: ``, wantErr: "empty value", atOffset: 0},
		{in: `   `, lenient: true, wantErr: "empty value", atOffset: 3},
		{in: `abc`, wantErr: "must be in double quotes", atOffset: 0},
		{in: `"abc`, wantErr: "not closed", atOffset: 4},
		{in: `"a\b"`, wantErr: `may only escape`, atOffset: 3},
		{in: `"abc\`, wantErr: "backslash at the end", atOffset: 5},
		{in: `"abc" x`, wantErr: "unexpected byte after the string", atOffset: 6},
		{in: `"abc";P=1`, wantErr: "parameter name", atOffset: 6},
		{in: `"abc";p=`, wantErr: "parameter value missing", atOffset: 8},
		{in: `"abc";p=1.2345`, wantErr: "1 to 3 fraction digits", atOffset: 14},
		{in: `"abc";p=1.`, wantErr: "1 to 3 fraction digits", atOffset: 10},
		{in: `"abc";p=1234567890123456`, wantErr: "more than 15 digits", atOffset: 24},
		{in: `"abc";p=-`, wantErr: "no digits", atOffset: 9},
		{in: `"abc";p=?2`, wantErr: "boolean", atOffset: 9},
		{in: `"abc";p=:ab`, wantErr: "not closed by a colon", atOffset: 11},
		{in: `"abc";p=:a!:`, wantErr: "non-base64", atOffset: 10},
		{in: `"abc";p=%`, wantErr: "not a structured-field bare item", atOffset: 8},
		{in: `""`, wantErr: "not a valid key: empty", atOffset: -1},
		{in: "\"tab\there\"", wantErr: "not printable ASCII", atOffset: 4},
		{in: "\"caf\u00e9\"", wantErr: "not printable ASCII", atOffset: 4},
		{in: `"` + strings.Repeat("k", 256) + `"`, wantErr: "longer than 255", atOffset: -1},
		{in: " ab\tc", lenient: true, wantErr: "not printable ASCII", atOffset: 3},
	}
	for _, tt := range tests {
		k, err := idempotency.ParseHeader(tt.in, tt.lenient)
		if tt.wantErr != "" {
			require.Error(t, err, "ParseHeader(%q, lenient=%v)", tt.in, tt.lenient)
			assert.ErrorIs(t, err, idempotency.ErrInvalidKey, "ParseHeader(%q, lenient=%v)", tt.in, tt.lenient)
			assert.Contains(t, err.Error(), tt.wantErr, "ParseHeader(%q, lenient=%v)", tt.in, tt.lenient)
			var ke *idempotency.KeyError
			require.ErrorAs(t, err, &ke, "ParseHeader(%q, lenient=%v)", tt.in, tt.lenient)
			assert.Equal(t, tt.in, ke.Input, "ParseHeader(%q): KeyError.Input", tt.in)
			assert.Equal(t, tt.atOffset, ke.Offset, "ParseHeader(%q, lenient=%v): offset", tt.in, tt.lenient)
			continue
		}
		require.NoError(t, err, "ParseHeader(%q, lenient=%v)", tt.in, tt.lenient)
		assert.Equal(t, tt.want, k.String(), "ParseHeader(%q, lenient=%v)", tt.in, tt.lenient)
	}
}

func TestFormatHeader(t *testing.T) {
	for _, in := range []string{"abc", `a"b`, `a\b`, ` x `, `"\"`} {
		k := idempotency.MustParse(in)
		h := idempotency.FormatHeader(k)
		back, err := idempotency.ParseHeader(h, false)
		require.NoError(t, err, "ParseHeader(FormatHeader(%q)) = ParseHeader(%s)", in, h)
		assert.Equal(t, k, back, "round trip of %q through %s", in, h)
	}
	assert.Equal(t, `"a\"b\\c"`, idempotency.FormatHeader(idempotency.MustParse(`a"b\c`)), `FormatHeader(a"b\c)`)
}
