package d365_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/erp/d365"
)

// counter is an http.RoundTripper that counts requests.
type counter struct{ n atomic.Int64 }

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

func benchClient(b *testing.B, url string) (*d365.Client, *counter) {
	cnt := &counter{}
	cfg := config(url)
	cfg.Transport = cnt
	c, err := d365.New(cfg)
	require.NoError(b, err)
	return c, cnt
}

// BenchmarkAcceptOrder measures the main write path over loopback: the
// read by key and the header with its lines as one $batch changeset (and,
// once, the token), per new order.
func BenchmarkAcceptOrder(b *testing.B) {
	_, srv := emulator(b, nil)
	c, cnt := benchClient(b, srv.URL)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		o := kitOrder(n)
		o.ID = fmt.Sprint("bench-", n)
		for i := range o.Lines {
			o.Lines[i].ID = fmt.Sprint(o.ID, "-L", i)
		}
		if _, err := c.AcceptOrder(b.Context(), "bench-key-"+o.ID, &o); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(cnt.n.Load())/float64(n), "calls/op")
}

// BenchmarkPostShipment measures shipment posting over loopback: the read
// by key, the order, the packing slip changeset and the invoice read.
func BenchmarkPostShipment(b *testing.B) {
	emu, srv := emulator(b, nil)
	c, cnt := benchClient(b, srv.URL)
	b.ReportAllocs()
	n := 0
	var calls int64
	for b.Loop() {
		b.StopTimer()
		o := kitOrder(n)
		o.ID = fmt.Sprint("bench-", n)
		for i := range o.Lines {
			o.Lines[i].ID = fmt.Sprint(o.ID, "-L", i)
		}
		if _, err := c.AcceptOrder(b.Context(), "bench-key-"+o.ID, &o); err != nil {
			b.Fatal(err)
		}
		before := cnt.n.Load()
		b.StartTimer()
		inv, err := c.PostShipment(b.Context(), "bench-ship-"+o.ID, connectortest.ShipAll(o, n))
		if err != nil {
			b.Fatal(err)
		}
		calls += cnt.n.Load() - before
		b.StopTimer()
		// The customer pays, so its credit limit never holds an order.
		if err := emu.ERP().RecordPayment(b.Context(), o.SoldTo.ID, inv.Totals.Total); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(calls)/float64(n), "calls/op")
}
