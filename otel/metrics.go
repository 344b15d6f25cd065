// This file owns the metrics: the flow's and the connectors' hooks, the
// breakers' state and the observed consumer lag and dead letters.

package otel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
)

// The attribute keys of the spans and metrics.
const (
	AttrGroup         = "distsync.group"
	AttrEntity        = "distsync.entity"
	AttrOutcome       = "distsync.outcome"
	AttrSource        = "distsync.source"
	AttrTarget        = "distsync.target"
	AttrSystem        = "distsync.system"
	AttrOperation     = "distsync.operation"
	AttrCode          = "distsync.code"
	AttrState         = "distsync.state"
	AttrFrom          = "distsync.from"
	AttrTo            = "distsync.to"
	AttrReason        = "distsync.reason"
	AttrAttempt       = "distsync.attempt"
	AttrCorrelationID = "distsync.correlation_id"
	AttrCausationID   = "distsync.causation_id"
	AttrEventID       = "distsync.event.id"
	AttrEventType     = "distsync.event.type"
	AttrOrderID       = "distsync.order_id"
	AttrPartitionKey  = "distsync.partition_key"
	AttrKind          = "distsync.kind"
	AttrRule          = "distsync.rule"
	// AttrErrorType is OpenTelemetry's error.type: the step's error class.
	AttrErrorType = "error.type"
)

// CodeOK is the code attribute of a connector call that succeeded.
const CodeOK = "ok"

var (
	_ connector.Metrics     = (*Bridge)(nil)
	_ flow.Metrics          = (*FlowMetrics)(nil)
	_ flow.TargetSyncLagger = (*FlowMetrics)(nil)
	_ flow.EventCounter     = (*FlowMetrics)(nil)
)

// FlowMetrics is a flow.Metrics reporting one consumer group's counters
// and sync lag through a Bridge. It is safe for concurrent use. The zero
// value is not usable; create it with Bridge.FlowMetrics.
type FlowMetrics struct {
	b     *Bridge
	group attribute.KeyValue
}

// FlowMetrics returns the flow.Metrics of the flow whose consumer group is
// group (flow.Config.Group; "" is taken as flow.DefaultGroup).
func (b *Bridge) FlowMetrics(group string) *FlowMetrics {
	if group == "" {
		group = flow.DefaultGroup
	}
	return &FlowMetrics{b: b, group: attribute.String(AttrGroup, group)}
}

// Count adds one to distsync.events with the group, entity and counter
// (as the outcome).
func (m *FlowMetrics) Count(ctx context.Context, c flow.Counter, entity string) {
	m.b.events.Add(ctx, 1, metric.WithAttributes(m.group,
		attribute.String(AttrEntity, entity), attribute.String(AttrOutcome, string(c))))
}

// CountEvent implements flow.EventCounter: it adds one to distsync.events
// with the group, entity, counter (as the outcome) and event type
// (distsync.event.type, "" when the flow could not read it). A flow calls
// it instead of Count.
func (m *FlowMetrics) CountEvent(ctx context.Context, c flow.Counter, entity string, t canonical.EventType) {
	m.b.events.Add(ctx, 1, metric.WithAttributes(m.group, attribute.String(AttrEntity, entity),
		attribute.String(AttrOutcome, string(c)), attribute.String(AttrEventType, string(t))))
}

// SyncLag records lag in distsync.sync.lag with the group and entity and,
// when ctx is a consumer's handler context, the event's source.
func (m *FlowMetrics) SyncLag(ctx context.Context, entity string, lag time.Duration) {
	source := ""
	if ev, ok := eventlog.EventFrom(ctx); ok {
		source = ev.Source
	}
	m.b.syncLag.Record(ctx, lag.Seconds(), metric.WithAttributes(m.group,
		attribute.String(AttrEntity, entity), attribute.String(AttrSource, source)))
}

// SyncLagTo implements flow.TargetSyncLagger: it records lag in
// distsync.sync.target_lag with the group, entity, source and target
// system ("erp", "crm", "wms" or a warehouse system's name).
func (m *FlowMetrics) SyncLagTo(ctx context.Context, entity, source, target string, lag time.Duration) {
	m.b.targetLag.Record(ctx, lag.Seconds(), metric.WithAttributes(m.group, attribute.String(AttrEntity, entity),
		attribute.String(AttrSource, source), attribute.String(AttrTarget, target)))
}

