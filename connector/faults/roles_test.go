package faults_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/connector/internal/memfake"
)

// rolesERP is the in-memory ERP with the optional roles of an ERP: an
// event feed (a WMS's feed lent to it), order cancellation and a health
// check, counting the calls that reach them.
type rolesERP struct {
	*memfake.ERP
	feed  *memfake.WMS
	mu    sync.Mutex
	calls map[string]int
}

func newRolesERP(t *testing.T) *rolesERP {
	return &rolesERP{ERP: memfake.NewERP(), feed: feedWith(t, 6), calls: map[string]int{}}
}

func (e *rolesERP) reached(op string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls[op]++
}

func (e *rolesERP) count(op string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[op]
}

func (e *rolesERP) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	e.reached("PollEvents")
	return e.feed.PollEvents(ctx, cursor, limit)
}

func (e *rolesERP) CancelOrderLines(_ context.Context, _ string, c connector.OrderCancellation) (canonical.Order, error) {
	e.reached("CancelOrderLines")
	return canonical.Order{ID: c.OrderID}, nil
}

func (e *rolesERP) ChangeOrder(_ context.Context, _ string, c canonical.OrderChange) (canonical.ChangeAck, error) {
	e.reached("ChangeOrder")
	return canonical.ChangeAck{OrderID: c.OrderID, Outcome: canonical.ChangeApplied}, nil
}

func (e *rolesERP) Health(context.Context) error {
	e.reached("Health")
	return nil
}

// healthyWMS is the in-memory WMS with a health check.
type healthyWMS struct{ *memfake.WMS }

func (healthyWMS) Health(context.Context) error { return nil }

func (healthyWMS) ChangeRelease(_ context.Context, _ string, req connector.ReleaseChange) (connector.ReleaseChangeResult, error) {
	return connector.ReleaseChangeResult{FulfillmentOrderID: req.FulfillmentOrderID}, nil
}

// roleCalls call each optional role a wrapper forwards.
var roleCalls = []struct {
	name string
	call func(ctx context.Context, erp *faults.ERP, wms *faults.WMS, crm *faults.CRM) error
}{
	{"erp PollEvents", func(ctx context.Context, erp *faults.ERP, _ *faults.WMS, _ *faults.CRM) error {
		_, err := erp.PollEvents(ctx, "", 2)
		return err
	}},
	{"erp CancelOrderLines", func(ctx context.Context, erp *faults.ERP, _ *faults.WMS, _ *faults.CRM) error {
		_, err := erp.CancelOrderLines(ctx, "k", connector.OrderCancellation{OrderID: "o1"})
		return err
	}},
	{"erp ChangeOrder", func(ctx context.Context, erp *faults.ERP, _ *faults.WMS, _ *faults.CRM) error {
		_, err := erp.ChangeOrder(ctx, "k", canonical.OrderChange{OrderID: "o1", FromVersion: 1, ToVersion: 2})
		return err
	}},
	{"wms ChangeRelease", func(ctx context.Context, _ *faults.ERP, wms *faults.WMS, _ *faults.CRM) error {
		_, err := wms.ChangeRelease(ctx, "k", connector.ReleaseChange{FulfillmentOrderID: "fo1"})
		return err
	}},
	{"erp Health", func(ctx context.Context, erp *faults.ERP, _ *faults.WMS, _ *faults.CRM) error {
		return erp.Health(ctx)
	}},
	{"wms Health", func(ctx context.Context, _ *faults.ERP, wms *faults.WMS, _ *faults.CRM) error {
		return wms.Health(ctx)
	}},
	{"crm PublishStatuses", func(ctx context.Context, _ *faults.ERP, _ *faults.WMS, crm *faults.CRM) error {
		_, err := crm.PublishStatuses(ctx, nil)
		return err
	}},
	{"crm Health", func(ctx context.Context, _ *faults.ERP, _ *faults.WMS, crm *faults.CRM) error {
		return crm.Health(ctx)
	}},
}

// wrapAll wraps systems with every optional role in faults of cfg.
func wrapAll(t *testing.T, cfg faults.Config) (*rolesERP, *faults.ERP, *faults.WMS, *faults.CRM) {
	t.Helper()
	inner := newRolesERP(t)
	erp, err := faults.WrapERP(inner, cfg)
	require.NoError(t, err)
	wms, err := faults.WrapWMS(healthyWMS{memfake.NewWMS()}, cfg)
	require.NoError(t, err)
	crm, err := faults.WrapCRM(memfake.NewCRM(), cfg)
	require.NoError(t, err)
	return inner, erp, wms, crm
}

func TestOptionalRolesFaulted(t *testing.T) {
	for _, rc := range roleCalls {
		inner, erp, wms, crm := wrapAll(t, faults.Config{Unavailable: 1})
		err := rc.call(t.Context(), erp, wms, crm)
		assert.Equal(t, connector.CodeUnavailable, connector.CodeOf(err), rc.name)
		assert.ErrorIs(t, err, faults.ErrInjected, rc.name)
		total := erp.Counts()
		total.Add(wms.Counts())
		total.Add(crm.Counts())
		assert.Equal(t, faults.Counts{Calls: 1, Unavailable: 1}, total, "%s: counted", rc.name)
		for _, op := range []string{"PollEvents", "CancelOrderLines", "ChangeOrder", "Health"} {
			assert.Zero(t, inner.count(op), "%s: the injected fault kept the call from the ERP's %s", rc.name, op)
		}

		_, erp, wms, crm = wrapAll(t, faults.Config{})
		assert.NoError(t, rc.call(t.Context(), erp, wms, crm), "%s: no faults, the call goes through", rc.name)
	}
}

