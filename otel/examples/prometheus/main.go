// Command prometheus runs orders through the order-to-cash flow on the
// reference simulators, with the OpenTelemetry bridge observing the flow,
// the connectors, their breakers, the consumer lag and the dead letters, and
// serves the metrics in the Prometheus exposition format through
// OpenTelemetry's Prometheus exporter:
//
//	go run ./examples/prometheus -addr 127.0.0.1:9464 -orders 3
//	curl -s http://127.0.0.1:9464/metrics | grep distsync_
//
// The ERP is down for its first two calls, so the metrics show a retry and
// a breaker that opens and closes again (and an event parked meanwhile when a
// handler meets the open breaker: that depends on timing); an event of a type
// the flow does not handle shows a dead letter. At the end a stock count in
// the WMS lowers an item's availability without the flow hearing of it yet,
// and one reconciliation finds the difference: distsync_reconcile_drift
// shows it (kind availability), beside distsync_business_exceptions.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	promexp "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	dsotel "github.com/distsync/distsync/otel"
	"github.com/distsync/distsync/reconcile"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9464", "address to serve /metrics on")
	orders := flag.Int("orders", 3, "orders to run through the flow")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d, err := newDemo()
	if err != nil {
		log.Fatal(err)
	}
	defer d.close(context.Background())
	if err := d.run(ctx, *orders); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: d.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	log.Printf("serving metrics at http://%s/metrics (Ctrl-C stops)", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// demo is a flow on the simulators observed by the bridge.
type demo struct {
	registry *prometheus.Registry
	meters   *sdkmetric.MeterProvider
	obs      *dsotel.Observation
	recObs   *dsotel.Observation
	rec      *reconcile.Reconciler
	flow     *flow.Flow
	log      *eventlog.Memory
	crm      *crm.Memory
	wms      *wms.Memory
	timeline *tracing.MemoryRecorder
}

func newDemo() (*demo, error) {
	reg := prometheus.NewRegistry()
	exp, err := promexp.New(promexp.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	bridge, err := dsotel.New(dsotel.Config{MeterProvider: mp})
	if err != nil {
		return nil, err
	}
	timeline, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	if err != nil {
		return nil, err
	}
	rec := bridge.Recorder(timeline)
	opts := func(system string) connector.Options {
		return connector.Options{System: system, Recorder: rec, Metrics: bridge,
			Backoff: retry.Backoff{InitialInterval: time.Millisecond, Jitter: retry.NoJitter},
			Breaker: retry.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: 20 * time.Millisecond,
				OnStateChange: bridge.BreakerStateChange}}
	}
	e, err := erp.New(erp.Config{})
	if err != nil {
		return nil, err
	}
	w, err := wms.New(wms.Config{Clock: time.Now}) // event times on the wall clock, for the sync lag
	if err != nil {
		return nil, err
	}
	c, err := crm.New(crm.Config{})
	if err != nil {
		return nil, err
	}
	// The ERP is down for its first two calls.
	down, err := faults.WrapERP(e, faults.Config{Outage: faults.Outage{FromCall: 1, UntilCall: 3}})
	if err != nil {
		return nil, err
	}
	we, err := connector.WrapERP(down, opts("erp"))
	if err != nil {
		return nil, err
	}
	ww, err := connector.WrapWMS(w, opts("wms"))
	if err != nil {
		return nil, err
	}
	wc, err := connector.WrapCRM(c, opts("crm"))
	if err != nil {
		return nil, err
	}
	lg := eventlog.NewMemory(eventlog.MemoryConfig{})
	state := &flow.MemoryState{}
	f, err := flow.New(flow.Config{ERP: we, WMS: ww, CRM: wc, Log: lg, Recorder: rec, State: state,
		Metrics: bridge.FlowMetrics(flow.DefaultGroup), PollInterval: time.Millisecond,
		Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{InitialInterval: time.Millisecond, Jitter: retry.NoJitter},
			OpenRecheck: 20 * time.Millisecond}})
	if err != nil {
		return nil, err
	}
	obs, err := bridge.ObserveLog(lg, flow.DefaultGroup)
	if err != nil {
		return nil, err
	}
	// The reconciler reads the simulators directly (its calls stay out of
	// the connector metrics) and reports at once (no grace for the demo).
	r, err := reconcile.New(reconcile.Config{State: state, ERP: e, WMS: w, CRM: c, Grace: time.Nanosecond,
		Rules: reconcile.Rules{OnHold: time.Hour, Backordered: true, NoTracking: true}})
	if err != nil {
		return nil, err
	}
	recObs, err := bridge.ObserveReconcile(r.Last)
	if err != nil {
		return nil, err
	}
	return &demo{registry: reg, meters: mp, obs: obs, recObs: recObs, rec: r, flow: f, log: lg, crm: c, wms: w,
		timeline: timeline}, nil
}

// run converts n opportunities into orders, appends one event the flow
// does not handle, and drives the flow and the warehouses until nothing is
// left to do.
func (d *demo) run(ctx context.Context, n int) error {
	for range n {
		opp, err := d.crm.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
			SKU: "SKU-101", Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
		if err != nil {
			return err
		}
		if _, err := d.crm.ConvertOpportunity(ctx, opp.ID); err != nil {
			return err
		}
	}
	stray := canonical.Event{ID: "stray-1", Source: "urn:example:other", SpecVersion: canonical.EventSpecVersion,
		Type: "com.example.note.added.v1", Subject: "note-1", Time: time.Now(), Data: []byte(`{}`)}
	if err := d.log.Append(ctx, stray); err != nil {
		return err
	}
	// A receipt the flow passes on: the CRM then shows SKU-100's
	// availability at WH-EAST.
	if err := d.adjust(ctx, "RECEIPT-1", "5"); err != nil {
		return err
	}
	for {
		if err := d.flow.Drain(ctx); err != nil {
			return err
		}
		n, err := d.wms.Step(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	// A stock count the flow has not polled yet: the CRM still shows the
	// old availability, and the reconciliation reports the difference.
	if err := d.adjust(ctx, "COUNT-1", "-3"); err != nil {
		return err
	}
	_, err := d.rec.Reconcile(ctx)
	return err
}

// adjust changes the available stock of SKU-100 at WH-EAST in the WMS.
func (d *demo) adjust(ctx context.Context, id, delta string) error {
	_, err := d.wms.Adjust(ctx, canonical.InventoryAdjustment{ID: id, Item: canonical.ItemRef{SKU: "SKU-100"},
		Location: "WH-EAST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity(delta, "EA"),
		Reason: canonical.AdjustmentReason("cycle_count"), AdjustedAt: time.Now()})
	return err
}

// handler serves the metrics at /metrics.
func (d *demo) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.registry, promhttp.HandlerOpts{}))
	return mux
}

func (d *demo) close(ctx context.Context) {
	_ = d.obs.Close()
	_ = d.recObs.Close()
	_ = d.meters.Shutdown(ctx)
}
