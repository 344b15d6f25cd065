package connector_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/connector/internal/memfake"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// scriptedCRM is the in-memory CRM whose optional roles (PublishStatuses,
// Health) fail as the script of its scriptedERP says.
type scriptedCRM struct {
	*memfake.CRM
	s *scriptedERP
}

func (c scriptedCRM) PublishStatuses(ctx context.Context, updates []connector.OrderStatus) ([]error, error) {
	if err := c.s.before(ctx, "PublishStatuses"); err != nil {
		return nil, err
	}
	return c.CRM.PublishStatuses(ctx, updates)
}

func (c scriptedCRM) Health(ctx context.Context) error { return c.s.before(ctx, "Health") }

// scriptedWMS is the in-memory WMS with a scripted Health.
type scriptedWMS struct {
	*memfake.WMS
	s *scriptedERP
}

func (w scriptedWMS) Health(ctx context.Context) error { return w.s.before(ctx, "Health") }

// ChangeRelease gives scriptedWMS the optional ReleaseChanger role: it
// answers the fulfilment order's ID.
func (w scriptedWMS) ChangeRelease(ctx context.Context, _ string, req connector.ReleaseChange) (connector.ReleaseChangeResult, error) {
	if err := w.s.before(ctx, "ChangeRelease"); err != nil {
		return connector.ReleaseChangeResult{}, err
	}
	return connector.ReleaseChangeResult{FulfillmentOrderID: req.FulfillmentOrderID}, nil
}

// bareWMS is a WMS without a health check (memfake.WMS has none, but say
// so in the type).
type bareWMS struct{ connector.WMS }

// roleCall is one call of an optional role through a decorated system.
type roleCall struct {
	system string
	op     string
	// call wraps a system scripted by s with opts and calls the role.
	call func(t *testing.T, s *scriptedERP, opts connector.Options) error
}

// roleCalls are the optional roles the decorators forward.
var roleCalls = []roleCall{
	{"erp", "PollEvents", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapERP(s, opts)
		require.NoError(t, err)
		feed, ok := connector.As[connector.EventFeed](w)
		require.True(t, ok, "As finds the ERP's feed")
		require.Same(t, w, feed, "As returns the decorated ERP")
		_, err = feed.PollEvents(corrCtx(t), "c1", 10)
		return err
	}},
	{"erp", "CancelOrderLines", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapERP(s, opts)
		require.NoError(t, err)
		oc, ok := connector.As[connector.OrderCanceller](w)
		require.True(t, ok, "As finds the ERP's canceller")
		require.Same(t, w, oc, "As returns the decorated ERP")
		o, err := oc.CancelOrderLines(corrCtx(t), "k", connector.OrderCancellation{OrderID: "o1"})
		if err == nil {
			assert.Equal(t, "o1", o.ID, "the wrapped ERP's answer")
		}
		return err
	}},
	{"erp", "ChangeOrder", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapERP(s, opts)
		require.NoError(t, err)
		oc, ok := connector.As[connector.OrderChanger](w)
		require.True(t, ok, "As finds the ERP's changer")
		require.Same(t, w, oc, "As returns the decorated ERP")
		a, err := oc.ChangeOrder(corrCtx(t), "k", canonical.OrderChange{OrderID: "o1", FromVersion: 1, ToVersion: 2})
		if err == nil {
			assert.Equal(t, "o1", a.OrderID, "the wrapped ERP's answer")
		}
		return err
	}},
	{"wms", "ChangeRelease", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapWMS(scriptedWMS{memfake.NewWMS(), s}, opts)
		require.NoError(t, err)
		rc, ok := connector.As[connector.ReleaseChanger](w)
		require.True(t, ok, "As finds the WMS's release changer")
		require.Same(t, w, rc, "As returns the decorated WMS")
		r, err := rc.ChangeRelease(corrCtx(t), "k", connector.ReleaseChange{FulfillmentOrderID: "fo1"})
		if err == nil {
			assert.Equal(t, "fo1", r.FulfillmentOrderID, "the wrapped WMS's answer")
		}
		return err
	}},
	{"erp", "Health", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapERP(s, opts)
		require.NoError(t, err)
		h, ok := connector.As[connector.HealthChecker](w)
		require.True(t, ok, "As finds the ERP's health check")
		require.Same(t, w, h, "As returns the decorated ERP")
		return h.Health(corrCtx(t))
	}},
	{"wms", "Health", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapWMS(scriptedWMS{memfake.NewWMS(), s}, opts)
		require.NoError(t, err)
		h, ok := connector.As[connector.HealthChecker](w)
		require.True(t, ok, "As finds the WMS's health check")
		require.Same(t, w, h, "As returns the decorated WMS")
		return h.Health(corrCtx(t))
	}},
	{"crm", "PublishStatuses", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapCRM(scriptedCRM{memfake.NewCRM(), s}, opts)
		require.NoError(t, err)
		bp, ok := connector.As[connector.StatusBatchPublisher](w)
		require.True(t, ok, "As finds the CRM's batch publisher")
		require.Same(t, w, bp, "As returns the decorated CRM")
		errs, err := bp.PublishStatuses(corrCtx(t), []connector.OrderStatus{{OrderID: "nobody-knows", Sequence: 1}})
		if err == nil {
			require.Len(t, errs, 1)
			assert.Equal(t, connector.CodeNotFound, connector.CodeOf(errs[0]), "the per-update error comes back as the CRM gave it")
		}
		return err
	}},
	{"crm", "Health", func(t *testing.T, s *scriptedERP, opts connector.Options) error {
		w, err := connector.WrapCRM(scriptedCRM{memfake.NewCRM(), s}, opts)
		require.NoError(t, err)
		h, ok := connector.As[connector.HealthChecker](w)
		require.True(t, ok, "As finds the CRM's health check")
		require.Same(t, w, h, "As returns the decorated CRM")
		return h.Health(corrCtx(t))
	}},
}

