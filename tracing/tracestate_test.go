package tracing_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
)

func members(kv ...string) []tracing.Member {
	var m []tracing.Member
	for i := 0; i < len(kv); i += 2 {
		m = append(m, tracing.Member{Key: kv[i], Value: kv[i+1]})
	}
	return m
}

func manyMembers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("k%d=v%d", i, i)
	}
	return strings.Join(parts, ",")
}

// allValueChars is every character a value may hold, space first.
const allValueChars = ` !"#$%&'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_` + "`" + `abcdefghijklmnopqrstuvwxyz{|}~`

func TestParseTraceStateValid(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []tracing.Member
		out   string
	}{
		{"spec example", []string{"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}, members("rojo", "00f067aa0ba902b7", "congo", "t61rcWkgMzE"), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
		{"no line", nil, nil, ""},
		{"empty line", []string{""}, nil, ""},
		{"whitespace only", []string{" \t "}, nil, ""},
		{"empty members", []string{",,foo=1,,"}, members("foo", "1"), "foo=1"},
		{"whitespace around members", []string{"foo=1 \t , \t bar=2"}, members("foo", "1", "bar", "2"), "foo=1,bar=2"},
		{"whitespace-only member", []string{"foo=1,\t,bar=2"}, members("foo", "1", "bar", "2"), "foo=1,bar=2"},
		{"two lines combined", []string{"foo=1,bar=2", "rojo=1,congo=2"}, members("foo", "1", "bar", "2", "rojo", "1", "congo", "2"), "foo=1,bar=2,rojo=1,congo=2"},
		{"multi-tenant key", []string{"fw529a3039@dt=0wi,0-1@t1=x"}, members("fw529a3039@dt", "0wi", "0-1@t1", "x"), "fw529a3039@dt=0wi,0-1@t1=x"},
		{"all key characters", []string{"abcdefghijklmnopqrstuvwxyz0123456789_-*/=1"}, members("abcdefghijklmnopqrstuvwxyz0123456789_-*/", "1"), "abcdefghijklmnopqrstuvwxyz0123456789_-*/=1"},
		{"all value characters", []string{"foo=" + allValueChars}, members("foo", allValueChars), "foo=" + allValueChars},
		{"value with leading space", []string{"foo= bar"}, members("foo", " bar"), "foo= bar"},
		{"trailing space is whitespace", []string{"foo=bar  "}, members("foo", "bar"), "foo=bar"},
		{"key of 256 characters", []string{strings.Repeat("a", 256) + "=1"}, members(strings.Repeat("a", 256), "1"), strings.Repeat("a", 256) + "=1"},
		{"tenant 241 and system 14", []string{strings.Repeat("t", 241) + "@" + strings.Repeat("s", 14) + "=1"}, members(strings.Repeat("t", 241)+"@"+strings.Repeat("s", 14), "1"), strings.Repeat("t", 241) + "@" + strings.Repeat("s", 14) + "=1"},
		{"value of 256 characters", []string{"foo=" + strings.Repeat("v", 256)}, members("foo", strings.Repeat("v", 256)), "foo=" + strings.Repeat("v", 256)},
		{"key starting with a digit", []string{"1foo=1,0=2"}, members("1foo", "1", "0", "2"), "1foo=1,0=2"},
		{"key ending with '@'", []string{"foo@=1,bar=2"}, members("foo@", "1", "bar", "2"), "foo@=1,bar=2"},
		{"two '@' in a row", []string{"foo@@bar=1,bar=2"}, members("foo@@bar", "1", "bar", "2"), "foo@@bar=1,bar=2"},
		{"two '@'", []string{"foo@bar@baz=1,bar=2"}, members("foo@bar@baz", "1", "bar", "2"), "foo@bar@baz=1,bar=2"},
		{"digit after '@'", []string{"foo@1bar=1"}, members("foo@1bar", "1"), "foo@1bar=1"},
		{"tenant 242 and system 1", []string{strings.Repeat("t", 242) + "@s=1"}, members(strings.Repeat("t", 242)+"@s", "1"), strings.Repeat("t", 242) + "@s=1"},
		{"tenant 1 and system 15", []string{"t@" + strings.Repeat("s", 15) + "=1"}, members("t@"+strings.Repeat("s", 15), "1"), "t@" + strings.Repeat("s", 15) + "=1"},
		{"multi-tenant key of 256 characters", []string{strings.Repeat("t", 200) + "@" + strings.Repeat("s", 55) + "=1"}, members(strings.Repeat("t", 200)+"@"+strings.Repeat("s", 55), "1"), strings.Repeat("t", 200) + "@" + strings.Repeat("s", 55) + "=1"},
		{"duplicated key keeps the first", []string{"foo=1,bar=2,foo=3"}, members("foo", "1", "bar", "2"), "foo=1,bar=2"},
		{"same member twice", []string{"foo=1,foo=1"}, members("foo", "1"), "foo=1"},
		{"duplicated key over two lines", []string{"foo=1", "bar=2,foo=3"}, members("foo", "1", "bar", "2"), "foo=1,bar=2"},
		{"duplicated multi-tenant key", []string{"t@sys=1,t@sys=2,t@other=3"}, members("t@sys", "1", "t@other", "3"), "t@sys=1,t@other=3"},
		{"32 members with a duplicate", []string{manyMembers(31) + ",k5=again"}, nil, manyMembers(31)},
		{"32 members", []string{manyMembers(32)}, nil, manyMembers(32)},
		{"32 members over two lines", []string{manyMembers(16), strings.ReplaceAll(manyMembers(16), "k", "x")}, nil, manyMembers(16) + "," + strings.ReplaceAll(manyMembers(16), "k", "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := tracing.ParseTraceState(tt.lines...)
			require.NoError(t, err, "ParseTraceState(%q)", tt.lines)
			if tt.want != nil {
				assert.Equal(t, tt.want, ts.Members(), "members of %q", tt.lines)
			}
			assert.Equal(t, tt.out, ts.String(), "format of %q", tt.lines)
			again, err := tracing.ParseTraceState(ts.String())
			require.NoError(t, err, "reparsing the format of %q", tt.lines)
			assert.Equal(t, ts.Members(), again.Members(), "round trip of %q", tt.lines)
		})
	}
}

func TestParseTraceStateInvalid(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		line   int
		offset int
		reason string
	}{
		{"33 members", []string{manyMembers(33)}, 0, len(manyMembers(32)) + 1, "more than 32"},
		{"33 members over two lines", []string{manyMembers(32), "x=1"}, 1, 0, "more than 32"},
		{"33 members, one a duplicate", []string{manyMembers(32) + ",k0=again"}, 0, len(manyMembers(32)) + 1, "more than 32"},
		{"key starting with '@'", []string{"@foo=1,bar=2"}, 0, 0, "must start with a lowercase letter or a digit"},
		{"key starting with '_'", []string{"_foo@bar=1"}, 0, 0, "must start with a lowercase letter or a digit"},
		{"key starting with '*'", []string{"*=1"}, 0, 0, "must start with a lowercase letter or a digit"},
		{"upper case after '@'", []string{"foo@Bar=1"}, 0, 4, "illegal character 'B' in key"},
		{"multi-tenant key of 257 characters", []string{strings.Repeat("t", 242) + "@" + strings.Repeat("s", 14) + "=1"}, 0, 256, "longer than 256"},
		{"member without '='", []string{"foo=1,bar"}, 0, 6, "key=value"},
		{"space before '='", []string{"foo =1"}, 0, 3, "illegal character ' ' in key"},
		{"upper-case key", []string{"FOO=1"}, 0, 0, "must start with a lowercase letter or a digit"},
		{"upper-case inside key", []string{"fOo=1"}, 0, 1, "illegal character 'O' in key"},
		{"dot in key", []string{"foo.bar=1"}, 0, 3, "illegal character '.' in key"},
		{"empty key", []string{"=1"}, 0, 0, "empty key"},
		{"key of 257 characters", []string{strings.Repeat("a", 257) + "=1"}, 0, 256, "longer than 256"},
		{"empty value", []string{"foo=,bar=3"}, 0, 4, "empty value"},
		{"value of spaces", []string{"foo=   ,bar=3"}, 0, 4, "empty value"},
		{"'=' in value", []string{"foo=bar=baz"}, 0, 7, "illegal character '=' in value"},
		{"tab in value", []string{"foo=a\tb"}, 0, 5, `illegal character '\t' in value`},
		{"non-ASCII value", []string{"foo=é"}, 0, 4, "illegal character"},
		{"control character in value", []string{"foo=a\x7fb"}, 0, 5, "illegal character"},
		{"value of 257 characters", []string{"foo=" + strings.Repeat("v", 257)}, 0, 260, "value longer than 256"},
		{"bad second line", []string{"foo=1", "BAR=2"}, 1, 0, "must start with a lowercase letter or a digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := tracing.ParseTraceState(tt.lines...)
			require.ErrorIs(t, err, tracing.ErrInvalidTracestate, "ParseTraceState(%q)", tt.lines)
			assert.NotErrorIs(t, err, tracing.ErrInvalidTraceparent, "ParseTraceState(%q)", tt.lines)
			var pe *tracing.ParseError
			require.ErrorAs(t, err, &pe, "ParseTraceState(%q)", tt.lines)
			assert.Equal(t, "tracestate", pe.Header, "header of error for %q", tt.lines)
			assert.Equal(t, tt.line, pe.Line, "line of error for %q: %v", tt.lines, err)
			assert.Equal(t, tt.offset, pe.Offset, "offset of error for %q: %v", tt.lines, err)
			assert.Contains(t, err.Error(), tt.reason, "error for %q", tt.lines)
			assert.Zero(t, ts.Len(), "tracestate for %q", tt.lines)
		})
	}
}

