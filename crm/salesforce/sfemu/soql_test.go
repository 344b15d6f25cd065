package sfemu

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSOQL(t *testing.T) {
	tests := []struct {
		name, q   string
		code      string // "" for a valid query
		fields    int
		child     bool
		hasWhere  bool
		order     int
		limit     int
		wantLimit bool
	}{
		{name: "fields", q: "SELECT Id, OrderNumber FROM Order", fields: 2},
		{name: "keywords in any case", q: "select Id from Order where StatusCode = 'Activated' order by LastModifiedDate desc, Id limit 5",
			fields: 1, hasWhere: true, order: 2, limit: 5, wantLimit: true},
		{name: "subquery", q: "SELECT Id, (SELECT Id, Product2.ProductCode FROM OrderItems) FROM Order", fields: 1, child: true},
		{name: "cursor condition", q: "SELECT Id FROM Order WHERE StatusCode = 'Activated' AND (LastModifiedDate > 2026-07-09T10:00:00.000Z OR (LastModifiedDate = 2026-07-09T10:00:00.000Z AND Id > '801000000000001AAA')) ORDER BY LastModifiedDate, Id LIMIT 100",
			fields: 1, hasWhere: true, order: 2, limit: 100, wantLimit: true},
		{name: "escaped quote", q: `SELECT Id FROM Order WHERE PoNumber = 'O\'Brien'`, fields: 1, hasWhere: true},
		{name: "literals", q: "SELECT Id FROM Order WHERE IsReductionOrder = false AND OriginalOrderId != null AND TotalAmount >= -1.5", fields: 1, hasWhere: true},
		{name: "empty", q: "", code: "MALFORMED_QUERY"},
		{name: "no select", q: "Id FROM Order", code: "MALFORMED_QUERY"},
		{name: "no from", q: "SELECT Id", code: "MALFORMED_QUERY"},
		{name: "trailing comma", q: "SELECT Id, FROM Order", code: "MALFORMED_QUERY"},
		{name: "unterminated string", q: "SELECT Id FROM Order WHERE Id = 'abc", code: "MALFORMED_QUERY"},
		{name: "bad operator", q: "SELECT Id FROM Order WHERE Id LIKE 'a%'", code: "MALFORMED_QUERY"},
		{name: "bad datetime", q: "SELECT Id FROM Order WHERE LastModifiedDate > 2026-13-09T10:00:00Z", code: "MALFORMED_QUERY"},
		{name: "unclosed paren", q: "SELECT Id FROM Order WHERE (Id = 'a'", code: "MALFORMED_QUERY"},
		{name: "negative limit", q: "SELECT Id FROM Order LIMIT -1", code: "MALFORMED_QUERY"},
		{name: "junk after", q: "SELECT Id FROM Order LIMIT 1 OFFSET 2", code: "MALFORMED_QUERY"},
		{name: "two subqueries", q: "SELECT (SELECT Id FROM OrderItems), (SELECT Id FROM OrderItems) FROM Order", code: "MALFORMED_QUERY"},
		{name: "aggregate", q: "SELECT COUNT() FROM Order", code: "MALFORMED_QUERY"},
		{name: "bang", q: "SELECT Id FROM Order WHERE Id ! 'a'", code: "MALFORMED_QUERY"},
		{name: "stray char", q: "SELECT Id; FROM Order", code: "MALFORMED_QUERY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := parseSOQL(tt.q)
			if tt.code != "" {
				var se *soqlError
				require.True(t, errors.As(err, &se), "parseSOQL(%q) = %v, want a %s error", tt.q, err, tt.code)
				assert.Equal(t, tt.code, se.code, "parseSOQL(%q)", tt.q)
				return
			}
			require.NoError(t, err, "parseSOQL(%q)", tt.q)
			assert.Len(t, q.fields, tt.fields, "fields of %q", tt.q)
			assert.Equal(t, tt.child, q.child != nil, "subquery of %q", tt.q)
			assert.Equal(t, tt.hasWhere, q.where != nil, "WHERE of %q", tt.q)
			assert.Len(t, q.orderBy, tt.order, "ORDER BY of %q", tt.q)
			assert.Equal(t, tt.wantLimit, q.hasLimit, "LIMIT of %q", tt.q)
			assert.Equal(t, tt.limit, q.limit, "LIMIT of %q", tt.q)
		})
	}
}

func TestConditionEval(t *testing.T) {
	rec := map[string]any{"Id": "801000000000002AAA", "StatusCode": "Activated", "IsReductionOrder": false, "OriginalOrderId": nil}
	get := func(f string) any { return rec[f] }
	tests := []struct {
		where string
		want  bool
	}{
		{"StatusCode = 'Activated'", true},
		{"StatusCode != 'Activated'", false},
		{"Id > '801000000000001AAA'", true},
		{"Id <= '801000000000001AAA'", false},
		{"IsReductionOrder = false AND StatusCode = 'Draft'", false},
		{"IsReductionOrder = true OR StatusCode = 'Activated'", true},
		{"OriginalOrderId = 'x'", false},
		{"OriginalOrderId != 'x'", true},
		{"(Id = 'a' OR Id = '801000000000002AAA') AND IsReductionOrder = false", true},
	}
	for _, tt := range tests {
		q, err := parseSOQL("SELECT Id FROM Order WHERE " + tt.where)
		require.NoError(t, err, tt.where)
		assert.Equal(t, tt.want, q.where.eval(get), tt.where)
	}
}

// FuzzParseSOQL checks that any text either parses or is refused with a
// Salesforce error code, never a panic, and that a parsed query keeps its
// shape when parsed again from the same text.
func FuzzParseSOQL(f *testing.F) {
	for _, s := range []string{
		"SELECT Id FROM Order",
		"SELECT Id, (SELECT Id FROM OrderItems) FROM Order WHERE StatusCode = 'Activated' AND (LastModifiedDate > 2026-07-09T10:00:00.000Z OR (LastModifiedDate = 2026-07-09T10:00:00.000Z AND Id > '801')) ORDER BY LastModifiedDate, Id LIMIT 10",
		"SELECT Id FROM Order WHERE PoNumber = 'a\\'b'",
		"select id from order where x = -1.5 or y = null",
		"SELECT",
		"'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseSOQL(s)
		if err != nil {
			var se *soqlError
			if !errors.As(err, &se) || se.code == "" {
				t.Fatalf("parseSOQL(%q) error %v is not a Salesforce error", s, err)
			}
			return
		}
		again, err := parseSOQL(s)
		if err != nil || len(again.fields) != len(q.fields) || again.limit != q.limit || len(again.orderBy) != len(q.orderBy) {
			t.Fatalf("parseSOQL(%q) is not stable: %v", s, err)
		}
	})
}
