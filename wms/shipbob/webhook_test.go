package shipbob_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/webhook"
	"github.com/distsync/distsync/wms"
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// movable is a clock tests move, safe for concurrent use.
type movable struct{ ns atomic.Int64 }

func (m *movable) Now() time.Time      { return time.Unix(0, m.ns.Load()).UTC() }
func (m *movable) Add(d time.Duration) { m.ns.Add(int64(d)) }
func newMovable(t time.Time) *movable  { m := &movable{}; m.ns.Store(t.UnixNano()); return m }
func keys(es []canonical.Event) []string {
	return mapSorted(es, func(e canonical.Event) string { return e.Key().String() })
}
func mapSorted[T any](xs []T, f func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	slices.Sort(out)
	return out
}

// TestWebhooksEndToEnd runs ShipBob's webhooks from the emulator through
// the signed intake (webhook.Handler verifying Standard Webhooks) into an
// event log, with a lost acknowledgement that makes the emulator redeliver,
// and checks that the log holds each event once and the same events, by
// key, as the polling feed gives for the same shipments and returns.
func TestWebhooksEndToEnd(t *testing.T) {
	ctx := t.Context()
	clk := newMovable(time.Now())
	secret := []byte("shipbob-webhook-secret-0123456789")
	w := newWorld(t, shipbobemu.Config{RateLimit: 1_000_000, Clock: clk.Now, WebhookSecret: secret}, nil)
	c := w.client(t, nil)

	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Now: clk.Now})
	require.NoError(t, err)
	defer store.Close()
	intake, err := webhook.NewHandler(webhook.Config{
		Source: shipbob.DefaultSource, Verifier: &webhook.Standard{Secrets: []webhook.Secret{secret}},
		Map: c.Mapper(), Log: log, Dedupe: store, Now: clk.Now,
	})
	require.NoError(t, err)
	// The first delivery is recorded but its acknowledgement is lost.
	var requests, lost atomic.Int32
	front := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if lost.CompareAndSwap(0, 1) {
			intake.ServeHTTP(httptest.NewRecorder(), r)
			rw.WriteHeader(http.StatusBadGateway)
			return
		}
		intake.ServeHTTP(rw, r)
	})
	srv := httptest.NewServer(front)
	defer srv.Close()
	_, err = c.CreateWebhook(ctx, srv.URL+"/shipbob")
	require.NoError(t, err)

	ship, short, cancel := kitFO(1), kitFO(2), kitFO(3)
	short.Lines = short.Lines[:1]
	short.Lines[0].Quantity = canonical.MustParseQuantity("150", "EA")
	for _, fo := range []canonical.FulfillmentOrder{ship, short, cancel} {
		_, err := c.Release(ctx, fo)
		require.NoError(t, err)
	}
	_, err = c.CancelRelease(ctx, "k", connector.CancelRequest{FulfillmentOrderID: cancel.ID})
	require.NoError(t, err)
	r := kitReturn(1)
	_, err = c.AuthorizeReturn(ctx, r)
	require.NoError(t, err)
	settle(t, w, 5)
	require.NoError(t, w.emu.ReceiveReturn(ctx, r.ID, []wms.ReturnReceipt{{LineID: r.ID + ":1",
		Quantity: canonical.MustParseQuantity("1", "EA"), Condition: canonical.ConditionOpened, Disposition: canonical.DispositionQuarantine}}))

	queued := w.emu.Pending()
	require.Positive(t, queued)
	n, err := w.emu.DeliverWebhooks(ctx)
	require.NoError(t, err)
	assert.Equal(t, queued-1, n, "all but the lost acknowledgement")
	assert.Equal(t, 1, w.emu.Pending(), "the lost one waits for its retry")
	n, err = w.emu.DeliverWebhooks(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "not retried before its backoff")
	clk.Add(shipbobemu.RetryBase)
	n, err = w.emu.DeliverWebhooks(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "retried after its backoff")
	assert.Zero(t, w.emu.Pending())
	assert.Equal(t, int32(queued+1), requests.Load(), "one request per message and one retry")

	entries, err := log.Read(ctx, 0, 1000)
	require.NoError(t, err)
	var pushed []canonical.Event
	for _, e := range entries {
		pushed = append(pushed, e.Event)
	}
	polled, _ := readAll(t, c, "", 0)
	polled = slices.DeleteFunc(polled, func(e canonical.Event) bool {
		return !strings.HasPrefix(e.ID, "shipment-") && !strings.HasPrefix(e.ID, "return-")
	})
	assert.Equal(t, keys(polled), keys(pushed), "the webhooks give the polling feed's events, each once")
	assert.Len(t, entries, len(polled), "the redelivered webhook was not appended again")
	for _, typ := range []canonical.EventType{canonical.EventFulfillmentShipped, canonical.EventFulfillmentBackordered,
		canonical.EventFulfillmentCancelled, canonical.EventReturnReceived} {
		assert.True(t, slices.ContainsFunc(pushed, func(e canonical.Event) bool { return e.Type == typ }), "a %s event arrived by webhook", typ)
	}
}

// TestWebhookRefused checks that the intake refuses a delivery signed
// with another secret, so the emulator keeps it for a retry.
func TestWebhookRefused(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t, shipbobemu.Config{RateLimit: 1_000_000, WebhookSecret: []byte("the emulator's secret")}, nil)
	c := w.client(t, nil)
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	require.NoError(t, err)
	defer store.Close()
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	intake, err := webhook.NewHandler(webhook.Config{Source: shipbob.DefaultSource,
		Verifier: &webhook.Standard{Secrets: []webhook.Secret{[]byte("another secret")}}, Map: c.Mapper(), Log: log, Dedupe: store})
	require.NoError(t, err)
	srv := httptest.NewServer(intake)
	defer srv.Close()
	_, err = c.CreateWebhook(ctx, srv.URL, "order.shipped")
	require.NoError(t, err)
	_, err = c.Release(ctx, kitFO(1))
	require.NoError(t, err)
	settle(t, w, 5)
	n, err := w.emu.DeliverWebhooks(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, w.emu.Pending())
	assert.Zero(t, log.Len())
}

// TestMapWebhookErrors checks payloads the mapping cannot read and topics
// it ignores.
func TestMapWebhookErrors(t *testing.T) {
	c := newWorld(t, roomy, nil).client(t, nil)
	cases := []struct {
		topic, body string
		wantErr     bool
	}{
		{"order.shipped", `{`, true},
		{"order.shipped", `{"id":1}`, true},
		{"return.completed", `[]`, true},
		{"billing.invoice", `{}`, false},
	}
	for _, tc := range cases {
		es, err := c.MapWebhook(t.Context(), tc.topic, []byte(tc.body))
		if tc.wantErr {
			assert.ErrorIs(t, err, shipbob.ErrWebhook, "%s %s", tc.topic, tc.body)
			assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
		} else {
			assert.NoError(t, err, tc.topic)
			assert.Empty(t, es, tc.topic)
		}
	}
}
