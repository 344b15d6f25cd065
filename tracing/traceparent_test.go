package tracing_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
)

const (
	specTraceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
	specParentID = "00f067aa0ba902b7"
	specExample  = "00-" + specTraceID + "-" + specParentID + "-01"
)

func TestParseTraceparentValid(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		flags   tracing.TraceFlags
		sampled bool
		// out is the version 00 value the parsed context formats to.
		out string
	}{
		{"spec example, sampled", specExample, 0x01, true, specExample},
		{"spec example, not sampled", "00-" + specTraceID + "-" + specParentID + "-00", 0x00, false, "00-" + specTraceID + "-" + specParentID + "-00"},
		{"random flag", "00-" + specTraceID + "-" + specParentID + "-02", 0x02, false, "00-" + specTraceID + "-" + specParentID + "-02"},
		{"random and sampled", "00-" + specTraceID + "-" + specParentID + "-03", 0x03, true, "00-" + specTraceID + "-" + specParentID + "-03"},
		{"unknown flag bit 04 kept", "00-" + specTraceID + "-" + specParentID + "-04", 0x04, false, "00-" + specTraceID + "-" + specParentID + "-04"},
		{"all flag bits kept", "00-" + specTraceID + "-" + specParentID + "-ff", 0xff, true, "00-" + specTraceID + "-" + specParentID + "-ff"},
		{"future version cc, 55 characters", "cc-" + specTraceID + "-" + specParentID + "-01", 0x01, true, specExample},
		{"future version cc with extra fields", "cc-" + specTraceID + "-" + specParentID + "-01-what-the-future-will-be-like", 0x01, true, specExample},
		{"future version cc with an empty extra field", "cc-" + specTraceID + "-" + specParentID + "-09-", 0x09, true, "00-" + specTraceID + "-" + specParentID + "-09"},
		{"version 01", "01-" + specTraceID + "-" + specParentID + "-01", 0x01, true, specExample},
		{"version fe", "fe-" + specTraceID + "-" + specParentID + "-00", 0x00, false, "00-" + specTraceID + "-" + specParentID + "-00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := tracing.ParseTraceparent(tt.in)
			require.NoError(t, err, "ParseTraceparent(%q)", tt.in)
			assert.Equal(t, specTraceID, sc.TraceID.String(), "trace-id of %q", tt.in)
			assert.Equal(t, specParentID, sc.SpanID.String(), "parent-id of %q", tt.in)
			assert.Equal(t, tt.flags, sc.Flags, "flags of %q", tt.in)
			assert.Equal(t, tt.sampled, sc.Flags.Sampled(), "sampled of %q", tt.in)
			assert.Equal(t, tt.out, sc.Traceparent(), "format of %q", tt.in)
			assert.Zero(t, sc.State.Len(), "tracestate of %q", tt.in)
		})
	}
}

