package extcode_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp/internal/extcode"
)

// v4 codes as F&O does: numbers, NoYes, RFC 3339 with 1900 as the empty
// date; v2 as SAP does: decimal strings, booleans, a made-up date form.
var (
	v4 = extcode.Codec{NoYes: true,
		FormatDate: func(t time.Time) string { return t.Format(time.RFC3339) },
		FormatTime: func(t time.Time) string { return t.Format(time.RFC3339Nano) },
		ParseTime: func(s string) (time.Time, error) {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err == nil && t.Year() <= 1900 {
				t = time.Time{}
			}
			return t, err
		}}
	v2 = extcode.Codec{DecimalString: true,
		FormatDate: func(t time.Time) string { return "D" + t.Format(time.RFC3339Nano) },
		FormatTime: func(t time.Time) string { return "D" + t.Format(time.RFC3339Nano) },
		ParseTime: func(s string) (time.Time, error) {
			rest, ok := strings.CutPrefix(s, "D")
			if !ok {
				return time.Time{}, errors.New("no D")
			}
			return time.Parse(time.RFC3339Nano, rest)
		}}
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     extcode.Codec
		typ   canonical.ExtensionType
		value string
		wire  string
	}{
		{"v4 string", v4, canonical.ExtString, "CC-4711", `"CC-4711"`},
		{"v4 decimal", v4, canonical.ExtDecimal, "2.5", `2.5`},
		{"v4 integer", v4, canonical.ExtInteger, "-7", `-7`},
		{"v4 bool", v4, canonical.ExtBool, "true", `"Yes"`},
		{"v4 false", v4, canonical.ExtBool, "false", `"No"`},
		{"v4 date", v4, canonical.ExtDate, "2026-04-02", `"2026-04-02T00:00:00Z"`},
		{"v4 timestamp", v4, canonical.ExtTimestamp, "2026-04-02T10:11:12.5Z", `"2026-04-02T10:11:12.5Z"`},
		{"v2 decimal", v2, canonical.ExtDecimal, "2.5", `"2.5"`},
		{"v2 bool", v2, canonical.ExtBool, "false", `false`},
		{"v2 date", v2, canonical.ExtDate, "2026-04-02", `"D2026-04-02T00:00:00Z"`},
	} {
		e := canonical.Extension{Name: "erp:x", Type: tc.typ, Value: tc.value}
		raw, err := tc.c.Encode(e)
		require.NoError(t, err, tc.name)
		assert.JSONEq(t, tc.wire, string(raw), "%s: wire", tc.name)
		got, ok, err := tc.c.Decode(tc.typ, raw)
		require.NoError(t, err, tc.name)
		assert.True(t, ok, tc.name)
		assert.Equal(t, tc.value, got, "%s: read back", tc.name)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       extcode.Codec
		typ     canonical.ExtensionType
		raw     string
		want    string
		ok, bad bool
	}{
		{"null", v4, canonical.ExtString, `null`, "", false, false},
		{"absent", v4, canonical.ExtString, ``, "", false, false},
		{"empty F&O date", v4, canonical.ExtDate, `"1900-01-01T12:00:00Z"`, "", false, false},
		{"decimal from a string", v4, canonical.ExtDecimal, `"3.25"`, "3.25", true, false},
		{"decimal from a number in v2", v2, canonical.ExtDecimal, `3.25`, "3.25", true, false},
		{"bool from a JSON bool in v4", v4, canonical.ExtBool, `true`, "true", true, false},
		{"NoYes not read in v2", v2, canonical.ExtBool, `"Yes"`, "", false, true},
		{"string not a number", v4, canonical.ExtString, `12`, "", false, true},
		{"not a number", v4, canonical.ExtInteger, `{}`, "", false, true},
		{"bad bool", v4, canonical.ExtBool, `"Maybe"`, "", false, true},
		{"bad date", v4, canonical.ExtDate, `"April"`, "", false, true},
		{"date not a string", v2, canonical.ExtDate, `5`, "", false, true},
	} {
		got, ok, err := tc.c.Decode(tc.typ, json.RawMessage(tc.raw))
		assert.Equal(t, tc.bad, err != nil, "%s: error %v", tc.name, err)
		assert.Equal(t, tc.ok, ok, "%s: ok", tc.name)
		assert.Equal(t, tc.want, got, "%s: value", tc.name)
	}
}

func TestEncodeInvalid(t *testing.T) {
	for _, e := range []canonical.Extension{
		{Name: "erp:x", Type: canonical.ExtInteger, Value: "1.5"},
		{Name: "erp:x", Type: canonical.ExtDate, Value: "2026-13-01"},
		{Name: "erp:x", Type: "money", Value: "1"},
	} {
		_, err := v4.Encode(e)
		assert.Error(t, err, "%+v", e)
	}
}

type entity struct {
	A   string `json:"A"`
	B_C int    `json:"B_C,omitempty"`
}

func TestMarshalUnknown(t *testing.T) {
	isCustom := func(n string) bool { return strings.Contains(n, "_") }
	custom := map[string]json.RawMessage{"Z_Custom": json.RawMessage(`1`), "Y_Custom": json.RawMessage(`"y"`)}
	b, err := extcode.Marshal(entity{A: "a"}, custom)
	require.NoError(t, err)
	assert.Equal(t, `{"A":"a","Y_Custom":"y","Z_Custom":1}`, string(b))
	got, err := extcode.Unknown(append(b[:len(b)-1], `,"B_C":2,"Other":3}`...), reflect.TypeFor[entity](), "_", isCustom)
	require.NoError(t, err)
	assert.Equal(t, custom, got, "keeps the custom properties no field names")
	got, err = extcode.Unknown([]byte(`{"A":"a","Other":3}`), reflect.TypeFor[entity](), "_", isCustom)
	require.NoError(t, err)
	assert.Nil(t, got, "nothing without the marker")
	b, err = extcode.Marshal(struct{}{}, custom)
	require.NoError(t, err)
	assert.Equal(t, `{"Y_Custom":"y","Z_Custom":1}`, string(b), "an empty struct")
}

// FuzzDecode checks that Decode never panics and that what it reads is a
// valid extension of its type that encodes and reads back the same.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`"x"`, `2.5`, `"Yes"`, `true`, `"2026-04-02T00:00:00Z"`, `null`, `"1900-01-01T12:00:00Z"`, `1e400`, `"-0"`} {
		f.Add(s, uint8(0))
	}
	types := []canonical.ExtensionType{canonical.ExtString, canonical.ExtDecimal, canonical.ExtInteger, canonical.ExtBool, canonical.ExtDate, canonical.ExtTimestamp}
	f.Fuzz(func(t *testing.T, raw string, k uint8) {
		typ := types[int(k)%len(types)]
		for _, c := range []extcode.Codec{v4, v2} {
			got, ok, err := c.Decode(typ, json.RawMessage(raw))
			if err != nil || !ok {
				continue
			}
			e := canonical.Extension{Name: "erp:x", Type: typ, Value: got}
			if e.Validate() != nil {
				continue // the caller's Set refuses it with a clear error
			}
			wire, err := c.Encode(e)
			if err != nil {
				t.Fatalf("Encode(%+v) after Decode(%s): %v", e, raw, err)
			}
			again, ok, err := c.Decode(typ, wire)
			if err != nil || !ok || again != got {
				t.Fatalf("%s: %s read %q, encoded %s, read back %q, %v, %v", typ, raw, got, wire, again, ok, err)
			}
		}
	})
}
