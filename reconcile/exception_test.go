package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/reconcile"
)

// TestExceptions evaluates the rules on a real flow's orders: one on
// credit hold, one backordered past its promised date, one healthy. Each
// exception reaches the hook once however many runs see it; one the hook
// failed to take is delivered again at the next run.
func TestExceptions(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t)
	held := wd.orderFor(t, "ACC-0003", "SKU-103", "15")
	back := wd.order(t, "SKU-105", "4")
	healthy := wd.order(t, "SKU-100", "2")
	wd.settle(t)

	now := time.Now().Add(90 * 24 * time.Hour) // past every promise
	var got []reconcile.Exception
	failOnce := true
	r, err := reconcile.New(reconcile.Config{State: wd.st, ERP: wd.e, WMS: wd.w, CRM: wd.c, Now: func() time.Time { return now },
		Rules: reconcile.Rules{OnHold: time.Hour, Backordered: true, NotAllocated: time.Hour, NoTracking: true, InvoiceMismatch: true},
		Hook: func(_ context.Context, e reconcile.Exception) error {
			if e.Rule == reconcile.RuleBackordered && failOnce {
				failOnce = false
				return errors.New("ticket system down")
			}
			got = append(got, e)
			return nil
		}})
	require.NoError(t, err)
	rep, err := r.Reconcile(ctx)
	require.NoError(t, err)
	rules := func(es []reconcile.Exception) []string {
		var out []string
		for _, e := range es {
			out = append(out, string(e.Rule)+" "+e.OrderID)
		}
		slices.Sort(out)
		return out
	}
	want := []string{string(reconcile.RuleBackordered) + " " + back, string(reconcile.RuleOnHold) + " " + held}
	require.Equal(t, want, rules(rep.Exceptions), "healthy order %s raises none", healthy)
	assert.Equal(t, 1, rep.Counts["exception/"+string(reconcile.RuleOnHold)])
	require.Len(t, rep.Errors, 1)
	assert.Equal(t, []string{want[1]}, rules(got), "the failed delivery is not counted as delivered")
	for _, e := range rep.Exceptions {
		assert.False(t, e.Since.IsZero(), "%s has its start", e.Rule)
	}

	for range 2 {
		rep, err = r.Reconcile(ctx)
		require.NoError(t, err)
		require.Equal(t, want, rules(rep.Exceptions))
		assert.Empty(t, rep.Errors)
	}
	assert.Equal(t, want, rules(got), "each delivered once, the failed one at the next run")
}

// TestValidate checks that Config.Validate names the field at fault.
func TestValidate(t *testing.T) {
	wd := newWorld(t)
	for _, tc := range []struct {
		name string
		cfg  reconcile.Config
		want string
	}{
		{"no state", reconcile.Config{}, "Config.State is required"},
		{"repair without log", reconcile.Config{State: wd.st, Repair: true}, "Config.Log is required"},
		{"negative grace", reconcile.Config{State: wd.st, Grace: -1}, "must not be negative"},
		{"negative calls", reconcile.Config{State: wd.st, MaxCalls: -1}, "MaxCalls"},
		{"negative rule", reconcile.Config{State: wd.st, Rules: reconcile.Rules{OnHold: -1}}, "Rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reconcile.New(tc.cfg)
			require.ErrorIs(t, err, reconcile.ErrInvalidConfig)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := reconcile.New(reconcile.Config{State: wd.st})
	assert.NoError(t, err, "State alone is enough")
}

// TestHookMayReconcile: the hook is called without the reconciler's lock,
// so it may even start a run itself, and that run does not deliver the
// exception the hook is handling a second time.
func TestHookMayReconcile(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t)
	wd.orderFor(t, "ACC-0003", "SKU-103", "15") // on credit hold
	wd.settle(t)
	now := time.Now().Add(48 * time.Hour)
	var r *reconcile.Reconciler
	calls, inner := 0, 0
	r, err := reconcile.New(reconcile.Config{State: wd.st, ERP: wd.e, Now: func() time.Time { return now },
		Rules: reconcile.Rules{OnHold: time.Hour},
		Hook: func(ctx context.Context, e reconcile.Exception) error {
			calls++
			if calls == 1 {
				rep, err := r.Reconcile(ctx)
				require.NoError(t, err)
				inner = len(rep.Exceptions)
			}
			return nil
		}})
	require.NoError(t, err)
	_, err = r.Reconcile(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, inner, "the inner run sees the exception")
	assert.Equal(t, 1, calls, "and does not deliver it again")
}