func TestTraceStateMutation(t *testing.T) {
	ts, err := tracing.ParseTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	require.NoError(t, err)

	updated, err := ts.Insert("congo", "ucfJifl5GOE")
	require.NoError(t, err, "Insert congo")
	assert.Equal(t, "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7", updated.String(), "updated key moves to the front")
	assert.Equal(t, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", ts.String(), "Insert leaves the original alone")

	v, ok := updated.Get("congo")
	assert.True(t, ok, "Get congo")
	assert.Equal(t, "ucfJifl5GOE", v, "Get congo")
	_, ok = updated.Get("nope")
	assert.False(t, ok, "Get nope")

	assert.Equal(t, "congo=ucfJifl5GOE", updated.Delete("rojo").String(), "Delete rojo")
	assert.Equal(t, updated.String(), updated.Delete("nope").String(), "Delete of a missing key")

	_, err = ts.Insert("Bad", "1")
	assert.ErrorIs(t, err, tracing.ErrInvalidTracestate, "Insert with a bad key")
	_, err = ts.Insert("good", "a,b")
	assert.ErrorIs(t, err, tracing.ErrInvalidTracestate, "Insert with a bad value")

	full, err := tracing.ParseTraceState(manyMembers(32))
	require.NoError(t, err)
	more, err := full.Insert("new", "1")
	require.NoError(t, err, "Insert into a full tracestate")
	assert.Equal(t, 32, more.Len(), "Insert into a full tracestate keeps 32 members")
	_, ok = more.Get("k31")
	assert.False(t, ok, "the right-most member is dropped")
	assert.Equal(t, "new=1", more.Members()[0].Key+"="+more.Members()[0].Value, "the new member is first")

	m := ts.Members()
	m[0].Value = "changed"
	v, _ = ts.Get("rojo")
	assert.Equal(t, "00f067aa0ba902b7", v, "Members returns a copy")
}
