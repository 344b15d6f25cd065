package sap_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/erp/sap"
)

// counter is an http.RoundTripper that counts requests.
type counter struct{ n atomic.Int64 }

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

// BenchmarkAcceptOrder measures the main write path over loopback: the
// read by key, the deep insert (and, once, the CSRF fetch), per new order.
func BenchmarkAcceptOrder(b *testing.B) {
	_, srv := emulator(b, nil)
	cnt := &counter{}
	c, err := sap.New(sap.Config{BaseURL: srv.URL, User: user, Password: password, Transport: cnt})
	require.NoError(b, err)
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
// by key, the order lookup, the delivery, the goods issue and the billing
// document read, per shipment.
func BenchmarkPostShipment(b *testing.B) {
	emu, srv := emulator(b, nil)
	cnt := &counter{}
	c, err := sap.New(sap.Config{BaseURL: srv.URL, User: user, Password: password, Transport: cnt})
	require.NoError(b, err)
	b.ReportAllocs()
	n := 0
	var base int64
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
		s := connectortest.ShipAll(o, n)
		inv, err := c.PostShipment(b.Context(), "bench-ship-"+s.ID, s)
		if err != nil {
			b.Fatal(err)
		}
		base += cnt.n.Load() - before
		b.StopTimer()
		// The customer pays, so its credit limit never holds an order.
		if err := emu.ERP().RecordPayment(b.Context(), o.SoldTo.ID, inv.Totals.Total); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(base)/float64(n), "calls/op")
}
