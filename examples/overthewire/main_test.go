package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/examples/internal/o2c"
)

// TestScenario runs the scripted orders over HTTP without faults, as
// `go run ./examples/overthewire` does, with each ERP, with and without
// the own DC beside ShipBob, and checks the table and the summary.
func TestScenario(t *testing.T) {
	for _, tt := range []struct {
		erp, name string
		dc        bool
	}{{"sap", "SAP", true}, {"d365", "Dynamics 365", true}, {"sap", "SAP", false}} {
		var out bytes.Buffer
		err := run(context.Background(), &out, config{seed: 1, workers: 4, erp: tt.erp, ownDC: tt.dc})
		require.NoError(t, err, "run with %s:\n%s", tt.erp, out.String())
		s := out.String()
		assert.Contains(t, s, "all systems agree", "the verdict with %s", tt.erp)
		assert.Contains(t, s, "; 0 dead letters;", "no dead letter with %s", tt.erp)
		// The order cancelled in part in Salesforce: 8 of SKU-102
		// shipped by ShipBob, the 6 backordered SKU-105 cancelled in the
		// ERP, Salesforce and ShipBob.
		assert.Regexp(t, `801000000000006AAA +accepted/shipped/invoiced +accepted/shipped/invoiced +accepted +802\w+:8/8 802\w+:0/0 +802\w+:6/6/6 +1 for 1 shipments +yes`,
			s, "the order cancelled in part in the table with %s", tt.erp)
		assert.Regexp(t, `801000000000004AAA +accepted/shipped/invoiced .* yes\n`, s, "the credit hold released and shipped with %s", tt.erp)
		assert.Regexp(t, `801000000000005AAA +rejected/unfulfilled/not_invoiced .* yes\n`, s, "the unknown item rejected with %s", tt.erp)
		// The ERP's outage: the shipments posted then are retried,
		// parked while the breaker is open, and posted once it is back.
		assert.Regexp(t, tt.name+` outage: its HTTP requests 40 to 59 answered 503 \(20 requests\); the flow retried events .* and parked them [1-9]\d* times? \(`,
			s, "the outage in the summary with %s", tt.erp)
		assert.Regexp(t, `erp +PostShipment +(retry\(unavailable\)|failed\(circuit_open\))`, s, "a shipment posting failed during the outage with %s", tt.erp)
		for _, sys := range []string{"salesforce", tt.erp, "shipbob"} {
			assert.Regexp(t, `\n  `+sys+` \d+ \(\d+\.\d per order\): `, s, "the HTTP requests of %s", sys)
		}
		assert.NotContains(t, s, "faults injected", "no faults without -faults")
		assert.Contains(t, s, "the ShipBob emulator's rate limit is off (ShipBob allows 150 requests a minute: -shipbob-limit 150 to emulate it)",
			"the output says ShipBob's limit is off")
		if tt.dc {
			// The split order ships from both WMS: ShipBob's WH-EAST
			// and the own DC's WH-WEST.
			assert.Contains(t, s, "fulfilment order 801000000000002AAA-WH-EAST at WH-EAST is held by WMS shipbob\n", "with %s", tt.erp)
			assert.Contains(t, s, "fulfilment order 801000000000002AAA-WH-WEST at WH-WEST is held by WMS dc\n", "with %s", tt.erp)
			assert.Regexp(t, `801000000000002AAA +accepted/shipped/invoiced .* 802\w+:100/100 .* 2 for 2 shipments +yes`, s, "the split order with %s", tt.erp)
			assert.Regexp(t, `\n   shipbob +Release +ok`, s, "ShipBob in the timelines with %s", tt.erp)
		} else {
			assert.NotContains(t, s, "is held by WMS", "ShipBob holds everything with %s", tt.erp)
		}
	}
}

// TestFaults runs a few hundred orders over HTTP with faults injected into
// every emulator and checks that every order ends the same in all systems
// (the table's verdict), that each ended where its story leads (shipped
// and invoiced, cancelled, or rejected: nothing stuck half way), that no
// event was dead-lettered, and that each kind of fault was injected.
func TestFaults(t *testing.T) {
	tests := []struct {
		erp    string
		dc     bool
		orders int
	}{{"sap", true, 300}, {"d365", false, 300}}
	switch {
	case testing.Short():
		tests[0].orders, tests[1].orders = 100, 100
	case raceEnabled:
		// Two hundred orders in all, well under a minute on a loaded
		// two-core machine.
		tests[0].orders, tests[1].orders = 100, 100
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s dc=%v", tt.erp, tt.dc), func(t *testing.T) {
			testFaults(t, config{seed: 7, workers: 4, orders: tt.orders, faults: 0.1, erp: tt.erp, ownDC: tt.dc})
		})
	}
}

