package idempotency_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
)

// TestMiddlewareCutResponseIsNotReplayed: a handler that has started its
// answer (200 and a first part of the body) when the client goes away,
// and stops writing, leaves a truncated body behind. The key stays
// completed (the effect happened) but the truncated body must never be
// replayed as if it were the whole response: a retry gets 410 with the
// original status.
func TestMiddlewareCutResponseIsNotReplayed(t *testing.T) {
	for _, stop := range []string{"on the context", "on a write error"} {
		t.Run(stop, func(t *testing.T) {
			store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
			mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
			require.NoError(t, err, "Middleware")
			var runs atomic.Int32
			wrote := make(chan struct{}, 1)
			chunk := strings.Repeat("x", 8<<10)
			handler, done := served(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				runs.Add(1)
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Location", "/reports/1")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, chunk)
				http.NewResponseController(w).Flush()
				wrote <- struct{}{}
				if stop == "on the context" {
					<-r.Context().Done() // stop streaming: nobody is listening
					return
				}
				// Stream until a write fails, as io.Copy does.
				for {
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
					if err := http.NewResponseController(w).Flush(); err != nil {
						return
					}
				}
			})))
			srv := httptest.NewServer(handler)
			defer srv.Close()

			// A raw client that reads the first part and hangs up.
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err, "dial")
			fmt.Fprintf(conn, "POST /orders HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \"cut\"\r\nContent-Length: 2\r\n\r\n{}")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err, "first response")
			require.Equal(t, http.StatusOK, resp.StatusCode, "first response status")
			waitFor(t, wrote, "the handler to write its first part")
			require.NoError(t, conn.Close(), "client hangs up")
			waitFor(t, done, "the middleware to finish the cut request")

			s := &server{Server: srv}
			r := s.mustDo(t, http.MethodPost, `"cut"`, `{}`)
			requireProblem(t, r, http.StatusGone, idempotency.ProblemResponseNotKept, "retry of a request whose response was cut")
			assert.Equal(t, "/reports/1", r.header.Get("Location"), "retry: Location of the original response")
			var p struct {
				OriginalStatus int `json:"original_status"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.body), &p), "retry: problem body")
			assert.Equal(t, http.StatusOK, p.OriginalStatus, "retry: original_status")
			assert.EqualValues(t, 1, runs.Load(), "handler runs: the effect is not repeated")
		})
	}
}

var _ = context.Background
