package wms_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/wms"
)

// kitFO is the fulfilment order the kit releases: two lines of demo items
// with stock in WH-EAST.
func kitFO(n int) canonical.FulfillmentOrder {
	id := fmt.Sprintf("kit-fo-%d", n)
	return canonical.FulfillmentOrder{
		ID: id, Version: 1, OrderID: fmt.Sprintf("kit-order-%d", n), OrderVersion: 1, Warehouse: "WH-EAST",
		Split:  canonical.SplitPosition{Group: fmt.Sprintf("kit-order-%d", n), Index: 1, Count: 1},
		ShipTo: canonical.PartyRef{ID: "C-1-DC", Name: "Acme Hardware DC"},
		Lines: []canonical.FulfillmentLine{
			{ID: id + ":1", OrderLineID: "1", Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity("2", "EA")},
			{ID: id + ":2", OrderLineID: "2", Item: canonical.ItemRef{SKU: "SKU-104"}, Quantity: canonical.MustParseQuantity("3", "EA")},
		},
	}
}

// kitReturn is the return the kit authorizes.
func kitReturn(n int) canonical.Return {
	id := fmt.Sprintf("kit-ret-%d", n)
	return canonical.Return{
		ID: id, Version: 1, RMANumber: fmt.Sprintf("RMA-%d", n), OrderID: fmt.Sprintf("kit-order-%d", n),
		Customer: canonical.PartyRef{ID: "C-1"}, Warehouse: "WH-EAST",
		AuthorizedAt: time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC),
		Lines: []canonical.ReturnLine{{ID: id + ":1", OrderLineID: "1", Item: canonical.ItemRef{SKU: "SKU-100"},
			Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.MustParseQuantity("0", "EA")}},
	}
}

// harness returns a conformance harness over a fresh demo world, with the
// system under test wrapped by wrap.
func harness(t *testing.T, wrap func(t *testing.T, w connector.WMS) connector.WMS, caps connectortest.Capabilities) connectortest.WMSHarness {
	t.Helper()
	m, err := wms.New(wms.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return connectortest.WMSHarness{
		WMS: wrap(t, m),
		Reopen: func(t *testing.T) connector.WMS {
			r, err := wms.New(wms.Config{State: m.State()})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			return wrap(t, r)
		},
		FulfillmentOrder: kitFO,
		Return:           kitReturn,
		Advance: func(ctx context.Context) error {
			_, err := m.Step(ctx)
			return err
		},
		Effects: func() connectortest.WMSEffects {
			c := m.Counts()
			return connectortest.WMSEffects{Releases: c.Releases, Cancellations: c.Cancellations, ReturnAuthorizations: c.ReturnAuthorizations, Changes: c.Changes}
		},
		Capabilities: caps,
	}
}

func TestConformance(t *testing.T) {
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		return harness(t, func(_ *testing.T, w connector.WMS) connector.WMS { return w }, connectortest.Capabilities{Health: true, Subscribe: true, ReleaseChange: true})
	})
}

// retrying are the decorator options of the wrapped runs: quick backoff,
// enough attempts to get through the injected faults.
var retrying = connector.Options{
	MaxAttempts: 12,
	Breaker:     retry.BreakerConfig{ConsecutiveFailures: 50},
	Backoff:     retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond},
}

func TestConformanceWrapped(t *testing.T) {
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		return harness(t, func(t *testing.T, w connector.WMS) connector.WMS {
			d, err := connector.WrapWMS(w, retrying)
			require.NoError(t, err)
			return d
		}, connectortest.Capabilities{Health: true, Subscribe: true, ReleaseChange: true})
	})
}

// TestConformanceWithFaults runs the kit against the simulator behind
// seeded fault injection (transient errors, rate limits, timeouts after
// the effect, latency, an outage, duplicated and reordered feed pages) and
// the retry decorator.
func TestConformanceWithFaults(t *testing.T) {
	var (
		mu   sync.Mutex
		seed uint64
		sum  faults.Counts
	)
	wrap := func(t *testing.T, w connector.WMS) connector.WMS {
		mu.Lock()
		seed++
		cfg := faults.Config{Seed: seed, Unavailable: 0.15, RateLimited: 0.05, RetryAfter: time.Millisecond, AmbiguousTimeout: 0.15,
			Latency: time.Second, Sleep: func(context.Context, time.Duration) error { return nil },
			Duplicate: 0.2, Reorder: 0.2, Outage: faults.Outage{FromCall: 5, UntilCall: 8}}
		mu.Unlock()
		f, err := faults.WrapWMS(w, cfg)
		require.NoError(t, err)
		t.Cleanup(func() {
			c := f.Counts()
			mu.Lock()
			defer mu.Unlock()
			sum.Add(c)
		})
		d, err := connector.WrapWMS(f, retrying)
		require.NoError(t, err)
		return d
	}
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		return harness(t, wrap, connectortest.Capabilities{Health: true, Subscribe: true, ReleaseChange: true, RepeatsEvents: true})
	})
	assert.Positive(t, sum.Unavailable, "unavailable injected: %+v", sum)
	assert.Positive(t, sum.RateLimited, "rate limits injected: %+v", sum)
	assert.Positive(t, sum.AmbiguousTimeouts, "timeouts after the effect injected: %+v", sum)
	assert.Positive(t, sum.Outage, "outage injected: %+v", sum)
	assert.Positive(t, sum.Duplicates, "duplicate pages injected: %+v", sum)
	assert.Positive(t, sum.Reorders, "reordered pages injected: %+v", sum)
}