func corrCtx(t *testing.T) context.Context { return tracing.WithCorrelationID(t.Context(), "corr-r") }

func TestWrapOptionalRolesRetry(t *testing.T) {
	for _, rc := range roleCalls {
		name := rc.system + " " + rc.op
		synctest.Test(t, func(t *testing.T) {
			s := newScripted(func(op string, n int) error {
				if n <= 2 {
					return unavailable(op)
				}
				return nil
			})
			rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
			require.NoError(t, err)
			m := &countingMetrics{}
			err = rc.call(t, s, connector.Options{Recorder: rec, Metrics: m})
			require.NoError(t, err, "%s: the third attempt succeeds", name)
			assert.Equal(t, 3, s.count(rc.op), "%s: calls", name)

			steps := rec.Timeline("corr-r")
			require.Len(t, steps, 3, "%s: one step per attempt", name)
			for i, st := range steps {
				assert.Equal(t, rc.system, st.System, name)
				assert.Equal(t, rc.op, st.Operation, name)
				assert.Equal(t, i+1, st.Attempt, name)
			}
			assert.Equal(t, tracing.OutcomeRetry, steps[0].Outcome, name)
			assert.Equal(t, "unavailable", steps[0].ErrorClass, name)
			assert.Equal(t, tracing.OutcomeOK, steps[2].Outcome, name)

			m.mu.Lock()
			defer m.mu.Unlock()
			require.Len(t, m.calls, 1, "%s: one call observed", name)
			assert.Equal(t, rc.op, m.calls[0].Op, name)
			assert.Equal(t, rc.system, m.calls[0].System, name)
			assert.Equal(t, 3, m.calls[0].Attempts, name)
			assert.Len(t, m.retries, 2, "%s: retries observed", name)
		})
	}
}

func TestWrapOptionalRolesBreaker(t *testing.T) {
	for _, rc := range roleCalls {
		name := rc.system + " " + rc.op
		t.Run(name, func(t *testing.T) {
			s := newScripted(func(op string, n int) error { return unavailable(op) })
			rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
			require.NoError(t, err)
			opts := connector.Options{MaxAttempts: 1, Recorder: rec,
				Breaker: retry.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Hour}}
			// One decorated system, called three times.
			var w any
			switch rc.system {
			case "erp":
				w, err = connector.WrapERP(s, opts)
			case "wms":
				w, err = connector.WrapWMS(scriptedWMS{memfake.NewWMS(), s}, opts)
			case "crm":
				w, err = connector.WrapCRM(scriptedCRM{memfake.NewCRM(), s}, opts)
			}
			require.NoError(t, err)
			var errs []error
			for range 3 {
				errs = append(errs, callRole(t, w, rc.op))
			}
			assert.NotErrorIs(t, errs[0], retry.ErrCircuitOpen, "%s: the first failure reaches the system", name)
			assert.NotErrorIs(t, errs[1], retry.ErrCircuitOpen, "%s: the second failure reaches the system", name)
			assert.ErrorIs(t, errs[2], retry.ErrCircuitOpen, "%s: two failures open the circuit", name)
			assert.Equal(t, connector.CodeUnavailable, connector.CodeOf(errs[2]), name)
			assert.Equal(t, 2, s.count(rc.op), "%s: the open circuit kept the call from the system", name)
			steps := rec.Timeline("corr-r")
			require.Len(t, steps, 3, name)
			assert.Equal(t, "circuit_open", steps[2].ErrorClass, name)
		})
	}
}

