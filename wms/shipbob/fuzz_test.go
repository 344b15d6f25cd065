package shipbob_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/distsync/distsync/wms/shipbob"
)

// FuzzDecodeError checks that DecodeError never panics, and that for a
// validation body it names every field and message.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":429,"message":"Rate limit is exceeded. Try again in 25 seconds."}`,
		`{"type":"x","title":"One or more validation errors occurred.","status":400,"errors":{"products[0].quantity":["The quantity must be at least 1."],"reference_id":["required"]}}`,
		`{"errors":{"":["bad body"]}}`, `[]`, `not json`, `{"message":""}`, `null`,
	} {
		f.Add(400, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		err := shipbob.DecodeError(status, nil, body)
		var v struct {
			Errors map[string][]string `json:"errors"`
		}
		if json.Unmarshal(body, &v) != nil || len(v.Errors) == 0 {
			return
		}
		if err == nil {
			t.Fatalf("validation body %q gave no error", body)
		}
		for field, msgs := range v.Errors {
			if field != "" && !strings.Contains(err.Error(), field) {
				t.Errorf("error %q does not name field %q", err, field)
			}
			for _, m := range msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not hold message %q", err, m)
				}
			}
		}
	})
}
