// Package otel bridges distsync's observability hooks to OpenTelemetry:
// the steps a flow and the connector decorators record become spans, and
// the flow's counters, the connector calls, the circuit breakers, the
// consumer lag, the dead letters and the reconciliation's findings become
// metrics through the OpenTelemetry metrics API, ready for any exporter (the
// examples/prometheus program serves them to Prometheus). It is a module of
// its own, so that the core SDK does not depend on OpenTelemetry.
//
// # Wiring
//
// Create one [Bridge] with [New] and hand its hooks to the SDK:
//
//   - [Bridge.Recorder] as flow.Config.Recorder and connector.Options.Recorder
//     (wrapping the recorder you already use, such as a
//     *tracing.MemoryRecorder, whose timelines stay readable through it);
//   - [Bridge.FlowMetrics] as flow.Config.Metrics;
//   - the Bridge itself as connector.Options.Metrics;
//   - [Bridge.BreakerStateChange] as connector.Options.Breaker.OnStateChange;
//   - [Bridge.ObserveLog] with the flow's event log and consumer group, for
//     consumer lag and dead letters;
//   - [Bridge.ObserveReconcile] with a reconcile.Reconciler's Last method,
//     for drift and business exceptions;
//   - [Bridge.Handler] around the handler of a consumer group of your own.
//
// # Spans
//
// A step of a flow handling an event (system "flow", operation
// "handle TYPE") becomes a span of kind consumer named after the
// operation; a connector attempt becomes a span of kind client named
// "SYSTEM OPERATION". Both keep the step's start and duration. Their parent
// is the OpenTelemetry span of the context when there is one, else the W3C
// trace context the tracing package carries in it, which the event log's
// consumer takes from the event's traceparent; when both are present and
// differ, the span is a child of the first and links to the second, the
// span of the event that caused it. An event without a traceparent starts a
// trace of its own.
//
// Attributes: [AttrCorrelationID], [AttrCausationID], [AttrEventType],
// [AttrOrderID] (the partition key of an order's event; inventory events
// carry [AttrPartitionKey] only), [AttrSystem], [AttrOperation],
// [AttrAttempt], [AttrOutcome] and, for a failure, "error.type" with the
// step's error class and the span status Error. The event is named from the
// handler's context with eventlog.EventFrom.
//
// The flow records its handling step when the handler has returned, so
// through the Recorder alone a handled event's span and the spans of the
// connector calls it made are siblings under the event's producer span.
// For parent and child, give the flow [Bridge.Handler] as
// flow.Config.Middleware (and the flow's Recorder without the bridge, so
// that each handled event has one span): the span starts before the handler
// runs, and the connector calls and events of the handler are its children.
// A consumer group of your own is wrapped the same way.
//
// # Metrics
//
// Instrument names follow OpenTelemetry conventions; the Prometheus exporter
// turns the dots into underscores and adds the unit and "_total" suffixes
// (distsync.events becomes distsync_events_total):
//
//   - distsync.events {event}: events by group, entity, outcome (handled,
//     retried, parked, dead_lettered, duplicate) and, counted by a flow
//     (flow.EventCounter), event type (distsync.event.type);
//   - distsync.sync.lag (s): time from an event's occurrence at its source to
//     its effect in the target systems, by group, entity and source, once
//     per handled event;
//   - distsync.sync.target_lag (s): the same, to each effect landing in a
//     target system, by group, entity, source and target (distsync.target:
//     "erp", "crm", "wms", or a warehouse system's name), as the flow reports
//     it through flow.TargetSyncLagger;
//   - distsync.connector.calls {call} and distsync.connector.duration (s):
//     connector calls by system, operation and code ("ok" for a success),
//     the duration including retries and waits;
//   - distsync.connector.retries {retry}: failed attempts that are retried;
//   - distsync.breaker.state: 1 for the current state of each breaker
//     ("closed", "open", "half-open") and 0 for the others, for breakers that
//     changed state at least once; distsync.breaker.transitions {transition};
//   - distsync.consumer.lag {event} and distsync.consumer.lag.age (s): events
//     after a group's cursor and the age of the first of them;
//   - distsync.dead_letters {dead_letter}: dead letters waiting for an
//     operator (state dead), by group and reason.
//   - distsync.reconcile.drift {difference} and distsync.business_exceptions
//     {exception}: the differences by kind and the business exceptions by
//     rule of the latest reconciliation ([Bridge.ObserveReconcile]).
//
// # Cost
//
// Spans and counters cost one span or one measurement per step or call.
// The observed gauges of [Bridge.ObserveLog] read the backend at each
// collection: per group, the group's state, up to Config.LagScan log entries
// and up to Config.DeadLetterScan dead letters. Those of
// [Bridge.ObserveReconcile] read the latest report in memory and make no
// call: a reconciliation runs on its own schedule.
package otel
