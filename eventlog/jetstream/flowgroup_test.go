package jetstream_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/natstest"
	"github.com/distsync/distsync/wms"
)

// openParts opens a backend with its own stream and buckets on srv and
// parts partitions.
func openParts(t *testing.T, srv *natstest.Server, parts int) (*jetstream.Backend, jetstream.Config) {
	t.Helper()
	n := strconv.FormatInt(storeN.Add(1), 10)
	cfg := jetstream.Config{URL: srv.URL(), Stream: "EV" + n, Subject: "ev" + n, BucketPrefix: "b" + n, Partitions: parts}
	return open(t, cfg), cfg
}

// TestGroupWaitIdle waits for a group from a Group value that does not
// run: idle on an empty log, not idle while no member consumes the
// events, idle once a member handled every event and every event its
// handler appended.
func TestGroupWaitIdle(t *testing.T) {
	srv := natstest.Start(t)
	b, _ := openParts(t, srv, 4)
	noop := func(context.Context, canonical.Event) error { return nil }
	watcher, err := b.NewGroup(jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "g", Handler: noop}})
	require.NoError(t, err, "NewGroup of the watcher")
	assert.Equal(t, []string{"g/p0", "g/p1", "g/p2", "g/p3"}, watcher.ConsumerGroups(), "one consumer group per partition")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, watcher.WaitIdle(ctx), "an empty log is idle")

	const n = 20
	for i := range n {
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event("order-"+strconv.Itoa(i), 1)), "append %d", i)
	}
	short, cancelShort := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err = watcher.WaitIdle(short)
	cancelShort()
	require.ErrorIs(t, err, context.DeadlineExceeded, "not idle while no member consumes")

	var mu sync.Mutex
	handled := map[string]bool{}
	member, err := b.NewGroup(jetstream.GroupConfig{Member: "m1", LeaseTTL: time.Second, Renew: 200 * time.Millisecond,
		Consumer: eventlog.ConsumerConfig{Group: "g", PollInterval: 20 * time.Millisecond,
			Handler: func(ctx context.Context, ev canonical.Event) error {
				// Slow, and each first event appends a follow-up under
				// another key: WaitIdle must wait for both.
				time.Sleep(5 * time.Millisecond)
				if ev.Subject != "" && ev.Type != "follow-up" {
					f := eventlogtest.Event("next-"+ev.Subject, 1)
					f.Type = "follow-up"
					if err := b.Append(ctx, f); err != nil {
						return err
					}
				}
				mu.Lock()
				handled[ev.ID] = true
				mu.Unlock()
				return nil
			}}})
	require.NoError(t, err, "NewGroup of the member")
	rctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- member.Run(rctx) }()
	defer func() { stop(); <-done }()
	ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, watcher.WaitIdle(ctx), "idle once the member caught up")
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, handled, 2*n, "every event and every follow-up handled when WaitIdle returned")
}

// TestFlowOnGroup runs the order-to-cash flow as two members of one
// partitioned group, as two processes would (each its own connection),
// over one FlowState and one dedupe store: every order goes through, each
// accepted once, released once per fulfilment order and invoiced once per
// shipment, and both members handle orders.
func TestFlowOnGroup(t *testing.T) {
	srv := natstest.Start(t)
	_, cfg := openParts(t, srv, 4)
	state, _ := newFlowState(t, srv, nil)
	idem, err := jetstream.NewIdempotencyStore(t.Context(), jetstream.IdempotencyConfig{URL: srv.URL(), Bucket: "flowidem"})
	require.NoError(t, err, "NewIdempotencyStore")
	t.Cleanup(func() { _ = idem.Close() })
	e, err := erp.New(erp.Config{})
	require.NoError(t, err)
	w, err := wms.New(wms.Config{})
	require.NoError(t, err)
	c, err := crm.New(crm.Config{})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	type member struct {
		f       *flow.Flow
		g       *jetstream.Group
		handled atomic.Int64
		done    chan error
	}
	members := make([]*member, 2)
	for i := range members {
		m := &member{done: make(chan error, 1)}
		members[i] = m
		b := open(t, cfg)
		// The default lease (4s): a short one is lost on a loaded machine
		// (renewals late), and the partitions then move back and forth.
		mk := b.GroupConsumer(jetstream.GroupConfig{Member: fmt.Sprintf("m%d", i), Renew: 500 * time.Millisecond})
		m.f, err = flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: b, State: state, Cursors: state, Dedupe: idem,
			PollInterval: 20 * time.Millisecond, DedupeLease: 5 * time.Second,
			NewConsumer: func(cc eventlog.ConsumerConfig) (flow.Consumer, error) {
				fc, err := mk(cc)
				if err == nil {
					m.g = fc.(*jetstream.Group)
				}
				return fc, err
			},
			Middleware: func(next eventlog.Handler) eventlog.Handler {
				return func(ctx context.Context, ev canonical.Event) error {
					m.handled.Add(1)
					return next(ctx, ev)
				}
			}})
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
		return len(members[0].g.Owned()) == 2 && len(members[1].g.Owned()) == 2
	}, 30*time.Second, 20*time.Millisecond, "the members share the four partitions")

	var ids []string
	for i := range 8 {
		opp, err := c.OpenOpportunity(t.Context(), crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
			SKU: "SKU-100", Quantity: canonical.MustParseQuantity(strconv.Itoa(1+i), "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
		require.NoError(t, err, "open opportunity %d", i)
		o, err := c.ConvertOpportunity(t.Context(), opp.ID)
		require.NoError(t, err, "convert opportunity %d", i)
		ids = append(ids, o.ID)
	}
	watcher := b0Watcher(t, cfg)
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

// b0Watcher returns a Group of the flow's default group over its own
// connection that does not run: it waits for the members.
func b0Watcher(t *testing.T, cfg jetstream.Config) *jetstream.Group {
	t.Helper()
	g, err := open(t, cfg).NewGroup(jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: flow.DefaultGroup,
		Handler: func(context.Context, canonical.Event) error { return nil }}})
	require.NoError(t, err, "NewGroup of the watcher")
	return g
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
