package canonical

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRFC3339(t *testing.T) {
	t.Parallel()
	utc := time.UTC
	zone := func(h, m int) *time.Location { return time.FixedZone("", h*3600+m*60) }
	good := []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, utc)},
		{"2026-01-02t03:04:05z", time.Date(2026, 1, 2, 3, 4, 5, 0, utc)},
		{"2026-01-02T03:04:05.5Z", time.Date(2026, 1, 2, 3, 4, 5, 5e8, utc)},
		{"2026-01-02T03:04:05.000000001Z", time.Date(2026, 1, 2, 3, 4, 5, 1, utc)},
		{"2026-01-02T03:04:05.1234567899999Z", time.Date(2026, 1, 2, 3, 4, 5, 123456789, utc)},
		{"2026-01-02T03:04:05+05:30", time.Date(2026, 1, 2, 3, 4, 5, 0, zone(5, 30))},
		{"2026-01-02T03:04:05-08:00", time.Date(2026, 1, 2, 3, 4, 5, 0, zone(-8, 0))},
		{"2026-01-02T03:04:05+23:59", time.Date(2026, 1, 2, 3, 4, 5, 0, zone(23, 59))},
		{"2026-01-02T03:04:05-00:00", time.Date(2026, 1, 2, 3, 4, 5, 0, utc)},
		{"2026-01-02T03:04:05+00:00", time.Date(2026, 1, 2, 3, 4, 5, 0, utc)},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, utc)},
		{"2000-02-29T23:59:59Z", time.Date(2000, 2, 29, 23, 59, 59, 0, utc)},
		{"0000-01-01T00:00:00Z", time.Date(0, 1, 1, 0, 0, 0, 0, utc)},
		{"9999-12-31T23:59:59.999999999Z", time.Date(9999, 12, 31, 23, 59, 59, 999999999, utc)},
	}
	for _, tt := range good {
		got, problem := parseRFC3339(tt.in)
		if assert.Empty(t, problem, "%s is RFC 3339", tt.in) {
			assert.True(t, tt.want.Equal(got), "%s: got %v, want %v", tt.in, got, tt.want)
			_, wantOff := tt.want.Zone()
			_, gotOff := got.Zone()
			assert.Equal(t, wantOff, gotOff, "%s keeps its offset", tt.in)
			assert.Equal(t, tt.want.Location() == time.UTC, got.Location() == time.UTC, "%s: UTC for Z and ±00:00", tt.in)
		}
	}
	bad := []struct{ in, problem string }{
		{"2026-01-02T3:04:05Z", "the hour must have exactly 2 digits"},
		{"2026-01-02T03:4:05Z", "the minute must have exactly 2 digits"},
		{"2026-01-02T03:04:5Z", "the second must have exactly 2 digits"},
		{"2026-1-02T03:04:05Z", "the month must have exactly 2 digits"},
		{"2026-01-2T03:04:05Z", "the day must have exactly 2 digits"},
		{"26-01-02T03:04:05Z", "the year must have exactly 4 digits"},
		{"20260-01-02T03:04:05Z", "the year must have exactly 4 digits"},
		{"+2026-01-02T03:04:05Z", "the year must have exactly 4 digits"},
		{"2026-01-02T003:04:05Z", "the hour must have exactly 2 digits"},
		{"2026-01-02T03:04:05+00:60", "the offset minute must be 00–59, is 60"},
		{"2026-01-02T03:04:05+24:00", "the offset hour must be 00–23, is 24"},
		{"2026-01-02T03:04:05+99:00", "the offset hour must be 00–23, is 99"},
		{"2026-01-02T03:04:05+1:00", "the offset hour must have exactly 2 digits"},
		{"2026-01-02T03:04:05+01:0", "the offset minute must have exactly 2 digits"},
		{"2026-01-02T03:04:05+0100", "the offset hour must have exactly 2 digits"},
		{"2026-01-02T03:04:05+01", `the offset hour must be followed by ":"`},
		{"2026-01-02T03:04:05+01:00:00", "unexpected text after the offset"},
		{"2026-01-02T24:00:00Z", "the hour must be 00–23, is 24"},
		{"2026-01-02T23:60:00Z", "the minute must be 00–59, is 60"},
		{"2026-01-02T23:59:61Z", "the second must be 00–59, is 61"},
		{"2026-01-02T12:00:60Z", "the second must be 00–59 (60 only for a leap second at 23:59:60 UTC at the end of a month), is 60"},
		{"2016-12-31T23:59:60Z", "is a leap second (23:59:60 UTC), which distsync cannot represent"},
		{"2016-12-31T15:59:60-08:00", "is a leap second (23:59:60 UTC), which distsync cannot represent"},
		{"2016-12-31T23:59:60+01:00", "the second must be 00–59 (60 only for a leap second at 23:59:60 UTC at the end of a month), is 60"},
		{"2026-00-02T03:04:05Z", "the month must be 01–12, is 0"},
		{"2026-13-02T03:04:05Z", "the month must be 01–12, is 13"},
		{"2026-01-00T03:04:05Z", "day 0 is not in January 2026"},
		{"2026-02-29T03:04:05Z", "day 29 is not in February 2026"},
		{"1900-02-29T03:04:05Z", "day 29 is not in February 1900"},
		{"2026-04-31T03:04:05Z", "day 31 is not in April 2026"},
		{"2026-01-02 03:04:05Z", `the day must be followed by "T"`},
		{"2026-01-02x03:04:05Z", `the day must be followed by "T"`},
		{"2026-01-02T03:04:05", `the time needs an offset: "Z" or ±hh:mm`},
		{"2026-01-02T03:04:05.Z", `a fraction of a second needs at least one digit after the "."`},
		{"2026-01-02T03:04:05,5Z", `a fraction of a second follows a ".", not a ","`},
		{"2026-01-02T03:04:05ZZ", "unexpected text after the offset"},
		{"2026-01-02T03:04:05Z ", "unexpected text after the offset"},
		{" 2026-01-02T03:04:05Z", "the year must have exactly 4 digits"},
		{"2026-01-02T03:04:05UTC", `the time needs an offset: "Z" or ±hh:mm`},
		{"２026-01-02T03:04:05Z", "the year must have exactly 4 digits"},
		{"2026-01-02", `the day must be followed by "T"`},
		{"", "the year must have exactly 4 digits"},
	}
	for _, tt := range bad {
		got, problem := parseRFC3339(tt.in)
		assert.Equal(t, tt.problem, problem, "%q", tt.in)
		assert.True(t, got.IsZero(), "%q yields no time", tt.in)
	}
}