func testFaults(t *testing.T, cfg config) {
	orders := cfg.orders
	w, err := newWorld(cfg)
	require.NoError(t, err, "newWorld")
	defer w.close()
	ctx := context.Background()
	var out bytes.Buffer
	res, err := o2c.Run(ctx, &out, w.o2c(), o2c.Config{Orders: cfg.orders, Seed: cfg.seed, WholeOrders: true})
	require.NoError(t, err, "run:\n%s", out.String())
	require.True(t, res.Agree, "every system shows the same orders")
	require.Len(t, res.IDs, 6+orders, "orders")
	assert.NotContains(t, out.String(), "NO:", "no row disagrees")
	dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
	require.NoError(t, err)
	assert.Empty(t, dls, "dead letters")
	ends, held := map[string]int{}, map[string]int{}
	for _, id := range res.IDs {
		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "where %s", id)
		for _, sys := range v.Systems {
			held[sys]++
		}
		st := v.Status
		switch {
		case st.Commercial == canonical.CommercialAccepted && st.Fulfillment == canonical.FulfillmentShipped && st.Billing == canonical.BillingInvoiced,
			st.Commercial == canonical.CommercialCancelled && st.Billing == canonical.BillingNotInvoiced,
			st.Commercial == canonical.CommercialRejected:
			ends[st.String()]++
		default:
			t.Errorf("order %s ended %s: not shipped and invoiced, cancelled or rejected", id, st)
		}
	}
	t.Logf("%d orders ended: %v; fulfilment orders held by %v", len(res.IDs), ends, held)
	if cfg.ownDC {
		assert.Positive(t, held["shipbob"], "fulfilment orders at ShipBob")
		assert.Positive(t, held["dc"], "fulfilment orders at the own DC")
	}
	for _, s := range w.systems {
		c := s.faults.Counts()
		t.Logf("%s: %d requests, faults %+v", s.name, s.total(), c)
		assert.Positive(t, c.Unavailable, "%s: 503 injected", s.name)
		assert.Positive(t, c.RateLimited, "%s: rate limit injected", s.name)
		assert.Positive(t, c.Unauthorized, "%s: expired session injected", s.name)
		assert.Positive(t, c.TimeoutsAfterEffect+c.ResetsAfterEffect, "%s: answers lost after the effect", s.name)
	}
}

func TestBadFlags(t *testing.T) {
	for _, cfg := range []config{
		{faults: 0.9, workers: 1},
		{faults: -0.1, workers: 1},
		{orders: -1, workers: 1},
		{workers: 0},
		{workers: 1, shipbobLimit: -5},
		{workers: 1, erp: "oracle"},
	} {
		assert.Error(t, run(context.Background(), io.Discard, cfg), "run %+v", cfg)
	}
}

// TestHelp checks that -h starts with one line saying what the program
// does, then lists the flags, and says why ShipBob's limit is off.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp, "-h")
	first, rest, _ := strings.Cut(out.String(), "\n")
	assert.Equal(t, summary, first, "first line of -h")
	for _, f := range []string{"-erp", "-dc", "-orders", "-faults", "-seed", "-workers", "-shipbob-limit"} {
		assert.Contains(t, rest, f, "-h lists %s", f)
	}
	assert.Contains(t, rest, "ShipBob's is 150", "-h says why the limit is off")
	out.Reset()
	_, err = parseFlags([]string{"-nosuchflag"}, &out)
	require.Error(t, err, "an unknown flag")
}

// TestOperation checks the names requests are counted under.
func TestOperation(t *testing.T) {
	tests := []struct{ method, url, csrf, want string }{
		{"POST", "/services/oauth2/token", "", "POST services/oauth2/token"},
		{"PATCH", "/services/data/v62.0/sobjects/Order/801000000000001AAA", "", "PATCH sobjects/Order/{id}"},
		{"PATCH", "/services/data/v62.0/sobjects/Product_Availability__c/DistSync_Key__c/SKU-100@WH-EAST", "", "PATCH sobjects/Product_Availability__c/DistSync_Key__c/{id}"},
		{"GET", "/services/data/v62.0/query?q=SELECT", "", "GET query"},
		{"GET", "/sap/opu/odata/sap/API_SALES_ORDER_SRV/", "Fetch", "GET API_SALES_ORDER_SRV (CSRF token)"},
		{"GET", "/sap/opu/odata/sap/API_BILLING_DOCUMENT_SRV/A_BillingDocument('90000001')", "", "GET API_BILLING_DOCUMENT_SRV/A_BillingDocument(…)"},
		{"POST", "/2026-07/order/100000001/cancel", "", "POST order/{id}/cancel"},
		{"GET", "/2026-07/inventory?Page=1", "", "GET inventory"},
		{"POST", "/data/$batch", "", "POST $batch"},
		{"GET", "/data/SalesInvoiceHeadersV2(dataAreaId='usmf',InvoiceNumber='CIV-000001')", "", "GET SalesInvoiceHeadersV2(…)"},
	}
	for _, tt := range tests {
		r, err := newRequest(tt.method, tt.url, tt.csrf)
		require.NoError(t, err, "%s %s", tt.method, tt.url)
		assert.Equal(t, tt.want, operation(r), "%s %s", tt.method, tt.url)
	}
}

// newRequest returns a request as a server sees it.
func newRequest(method, url, csrf string) (*http.Request, error) {
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		return nil, err
	}
	if csrf != "" {
		r.Header.Set("X-CSRF-Token", csrf)
	}
	return r, nil
}
