// Package flowgrouptest runs the order-to-cash flow as two members of one
// partitioned consumer group, as two processes would, for the tests of
// each backend of such groups (eventlog's SQL backend, in the flow
// package's tests, and eventlog/jetstream): one check that both share.
// It is internal, not part of eventlog/eventlogtest, because it imports
// the flow package and the reference systems, which sit above eventlog.
package flowgrouptest

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// Process is what one process opened of the shared stores, as the open
// function of [Run] returns it. Every field is required.
type Process struct {
	// Config is the flow's configuration with Log, State, Cursors and
	// Dedupe set; Run sets the systems, the consumer and the rest.
	Config flow.Config
	// Member returns the flow.Config.NewConsumer of the member called
	// member of the flow's partitioned group, with the backend's default
	// lease renewed every renew.
	Member func(member string, renew time.Duration) func(eventlog.ConsumerConfig) (flow.Consumer, error)
	// Watcher returns a member of the group flow.DefaultGroup that Run
	// does not run: it waits for the others with WaitIdle.
	Watcher func() (flow.Consumer, error)
}

// owner is what Run asks of a member besides flow.Consumer.
type owner interface{ Owned() []int }

// Run runs the order-to-cash flow as two members of one partitioned
// group of parts partitions (an even number), each a Process that open
// opened as the process called name would (its own connections), and
// waits for them from a third Process that runs no member. Every order
// goes through: accepted once by the ERP, released once per fulfilment
// order, invoiced once per shipment, the flow's view agreeing with the
// systems; both members handle events and nothing is dead-lettered.
func Run(t *testing.T, parts int, open func(t *testing.T, name string) Process) {
	e, err := erp.New(erp.Config{})
	require.NoError(t, err)
	w, err := wms.New(wms.Config{})
	require.NoError(t, err)
	c, err := crm.New(crm.Config{})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	type member struct {
		f       *flow.Flow
		g       owner
		handled atomic.Int64
		done    chan error
	}
	members := make([]*member, 2)
	for i := range members {
		m := &member{done: make(chan error, 1)}
		members[i] = m
		name := "m" + strconv.Itoa(i)
		p := open(t, name)
		// The default lease (4s): a short one is lost on a loaded
		// machine (renewals late), and the partitions then move back
		// and forth.
		mk := p.Member(name, 500*time.Millisecond)
		cfg := p.Config
		cfg.ERP, cfg.WMS, cfg.CRM = e, w, c
		cfg.PollInterval, cfg.DedupeLease = 20*time.Millisecond, 5*time.Second
		cfg.NewConsumer = func(cc eventlog.ConsumerConfig) (flow.Consumer, error) {
			fc, err := mk(cc)
			if err == nil {
				g, ok := fc.(owner)
				require.True(t, ok, "the consumer of member %d has an Owned method", i)
				m.g = g
			}
			return fc, err
		}
		cfg.Middleware = func(next eventlog.Handler) eventlog.Handler {
			return func(ctx context.Context, ev canonical.Event) error {
				m.handled.Add(1)
				return next(ctx, ev)
			}
		}
		m.f, err = flow.New(cfg)
		require.NoError(t, err, "flow.New of member %d", i)
		go func() { m.done <- m.f.Run(ctx) }()
	}
	defer func() {
		cancel()
		for _, m := range members {
			<-m.done
		}
	}()
	require.Eventually(t, func() bool {
		return len(members[0].g.Owned()) == parts/2 && len(members[1].g.Owned()) == parts/2
	}, 30*time.Second, 20*time.Millisecond, "the members share the partitions")

	var ids []string
	for i := range 8 {
		opp, err := c.OpenOpportunity(t.Context(), crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
			SKU: "SKU-100", Quantity: canonical.MustParseQuantity(strconv.Itoa(1+i), "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
		require.NoError(t, err, "open opportunity %d", i)
		o, err := c.ConvertOpportunity(t.Context(), opp.ID)
		require.NoError(t, err, "convert opportunity %d", i)
		ids = append(ids, o.ID)
	}
	// The coordinator: a member of the flow's group over connections of
	// its own that runs no member.
	watcher, err := open(t, "watcher").Watcher()
	require.NoError(t, err, "the watcher")
	// Generous bounds: on a loaded machine a round of the two members
	// may take many seconds.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		wctx, wcancel := context.WithDeadline(t.Context(), deadline)
		require.NoError(t, watcher.WaitIdle(wctx), "the group catches up")
		wcancel()
		n, err := w.Step(t.Context())
		require.NoError(t, err, "warehouse step")
		if n == 0 && invoiced(t, members[0].f, ids) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the orders are invoiced within 3 minutes")
		time.Sleep(50 * time.Millisecond) // the members' next poll of the feeds
	}
	fos := 0
	for _, id := range ids {
		v, err := members[1].f.Where(t.Context(), id)
		require.NoError(t, err, "Where %s", id)
		assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "order %s invoiced", id)
		assert.Equal(t, len(v.Shipments), e.InvoiceCount(id), "order %s: one invoice per shipment", id)
		assert.NotEmpty(t, v.Shipments, "order %s shipped", id)
		fos += len(v.FulfillmentOrders)
	}
	assert.Equal(t, len(ids), e.Counts().Orders, "one ERP acceptance per order")
	assert.Equal(t, fos, w.Counts().Releases, "one WMS release per fulfilment order")
	for i, m := range members {
		assert.Positive(t, m.handled.Load(), "member %d handled events", i)
	}
	dls, err := members[0].f.DeadLetters(t.Context(), eventlog.Filter{})
	require.NoError(t, err, "DeadLetters")
	assert.Empty(t, dls, "no dead letters")
}

// invoiced reports whether every order is invoiced in full.
func invoiced(t *testing.T, f *flow.Flow, ids []string) bool {
	t.Helper()
	for _, id := range ids {
		v, err := f.Where(t.Context(), id)
		if err != nil || v.Status.Billing != canonical.BillingInvoiced {
			return false
		}
	}
	return true
}
