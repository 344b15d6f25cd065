package tracing_test

import (
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
		"foo=bar=baz",
		"foo=1,foo=2",
		"foo= bar ",
		"foo=" + allValueChars,
		manyMembers(33),
	} {
		f.Add(s, "x=1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ts, err := tracing.ParseTraceState(a, b)
		if err != nil {
			if ts.Len() != 0 {
				t.Fatalf("ParseTraceState(%q, %q) returned %v with error %v", a, b, ts, err)
			}
			return
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
