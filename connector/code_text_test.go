package connector_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
)

func TestCodeText(t *testing.T) {
	tests := []struct {
		code connector.Code
		text string
	}{
		{connector.CodeUnknown, "unknown"},
		{connector.CodeInvalid, "invalid"},
		{connector.CodeNotFound, "not_found"},
		{connector.CodeConflict, "conflict"},
		{connector.CodeUnauthorized, "unauthorized"},
		{connector.CodeRateLimited, "rate_limited"},
		{connector.CodeUnavailable, "unavailable"},
		{connector.CodeTimeout, "timeout"},
		{connector.CodeInternal, "internal"},
	}
	for _, tt := range tests {
		b, err := tt.code.MarshalText()
		require.NoError(t, err, tt.text)
		assert.Equal(t, tt.text, string(b))
		var got connector.Code
		require.NoError(t, got.UnmarshalText(b), tt.text)
		assert.Equal(t, tt.code, got, tt.text)
	}
}

func TestCodeTextJSON(t *testing.T) {
	type record struct {
		Code connector.Code `json:"code"`
	}
	b, err := json.Marshal(record{Code: connector.CodeRateLimited})
	require.NoError(t, err)
	assert.JSONEq(t, `{"code":"rate_limited"}`, string(b))
	var got record
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, connector.CodeRateLimited, got.Code)
}

func TestCodeTextInvalid(t *testing.T) {
	for _, text := range []string{"", "ok", "OK", "Rate_Limited", "code(200)", "teapot", " timeout"} {
		c := connector.CodeTimeout
		err := c.UnmarshalText([]byte(text))
		require.ErrorIs(t, err, connector.ErrUnknownCode, "%q", text)
		assert.Contains(t, err.Error(), `"`+text+`"`, "the error names the text")
		assert.Equal(t, connector.CodeTimeout, c, "unchanged after %q", text)
	}
	_, err := connector.Code(200).MarshalText()
	require.ErrorIs(t, err, connector.ErrUnknownCode)
	assert.Contains(t, err.Error(), "200")
}

// FuzzCodeText checks the round trip both ways: a code that marshals reads
// back as itself, and a text that unmarshals marshals back to itself.
func FuzzCodeText(f *testing.F) {
	f.Add(uint8(connector.CodeRateLimited), "rate_limited")
	f.Add(uint8(200), "code(200)")
	f.Add(uint8(0), "")
	f.Fuzz(func(t *testing.T, n uint8, text string) {
		c := connector.Code(n)
		if b, err := c.MarshalText(); err == nil {
			var back connector.Code
			require.NoError(t, back.UnmarshalText(b))
			require.Equal(t, c, back)
			require.Equal(t, c.String(), string(b))
		} else {
			require.ErrorIs(t, err, connector.ErrUnknownCode)
		}
		var parsed connector.Code
		if err := parsed.UnmarshalText([]byte(text)); err == nil {
			b, err := parsed.MarshalText()
			require.NoError(t, err)
			require.Equal(t, text, string(b))
		} else {
			require.ErrorIs(t, err, connector.ErrUnknownCode)
		}
	})
}
