package tracing_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/distsync/distsync/tracing"
)

func FuzzParseTraceparent(f *testing.F) {
	for _, s := range []string{
		specExample,
		"00-" + specTraceID + "-" + specParentID + "-04",
		"cc-" + specTraceID + "-" + specParentID + "-01-what-the-future-will-be-like",
		"ff-" + specTraceID + "-" + specParentID + "-01",
		"00-00000000000000000000000000000000-" + specParentID + "-01",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := tracing.ParseTraceparent(s)
		if err != nil {
			if sc.TraceID.IsValid() || sc.SpanID.IsValid() || sc.Flags != 0 || sc.State.Len() != 0 {
				t.Fatalf("ParseTraceparent(%q) returned %v with error %v", s, sc, err)
			}
			return
		}
		if !sc.IsValid() {
			t.Fatalf("ParseTraceparent(%q) accepted an invalid span context %v", s, sc)
		}
		out := sc.Traceparent()
		if strings.HasPrefix(s, "00-") && out != s {
			t.Fatalf("version 00 %q formats to %q", s, out)
		}
		again, err := tracing.ParseTraceparent(out)
		if err != nil {
			t.Fatalf("ParseTraceparent(%q) (formatted from %q): %v", out, s, err)
		}
		if again.TraceID != sc.TraceID || again.SpanID != sc.SpanID || again.Flags != sc.Flags {
			t.Fatalf("round trip of %q: got %v, want %v", s, again, sc)
		}
	})
}

func FuzzParseTraceState(f *testing.F) {
	for _, s := range []string{
		"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
		"foo=1 \t , \t bar=2,,",
		"fw529a3039@dt=0wi",
		"foo@=1,foo@@bar=2,foo@bar@baz=3,1x=4",
		"@foo=1",
		"foo=bar=baz",
		"foo=1,foo=2",
		"foo=1,bar=2,foo=3",
		"foo= bar ",
		"foo=" + allValueChars,
		manyMembers(33),
	} {
		f.Add(s, "x=1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ts, err := tracing.ParseTraceState(a, b)
		ref, ok := referenceTraceState(a, b)
		if ok != (err == nil) {
			t.Fatalf("ParseTraceState(%q, %q): error %v, the reference parser says valid=%v", a, b, err, ok)
		}
		if err != nil {
			if ts.Len() != 0 {
				t.Fatalf("ParseTraceState(%q, %q) returned %v with error %v", a, b, ts, err)
			}
			return
		}
		if got := ts.Members(); !slices.Equal(got, ref) {
			t.Fatalf("ParseTraceState(%q, %q) = %v, the reference parser says %v", a, b, got, ref)
		}
		if ts.Len() > tracing.MaxTraceStateMembers {
			t.Fatalf("ParseTraceState(%q, %q) returned %d members", a, b, ts.Len())
		}
		out := ts.String()
		again, err := tracing.ParseTraceState(out)
		if err != nil {
			t.Fatalf("ParseTraceState(%q) (formatted from %q, %q): %v", out, a, b, err)
		}
		if got := again.String(); got != out {
			t.Fatalf("round trip of %q, %q: formatted %q, then %q", a, b, out, got)
		}
		want := ts.Members()
		got := again.Members()
		if len(got) != len(want) {
			t.Fatalf("round trip of %q, %q: %d members, then %d", a, b, len(want), len(got))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round trip of %q, %q: member %d is %v, then %v", a, b, i, want[i], got[i])
			}
		}
	})
}

// The tracestate grammar of W3C Trace Context Level 2, written as regular
// expressions: an independent oracle for FuzzParseTraceState.
var (
	refKey   = regexp.MustCompile(`^[a-z0-9][a-z0-9_\-*/@]{0,255}$`)
	refValue = regexp.MustCompile(`^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$`)
)

// referenceTraceState parses tracestate lines the slow, obvious way: split
// on commas, trim spaces and tabs, skip empty members, at most 32 key=value
// members, the first member of a duplicated key kept.
func referenceTraceState(lines ...string) ([]tracing.Member, bool) {
	var out []tracing.Member
	n := 0
	for _, line := range lines {
		for _, piece := range strings.Split(line, ",") {
			piece = strings.Trim(piece, " \t")
			if piece == "" {
				continue
			}
			key, value, found := strings.Cut(piece, "=")
			if !found || !refKey.MatchString(key) || !refValue.MatchString(value) {
				return nil, false
			}
			if n++; n > tracing.MaxTraceStateMembers {
				return nil, false
			}
			if !slices.ContainsFunc(out, func(m tracing.Member) bool { return m.Key == key }) {
				out = append(out, tracing.Member{Key: key, Value: value})
			}
		}
	}
	return out, true
}
