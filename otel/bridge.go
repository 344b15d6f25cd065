// This file owns the Bridge: its configuration and its instruments.

package otel

import (
	"errors"
	"fmt"
	"sync"
	"time"

	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/distsync/distsync/retry"
)

// ScopeName is the instrumentation scope of the Bridge's tracer and meter.
const ScopeName = "github.com/distsync/distsync/otel"

// Defaults of [Config].
const (
	// DefaultLagScan is how many log entries one collection of the
	// consumer lag reads per group at most.
	DefaultLagScan = 1000
	// DefaultDeadLetterScan is how many dead letters one collection reads
	// per group at most.
	DefaultDeadLetterScan = 10000
)

// ErrInvalidConfig is matched (with errors.Is) by the error New and
// Config.Validate return for an unusable configuration.
var ErrInvalidConfig = errors.New("otel: invalid configuration")

// Config configures a [Bridge]. The zero value is the documented default of
// every field. New reads it once; it is a plain value, safe for concurrent
// use when not modified.
type Config struct {
	// TracerProvider creates the spans; nil means OpenTelemetry's global
	// provider at the time New is called.
	TracerProvider trace.TracerProvider
	// MeterProvider creates the instruments; nil means OpenTelemetry's
	// global provider at the time New is called.
	MeterProvider metric.MeterProvider
	// LagScan bounds how many log entries one collection of the consumer
	// lag reads per group: the lag reported saturates at it. 0 means
	// DefaultLagScan.
	LagScan int
	// DeadLetterScan bounds how many dead letters one collection reads per
	// group: the count reported saturates at it. 0 means
	// DefaultDeadLetterScan.
	DeadLetterScan int
	// Now is the clock of the lag's age; nil means time.Now.
	Now func() time.Time
}

// Validate reports whether c is usable: no negative bound. The error
// matches ErrInvalidConfig and names the field.
func (c Config) Validate() error {
	switch {
	case c.LagScan < 0:
		return fmt.Errorf("%w: LagScan %d is negative", ErrInvalidConfig, c.LagScan)
	case c.DeadLetterScan < 0:
		return fmt.Errorf("%w: DeadLetterScan %d is negative", ErrInvalidConfig, c.DeadLetterScan)
	}
	return nil
}

// Bridge turns distsync's recorders, metrics and hooks into OpenTelemetry
// spans and metrics (see the package documentation for the wiring). It is
// safe for concurrent use. The zero value is not usable; create one with
// New.
type Bridge struct {
	tracer         trace.Tracer
	meter          metric.Meter
	now            func() time.Time
	lagScan        int
	deadLetterScan int

	events      metric.Int64Counter
	syncLag     metric.Float64Histogram
	targetLag   metric.Float64Histogram
	calls       metric.Int64Counter
	callTime    metric.Float64Histogram
	retries     metric.Int64Counter
	transitions metric.Int64Counter

	mu       sync.Mutex
	breakers map[string]retry.State
}

// New returns a Bridge with its instruments created, or an error matching
// ErrInvalidConfig when cfg is invalid, or the meter's error when an
// instrument cannot be created.
func New(cfg Config) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if tp == nil {
		tp = gotel.GetTracerProvider()
	}
	if mp == nil {
		mp = gotel.GetMeterProvider()
	}
	b := &Bridge{
		tracer: tp.Tracer(ScopeName), meter: mp.Meter(ScopeName), now: cfg.Now,
		lagScan: cfg.LagScan, deadLetterScan: cfg.DeadLetterScan,
		breakers: map[string]retry.State{},
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.lagScan == 0 {
		b.lagScan = DefaultLagScan
	}
	if b.deadLetterScan == 0 {
		b.deadLetterScan = DefaultDeadLetterScan
	}
	// Latency buckets from 1ms to about 5 minutes: connector calls and sync
	// lags both span that range.
	buckets := metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
	var errs [8]error
	b.events, errs[0] = b.meter.Int64Counter("distsync.events", metric.WithUnit("{event}"),
		metric.WithDescription("Events a consumer group handled, by entity and outcome."))
	b.syncLag, errs[1] = b.meter.Float64Histogram("distsync.sync.lag", metric.WithUnit("s"), buckets,
		metric.WithDescription("Time from an event's occurrence at its source to its effect in the target systems."))
	b.targetLag, errs[7] = b.meter.Float64Histogram("distsync.sync.target_lag", metric.WithUnit("s"), buckets,
		metric.WithDescription("Time from an event's occurrence at its source to each of its effects landing in a target system."))
	b.calls, errs[2] = b.meter.Int64Counter("distsync.connector.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Connector calls by system, operation and code."))
	b.callTime, errs[3] = b.meter.Float64Histogram("distsync.connector.duration", metric.WithUnit("s"), buckets,
		metric.WithDescription("Duration of connector calls, retries and waits included."))
	b.retries, errs[4] = b.meter.Int64Counter("distsync.connector.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Failed connector attempts that are retried."))
	b.transitions, errs[5] = b.meter.Int64Counter("distsync.breaker.transitions", metric.WithUnit("{transition}"),
		metric.WithDescription("Circuit breaker state changes."))
	_, errs[6] = b.meter.Int64ObservableGauge("distsync.breaker.state",
		metric.WithDescription("1 for the current state of a circuit breaker, 0 for the other states."),
		metric.WithInt64Callback(b.observeBreakers))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("otel: create instruments: %w", err)
	}
	return b, nil
}