// callRole calls the optional role op of the decorated system w once.
func callRole(t *testing.T, w any, op string) error {
	ctx := corrCtx(t)
	switch op {
	case "PollEvents":
		feed, ok := connector.As[connector.EventFeed](w)
		require.True(t, ok)
		_, err := feed.PollEvents(ctx, "", 1)
		return err
	case "CancelOrderLines":
		oc, ok := connector.As[connector.OrderCanceller](w)
		require.True(t, ok)
		_, err := oc.CancelOrderLines(ctx, "k", connector.OrderCancellation{OrderID: "o1"})
		return err
	case "ChangeOrder":
		oc, ok := connector.As[connector.OrderChanger](w)
		require.True(t, ok)
		_, err := oc.ChangeOrder(ctx, "k", canonical.OrderChange{OrderID: "o1", FromVersion: 1, ToVersion: 2})
		return err
	case "ChangeRelease":
		rc, ok := connector.As[connector.ReleaseChanger](w)
		require.True(t, ok)
		_, err := rc.ChangeRelease(ctx, "k", connector.ReleaseChange{FulfillmentOrderID: "fo1"})
		return err
	case "Health":
		h, ok := connector.As[connector.HealthChecker](w)
		require.True(t, ok)
		return h.Health(ctx)
	case "PublishStatuses":
		bp, ok := connector.As[connector.StatusBatchPublisher](w)
		require.True(t, ok)
		_, err := bp.PublishStatuses(ctx, nil)
		return err
	}
	t.Fatalf("no role %s", op)
	return nil
}

func TestWrapCancelOrderLinesTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScripted(nil)
		s.block = true
		w, err := connector.WrapERP(s, connector.Options{Timeout: 2 * time.Second, MaxAttempts: 2, Backoff: retry.Backoff{InitialInterval: time.Second, MaxInterval: time.Second}})
		require.NoError(t, err)
		start := time.Now()
		_, err = w.CancelOrderLines(t.Context(), "k", connector.OrderCancellation{OrderID: "o1"})
		var ce *connector.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, connector.CodeTimeout, ce.Code())
		assert.True(t, ce.MayHaveApplied(), "a cancellation has an effect")
		assert.Equal(t, 2, s.count("CancelOrderLines"), "each attempt timed out")
		assert.Less(t, time.Since(start), 7*time.Second, "the timeout is per attempt")
	})
}

// TestAsDecorated checks what As reports on decorated systems with and
// without each optional role, through the decorators, the fault
// injectors, and both stacked.
func TestAsDecorated(t *testing.T) {
	type stack struct {
		name string
		erp  func(connector.ERP) any
		wms  func(connector.WMS) any
		crm  func(connector.CRM) any
	}
	stacks := []stack{
		{"bare",
			func(e connector.ERP) any { return e },
			func(w connector.WMS) any { return w },
			func(c connector.CRM) any { return c }},
		{"decorated",
			func(e connector.ERP) any { return must(connector.WrapERP(e, connector.Options{})) },
			func(w connector.WMS) any { return must(connector.WrapWMS(w, connector.Options{})) },
			func(c connector.CRM) any { return must(connector.WrapCRM(c, connector.Options{})) }},
		{"faults",
			func(e connector.ERP) any { return must(faults.WrapERP(e, faults.Config{})) },
			func(w connector.WMS) any { return must(faults.WrapWMS(w, faults.Config{})) },
			func(c connector.CRM) any { return must(faults.WrapCRM(c, faults.Config{})) }},
		{"decorated faults",
			func(e connector.ERP) any {
				return must(connector.WrapERP(must(faults.WrapERP(e, faults.Config{})), connector.Options{}))
			},
			func(w connector.WMS) any {
				return must(connector.WrapWMS(must(faults.WrapWMS(w, faults.Config{})), connector.Options{}))
			},
			func(c connector.CRM) any {
				return must(connector.WrapCRM(must(faults.WrapCRM(c, faults.Config{})), connector.Options{}))
			}},
	}
	for _, st := range stacks {
		with := newScripted(nil)
		without := memfake.NewERP()
		checkAs[connector.EventFeed](t, st.name+" erp", st.erp(with), st.erp(without))
		checkAs[connector.OrderCanceller](t, st.name+" erp", st.erp(with), st.erp(without))
		checkAs[connector.OrderChanger](t, st.name+" erp", st.erp(with), st.erp(without))
		checkAs[connector.AmendmentReporter](t, st.name+" erp", st.erp(with), st.erp(without))
		checkAs[connector.HealthChecker](t, st.name+" erp", st.erp(with), st.erp(without))
		checkAs[connector.ReleaseChanger](t, st.name+" wms", st.wms(scriptedWMS{memfake.NewWMS(), with}), st.wms(bareWMS{memfake.NewWMS()}))
		checkAs[connector.HealthChecker](t, st.name+" wms", st.wms(scriptedWMS{memfake.NewWMS(), with}), st.wms(bareWMS{memfake.NewWMS()}))
		checkAs[connector.StatusBatchPublisher](t, st.name+" crm", st.crm(memfake.NewCRM()), st.crm(batchlessCRM{memfake.NewCRM()}))
		checkAs[connector.HealthChecker](t, st.name+" crm", st.crm(memfake.NewCRM()), st.crm(batchlessCRM{memfake.NewCRM()}))

		// A role the decorators do not forward is found on the
		// implementation, and one nobody has is not found.
		sub, ok := connector.As[connector.Subscriber](st.wms(memfake.NewWMS()))
		assert.True(t, ok, "%s: the WMS's Subscriber is found under the decorators", st.name)
		assert.IsType(t, (*memfake.WMS)(nil), sub, "%s: Subscriber is not decorated", st.name)
		_, ok = connector.As[connector.Subscriber](st.erp(with))
		assert.False(t, ok, "%s: no ERP here subscribes", st.name)
	}

	w := must(connector.WrapERP(memfake.NewERP(), connector.Options{}))
	same, ok := connector.As[*connector.WrappedERP](w)
	assert.True(t, ok && same == w, "As returns the value itself when it matches")
	_, ok = connector.As[interface{ Counts() faults.Counts }](must(faults.WrapERP(memfake.NewERP(), faults.Config{})))
	assert.True(t, ok, "a forwarder's own methods are found whatever it wraps")
}

