package webhook_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/distsync/distsync/webhook"
)

// BenchmarkHandlerLoopback measures the intake end to end: a real HTTP
// client over loopback, Standard Webhooks verification, the replay claim
// in a MemoryStore, the mapping and the append to a memory log, each
// request a new delivery. It reports requests/s, the p50/p99 latency seen
// by the clients and the CPU (client and server) per request. The "bare"
// case is the floor in the same run: the same client and server, with a
// handler that reads the body and answers 204.
func BenchmarkHandlerLoopback(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		loopback(b, srv, nil)
	})
	b.Run("intake", func(b *testing.B) {
		f := newFixture(b, func(c *webhook.Config) { c.Logger = nil })
		loopback(b, f.srv, func(n int) {
			if f.log.Len() != n {
				b.Fatalf("log holds %d events, %d requests acknowledged", f.log.Len(), n)
			}
		})
	})
}

func loopback(b *testing.B, srv *httptest.Server, check func(acknowledged int)) {
	srv.Config.ErrorLog = nil
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0, DisableCompression: true}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var seq atomic.Int64
	var mu chanMutex = make(chan struct{}, 1)
	var all []time.Duration
	b.ReportAllocs()
	b.SetParallelism(16)
	cpu0 := cpuTime()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			n := seq.Add(1)
			body := fmt.Appendf(nil, `{"order":"SO-%d"}`, n)
			req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			webhook.SetHeaders(req.Header, fmt.Sprintf("msg_%d", n), t0, body, secretNew)
			t := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(t))
			if resp.StatusCode != http.StatusNoContent {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
		mu <- struct{}{}
		all = append(all, lat...)
		<-mu
	})
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if check != nil {
		check(len(all))
	}
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
		// CPU (user+system, client and server) per request: on a shared,
		// loaded machine req/s says more about the neighbours than about
		// the code; 2 cores / this figure is the rate of an idle machine.
		b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-µs/req")
	}
}

type chanMutex chan struct{}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
