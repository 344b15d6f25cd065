package otel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/flow"
	dsotel "github.com/distsync/distsync/otel"
	"github.com/distsync/distsync/reconcile"
	"github.com/distsync/distsync/retry"
)

// newMetered returns a Bridge whose metrics a ManualReader collects.
func newMetered(t *testing.T, cfg dsotel.Config) (*dsotel.Bridge, *sdkmetric.ManualReader) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	cfg.MeterProvider = mp
	b, err := dsotel.New(cfg)
	require.NoError(t, err, "New")
	return b, r
}

// point is one data point: its attributes and its value (a histogram's
// count).
type point struct {
	attrs map[string]string
	value float64
}

func collect(t *testing.T, r *sdkmetric.ManualReader) (map[string][]point, error) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	err := r.Collect(t.Context(), &rm)
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			add := func(set attribute.Set, v float64) {
				p := point{attrs: map[string]string{}, value: v}
				for _, kv := range set.ToSlice() {
					p.attrs[string(kv.Key)] = kv.Value.String()
				}
				out[m.Name] = append(out[m.Name], p)
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes, float64(dp.Value))
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes, float64(dp.Value))
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes, dp.Value)
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes, float64(dp.Count))
				}
			}
		}
	}
	return out, err
}

// find returns the value of the point of name with attrs, and whether
// there is one.
func find(points map[string][]point, name string, attrs map[string]string) (float64, bool) {
next:
	for _, p := range points[name] {
		for k, v := range attrs {
			if p.attrs[k] != v {
				continue next
			}
		}
		return p.value, true
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	b, r := newMetered(t, dsotel.Config{})
	ctx := t.Context()
	fm := b.FlowMetrics("")
	fm.Count(ctx, flow.CounterHandled, "order")
	fm.Count(ctx, flow.CounterHandled, "order")
	fm.Count(ctx, flow.CounterParked, "shipment")
	fm.CountEvent(ctx, flow.CounterDeadLettered, "order", canonical.EventOrderSubmitted)
	fm.CountEvent(ctx, flow.CounterRetried, "order", canonical.EventOrderCancelled)
	fm.SyncLag(ctx, "shipment", 2*time.Second)
	fm.SyncLagTo(ctx, "shipment", "wms://sim", "erp", 3*time.Second)
	fm.SyncLagTo(ctx, "shipment", "wms://sim", "crm", time.Second)
	fm.SyncLagTo(ctx, "shipment", "wms://sim", "crm", time.Second)
	b.ObserveCall(ctx, connector.CallStats{System: "erp", Op: "AcceptOrder", Attempts: 1, Latency: time.Millisecond})
	down := connector.NewError(connector.CodeUnavailable, "erp", "AcceptOrder", errors.New("down"))
	b.ObserveCall(ctx, connector.CallStats{System: "erp", Op: "AcceptOrder", Err: down, Code: connector.CodeOf(down), Attempts: 5})
	b.ObserveCall(ctx, connector.CallStats{System: "erp", Op: "AcceptOrder", Err: context.Canceled, Code: connector.CodeUnknown})
	b.ObserveRetry(ctx, connector.RetryStats{System: "wms", Op: "Release", Attempt: 1, Code: connector.CodeRateLimited})
	b.BreakerStateChange("wms", retry.StateClosed, retry.StateOpen)

	got, err := collect(t, r)
	require.NoError(t, err, "Collect")
	tests := []struct {
		name   string
		metric string
		attrs  map[string]string
		want   float64
	}{
		{"handled orders", "distsync.events", map[string]string{dsotel.AttrGroup: flow.DefaultGroup, dsotel.AttrEntity: "order", dsotel.AttrOutcome: "handled"}, 2},
		{"dead-lettered submissions by type", "distsync.events", map[string]string{dsotel.AttrEntity: "order", dsotel.AttrOutcome: "dead_lettered", dsotel.AttrEventType: string(canonical.EventOrderSubmitted)}, 1},
		{"retried cancellations by type", "distsync.events", map[string]string{dsotel.AttrOutcome: "retried", dsotel.AttrEventType: string(canonical.EventOrderCancelled)}, 1},
		{"parked shipments", "distsync.events", map[string]string{dsotel.AttrEntity: "shipment", dsotel.AttrOutcome: "parked"}, 1},
		{"sync lag without a consumer's event: no source", "distsync.sync.lag", map[string]string{dsotel.AttrEntity: "shipment", dsotel.AttrSource: ""}, 1},
		{"target lag to the ERP", "distsync.sync.target_lag", map[string]string{dsotel.AttrGroup: flow.DefaultGroup, dsotel.AttrEntity: "shipment", dsotel.AttrSource: "wms://sim", dsotel.AttrTarget: "erp"}, 1},
		{"target lag to the CRM", "distsync.sync.target_lag", map[string]string{dsotel.AttrTarget: "crm"}, 2},
		{"successful call", "distsync.connector.calls", map[string]string{dsotel.AttrSystem: "erp", dsotel.AttrOperation: "AcceptOrder", dsotel.AttrCode: dsotel.CodeOK}, 1},
		{"failed call by code", "distsync.connector.calls", map[string]string{dsotel.AttrCode: "unavailable"}, 1},
		{"cancelled call", "distsync.connector.calls", map[string]string{dsotel.AttrCode: "unknown"}, 1},
		{"call latencies", "distsync.connector.duration", map[string]string{dsotel.AttrCode: dsotel.CodeOK}, 1},
		{"retry by code", "distsync.connector.retries", map[string]string{dsotel.AttrSystem: "wms", dsotel.AttrOperation: "Release", dsotel.AttrCode: "rate_limited"}, 1},
		{"breaker open", "distsync.breaker.state", map[string]string{dsotel.AttrSystem: "wms", dsotel.AttrState: "open"}, 1},
		{"breaker not closed", "distsync.breaker.state", map[string]string{dsotel.AttrSystem: "wms", dsotel.AttrState: "closed"}, 0},
		{"breaker not half-open", "distsync.breaker.state", map[string]string{dsotel.AttrSystem: "wms", dsotel.AttrState: "half-open"}, 0},
		{"breaker transition", "distsync.breaker.transitions", map[string]string{dsotel.AttrSystem: "wms", dsotel.AttrFrom: "closed", dsotel.AttrTo: "open"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := find(got, tt.metric, tt.attrs)
			require.True(t, ok, "%s%v is reported", tt.metric, tt.attrs)
			assert.Equal(t, tt.want, v, "%s%v", tt.metric, tt.attrs)
		})
	}
	_, ok := find(got, "distsync.breaker.state", map[string]string{dsotel.AttrSystem: "erp"})
	assert.False(t, ok, "a breaker that never changed state is not reported")
}

func TestObserveLog(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	b, r := newMetered(t, dsotel.Config{Now: func() time.Time { return now }, LagScan: 3})
	ctx := t.Context()
	m := eventlog.NewMemory(eventlog.MemoryConfig{})
	for i := range 5 {
		ev := eventlogtest.Event("k", i+1)
		ev.Time = now.Add(-time.Duration(10-i) * time.Minute)
		require.NoError(t, m.Append(ctx, ev), "Append")
	}
	require.NoError(t, m.Commit(ctx, "g", 0, 1), "Commit the first event of g")
	for i, reason := range []eventlog.Reason{eventlog.ReasonPermanent, eventlog.ReasonPermanent, eventlog.ReasonExhausted} {
		_, err := m.Put(ctx, eventlog.DeadLetter{Consumer: "g", Offset: uint64(i + 1), Event: eventlogtest.Event("d", i+1), Reason: reason,
			Error: "boom", Attempts: 1, FirstFailure: now, LastFailure: now})
		require.NoError(t, err, "Put dead letter %d", i+1)
	}
	obs, err := b.ObserveLog(m, "g", "idle")
	require.NoError(t, err, "ObserveLog")

	got, err := collect(t, r)
	require.NoError(t, err, "Collect")
	tests := []struct {
		name   string
		metric string
		attrs  map[string]string
		want   float64
	}{
		{"lag saturates at LagScan", "distsync.consumer.lag", map[string]string{dsotel.AttrGroup: "g"}, 3},
		{"age of the first event after the cursor", "distsync.consumer.lag.age", map[string]string{dsotel.AttrGroup: "g"}, (9 * time.Minute).Seconds()},
		{"a group that read nothing lags by the log", "distsync.consumer.lag", map[string]string{dsotel.AttrGroup: "idle"}, 3},
		{"permanent dead letters", "distsync.dead_letters", map[string]string{dsotel.AttrGroup: "g", dsotel.AttrReason: "permanent"}, 2},
		{"exhausted dead letters", "distsync.dead_letters", map[string]string{dsotel.AttrGroup: "g", dsotel.AttrReason: "exhausted"}, 1},
		{"reasons without dead letters are 0", "distsync.dead_letters", map[string]string{dsotel.AttrGroup: "g", dsotel.AttrReason: "undecodable"}, 0},
		{"another group's dead letters are not counted", "distsync.dead_letters", map[string]string{dsotel.AttrGroup: "idle", dsotel.AttrReason: "permanent"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := find(got, tt.metric, tt.attrs)
			require.True(t, ok, "%s%v is reported", tt.metric, tt.attrs)
			assert.Equal(t, tt.want, v, "%s%v", tt.metric, tt.attrs)
		})
	}

	// Replaying the dead letters and handling every event empties the gauges.
	_, err = m.Replay(ctx, eventlog.Filter{Consumer: "g"}, eventlog.Audit{By: "test", Why: "fixed"})
	require.NoError(t, err, "Replay")
	require.NoError(t, m.Commit(ctx, "g", 0, 5), "Commit g")
	got, err = collect(t, r)
	require.NoError(t, err, "Collect")
	for _, c := range []struct {
		metric string
		attrs  map[string]string
	}{
		{"distsync.consumer.lag", map[string]string{dsotel.AttrGroup: "g"}},
		{"distsync.consumer.lag.age", map[string]string{dsotel.AttrGroup: "g"}},
		{"distsync.dead_letters", map[string]string{dsotel.AttrGroup: "g", dsotel.AttrReason: "permanent"}},
	} {
		v, ok := find(got, c.metric, c.attrs)
		assert.True(t, ok, "%s%v is reported", c.metric, c.attrs)
		assert.Zero(t, v, "%s%v once everything is done", c.metric, c.attrs)
	}

	require.NoError(t, obs.Close(), "Close")
	got, err = collect(t, r)
	require.NoError(t, err, "Collect after Close")
	_, ok := find(got, "distsync.consumer.lag", map[string]string{dsotel.AttrGroup: "g"})
	assert.False(t, ok, "no lag reported after Close")
}

// failingLog fails every read.
type failingLog struct{ eventlog.Backend }

var errRead = errors.New("database is down")

func (failingLog) Group(context.Context, string) (eventlog.GroupState, error) {
	return eventlog.GroupState{}, errRead
}

func (failingLog) List(context.Context, eventlog.Filter) ([]eventlog.DeadLetter, error) {
	return nil, errRead
}

func TestObserveLogReadError(t *testing.T) {
	b, r := newMetered(t, dsotel.Config{})
	_, err := b.ObserveLog(failingLog{})
	require.NoError(t, err, "ObserveLog")
	got, err := collect(t, r)
	require.ErrorIs(t, err, errRead, "Collect reports the failed read")
	assert.ErrorContains(t, err, `group "ordertocash"`, "the error names the group")
	_, ok := find(got, "distsync.consumer.lag", nil)
	assert.False(t, ok, "no lag reported for a group whose read failed")
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  dsotel.Config
		want string
	}{
		{"zero value", dsotel.Config{}, ""},
		{"negative LagScan", dsotel.Config{LagScan: -1}, "LagScan -1 is negative"},
		{"negative DeadLetterScan", dsotel.Config{DeadLetterScan: -2}, "DeadLetterScan -2 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			_, nerr := dsotel.New(tt.cfg)
			if tt.want == "" {
				assert.NoError(t, err, "Validate(%+v)", tt.cfg)
				assert.NoError(t, nerr, "New(%+v)", tt.cfg)
				return
			}
			assert.ErrorIs(t, err, dsotel.ErrInvalidConfig, "Validate(%+v)", tt.cfg)
			assert.ErrorContains(t, err, tt.want, "Validate(%+v)", tt.cfg)
			assert.ErrorIs(t, nerr, dsotel.ErrInvalidConfig, "New(%+v)", tt.cfg)
		})
	}
	b, err := dsotel.New(dsotel.Config{})
	require.NoError(t, err, "New")
	_, err = b.ObserveLog(nil)
	assert.ErrorIs(t, err, dsotel.ErrInvalidConfig, "ObserveLog(nil)")
	_, err = b.ObserveLog(eventlog.NewMemory(eventlog.MemoryConfig{}), "")
	assert.ErrorIs(t, err, dsotel.ErrInvalidConfig, "ObserveLog with an empty group")
}

