package salesforce

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/distsync/distsync/connector"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLimitInfo(t *testing.T) {
	tests := []struct {
		in          string
		used, limit int64
		ok          bool
	}{
		{"api-usage=10018/100000", 10018, 100000, true},
		{"api-usage=1/750; api-bursts=1/750", 1, 750, true},
		{"api-bursts=3/750, api-usage=5/10", 5, 10, true},
		{"API-USAGE = 7 / 9", 7, 9, true},
		{"", 0, 0, false},
		{"api-usage=5", 0, 0, false},
		{"api-usage=5/0", 0, 0, false},
		{"api-usage=-1/10", 0, 0, false},
		{"api-usage=a/b", 0, 0, false},
		{"per-app-api-usage=5/10", 0, 0, false},
	}
	for _, tt := range tests {
		used, limit, ok := parseLimitInfo(tt.in)
		assert.Equal(t, tt.ok, ok, "parseLimitInfo(%q)", tt.in)
		assert.Equal(t, tt.used, used, "parseLimitInfo(%q) used", tt.in)
		assert.Equal(t, tt.limit, limit, "parseLimitInfo(%q) limit", tt.in)
	}
}

func FuzzParseLimitInfo(f *testing.F) {
	for _, s := range []string{"api-usage=10018/100000", "api-usage=1/750; api-bursts=1/750", "api-usage=/", "x=1/2,api-usage=3/4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		used, limit, ok := parseLimitInfo(s)
		if ok && (used < 0 || limit <= 0) {
			t.Fatalf("parseLimitInfo(%q) = %d/%d, ok", s, used, limit)
		}
		if !ok && (used != 0 || limit != 0) {
			t.Fatalf("parseLimitInfo(%q) = %d/%d, not ok", s, used, limit)
		}
	})
}

func TestThrottle(t *testing.T) {
	c, err := New(Config{LoginURL: "https://example.my.salesforce.com", ClientID: "a", ClientSecret: "b", LimitPause: 10 * time.Second})
	require.NoError(t, err)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"api-usage=50/100", 0},
		{"api-usage=90/100", 0},
		{"api-usage=95/100", 5 * time.Second},
		{"api-usage=99/100", 9 * time.Second},
		{"api-usage=100/100", 10 * time.Second},
		{"api-usage=101/100", 10 * time.Second},
	}
	for _, tt := range tests {
		got := c.throttle(200, http.Header{"Sforce-Limit-Info": {tt.header}})
		assert.InDelta(t, float64(tt.want), float64(got), float64(time.Millisecond), "throttle(%q)", tt.header)
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		body string
		want string // "" for nil
		has  string
	}{
		{`[{"message":"No such column 'Foo__c' on sobject of type Order","errorCode":"INVALID_FIELD","fields":["Foo__c"]}]`,
			"INVALID_FIELD [Foo__c]: No such column 'Foo__c' on sobject of type Order", "INVALID_FIELD"},
		{`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`, "INVALID_SESSION_ID: Session expired or invalid", "INVALID_SESSION_ID"},
		{`[{"message":"a","errorCode":"A"},{"message":"b","errorCode":"B","fields":["X","Y"]}]`, "A: a; B [X, Y]: b", "B"},
		{`{"error":"invalid_client","error_description":"invalid client credentials"}`, "invalid_client: invalid client credentials", "invalid_client"},
		{`[]`, "", ""},
		{`[{}]`, "", ""},
		{`{"message":"x"}`, "", ""},
		{`<html>`, "", ""},
		{``, "", ""},
	}
	for _, tt := range tests {
		err := DecodeError(400, []byte(tt.body))
		if tt.want == "" {
			assert.NoError(t, err, "DecodeError(%s)", tt.body)
			continue
		}
		var ae *APIError
		require.True(t, errors.As(err, &ae), "DecodeError(%s) = %v", tt.body, err)
		assert.Equal(t, tt.want, ae.Error(), "DecodeError(%s)", tt.body)
		assert.True(t, ae.Has(tt.has), "DecodeError(%s) has %s", tt.body, tt.has)
		assert.Equal(t, 400, ae.Status)
	}
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{
		`[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`,
		`[{"message":"m","errorCode":"INVALID_FIELD","fields":["A__c"]}]`,
		`{"error":"invalid_grant","error_description":"expired"}`,
		`[]`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := DecodeError(403, body)
		if err == nil {
			return
		}
		var ae *APIError
		if !errors.As(err, &ae) || len(ae.Errors) == 0 {
			t.Fatalf("DecodeError(%q) = %v, not an APIError with entries", body, err)
		}
		for _, it := range ae.Errors {
			if it.ErrorCode != "" && !strings.Contains(ae.Error(), it.ErrorCode) {
				t.Fatalf("DecodeError(%q): %q does not name %q", body, ae.Error(), it.ErrorCode)
			}
		}
	})
}

