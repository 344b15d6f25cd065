package flow_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// targetLags is a flow.Metrics and flow.TargetSyncLagger recording the
// lags reported per entity and target.
type targetLags struct {
	mu   sync.Mutex
	lags map[[2]string][]time.Duration // entity, target
	srcs map[string]bool
}

var _ flow.TargetSyncLagger = (*targetLags)(nil)

func (m *targetLags) Count(context.Context, flow.Counter, string)    {}
func (m *targetLags) SyncLag(context.Context, string, time.Duration) {}
func (m *targetLags) SyncLagTo(_ context.Context, entity, source, target string, lag time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lags[[2]string{entity, target}] = append(m.lags[[2]string{entity, target}], lag)
	m.srcs[source] = true
}

// runOrder runs one order from the CRM to shipped and invoiced with
// metrics m, and the events extra appended to the log first. It returns
// the CRM's and the WMS's sources.
func runOrder(t *testing.T, m flow.Metrics, extra ...canonical.Event) (crmSource, wmsSource string) {
	t.Helper()
	ctx := context.Background()
	e, err := erp.New(erp.Config{})
	require.NoError(t, err)
	w, err := wms.New(wms.Config{})
	require.NoError(t, err)
	c, err := crm.New(crm.Config{})
	require.NoError(t, err)
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: log, Metrics: m, PollInterval: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, log.Append(ctx, extra...))
	opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
		SKU: "SKU-100", Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	require.NoError(t, err)
	_, err = c.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err)
	for range 50 {
		require.NoError(t, f.Drain(ctx))
		n, err := w.Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	require.NoError(t, f.Drain(ctx))
	return c.Source(), w.Source()
}

// TestTargetSyncLag runs one order from the CRM to shipped and invoiced
// and checks that each effect reports its target: the ERP's accept and
// shipment posting, the WMS's release and the CRM's status.
func TestTargetSyncLag(t *testing.T) {
	m := &targetLags{lags: map[[2]string][]time.Duration{}, srcs: map[string]bool{}}
	crmSrc, wmsSrc := runOrder(t, m)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, tc := range []struct{ entity, target string }{
		{canonical.KindOrder, "erp"},    // accepted
		{canonical.KindOrder, "wms"},    // released
		{canonical.KindOrder, "crm"},    // status published
		{canonical.KindShipment, "erp"}, // shipment posted
		{canonical.KindShipment, "crm"}, // shipped status published
	} {
		lags := m.lags[[2]string{tc.entity, tc.target}]
		if assert.NotEmpty(t, lags, "entity %s target %s; reported: %v", tc.entity, tc.target, m.lags) {
			assert.True(t, slices.IndexFunc(lags, func(d time.Duration) bool { return d < 0 }) < 0, "no negative lag: %v", lags)
		}
	}
	for k := range m.lags {
		assert.Contains(t, []string{"erp", "wms", "crm"}, k[1], "target of entity %s", k[0])
	}
	assert.True(t, m.srcs[crmSrc] && m.srcs[wmsSrc], "sources name the CRM and the WMS: %v", m.srcs)
}

// typeCounts is a flow.Metrics and flow.EventCounter counting per counter
// and event type.
type typeCounts struct {
	mu      sync.Mutex
	byType  map[flow.Counter]map[canonical.EventType]int
	entity  map[canonical.EventType]string
	counted int // calls of Count
}

var _ flow.EventCounter = (*typeCounts)(nil)

func (m *typeCounts) Count(context.Context, flow.Counter, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counted++
}

func (m *typeCounts) SyncLag(context.Context, string, time.Duration) {}

func (m *typeCounts) CountEvent(_ context.Context, c flow.Counter, entity string, typ canonical.EventType) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byType[c] == nil {
		m.byType[c] = map[canonical.EventType]int{}
	}
	m.byType[c][typ]++
	m.entity[typ] = entity
}

// TestEventCounter checks that a Metrics implementing flow.EventCounter
// gets each count with the event's type, and no Count call.
func TestEventCounter(t *testing.T) {
	m := &typeCounts{byType: map[flow.Counter]map[canonical.EventType]int{}, entity: map[canonical.EventType]string{}}
	intruder := canonical.Event{ID: "intruder-1", Source: "urn:test:intruder", SpecVersion: canonical.EventSpecVersion,
		Type: canonical.EventOrderSubmitted, Subject: "ORD-X", Time: time.Now(), DataContentType: "application/json",
		Data: []byte(`{"id":"ORD-X"}`), PartitionKey: "ORD-X"}
	runOrder(t, m, intruder)
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.Zero(t, m.counted, "Count is not called besides CountEvent")
	for _, tc := range []struct {
		c    flow.Counter
		typ  canonical.EventType
		want int
	}{
		{flow.CounterHandled, canonical.EventOrderSubmitted, 1},
		{flow.CounterDeadLettered, canonical.EventOrderSubmitted, 1},
		{flow.CounterHandled, canonical.EventFulfillmentShipped, 1},
	} {
		assert.Equal(t, tc.want, m.byType[tc.c][tc.typ], "%s %s; counted: %v", tc.c, tc.typ, m.byType)
	}
	assert.Equal(t, canonical.KindOrder, m.entity[canonical.EventOrderSubmitted], "entity of order.submitted")
}
