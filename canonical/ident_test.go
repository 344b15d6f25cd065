package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestParseGTIN(t *testing.T) {
	tests := []struct {
		in     string
		gtin14 string
		errMsg string
	}{
		{in: "96385074", gtin14: "00000096385074"},       // GTIN-8
		{in: "036000291452", gtin14: "00036000291452"},   // UPC-A
		{in: "4006381333931", gtin14: "04006381333931"},  // EAN-13
		{in: "10614141000415", gtin14: "10614141000415"}, // GTIN-14
		{in: "4006381333932", errMsg: "check digit is 2, want 1"},
		{in: "400638133393", errMsg: "check digit"},
		{in: "40063813339", errMsg: "must have 8, 12, 13 or 14 digits"},
		{in: "", errMsg: "must have 8, 12, 13 or 14 digits"},
		{in: "40063813A3931", errMsg: "digits only"},
		{in: "４００６３８１３", errMsg: "must have"},
	}
	for _, tt := range tests {
		g, err := canonical.ParseGTIN(tt.in)
		if tt.errMsg != "" {
			require.Error(t, err, "ParseGTIN(%q)", tt.in)
			assert.ErrorIs(t, err, canonical.ErrInvalid, tt.in)
			assert.Contains(t, err.Error(), tt.errMsg, "ParseGTIN(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseGTIN(%q)", tt.in)
		assert.Equal(t, tt.gtin14, g.GTIN14(), tt.in)
		assert.Equal(t, tt.in, g.String())
	}
}

func TestParseSSCC(t *testing.T) {
	tests := []struct {
		in, want, errMsg string
	}{
		{in: "106141411234567897", want: "106141411234567897"},
		{in: "376104250021234569", want: "376104250021234569"},
		{in: "(00)106141411234567897", want: "106141411234567897"},
		{in: "00106141411234567897", want: "106141411234567897"},
		{in: "106141411234567890", errMsg: "check digit is 0, want 7"},
		{in: "10614141123456789", errMsg: "must have 18 digits"},
		{in: "10614141123456789X", errMsg: "digits only"},
	}
	for _, tt := range tests {
		s, err := canonical.ParseSSCC(tt.in)
		if tt.errMsg != "" {
			require.Error(t, err, "ParseSSCC(%q)", tt.in)
			assert.ErrorIs(t, err, canonical.ErrInvalid)
			assert.Contains(t, err.Error(), tt.errMsg, "ParseSSCC(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseSSCC(%q)", tt.in)
		assert.Equal(t, tt.want, s.String())
	}

	s, err := canonical.NewSSCC("10614141123456789")
	require.NoError(t, err)
	assert.Equal(t, canonical.SSCC("106141411234567897"), s)
	_, err = canonical.NewSSCC("123")
	assert.ErrorIs(t, err, canonical.ErrInvalid)
}

func TestIdentifierText(t *testing.T) {
	type doc struct {
		GTIN canonical.GTIN `json:"gtin,omitempty"`
		SSCC canonical.SSCC `json:"sscc,omitempty"`
	}
	in := doc{GTIN: "4006381333931", SSCC: "106141411234567897"}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var out doc
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)

	require.NoError(t, json.Unmarshal([]byte(`{}`), &out))
	assert.Error(t, json.Unmarshal([]byte(`{"gtin":"4006381333932"}`), &out), "bad check digit")
	assert.Error(t, json.Unmarshal([]byte(`{"sscc":"1"}`), &out), "short SSCC")
	var g canonical.GTIN = "x"
	require.NoError(t, g.UnmarshalText(nil))
	assert.Equal(t, canonical.GTIN(""), g, "empty text is no GTIN")
}
