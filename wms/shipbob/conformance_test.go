package shipbob_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
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
			Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.Quantity{}}},
	}
}

// dc is the address of ship-tos without one.
var dc = canonical.Address{Lines: []string{"1 Commerce Way"}, City: "Columbus", Region: "OH", PostalCode: "43215", Country: "US"}

const token = "pat-test"

// world is an emulator on loopback and a connector config pointing at it.
type world struct {
	emu    *shipbobemu.Emulator
	srv    *httptest.Server
	config shipbob.Config
}

// newWorld starts an emulator (with cfg) behind wrap on loopback.
func newWorld(t *testing.T, cfg shipbobemu.Config, wrap func(http.Handler) http.Handler) *world {
	t.Helper()
	return startWorld(t, cfg, wrap)
}

// newWorldB is newWorld for a benchmark.
func newWorldB(b *testing.B, cfg shipbobemu.Config) *world {
	b.Helper()
	return startWorld(b, cfg, nil)
}

// clientB returns a new connector over w for a benchmark.
func (w *world) clientB(b *testing.B) *shipbob.Client {
	c, err := shipbob.New(w.config)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func startWorld(t testing.TB, cfg shipbobemu.Config, wrap func(http.Handler) http.Handler) *world {
	t.Helper()
	cfg.Token = token
	emu, err := shipbobemu.New(cfg)
	require.NoError(t, err)
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &world{emu: emu, srv: srv, config: shipbob.Config{
		BaseURL: srv.URL, Token: token, ChannelID: emu.ChannelID(), DefaultAddress: dc,
	}}
}

// client returns a new connector over w, changed by tweak.
func (w *world) client(t *testing.T, tweak func(*shipbob.Config)) *shipbob.Client {
	t.Helper()
	cfg := w.config
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := shipbob.New(cfg)
	require.NoError(t, err)
	return c
}

// harness returns the kit's harness over w, the connector wrapped by wrap.
func harness(t *testing.T, w *world, tweak func(*shipbob.Config), wrap func(t *testing.T, c connector.WMS) connector.WMS, caps connectortest.Capabilities) connectortest.WMSHarness {
	return connectortest.WMSHarness{
		WMS:              wrap(t, w.client(t, tweak)),
		Reopen:           func(t *testing.T) connector.WMS { return wrap(t, w.client(t, tweak)) },
		FulfillmentOrder: kitFO,
		Return:           kitReturn,
		Advance: func(ctx context.Context) error {
			_, err := w.emu.Step(ctx)
			return err
		},
		Effects: func() connectortest.WMSEffects {
			c := w.emu.WMS().Counts()
			return connectortest.WMSEffects{Releases: c.Releases, Cancellations: c.Cancellations, ReturnAuthorizations: c.ReturnAuthorizations}
		},
		Capabilities: caps,
	}
}

func bare(_ *testing.T, c connector.WMS) connector.WMS { return c }

// roomy is a rate limit the kit's calls stay under.
var roomy = shipbobemu.Config{RateLimit: 1_000_000}

func TestConformance(t *testing.T) {
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		return harness(t, newWorld(t, roomy, nil), nil, bare, connectortest.Capabilities{Health: true})
	})
}

// retrying are the decorator options of the wrapped runs: quick backoff,
// enough attempts to get through the injected faults.
var retrying = connector.Options{
	MaxAttempts: 12,
	Breaker:     retry.BreakerConfig{ConsecutiveFailures: 50},
	Backoff:     retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond},
}

func wrapped(t *testing.T, c connector.WMS) connector.WMS {
	d, err := connector.WrapWMS(c, retrying)
	require.NoError(t, err)
	return d
}

// TestConformanceWithFaults runs the kit against the emulator behind HTTP
// faults (ShipBob-shaped 429 and 503, 401, answers lost after the effect by
// a timeout or a reset) with the connector behind connector.WrapWMS, as a
// user runs it, and checks that every kind of fault was injected.
func TestConformanceWithFaults(t *testing.T) {
	var (
		mu   sync.Mutex
		seed uint64
		sum  faults.HTTPCounts
	)
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		mu.Lock()
		seed++
		s := seed
		mu.Unlock()
		var inj *faults.HTTP
		w := newWorld(t, roomy, func(h http.Handler) http.Handler {
			emu := h.(*shipbobemu.Emulator)
			f, err := faults.NewHTTP(h, faults.HTTPConfig{
				Seed: s, Unavailable: 0.05, RateLimited: 0.05, Unauthorized: 0.03,
				TimeoutAfterEffect: 0.03, ResetAfterEffect: 0.03, RetryAfter: time.Millisecond, Hold: 5 * time.Second,
				Reject: emu.Reject,
			})
			require.NoError(t, err)
			inj = f
			return f
		})
		t.Cleanup(func() {
			c := inj.Counts()
			mu.Lock()
			defer mu.Unlock()
			sum = addCounts(sum, c)
		})
		return harness(t, w, func(c *shipbob.Config) {
			c.Timeout = 500 * time.Millisecond
			c.MaxRetryAfter = 5 * time.Millisecond
		}, wrapped, connectortest.Capabilities{Health: true})
	})
	t.Logf("faults injected: %+v", sum)
	assert.Positive(t, sum.Unavailable, "503 injected: %+v", sum)
	assert.Positive(t, sum.RateLimited, "429 injected: %+v", sum)
	assert.Positive(t, sum.Unauthorized, "401 injected: %+v", sum)
	assert.Positive(t, sum.TimeoutsAfterEffect, "timeouts after the effect injected: %+v", sum)
	assert.Positive(t, sum.ResetsAfterEffect, "resets after the effect injected: %+v", sum)
}

// addCounts sums two fault counts.
func addCounts(a, b faults.HTTPCounts) faults.HTTPCounts {
	a.Requests += b.Requests
	a.Unavailable += b.Unavailable
	a.RateLimited += b.RateLimited
	a.Unauthorized += b.Unauthorized
	a.TimeoutsAfterEffect += b.TimeoutsAfterEffect
	a.ResetsAfterEffect += b.ResetsAfterEffect
	return a
}
