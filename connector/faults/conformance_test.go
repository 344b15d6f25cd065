package faults_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/connector/internal/memfake"
	"github.com/distsync/distsync/retry"
)

// chaos is the fault configuration of the conformance runs: every kind of
// fault, often enough to hit every check. Latency goes through a sleep that
// only counts, and rate limits ask for a millisecond, so the runs are fast.
func chaos(seed uint64) faults.Config {
	return faults.Config{
		Seed:             seed,
		Unavailable:      0.15,
		RateLimited:      0.05,
		RetryAfter:       time.Millisecond,
		AmbiguousTimeout: 0.15,
		Latency:          time.Second,
		Sleep:            func(context.Context, time.Duration) error { return nil },
		Duplicate:        0.3,
		Reorder:          0.5,
		Outage:           faults.Outage{FromCall: 10, UntilCall: 13},
	}
}

// retrying are the decorator options of the conformance runs: enough
// attempts that the chaos above never exhausts them, short waits, and a
// breaker that trips only on a long run of failures.
var retrying = connector.Options{
	MaxAttempts: 12,
	Breaker:     retry.BreakerConfig{ConsecutiveFailures: 50},
	Backoff:     retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond},
}

// tally sums the faults injected by the wrappers of one run.
type tally struct {
	mu   sync.Mutex
	sums faults.Counts
	next uint64
}

func (t *tally) seed() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	return t.next
}

func (t *tally) add(c faults.Counts) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sums.Calls += c.Calls
	t.sums.Unavailable += c.Unavailable
	t.sums.RateLimited += c.RateLimited
	t.sums.AmbiguousTimeouts += c.AmbiguousTimeouts
	t.sums.Outage += c.Outage
	t.sums.Delays += c.Delays
	t.sums.Duplicates += c.Duplicates
	t.sums.Reorders += c.Reorders
}

// checkAllFaults fails unless every kind of fault was injected, so that a
// green run proves something.
func (t *tally) checkAllFaults(tb testing.TB, feeds bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.sums
	assert.Positive(tb, c.Unavailable, "unavailable injected: %+v", c)
	assert.Positive(tb, c.RateLimited, "rate limits injected: %+v", c)
	assert.Positive(tb, c.AmbiguousTimeouts, "ambiguous timeouts injected: %+v", c)
	assert.Positive(tb, c.Outage, "outage injected: %+v", c)
	assert.Positive(tb, c.Delays, "latency injected: %+v", c)
	if feeds {
		assert.Positive(tb, c.Duplicates, "duplicate pages injected: %+v", c)
		assert.Positive(tb, c.Reorders, "reordered pages injected: %+v", c)
	}
}

func TestERPConformanceWithFaults(t *testing.T) {
	var all tally
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		m := memfake.NewERP()
		f, err := faults.WrapERP(m, chaos(all.seed()))
		require.NoError(t, err)
		t.Cleanup(func() { all.add(f.Counts()) })
		w, err := connector.WrapERP(f, retrying)
		require.NoError(t, err)
		return connectortest.ERPHarness{ERP: w, Order: memfake.SampleOrder, Positions: memfake.SamplePositions, Effects: m.Effects}
	})
	all.checkAllFaults(t, false)
}

func TestWMSConformanceWithFaults(t *testing.T) {
	var all tally
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		m := memfake.NewWMS()
		wrap := func(t *testing.T, inner connector.WMS) connector.WMS {
			f, err := faults.WrapWMS(inner, chaos(all.seed()))
			require.NoError(t, err)
			t.Cleanup(func() { all.add(f.Counts()) })
			w, err := connector.WrapWMS(f, retrying)
			require.NoError(t, err)
			return w
		}
		return connectortest.WMSHarness{
			WMS:              wrap(t, m),
			Reopen:           func(t *testing.T) connector.WMS { return wrap(t, m.Reopen()) },
			FulfillmentOrder: memfake.SampleFulfillmentOrder,
			Return:           memfake.SampleReturn,
			Advance:          m.Advance,
			Effects:          m.Effects,
			Capabilities:     connectortest.Capabilities{RepeatsEvents: true},
		}
	})
	all.checkAllFaults(t, true)
}

func TestCRMConformanceWithFaults(t *testing.T) {
	var all tally
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		m := memfake.NewCRM()
		wrap := func(t *testing.T, inner connector.CRM) connector.CRM {
			f, err := faults.WrapCRM(inner, chaos(all.seed()))
			require.NoError(t, err)
			t.Cleanup(func() { all.add(f.Counts()) })
			w, err := connector.WrapCRM(f, retrying)
			require.NoError(t, err)
			return w
		}
		return connectortest.CRMHarness{
			CRM:          wrap(t, m),
			Reopen:       func(t *testing.T) connector.CRM { return wrap(t, m.Reopen()) },
			AddOrders:    m.AddOrders,
			Shown:        m.Shown,
			Effects:      m.Effects,
			Capabilities: connectortest.Capabilities{RepeatsEvents: true, Health: true, StatusBatch: true},
		}
	})
	all.checkAllFaults(t, true)
}