// codeText is the code attribute of a call's outcome.
func codeText(err error, c connector.Code) string {
	if err == nil {
		return CodeOK
	}
	return c.String()
}

// ObserveCall implements connector.Metrics: it counts the call in
// distsync.connector.calls and records its latency in
// distsync.connector.duration, by system, operation and code.
func (b *Bridge) ObserveCall(ctx context.Context, c connector.CallStats) {
	attrs := metric.WithAttributes(attribute.String(AttrSystem, c.System),
		attribute.String(AttrOperation, c.Op), attribute.String(AttrCode, codeText(c.Err, c.Code)))
	b.calls.Add(ctx, 1, attrs)
	b.callTime.Record(ctx, c.Latency.Seconds(), attrs)
}

// ObserveRetry implements connector.Metrics: it counts the failed attempt
// in distsync.connector.retries by system, operation and code.
func (b *Bridge) ObserveRetry(ctx context.Context, r connector.RetryStats) {
	b.retries.Add(ctx, 1, metric.WithAttributes(attribute.String(AttrSystem, r.System),
		attribute.String(AttrOperation, r.Op), attribute.String(AttrCode, r.Code.String())))
}

// BreakerStateChange records a circuit breaker's change of state; its
// signature is that of retry.BreakerConfig.OnStateChange (and so of
// connector.Options.Breaker.OnStateChange). From then on
// distsync.breaker.state reports the breaker named name.
func (b *Bridge) BreakerStateChange(name string, from, to retry.State) {
	b.mu.Lock()
	b.breakers[name] = to
	b.mu.Unlock()
	b.transitions.Add(context.Background(), 1, metric.WithAttributes(attribute.String(AttrSystem, name),
		attribute.String(AttrFrom, from.String()), attribute.String(AttrTo, to.String())))
}

var breakerStates = [...]retry.State{retry.StateClosed, retry.StateOpen, retry.StateHalfOpen}

func (b *Bridge) observeBreakers(_ context.Context, o metric.Int64Observer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, cur := range b.breakers {
		for _, s := range breakerStates {
			v := int64(0)
			if s == cur {
				v = 1
			}
			o.Observe(v, metric.WithAttributes(attribute.String(AttrSystem, name), attribute.String(AttrState, s.String())))
		}
	}
	return nil
}

// LogReader is what ObserveLog reads of an event log backend: the log, the
// consumer groups' state and the dead letters. An eventlog.Backend
// (eventlog.Memory, eventlog.SQL) is one. Implementations must be safe for
// concurrent use: the meter's readers call them from their own goroutines.
type LogReader interface {
	Read(ctx context.Context, after uint64, limit int) ([]eventlog.Entry, error)
	Group(ctx context.Context, group string) (eventlog.GroupState, error)
	List(ctx context.Context, f eventlog.Filter) ([]eventlog.DeadLetter, error)
}

var _ LogReader = eventlog.Backend(nil)

// Observation is the registration of the gauges ObserveLog created. It is
// safe for concurrent use. The zero value is not usable.
type Observation struct {
	unregister func() error
}

// Close stops the observation: the gauges report nothing for its groups
// from the next collection on.
func (o *Observation) Close() error { return o.unregister() }