func TestCursor(t *testing.T) {
	at := time.Date(2026, 7, 9, 10, 0, 0, 123e6, time.UTC)
	c := encodeCursor(at, "801000000000001AAA")
	assert.Equal(t, "2026-07-09T10:00:00.123Z/801000000000001AAA", string(c))
	gotAt, gotID, err := parseCursor(c)
	require.NoError(t, err)
	assert.True(t, gotAt.Equal(at))
	assert.Equal(t, "801000000000001AAA", gotID)
	for _, bad := range []string{"x", "2026-07-09T10:00:00.123Z", "2026-07-09T10:00:00.123Z/short", "2026-07-09/801000000000001AAA", "2026-07-09T10:00:00.123Z/801000000000001AA'"} {
		_, _, err := parseCursor(connectorCursor(bad))
		assert.Error(t, err, "parseCursor(%q)", bad)
	}
}

func FuzzCursor(f *testing.F) {
	f.Add("2026-07-09T10:00:00.123Z/801000000000001AAA")
	f.Add("2026-07-09T10:00:00.123Z/801000000000001")
	f.Add("/")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := parseCursor(connectorCursor(s))
		if err != nil || s == "" {
			return
		}
		if got := encodeCursor(at, id); string(got) != s {
			t.Fatalf("parseCursor(%q) then encodeCursor = %q", s, got)
		}
		if strings.ContainsAny(quote(id), "\\") {
			t.Fatalf("a cursor ID %q needs escaping in SOQL", id)
		}
	})
}

func TestFeedQuery(t *testing.T) {
	q := feedQuery(time.Time{}, "", "005000000000002AAA", 10, "", "")
	assert.Contains(t, q, "FROM Order WHERE StatusCode = 'Activated' AND LastModifiedById != '005000000000002AAA' ORDER BY LastModifiedDate, Id LIMIT 10")
	q = feedQuery(time.Date(2026, 7, 9, 10, 0, 0, 0, time.UTC), "801000000000001AAA", "", 5, "", "")
	assert.Contains(t, q, "AND (LastModifiedDate > 2026-07-09T10:00:00.000Z OR (LastModifiedDate = 2026-07-09T10:00:00.000Z AND Id > '801000000000001AAA')) ORDER BY")
	assert.Equal(t, `'O\'Brien \\ x'`, quote(`O'Brien \ x`))
}

func connectorCursor(s string) connector.Cursor { return connector.Cursor(s) }

// FuzzRecord feeds query records to the mapping: any record either maps to
// a valid event or is refused with an error naming the record, never a
// panic.
func FuzzRecord(f *testing.F) {
	f.Add(`{"Id":"801000000000001AAA","OrderNumber":"00000101","AccountId":"001000000000001AAA","Account":{"AccountNumber":"C-1","Name":"Acme"},"ActivatedDate":"2026-07-09T10:00:00.000+0000","StatusCode":"Activated","CurrencyIsoCode":"USD","IsReductionOrder":false,"ShippingAddress":{"street":"1 Dock Road","city":"Springfield","country":"US"},"DistSync_Ship_To__c":"C-1-DC","LastModifiedDate":"2026-07-09T10:00:00.000+0000","OrderItems":{"totalSize":1,"done":true,"records":[{"Id":"802000000000001AAA","Product2":{"ProductCode":"SKU-1","QuantityUnitOfMeasure":"EA"},"Quantity":3,"UnitPrice":9.80}]}}`)
	f.Add(`{"Id":"801000000000002AAA","ActivatedDate":"2026-07-09T10:00:00.000+0000","IsReductionOrder":true,"Type":"Return","OriginalOrderId":"801000000000001AAA","DistSync_Warehouse__c":"WH1","OrderItems":{"records":[{"Id":"802000000000002AAA","OriginalOrderItemId":"802000000000001AAA","Product2":{"ProductCode":"SKU-1","QuantityUnitOfMeasure":"EA"},"Quantity":-1,"UnitPrice":9.80}]}}`)
	f.Add(`{"Id":"801000000000003AAA","ActivatedDate":"2026-07-09T10:00:00.000+0000","IsReductionOrder":true,"OriginalOrderId":"801000000000001AAA","OrderItems":{"records":[{"Id":"802000000000003AAA","OriginalOrderItemId":"802000000000001AAA","Product2":{"ProductCode":"SKU-1","QuantityUnitOfMeasure":"EA"},"Quantity":-2}]}}`)
	f.Add(`{"Id":"x","OrderItems":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		var r orderRecord
		if json.Unmarshal([]byte(s), &r) != nil {
			return
		}
		e, err := event(&r, nil)
		if err != nil {
			if r.ID != "" && !strings.Contains(err.Error(), r.ID) {
				t.Fatalf("event(%s): error %q does not name the record", s, err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("event(%s) is invalid: %v", s, err)
		}
	})
}