// batchlessCRM is a CRM without batches or a health check.
type batchlessCRM struct{ connector.CRM }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// checkAs checks that As reports role T on with and not on without, and
// that without's method of the role, when it has one, fails with an error
// matching errors.ErrUnsupported without reaching anything.
func checkAs[T any](t *testing.T, name string, with, without any) {
	t.Helper()
	role := typeName[T]()
	got, ok := connector.As[T](with)
	if assert.True(t, ok, "%s: As[%s] on a system with the role", name, role) {
		assert.True(t, any(got) == with, "%s: As[%s] returns the outermost layer", name, role)
	}
	_, ok = connector.As[T](without)
	assert.False(t, ok, "%s: As[%s] on a system without the role", name, role)
	if r, has := without.(T); has {
		err := callAny(t, &r)
		assert.ErrorIs(t, err, errors.ErrUnsupported, "%s: %s of a system without it", name, role)
	}
}

// typeName returns "connector.EventFeed" for T connector.EventFeed.
func typeName[T any]() string { return fmt.Sprintf("%T", (*T)(nil))[1:] }

// callAny calls the method of the optional role that r points to.
func callAny(t *testing.T, r any) error {
	switch r := r.(type) {
	case *connector.EventFeed:
		_, err := (*r).PollEvents(t.Context(), "", 1)
		return err
	case *connector.OrderCanceller:
		_, err := (*r).CancelOrderLines(t.Context(), "k", connector.OrderCancellation{OrderID: "o1"})
		return err
	case *connector.OrderChanger:
		_, err := (*r).ChangeOrder(t.Context(), "k", canonical.OrderChange{OrderID: "o1"})
		return err
	case *connector.AmendmentReporter:
		_, err := (*r).ReportAmendment(t.Context(), "k", connector.AmendmentReport{OrderID: "o1"})
		return err
	case *connector.ReleaseChanger:
		_, err := (*r).ChangeRelease(t.Context(), "k", connector.ReleaseChange{FulfillmentOrderID: "fo1"})
		return err
	case *connector.HealthChecker:
		return (*r).Health(t.Context())
	case *connector.StatusBatchPublisher:
		_, err := (*r).PublishStatuses(t.Context(), nil)
		return err
	}
	t.Fatalf("%T points to no known role", r)
	return nil
}

func TestWrapUnsupportedRoleMakesNoCall(t *testing.T) {
	rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	require.NoError(t, err)
	m := &countingMetrics{}
	w, err := connector.WrapERP(memfake.NewERP(), connector.Options{Recorder: rec, Metrics: m})
	require.NoError(t, err)
	_, err = w.CancelOrderLines(corrCtx(t), "k", connector.OrderCancellation{OrderID: "o1"})
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Contains(t, err.Error(), "OrderCanceller", "the error names the role")
	assert.Empty(t, rec.Timeline("corr-r"), "no step for a role the ERP lacks")
	assert.Empty(t, m.calls, "no metric for a role the ERP lacks")
}