// roleOutcomes returns the codes of n calls of every optional role, in
// turn, through wrappers with cfg.
func roleOutcomes(t *testing.T, cfg faults.Config, n int) []connector.Code {
	t.Helper()
	_, erp, wms, crm := wrapAll(t, cfg)
	var codes []connector.Code
	for range n {
		for _, rc := range roleCalls {
			codes = append(codes, connector.CodeOf(rc.call(t.Context(), erp, wms, crm)))
		}
	}
	return codes
}

func TestOptionalRolesDeterministic(t *testing.T) {
	cfg := faults.Config{Seed: 11, Unavailable: 0.2, RateLimited: 0.1, AmbiguousTimeout: 0.2}
	a := roleOutcomes(t, cfg, 50)
	assert.Equal(t, a, roleOutcomes(t, cfg, 50), "seed 11 twice")
	// CodeUnknown is a success: the fakes fail only with *connector.Error.
	for _, c := range []connector.Code{connector.CodeUnknown, connector.CodeUnavailable, connector.CodeRateLimited, connector.CodeTimeout} {
		assert.Contains(t, a, c, "seed 11 injects every kind of fault into the optional roles")
	}
	cfg.Seed = 12
	assert.NotEqual(t, a, roleOutcomes(t, cfg, 50), "seeds 11 and 12")
}

func TestERPFeedDuplicatePage(t *testing.T) {
	inner := newRolesERP(t)
	f, err := faults.WrapERP(inner, faults.Config{Duplicate: 1})
	require.NoError(t, err)
	p1, err := f.PollEvents(t.Context(), "", 2)
	require.NoError(t, err)
	require.Len(t, p1.Events, 2)
	again, err := f.PollEvents(t.Context(), p1.Next, 2)
	require.NoError(t, err)
	assert.Equal(t, keys(p1.Events), keys(again.Events), "the ERP's feed delivers the page again")
	assert.Equal(t, p1.Next, again.Next)
	assert.Equal(t, int64(1), f.Counts().Duplicates)
}

func TestOptionalRolesOutageByCall(t *testing.T) {
	// The optional roles count as calls of the wrapper, so an outage by
	// call number covers them as it covers the required roles.
	inner := newRolesERP(t)
	f, err := faults.WrapERP(inner, faults.Config{Outage: faults.Outage{FromCall: 2, UntilCall: 3}})
	require.NoError(t, err)
	_, err = f.GetOrder(t.Context(), "x")
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err), "call 1 reaches the ERP")
	_, err = f.CancelOrderLines(t.Context(), "k", connector.OrderCancellation{OrderID: "o1"})
	assert.Equal(t, connector.CodeUnavailable, connector.CodeOf(err), "call 2 is in the outage")
	assert.NoError(t, f.Health(t.Context()), "call 3 is after it")
	assert.Equal(t, int64(1), f.Counts().Outage)
}

func TestUnsupportedRoleInjectsNothing(t *testing.T) {
	erp, err := faults.WrapERP(memfake.NewERP(), faults.Config{Unavailable: 1})
	require.NoError(t, err)
	crm, err := faults.WrapCRM(struct{ connector.CRM }{memfake.NewCRM()}, faults.Config{Unavailable: 1})
	require.NoError(t, err)
	wms, err := faults.WrapWMS(memfake.NewWMS(), faults.Config{Unavailable: 1})
	require.NoError(t, err)
	for _, rc := range roleCalls {
		err := rc.call(t.Context(), erp, wms, crm)
		assert.ErrorIs(t, err, errors.ErrUnsupported, rc.name)
		assert.NotErrorIs(t, err, faults.ErrInjected, rc.name)
	}
	assert.Zero(t, erp.Counts().Calls+wms.Counts().Calls+crm.Counts().Calls, "no value drawn for a role the connector lacks")
}

func TestAsThroughFaults(t *testing.T) {
	f, err := faults.WrapCRM(memfake.NewCRM(), faults.Config{Unavailable: 1})
	require.NoError(t, err)
	h, ok := connector.As[connector.HealthChecker](f)
	require.True(t, ok, "the CRM's Health is found")
	assert.Same(t, f, h, "on the wrapper, so that it is faulted")
	assert.ErrorIs(t, h.Health(t.Context()), faults.ErrInjected)

	bare, err := faults.WrapERP(memfake.NewERP(), faults.Config{})
	require.NoError(t, err)
	_, ok = connector.As[connector.OrderCanceller](bare)
	assert.False(t, ok, "an ERP without cancellation has none through its wrapper")
	_, ok = connector.As[connector.EventFeed](bare)
	assert.False(t, ok, "nor an event feed")
	_, ok = connector.As[connector.OrderChanger](bare)
	assert.False(t, ok, "nor order changes")
	_, ok = connector.As[connector.ReleaseChanger](must(faults.WrapWMS(memfake.NewWMS(), faults.Config{})))
	assert.False(t, ok, "a WMS without release changes has none through its wrapper")

	sub, ok := connector.As[connector.Subscriber](must(faults.WrapWMS(memfake.NewWMS(), faults.Config{Unavailable: 1})))
	require.True(t, ok, "Subscriber is found under the wrapper")
	assert.IsType(t, (*memfake.WMS)(nil), sub, "without faults")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
