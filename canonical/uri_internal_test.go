package canonical

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// slowCheckURI is eventCheckURI without the fast path: the reference the
// fast path must agree with.
func slowCheckURI(s string, absolute bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !eventURIChar(c) || c == '%' && (i+2 >= len(s) || !eventIsHex(s[i+1]) || !eventIsHex(s[i+2])) {
			return false
		}
	}
	if strings.Count(s, "#") > 1 {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if strings.ContainsAny(s, "[]") && strings.Count(s, "[")+strings.Count(s, "]") != strings.Count(u.Host, "[")+strings.Count(u.Host, "]") {
		return false
	}
	return !absolute || u.Scheme != "" && !strings.Contains(s, "#")
}

func TestEventSimpleURI(t *testing.T) {
	tests := []struct {
		in     string
		simple bool
	}{
		{"urn:distsync:flow", true},
		{"wms://WMS-1", true},
		{"https://erp.example.com/feeds/orders?page=2", true},
		{"urn:distsync:eventlogtest", true},
		{"a+b.c-d:x", true},
		{"/relative/path", false},
		{"", false},
		{"1abc:x", false},
		{"https://user@host/x", false},
		{"https://host:8080/x", false},
		{"https://[::1]/x", false},
		{"urn:a#frag", false},
		{"urn:a%20b", false},
		{"http://ho st/", false},
	}
	for _, tt := range tests {
		got := eventSimpleURI(tt.in)
		assert.Equal(t, tt.simple, got, "eventSimpleURI(%q)", tt.in)
		if got {
			assert.True(t, slowCheckURI(tt.in, true), "a simple URI %q must pass the full check", tt.in)
		}
	}
}

// FuzzEventSimpleURI checks that the fast path accepts only what the full
// check accepts, and that eventCheckURI agrees with the full check.
func FuzzEventSimpleURI(f *testing.F) {
	for _, s := range []string{"urn:distsync:flow", "wms://WMS-1", "https://h/p?q", "a:b", "x://h:1/", "x://u@h/", "s:/p%41", "s://[::1]/", ":x", "a/b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		charsOK := true
		for i := 0; i < len(s); i++ {
			if !eventURIChar(s[i]) {
				charsOK = false
			}
		}
		if charsOK && eventSimpleURI(s) && !slowCheckURI(s, true) {
			t.Fatalf("eventSimpleURI accepts %q, which the full check refuses", s)
		}
		for _, abs := range []bool{false, true} {
			if got, want := eventCheckURI(s, abs) == "", slowCheckURI(s, abs); got != want {
				t.Fatalf("eventCheckURI(%q, %v) valid = %v, full check %v", s, abs, got, want)
			}
		}
	})
}