// rfc3339Shape is the grammar of RFC 3339 section 5.6 without the ranges.
var rfc3339Shape = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$`)

// FuzzParseRFC3339 compares parseRFC3339 with the grammar as a regular
// expression plus time.Parse for the ranges: it accepts exactly what both
// accept, minus offsets of 24 hours or more or 60 minutes and seconds of
// 60 (which time.Parse gets wrong or cannot hold), and yields the same
// instant and offset; a result formats back to a string it parses to the
// same time.
func FuzzParseRFC3339(f *testing.F) {
	for _, s := range []string{
		"2026-01-02T03:04:05Z", "2026-01-02t03:04:05.123z", "2026-01-02T3:04:05Z", "2026-01-02T03:04:05+00:60",
		"2026-01-02T24:00:00Z", "2016-12-31T23:59:60Z", "2024-02-29T00:00:00-00:00", "2026-01-02T03:04:05.1234567891+05:30",
		"2026-01-02T03:04:05,5Z", "2026-01-02 03:04:05Z", "0000-01-01T00:00:00+23:59", "2026-01-02T03:04:05+0100",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, problem := parseRFC3339(s)
		m := rfc3339Shape.FindStringSubmatch(s)
		ref, refErr := time.Parse(time.RFC3339, strings.NewReplacer("t", "T", "z", "Z").Replace(s))
		refOK := m != nil && refErr == nil && (m[3] == "" || m[3] < "24" && m[4] < "60")
		if problem != "" {
			require.True(t, got.IsZero(), "%q: no time with a problem", s)
			if strings.Contains(problem, "second") && strings.Contains(problem, "60") {
				require.NotNil(t, m, "%q: a second of 60 is refused only when the shape is right", s)
				return
			}
			require.False(t, refOK, "%q is RFC 3339 but refused: %s", s, problem)
			return
		}
		require.True(t, refOK, "%q is accepted but not RFC 3339 (shape %v, time.Parse %v)", s, m != nil, refErr)
		require.True(t, ref.Equal(got), "%q: %v, time.Parse says %v", s, got, ref)
		_, off := got.Zone()
		_, refOff := ref.Zone()
		require.Equal(t, refOff, off, "%q: offset", s)
		back, problem := parseRFC3339(got.Format(time.RFC3339Nano))
		require.Empty(t, problem, "%q formats as %s", s, got.Format(time.RFC3339Nano))
		require.True(t, back.Equal(got), "%q round trip", s)
	})
}
