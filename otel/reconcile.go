package otel

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/distsync/distsync/reconcile"
)

// This file owns the gauges of the latest reconciliation report: drift by
// kind and business exceptions by rule.

// reconcileKinds and reconcileRules are reported at 0 when the latest
// report has none of them, so that an alert sees them clear.
var (
	reconcileKinds = []reconcile.Kind{reconcile.KindUnknownToWMS, reconcile.KindShipped, reconcile.KindCancelled,
		reconcile.KindMissingInvoice, reconcile.KindAvailability}
	reconcileRules = []reconcile.Rule{reconcile.RuleOnHold, reconcile.RuleBackordered, reconcile.RuleNotAllocated,
		reconcile.RuleNoTracking, reconcile.RuleInvoiceMismatch}
)

// ObserveReconcile reports, at each collection of the meter's readers, the
// report last returns (pass reconcile.Reconciler.Last):
//
//   - distsync.reconcile.drift {difference}: its differences by kind
//     (AttrKind);
//   - distsync.business_exceptions {exception}: its business exceptions by
//     rule (AttrRule).
//
// Every kind and rule the reconcile package defines is reported, at 0 when
// the report has none; nothing is reported before last returns a report.
// last is called from the meter's readers' goroutines and must be safe for
// concurrent use, as Reconciler.Last is. Close the Observation when the
// reconciler goes away.
func (b *Bridge) ObserveReconcile(last func() (reconcile.Report, bool)) (*Observation, error) {
	if last == nil {
		return nil, fmt.Errorf("%w: ObserveReconcile needs the function of the latest report (reconcile.Reconciler.Last)", ErrInvalidConfig)
	}
	var (
		errs              [2]error
		drift, exceptions metric.Int64ObservableGauge
	)
	drift, errs[0] = b.meter.Int64ObservableGauge("distsync.reconcile.drift", metric.WithUnit("{difference}"),
		metric.WithDescription("Differences between the systems the latest reconciliation found, by kind."))
	exceptions, errs[1] = b.meter.Int64ObservableGauge("distsync.business_exceptions", metric.WithUnit("{exception}"),
		metric.WithDescription("Business exceptions the latest reconciliation raised, by rule."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("otel: create instruments: %w", err)
	}
	reg, err := b.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		rep, ok := last()
		if !ok {
			return nil
		}
		observe := func(g metric.Int64ObservableGauge, key, prefix string, known []string) {
			for _, name := range known {
				o.ObserveInt64(g, int64(rep.Counts[prefix+name]), metric.WithAttributes(attribute.String(key, name)))
			}
			for k, n := range rep.Counts { // a kind or rule added to reconcile later
				if name, ok := strings.CutPrefix(k, prefix); ok && !slices.Contains(known, name) {
					o.ObserveInt64(g, int64(n), metric.WithAttributes(attribute.String(key, name)))
				}
			}
		}
		observe(drift, AttrKind, "difference/", names(reconcileKinds))
		observe(exceptions, AttrRule, "exception/", names(reconcileRules))
		return nil
	}, drift, exceptions)
	if err != nil {
		return nil, fmt.Errorf("otel: register the reconciliation's gauges: %w", err)
	}
	return &Observation{unregister: reg.Unregister}, nil
}

func names[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
