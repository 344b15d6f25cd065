package ops_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/distsync/distsync/ops"
)

// BenchmarkPages measures the handler alone (no network) rendering each
// page over the test world: three orders, one dead letter.
func BenchmarkPages(b *testing.B) {
	w := newWorld(b)
	h, err := ops.New(w.config(headerAuth))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/", "/api/overview", "/orders/" + w.refused, "/api/orders/" + w.refused, "/deadletters", "/deadletters/1"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", p, rec.Code)
				}
			}
		})
	}
}