// TestObserveReconcile: the gauges report the latest report's differences
// by kind and exceptions by rule, 0 for the kinds and rules it lacks,
// nothing before the first report and nothing after Close.
func TestObserveReconcile(t *testing.T) {
	b, r := newMetered(t, dsotel.Config{})
	_, err := b.ObserveReconcile(nil)
	require.ErrorIs(t, err, dsotel.ErrInvalidConfig, "ObserveReconcile(nil)")

	var mu sync.Mutex // last is called from the collection
	var rep reconcile.Report
	var ok bool
	obs, err := b.ObserveReconcile(func() (reconcile.Report, bool) {
		mu.Lock()
		defer mu.Unlock()
		return rep, ok
	})
	require.NoError(t, err, "ObserveReconcile")
	got, err := collect(t, r)
	require.NoError(t, err, "Collect")
	assert.Empty(t, got["distsync.reconcile.drift"], "no drift before the first report")
	assert.Empty(t, got["distsync.business_exceptions"], "no exceptions before the first report")

	mu.Lock()
	rep, ok = reconcile.Report{Counts: map[string]int{"difference/shipped_quantity": 2, "difference/availability": 1,
		"exception/on_hold_too_long": 3, "exception/some_future_rule": 1}}, true
	mu.Unlock()
	got, err = collect(t, r)
	require.NoError(t, err, "Collect")
	tests := []struct {
		name, metric, key, value string
		want                     float64
	}{
		{"shipped quantities differ", "distsync.reconcile.drift", dsotel.AttrKind, "shipped_quantity", 2},
		{"availability differs", "distsync.reconcile.drift", dsotel.AttrKind, "availability", 1},
		{"a kind without difference is 0", "distsync.reconcile.drift", dsotel.AttrKind, "missing_invoice", 0},
		{"orders on hold too long", "distsync.business_exceptions", dsotel.AttrRule, "on_hold_too_long", 3},
		{"a rule without exception is 0", "distsync.business_exceptions", dsotel.AttrRule, "shipped_without_tracking", 0},
		{"a rule this bridge does not know", "distsync.business_exceptions", dsotel.AttrRule, "some_future_rule", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, found := find(got, tt.metric, map[string]string{tt.key: tt.value})
			require.True(t, found, "%s{%s=%s} is reported", tt.metric, tt.key, tt.value)
			assert.Equal(t, tt.want, v, "%s{%s=%s}", tt.metric, tt.key, tt.value)
		})
	}
	assert.Len(t, got["distsync.reconcile.drift"], 5, "one point per kind")
	assert.Len(t, got["distsync.business_exceptions"], 6, "one point per rule and the unknown one")

	require.NoError(t, obs.Close(), "Close")
	got, err = collect(t, r)
	require.NoError(t, err, "Collect after Close")
	assert.Empty(t, got["distsync.reconcile.drift"], "no drift after Close")
}
