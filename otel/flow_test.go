package otel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	dsotel "github.com/distsync/distsync/otel"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
)

// TestFlowSpans runs an order through the flow on the simulators with the
// Recorder as the flow's and the connectors' recorder: every handled event
// and every connector call made while handling one names the order, and the
// flow still finds the order's timeline through the Recorder.
func TestFlowSpans(t *testing.T) {
	ctx := t.Context()
	b, sr, _ := newTraced(t)
	mem, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	require.NoError(t, err, "NewMemoryRecorder")
	rec := b.Recorder(mem)
	e, err := erp.New(erp.Config{})
	require.NoError(t, err, "erp.New")
	w, err := wms.New(wms.Config{})
	require.NoError(t, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(t, err, "crm.New")
	we, err := connector.WrapERP(e, connector.Options{Recorder: rec})
	require.NoError(t, err, "WrapERP")
	f, err := flow.New(flow.Config{ERP: we, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		Recorder: rec, PollInterval: time.Millisecond})
	require.NoError(t, err, "flow.New")
	opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
		SKU: "SKU-101", Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
	require.NoError(t, err, "OpenOpportunity")
	order, err := c.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err, "ConvertOpportunity")
	require.NoError(t, f.Drain(ctx), "Drain")

	var submitted, accept int
	for _, s := range sr.Ended() {
		a := attrs(s)
		switch {
		case s.Name() == "handle order.submitted":
			submitted++
			assert.Equal(t, trace.SpanKindConsumer, s.SpanKind(), "handle span kind")
			assert.Equal(t, order.ID, a[dsotel.AttrOrderID].AsString(), "handle span names the order")
			assert.Equal(t, string(canonical.EventOrderSubmitted), a[dsotel.AttrEventType].AsString(), "handle span names the event type")
			assert.NotEmpty(t, a[dsotel.AttrEventID].AsString(), "handle span names the event")
			assert.NotEmpty(t, a[dsotel.AttrCorrelationID].AsString(), "handle span carries the correlation ID")
		case s.Name() == "erp AcceptOrder":
			accept++
			assert.Equal(t, order.ID, a[dsotel.AttrOrderID].AsString(), "connector span names the order")
			assert.Equal(t, int64(1), a[dsotel.AttrAttempt].AsInt64(), "connector span attempt")
		}
	}
	assert.Equal(t, 1, submitted, "one span for the handled order.submitted")
	assert.Equal(t, 1, accept, "one span for the ERP's AcceptOrder")
	v, err := f.Where(ctx, order.ID)
	require.NoError(t, err, "Where")
	assert.NotEmpty(t, v.Timeline, "Where finds the timeline through the Recorder")
}

// With the bridge's Handler as the flow's Middleware, the connector calls
// a handled event makes are children of its span.
func TestFlowMiddlewareSpansParent(t *testing.T) {
	ctx := t.Context()
	b, sr, _ := newTraced(t)
	mem, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	require.NoError(t, err, "NewMemoryRecorder")
	e, err := erp.New(erp.Config{})
	require.NoError(t, err, "erp.New")
	w, err := wms.New(wms.Config{})
	require.NoError(t, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(t, err, "crm.New")
	we, err := connector.WrapERP(e, connector.Options{Recorder: b.Recorder(mem)})
	require.NoError(t, err, "WrapERP")
	f, err := flow.New(flow.Config{ERP: we, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		Recorder: mem, Middleware: b.Handler, PollInterval: time.Millisecond})
	require.NoError(t, err, "flow.New")
	opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
		SKU: "SKU-101", Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
	require.NoError(t, err, "OpenOpportunity")
	_, err = c.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err, "ConvertOpportunity")
	require.NoError(t, f.Drain(ctx), "Drain")

	var handle, accept []trace.SpanContext
	var acceptParent trace.SpanContext
	for _, s := range sr.Ended() {
		switch s.Name() {
		case "handle order.submitted":
			handle = append(handle, s.SpanContext())
		case "erp AcceptOrder":
			accept = append(accept, s.SpanContext())
			acceptParent = s.Parent()
		}
	}
	require.Len(t, handle, 1, "one span for the handled order.submitted")
	require.Len(t, accept, 1, "one span for the ERP's AcceptOrder")
	assert.Equal(t, handle[0].SpanID(), acceptParent.SpanID(), "AcceptOrder's span is a child of the handled event's span")
	assert.Equal(t, handle[0].TraceID(), accept[0].TraceID(), "one trace")
}
