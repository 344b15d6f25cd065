package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScrape runs orders through the demo and scrapes its metrics over
// loopback, as Prometheus would, checking the series and their values.
func TestScrape(t *testing.T) {
	const orders = 3
	d, err := newDemo()
	require.NoError(t, err, "newDemo")
	t.Cleanup(func() { d.close(t.Context()) })
	require.NoError(t, d.run(t.Context(), orders), "run")
	srv := httptest.NewServer(d.handler())
	t.Cleanup(srv.Close)

	resp, err := srv.Client().Get(srv.URL + "/metrics")
	require.NoError(t, err, "GET /metrics")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET /metrics status")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err, "parse the exposition")

	tests := []struct {
		name   string
		family string
		labels map[string]string
		check  func(t *testing.T, v float64, ok bool)
	}{
		{"orders handled", "distsync_events_total", map[string]string{"distsync_group": "ordertocash", "distsync_entity": "order", "distsync_outcome": "handled"},
			eq(2 * orders)}, // order.submitted and the flow's order.accepted
		{"submissions handled, by type", "distsync_events_total", map[string]string{"distsync_event_type": "distsync.order.submitted.v1", "distsync_outcome": "handled"},
			eq(orders)},
		{"shipments handled", "distsync_events_total", map[string]string{"distsync_entity": "shipment", "distsync_outcome": "handled"},
			eq(orders)},
		{"stray event dead-lettered", "distsync_events_total", map[string]string{"distsync_entity": "", "distsync_outcome": "dead_lettered"},
			eq(1)},
		// A handler that meets the open breaker after its validation
		// validates again when it is resumed.
		{"ERP validations that succeeded", "distsync_connector_calls_total", map[string]string{"distsync_system": "erp", "distsync_operation": "ValidateOrder", "distsync_code": "ok"},
			atLeast(orders)},
		{"shipments posted", "distsync_connector_calls_total", map[string]string{"distsync_system": "erp", "distsync_operation": "PostShipment", "distsync_code": "ok"},
			atLeast(orders)},
		{"ERP calls refused while down", "distsync_connector_retries_total", map[string]string{"distsync_system": "erp", "distsync_code": "unavailable"},
			atLeast(1)},
		{"WMS releases' latency observed", "distsync_connector_duration_seconds", map[string]string{"distsync_system": "wms", "distsync_operation": "Release", "distsync_code": "ok"},
			atLeast(orders)},
		{"ERP breaker closed again", "distsync_breaker_state", map[string]string{"distsync_system": "erp", "distsync_state": "closed"},
			eq(1)},
		{"ERP breaker not open", "distsync_breaker_state", map[string]string{"distsync_system": "erp", "distsync_state": "open"},
			eq(0)},
		{"ERP breaker opened once", "distsync_breaker_transitions_total", map[string]string{"distsync_system": "erp", "distsync_from": "closed", "distsync_to": "open"},
			eq(1)},
		{"no consumer lag", "distsync_consumer_lag", map[string]string{"distsync_group": "ordertocash"},
			eq(0)},
		{"no lag age", "distsync_consumer_lag_age_seconds", map[string]string{"distsync_group": "ordertocash"},
			eq(0)},
		{"one permanent dead letter", "distsync_dead_letters", map[string]string{"distsync_group": "ordertocash", "distsync_reason": "permanent"},
			eq(1)},
		{"no exhausted dead letter", "distsync_dead_letters", map[string]string{"distsync_group": "ordertocash", "distsync_reason": "exhausted"},
			eq(0)},
		{"sync lag of shipments from the WMS", "distsync_sync_lag_seconds", map[string]string{"distsync_entity": "shipment", "distsync_source": "wms://sim"},
			eq(orders)},
		{"shipments from the WMS posted in the ERP", "distsync_sync_target_lag_seconds", map[string]string{"distsync_entity": "shipment", "distsync_source": "wms://sim", "distsync_target": "erp"},
			atLeast(orders)},
		{"shipments from the WMS shown in the CRM", "distsync_sync_target_lag_seconds", map[string]string{"distsync_entity": "shipment", "distsync_source": "wms://sim", "distsync_target": "crm"},
			atLeast(orders)},
		{"orders released to the WMS", "distsync_sync_target_lag_seconds", map[string]string{"distsync_target": "wms"},
			atLeast(1)},
		{"availability drift the reconciliation found", "distsync_reconcile_drift", map[string]string{"distsync_kind": "availability"},
			eq(1)},
		{"no shipped quantity drift", "distsync_reconcile_drift", map[string]string{"distsync_kind": "shipped_quantity"},
			eq(0)},
		{"no order on hold too long", "distsync_business_exceptions", map[string]string{"distsync_rule": "on_hold_too_long"},
			eq(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := value(fams[tt.family], tt.labels)
			tt.check(t, v, ok)
		})
	}
	// A sync lag on the wall clock is short: below a minute for every
	// shipment.
	lag, ok := fams["distsync_sync_lag_seconds"]
	require.True(t, ok, "distsync_sync_lag_seconds is exposed")
	for _, m := range lag.GetMetric() {
		if labelsMatch(m, map[string]string{"distsync_entity": "shipment"}) {
			assert.Less(t, m.GetHistogram().GetSampleSum(), float64(orders*60), "sum of the shipments' sync lags")
		}
	}
}

func eq(want float64) func(t *testing.T, v float64, ok bool) {
	return func(t *testing.T, v float64, ok bool) {
		if assert.True(t, ok, "series is exposed") {
			assert.Equal(t, want, v, "series value")
		}
	}
}

func atLeast(want float64) func(t *testing.T, v float64, ok bool) {
	return func(t *testing.T, v float64, ok bool) {
		if assert.True(t, ok, "series is exposed") {
			assert.GreaterOrEqual(t, v, want, "series value")
		}
	}
}

// value returns the sum over fam's series carrying labels of their values
// (a histogram's sample count), and whether there is one.
func value(fam *dto.MetricFamily, labels map[string]string) (float64, bool) {
	var (
		sum   float64
		found bool
	)
	for _, m := range fam.GetMetric() {
		if !labelsMatch(m, labels) {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, found
}

// labelsMatch reports whether m carries labels; a label missing from m
// has the value "", as in Prometheus.
func labelsMatch(m *dto.Metric, labels map[string]string) bool {
	for k, want := range labels {
		got := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == k {
				got = l.GetValue()
			}
		}
		if got != want {
			return false
		}
	}
	return true
}
