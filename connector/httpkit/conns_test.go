package httpkit_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/distsync/distsync/connector/httpkit"
)

// A Client without a Transport reuses its connections when called from
// several goroutines at once, instead of opening one for most calls as
// net/http's default of 2 idle connections per host would.
func TestDefaultTransportReusesConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := httpkit.New(httpkit.Config{System: "test", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	const workers, calls = 8, 40
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range calls {
				req, err := c.NewRequest("get", http.MethodGet, "/x", nil)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Do(t.Context(), "get", req); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n > 2*workers {
		t.Fatalf("%d connections for %d calls from %d goroutines; want at most %d (idle connections reused)", n, workers*calls, workers, 2*workers)
	}
}
