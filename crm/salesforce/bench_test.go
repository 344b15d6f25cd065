package salesforce_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

var benchStatus = canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced}

// BenchmarkPublishStatus measures the main write path over loopback: one
// status update, one PATCH. It reports the HTTP calls per update the
// emulator counted.
func BenchmarkPublishStatus(b *testing.B) {
	o := newOrg(b, sfemu.Config{}, nil)
	require.NoError(b, o.addOrders(b.Context(), 1))
	c := o.connect(b, salesforce.Config{})
	p, err := c.PollOrders(b.Context(), "", 1)
	require.NoError(b, err)
	id := p.Events[0].Subject
	before := o.emu.Counts().APIRequests
	b.ReportAllocs()
	seq := int64(0)
	for b.Loop() {
		seq++
		if err := c.PublishStatus(b.Context(), connector.OrderStatus{OrderID: id, Sequence: seq, Status: benchStatus}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(o.emu.Counts().APIRequests-before)/float64(seq), "calls/op")
}

// BenchmarkPublishStatuses measures a batch of 25 updates in one composite
// request, per update.
func BenchmarkPublishStatuses(b *testing.B) {
	o := newOrg(b, sfemu.Config{}, nil)
	require.NoError(b, o.addOrders(b.Context(), 25))
	c := o.connect(b, salesforce.Config{})
	p, err := c.PollOrders(b.Context(), "", 25)
	require.NoError(b, err)
	before := o.emu.Counts().APIRequests
	b.ReportAllocs()
	seq, n := int64(0), 0
	for b.Loop() {
		seq++
		updates := make([]connector.OrderStatus, len(p.Events))
		for i, e := range p.Events {
			updates[i] = connector.OrderStatus{OrderID: e.Subject, Sequence: seq, Status: benchStatus}
		}
		errs, err := c.PublishStatuses(b.Context(), updates)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		n += len(updates)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/update")
	b.ReportMetric(float64(o.emu.Counts().APIRequests-before)/float64(n), "calls/update")
}