func TestParseTraceparentInvalid(t *testing.T) {
	zeros32 := strings.Repeat("0", 32)
	zeros16 := strings.Repeat("0", 16)
	tests := []struct {
		name   string
		in     string
		offset int
		reason string
	}{
		{"empty", "", 0, "too short"},
		{"one character short", specExample[:54], 54, "too short"},
		{"version ff", "ff-" + specTraceID + "-" + specParentID + "-01", 0, "version ff"},
		{"upper-case version", "0A-" + specTraceID + "-" + specParentID + "-01", 0, "version must be"},
		{"non-hex version", "0g-" + specTraceID + "-" + specParentID + "-01", 0, "version must be"},
		{"version of 3 digits", "000-" + specTraceID + "-" + specParentID + "-01", 2, "after version"},
		{"version 00 with extra field", specExample + "-what-the-future-will-be-like", 55, "version 00 must end"},
		{"version 00 with trailing dash", specExample + "-", 55, "version 00 must end"},
		{"version 00 with trailing space", specExample + " ", 55, "version 00 must end"},
		{"leading space", " " + specExample, 0, "version must be"},
		{"future version, garbage after flags", "cc-" + specTraceID + "-" + specParentID + "-01.what-the-future-will-be-like", 55, "want '-' or end"},
		{"future version, too short", "cc-" + specTraceID + "-" + specParentID + "-1", 54, "too short"},
		{"upper-case trace-id", "00-" + strings.ToUpper(specTraceID) + "-" + specParentID + "-01", 3, "trace-id must be"},
		{"upper-case parent-id", "00-" + specTraceID + "-" + strings.ToUpper(specParentID) + "-01", 36, "parent-id must be"},
		{"upper-case flags", "00-" + specTraceID + "-" + specParentID + "-0A", 53, "trace-flags must be"},
		{"trace-id too short", "00-" + specTraceID[:31] + "-" + specParentID + "-01-", 3, "trace-id must be"},
		{"trace-id too long", "00-" + specTraceID + "0-" + specParentID + "-01", 35, "after trace-id"},
		{"parent-id too short", "00-" + specTraceID + "-" + specParentID[:15] + "-01-", 36, "parent-id must be"},
		{"parent-id too long", "00-" + specTraceID + "-" + specParentID + "0-01", 52, "after parent-id"},
		{"flags too short", "00-" + specTraceID + "-" + specParentID + "-1", 54, "too short"},
		{"flags too long", "00-" + specTraceID + "-" + specParentID + "-011", 55, "version 00 must end"},
		{"negative flags", "00-" + specTraceID + "-" + specParentID + "--1", 53, "trace-flags must be"},
		{"illegal character in trace-id", "00-4bf92f3577b34da6a3ce929d0e0e473.-" + specParentID + "-01", 3, "trace-id must be"},
		{"illegal character in parent-id", "00-" + specTraceID + "-00f067aa0ba902bz-01", 36, "parent-id must be"},
		{"all-zero trace-id", "00-" + zeros32 + "-" + specParentID + "-01", 3, "trace-id must not be all zeros"},
		{"all-zero parent-id", "00-" + specTraceID + "-" + zeros16 + "-01", 36, "parent-id must not be all zeros"},
		{"wrong first delimiter", "00_" + specTraceID + "-" + specParentID + "-01", 2, "after version"},
		{"wrong last delimiter", "00-" + specTraceID + "-" + specParentID + "_01", 52, "after parent-id"},
		{"two values joined by a comma", specExample + "," + specExample, 55, "version 00 must end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := tracing.ParseTraceparent(tt.in)
			require.ErrorIs(t, err, tracing.ErrInvalidTraceparent, "ParseTraceparent(%q)", tt.in)
			assert.NotErrorIs(t, err, tracing.ErrInvalidTracestate, "ParseTraceparent(%q)", tt.in)
			var pe *tracing.ParseError
			require.ErrorAs(t, err, &pe, "ParseTraceparent(%q)", tt.in)
			assert.Equal(t, "traceparent", pe.Header, "header of error for %q", tt.in)
			assert.Equal(t, tt.offset, pe.Offset, "offset of error for %q: %v", tt.in, err)
			assert.Contains(t, err.Error(), tt.reason, "error for %q", tt.in)
			assert.Equal(t, tracing.SpanContext{}, sc, "span context for %q", tt.in)
		})
	}
}

func TestIDs(t *testing.T) {
	seenTrace := map[tracing.TraceID]bool{}
	seenSpan := map[tracing.SpanID]bool{}
	for range 100 {
		tid, sid := tracing.NewTraceID(), tracing.NewSpanID()
		require.True(t, tid.IsValid(), "NewTraceID %v", tid)
		require.True(t, sid.IsValid(), "NewSpanID %v", sid)
		require.False(t, seenTrace[tid], "NewTraceID repeated %v", tid)
		require.False(t, seenSpan[sid], "NewSpanID repeated %v", sid)
		seenTrace[tid], seenSpan[sid] = true, true
	}
	sc := tracing.NewSpanContext()
	assert.True(t, sc.IsValid(), "NewSpanContext")
	assert.True(t, sc.Flags.Sampled(), "NewSpanContext is sampled")
	assert.True(t, sc.Flags.Random(), "NewSpanContext has the random trace-id flag")
	assert.Equal(t, tracing.FlagSampled|tracing.FlagRandom, sc.Flags, "NewSpanContext sets no other flag")
	assert.Equal(t, sc.Flags, sc.Child().Flags, "Child keeps the flags")
	for _, tt := range []struct{ in, want tracing.TraceFlags }{{0x00, 0x00}, {0x01, 0x01}, {0x02, 0x02}, {0x03, 0x03}, {0x04, 0x00}, {0xfd, 0x01}, {0xff, 0x03}} {
		sc.Flags = tt.in
		assert.Equal(t, tt.want, sc.Child().Flags, "Child of flags %v", tt.in)
	}
	assert.False(t, tracing.TraceFlags(0x01).Random(), "flags 01 are not random")
	assert.True(t, tracing.TraceFlags(0x02).Random(), "flags 02 are random")
	child := sc.Child()
	assert.Equal(t, sc.TraceID, child.TraceID, "Child keeps the trace")
	assert.NotEqual(t, sc.SpanID, child.SpanID, "Child has a new span")
	assert.Equal(t, "04", tracing.TraceFlags(4).String(), "flags 4")
	var zero tracing.SpanContext
	assert.False(t, zero.IsValid(), "zero SpanContext")
	assert.Equal(t, "00-00000000000000000000000000000000-0000000000000000-00", zero.Traceparent(), "zero SpanContext formats")
}