// ObserveLog reports, at each collection of the meter's readers, for each
// consumer group of groups (none means flow.DefaultGroup):
//
//   - distsync.consumer.lag: the events in the log after the group's cursor
//     (its low-water mark, so events done out of order behind a parked one
//     count too), at most Config.LagScan;
//   - distsync.consumer.lag.age: the time since the occurrence
//     (canonical.Event.Time) of the first of them, 0 when there is none;
//   - distsync.dead_letters: the group's dead letters in state dead, by
//     reason, at most Config.DeadLetterScan in all.
//
// A read that fails makes the collection report the error and leaves that
// group's values out. Close the Observation when the log goes away.
func (b *Bridge) ObserveLog(log LogReader, groups ...string) (*Observation, error) {
	if log == nil {
		return nil, fmt.Errorf("%w: ObserveLog needs a log", ErrInvalidConfig)
	}
	if len(groups) == 0 {
		groups = []string{flow.DefaultGroup}
	}
	for _, g := range groups {
		if g == "" {
			return nil, fmt.Errorf("%w: ObserveLog: empty group name", ErrInvalidConfig)
		}
	}
	groups = append([]string(nil), groups...)
	var (
		errs      [3]error
		lag, dead metric.Int64ObservableGauge
		age       metric.Float64ObservableGauge
	)
	lag, errs[0] = b.meter.Int64ObservableGauge("distsync.consumer.lag", metric.WithUnit("{event}"),
		metric.WithDescription("Events in the log after a consumer group's cursor."))
	age, errs[1] = b.meter.Float64ObservableGauge("distsync.consumer.lag.age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest event after a consumer group's cursor."))
	dead, errs[2] = b.meter.Int64ObservableGauge("distsync.dead_letters", metric.WithUnit("{dead_letter}"),
		metric.WithDescription("Dead letters waiting for an operator, by reason."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("otel: create instruments: %w", err)
	}
	reg, err := b.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		var errs []error
		for _, g := range groups {
			ga := attribute.String(AttrGroup, g)
			n, oldest, err := b.lag(ctx, log, g)
			if err != nil {
				errs = append(errs, err)
			} else {
				o.ObserveInt64(lag, int64(n), metric.WithAttributes(ga))
				a := 0.0
				if !oldest.IsZero() {
					a = max(b.now().Sub(oldest), 0).Seconds()
				}
				o.ObserveFloat64(age, a, metric.WithAttributes(ga))
			}
			byReason, err := b.deadLetters(ctx, log, g)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for r, n := range byReason {
				o.ObserveInt64(dead, int64(n), metric.WithAttributes(ga, attribute.String(AttrReason, string(r))))
			}
		}
		return errors.Join(errs...)
	}, lag, age, dead)
	if err != nil {
		return nil, fmt.Errorf("otel: register the log's gauges: %w", err)
	}
	return &Observation{unregister: reg.Unregister}, nil
}

// lag returns how many events follow group's cursor, at most b.lagScan, and
// the occurrence time of the first of them.
func (b *Bridge) lag(ctx context.Context, log LogReader, group string) (int, time.Time, error) {
	st, err := log.Group(ctx, group)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("otel: consumer lag of group %q: %w", group, err)
	}
	var (
		n      int
		oldest time.Time
		after  = st.Cursor
	)
	for n < b.lagScan {
		entries, err := log.Read(ctx, after, min(b.lagScan-n, 256))
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("otel: consumer lag of group %q: read after %d: %w", group, after, err)
		}
		if len(entries) == 0 {
			break
		}
		if n == 0 {
			oldest = entries[0].Event.Time
		}
		n += len(entries)
		after = entries[len(entries)-1].Offset
	}
	return n, oldest, nil
}

// deadLetters counts group's dead letters in state dead by reason.
func (b *Bridge) deadLetters(ctx context.Context, log LogReader, group string) (map[eventlog.Reason]int, error) {
	ds, err := log.List(ctx, eventlog.Filter{Consumer: group, State: eventlog.StateDead, Limit: b.deadLetterScan})
	if err != nil {
		return nil, fmt.Errorf("otel: dead letters of group %q: %w", group, err)
	}
	// Every reason is reported, 0 when there is none, so that a series
	// drops to 0 once its dead letters are replayed.
	out := map[eventlog.Reason]int{eventlog.ReasonPermanent: 0, eventlog.ReasonExhausted: 0,
		eventlog.ReasonUndecodable: 0, eventlog.ReasonRetryAfter: 0}
	for i := range ds {
		out[ds[i].Reason]++
	}
	return out, nil
}

// orderID returns the order an event belongs to: its partition key, except
// for inventory events, whose key is an item at a warehouse.
func orderID(ev canonical.Event) string {
	if strings.HasPrefix(string(ev.Type), "distsync.inventory.") {
		return ""
	}
	return ev.Partition()
}
