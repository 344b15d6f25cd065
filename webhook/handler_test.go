package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/webhook"
)

const testSource = "urn:distsync:wms:test"

// clock is an injected clock tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// shipmentMapper maps {"order":"..."} to one shipment event.
func shipmentMapper(_ context.Context, d webhook.Delivery) ([]canonical.Event, error) {
	var p struct {
		Order string `json:"order"`
		Count int    `json:"count"`
	}
	if err := json.Unmarshal(d.Body, &p); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if p.Order == "" {
		return nil, errors.New("body.order: is required")
	}
	n := max(p.Count, 1)
	evs := make([]canonical.Event, n)
	for i := range evs {
		evs[i] = canonical.Event{SpecVersion: canonical.EventSpecVersion, Type: canonical.EventShipmentConfirmed,
			Subject: p.Order, Time: d.Timestamp, Data: json.RawMessage(d.Body)}
	}
	return evs, nil
}

type fixture struct {
	srv    *httptest.Server
	log    *eventlog.Memory
	store  *idempotency.MemoryStore
	clock  *clock
	logBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newFixture(t testing.TB, edit func(*webhook.Config)) *fixture {
	t.Helper()
	f := &fixture{log: eventlog.NewMemory(eventlog.MemoryConfig{}), clock: newClock(t0), logBuf: &syncBuffer{}}
	var err error
	f.store, err = idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1, Now: f.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { f.store.Close() })
	cfg := webhook.Config{
		Source:   testSource,
		Verifier: &webhook.Standard{Secrets: []webhook.Secret{secretNew, secretOld}},
		Map:      shipmentMapper,
		Log:      f.log,
		Dedupe:   f.store,
		Now:      f.clock.Now,
		Logger:   slog.New(slog.NewTextHandler(f.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := webhook.NewHandler(cfg)
	require.NoError(t, err)
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

type answer struct {
	status  int
	header  http.Header
	problem struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	raw string
}

func (f *fixture) post(t testing.TB, h http.Header, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(b, &a.problem), "problem body %s", b)
		assert.Equal(t, resp.StatusCode, a.problem.Status)
	}
	return a
}

func (f *fixture) events(t testing.TB) []canonical.Event {
	t.Helper()
	es, err := f.log.Read(context.Background(), 0, 1000)
	require.NoError(t, err)
	out := make([]canonical.Event, len(es))
	for i, e := range es {
		out[i] = e.Event
	}
	return out
}

func TestHandlerAnswers(t *testing.T) {
	body := []byte(`{"order":"SO-1"}`)
	tests := []struct {
		name        string
		header      http.Header
		body        []byte
		advance     time.Duration
		wantStatus  int
		wantProblem string
		wantEvents  int
	}{
		{"accepted", signed("msg_1", t0, body, secretNew), body, 0, http.StatusNoContent, "", 1},
		{"accepted with old secret", signed("msg_1", t0, body, secretOld), body, 0, http.StatusNoContent, "", 1},
		{"bad signature", signed("msg_1", t0, body, secretBad), body, 0, http.StatusUnauthorized, webhook.ProblemSignature, 0},
		{"too old", signed("msg_1", t0, body, secretNew), body, 6 * time.Minute, http.StatusUnauthorized, webhook.ProblemTimestamp, 0},
		{"too far ahead", signed("msg_1", t0.Add(6*time.Minute), body, secretNew), body, 0, http.StatusUnauthorized, webhook.ProblemTimestamp, 0},
		{"no headers", http.Header{}, body, 0, http.StatusBadRequest, webhook.ProblemHeader, 0},
		{"bad payload", signed("msg_1", t0, []byte(`{"x":1}`), secretNew), []byte(`{"x":1}`), 0, http.StatusUnprocessableEntity, webhook.ProblemUnmappable, 0},
		{"not json", signed("msg_1", t0, []byte(`nope`), secretNew), []byte(`nope`), 0, http.StatusUnprocessableEntity, webhook.ProblemUnmappable, 0},
		{"two events", signed("msg_2", t0, []byte(`{"order":"SO-2","count":2}`), secretNew), []byte(`{"order":"SO-2","count":2}`), 0, http.StatusNoContent, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.clock.Add(tt.advance)
			a := f.post(t, tt.header, tt.body)
			require.Equal(t, tt.wantStatus, a.status, "answer %s", a.raw)
			assert.Equal(t, tt.wantProblem, a.problem.Type)
			evs := f.events(t)
			require.Len(t, evs, tt.wantEvents)
			for i, e := range evs {
				assert.Equal(t, testSource, e.Source)
				if len(evs) == 1 {
					assert.Equal(t, tt.header.Get(webhook.HeaderID), e.ID)
				} else {
					assert.Equal(t, fmt.Sprintf("%s#%d", tt.header.Get(webhook.HeaderID), i+1), e.ID)
				}
			}
		})
	}
}

func TestHandlerMethodAndAckBody(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.AckBody = []byte(`{"code":"200","Status":"Success"}`) })
	resp, err := f.srv.Client().Get(f.srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))

	body := []byte(`{"order":"SO-1"}`)
	a := f.post(t, signed("m", t0, body, secretNew), body)
	assert.Equal(t, http.StatusOK, a.status)
	assert.JSONEq(t, `{"code":"200","Status":"Success"}`, a.raw)
}

func TestHandlerReplay(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(`{"order":"SO-1"}`)
	a := f.post(t, signed("msg_1", t0, body, secretNew), body)
	require.Equal(t, http.StatusNoContent, a.status)
	assert.Empty(t, a.header.Get(idempotency.ReplayedHeader))

	// The sender's retry: same id and body, new timestamp and signature.
	f.clock.Add(time.Minute)
	a = f.post(t, signed("msg_1", t0.Add(time.Minute), body, secretOld), body)
	require.Equal(t, http.StatusNoContent, a.status)
	assert.Equal(t, "true", a.header.Get(idempotency.ReplayedHeader))

	// The same id with another body is refused.
	other := []byte(`{"order":"SO-9"}`)
	a = f.post(t, signed("msg_1", t0.Add(time.Minute), other, secretNew), other)
	require.Equal(t, http.StatusUnprocessableEntity, a.status)
	assert.Equal(t, webhook.ProblemIDReused, a.problem.Type)

	assert.Len(t, f.events(t), 1, "recorded once")
}

// TestHandlerConcurrentDuplicates sends the same delivery from many
// goroutines at once: exactly one append, and every sender is either
// acknowledged or told to retry (409), never acknowledged before the
// record exists.
func TestHandlerConcurrentDuplicates(t *testing.T) {
	const ids, dup = 20, 8
	f := newFixture(t, nil)
	var wg sync.WaitGroup
	var acked, busy atomic.Int64
	for i := range ids {
		body := []byte(fmt.Sprintf(`{"order":"SO-%d"}`, i))
		h := signed(fmt.Sprintf("msg_%d", i), t0, body, secretNew)
		for range dup {
			wg.Go(func() {
				for range 10_000 {
					a := f.post(t, h, body)
					switch a.status {
					case http.StatusNoContent:
						acked.Add(1)
						return
					case http.StatusConflict:
						busy.Add(1)
						assert.Equal(t, "1", a.header.Get("Retry-After"))
						continue // a sender retries
					default:
						t.Errorf("status %d: %s", a.status, a.raw)
						return
					}
				}
				t.Errorf("delivery never acknowledged")
			})
		}
	}
	wg.Wait()
	assert.EqualValues(t, ids*dup, acked.Load())
	evs := f.events(t)
	require.Len(t, evs, ids, "each delivery appended once (%d conflicts seen)", busy.Load())
	seen := map[string]bool{}
	for _, e := range evs {
		assert.False(t, seen[e.ID], "event %s twice", e.ID)
		seen[e.ID] = true
	}
}

// failingLog fails the first n appends.
type failingLog struct {
	eventlog.Log
	fails atomic.Int64
}

func (l *failingLog) Append(ctx context.Context, evs ...canonical.Event) error {
	if l.fails.Add(-1) >= 0 {
		return errors.New("disk on fire")
	}
	return l.Log.Append(ctx, evs...)
}

func TestHandlerLogFailureIsRetried(t *testing.T) {
	mem := eventlog.NewMemory(eventlog.MemoryConfig{})
	fl := &failingLog{Log: mem}
	fl.fails.Store(1)
	f := newFixture(t, func(c *webhook.Config) { c.Log = fl })
	body := []byte(`{"order":"SO-1"}`)
	h := signed("msg_1", t0, body, secretNew)
	a := f.post(t, h, body)
	require.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Equal(t, webhook.ProblemUnavailable, a.problem.Type)
	assert.Equal(t, "1", a.header.Get("Retry-After"))
	assert.NotContains(t, a.raw, "disk on fire", "internal errors stay in the log")
	assert.Equal(t, 0, mem.Len())

	a = f.post(t, h, body) // the sender's retry
	require.Equal(t, http.StatusNoContent, a.status, a.raw)
	assert.Empty(t, a.header.Get(idempotency.ReplayedHeader), "the key was released, not completed")
	assert.Equal(t, 1, mem.Len())
}

func TestHandlerMapErrorHookAndRetry(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	var hooked atomic.Int64
	f := newFixture(t, func(c *webhook.Config) {
		c.Map = func(ctx context.Context, d webhook.Delivery) ([]canonical.Event, error) {
			if broken.Load() {
				return nil, errors.New("mapper bug")
			}
			return shipmentMapper(ctx, d)
		}
		c.OnMapError = func(_ context.Context, d webhook.Delivery, err error) {
			assert.Equal(t, "msg_1", d.ID)
			assert.ErrorContains(t, err, "mapper bug")
			hooked.Add(1)
		}
	})
	body := []byte(`{"order":"SO-1"}`)
	h := signed("msg_1", t0, body, secretNew)
	a := f.post(t, h, body)
	require.Equal(t, http.StatusUnprocessableEntity, a.status)
	assert.EqualValues(t, 1, hooked.Load())
	broken.Store(false) // the mapper is fixed; the vendor retries
	a = f.post(t, h, body)
	require.Equal(t, http.StatusNoContent, a.status)
	assert.Len(t, f.events(t), 1)
}

func TestHandlerInvalidEventIs422(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) {
		c.Map = func(context.Context, webhook.Delivery) ([]canonical.Event, error) {
			return []canonical.Event{{Type: canonical.EventShipmentConfirmed}}, nil // no specversion
		}
	})
	body := []byte(`{}`)
	a := f.post(t, signed("m", t0, body, secretNew), body)
	require.Equal(t, http.StatusUnprocessableEntity, a.status)
	assert.Contains(t, a.problem.Detail, "specversion")
	assert.Empty(t, f.events(t))
}

// TestHandlerCrashBetweenClaimAndComplete: a claim left by a crashed
// process (never completed nor released) is taken over by the redelivery
// after the lease, and the event is recorded.
func TestHandlerCrashBetweenClaimAndComplete(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.Lease = time.Minute })
	body := []byte(`{"order":"SO-1"}`)
	// The crashed process claimed the key with the same fingerprint.
	key := idempotency.Derive(testSource, "webhook", "msg_1")
	_, err := f.store.Claim(context.Background(), key, idempotency.FingerprintBytes(body), time.Minute)
	require.NoError(t, err)
	h := signed("msg_1", t0, body, secretNew)
	a := f.post(t, h, body)
	require.Equal(t, http.StatusConflict, a.status, "within the crashed claim's lease: %s", a.raw)
	assert.Equal(t, webhook.ProblemInProgress, a.problem.Type)
	assert.Empty(t, f.events(t))
	f.clock.Add(time.Minute + time.Second) // the lease ends
	h = signed("msg_1", f.clock.Now(), body, secretNew)
	a = f.post(t, h, body)
	require.Equal(t, http.StatusNoContent, a.status, "taken over after the lease: %s", a.raw)
	assert.Len(t, f.events(t), 1)
}

// lossyStore fails every Complete, as a process crashing between the
// append and the completion would leave the key.
type lossyStore struct{ idempotency.Store }

func (lossyStore) Complete(context.Context, idempotency.Lease, idempotency.Result) error {
	return errors.New("crashed before complete")
}

// TestHandlerCompleteLostAppendsSameKeys: when the completion is lost, the
// delivery is still acknowledged (it is in the log), and the redelivery
// after the lease appends the same event keys, for consumers to dedupe.
func TestHandlerCompleteLostAppendsSameKeys(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) {
		c.Lease = time.Minute
		c.Dedupe = lossyStore{c.Dedupe}
	})
	body := []byte(`{"order":"SO-1"}`)
	a := f.post(t, signed("msg_1", t0, body, secretNew), body)
	require.Equal(t, http.StatusNoContent, a.status, a.raw)
	assert.Contains(t, f.logBuf.String(), "not completed")
	f.clock.Add(2 * time.Minute)
	a = f.post(t, signed("msg_1", f.clock.Now(), body, secretNew), body)
	require.Equal(t, http.StatusNoContent, a.status, a.raw)
	evs := f.events(t)
	require.Len(t, evs, 2)
	assert.Equal(t, evs[0].Key(), evs[1].Key(), "a redelivery appends the same event key")
}

func TestHandlerBodyLimit(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.MaxBodyBytes = 64 })
	big := []byte(`{"order":"` + strings.Repeat("x", 100) + `"}`)
	a := f.post(t, signed("m", t0, big, secretNew), big)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status)
	assert.Equal(t, webhook.ProblemBodyTooLarge, a.problem.Type)

	// 10 MB against the default 1 MiB limit, with and without a length.
	f = newFixture(t, nil)
	huge := bytes.Repeat([]byte("a"), 10<<20)
	a = f.post(t, signed("m", t0, huge, secretNew), huge)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status)
	req, err := http.NewRequest(http.MethodPost, f.srv.URL, io.MultiReader(bytes.NewReader(huge)))
	require.NoError(t, err)
	req.Header = signed("m", t0, huge, secretNew)
	req.ContentLength = -1
	resp, err := f.srv.Client().Do(req)
	if err == nil { // the server may close the connection before the client finished sending
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	}
	assert.Empty(t, f.events(t))

	// Exactly the limit is accepted.
	f = newFixture(t, func(c *webhook.Config) {
		c.MaxBodyBytes = 64
		c.Map = func(context.Context, webhook.Delivery) ([]canonical.Event, error) { return nil, nil }
	})
	exact := bytes.Repeat([]byte("b"), 64)
	a = f.post(t, signed("m", t0, exact, secretNew), exact)
	assert.Equal(t, http.StatusNoContent, a.status)
}

// TestHandlerClientDisconnectsMidBody: a client that announces a body and
// hangs up half way records nothing and leaves no claim behind.
func TestHandlerClientDisconnectsMidBody(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(`{"order":"SO-1"}`)
	h := signed("msg_1", t0, body, secretNew)
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	require.NoError(t, err)
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", len(body))
	for k := range h {
		fmt.Fprintf(&req, "%s: %s\r\n", k, h.Get(k))
	}
	req.WriteString("\r\n")
	req.Write(body[:5])
	_, err = conn.Write(req.Bytes())
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	// The complete delivery then goes through: no claim was left behind.
	a := f.post(t, h, body)
	require.Equal(t, http.StatusNoContent, a.status, a.raw)
	assert.Empty(t, a.header.Get(idempotency.ReplayedHeader))
	assert.Len(t, f.events(t), 1)
}

// TestHandlerNeverLeaksSecrets refuses deliveries in every way and checks
// that neither the secrets nor the expected signature appear in an answer
// or the log.
func TestHandlerNeverLeaksSecrets(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(`{"order":"SO-1"}`)
	var answers []string
	for _, h := range []http.Header{
		signed("m", t0, body, secretBad),
		signed("m", t0.Add(-time.Hour), body, secretNew),
		func() http.Header {
			h := signed("m", t0, body, secretNew)
			h.Set(webhook.HeaderSignature, "v1,xx")
			return h
		}(),
		func() http.Header { h := signed("m", t0, body, secretNew); h.Set(webhook.HeaderID, "m2"); return h }(),
	} {
		a := f.post(t, h, body)
		require.GreaterOrEqual(t, a.status, 400)
		answers = append(answers, a.raw, fmt.Sprint(a.header))
	}
	forbidden := []string{
		string(secretNew), string(secretOld), secretNew.Encode(), secretOld.Encode(),
		base64.StdEncoding.EncodeToString(secretNew), base64.StdEncoding.EncodeToString(secretOld),
		strings.TrimPrefix(webhook.Sign(secretNew, "m", t0, body), "v1,"),
		strings.TrimPrefix(webhook.Sign(secretNew, "m2", t0, body), "v1,"),
		strings.TrimPrefix(webhook.Sign(secretOld, "m", t0, body), "v1,"),
		strings.TrimPrefix(webhook.Sign(secretNew, "m", t0.Add(-time.Hour), body), "v1,"),
	}
	logs := f.logBuf.String()
	require.Contains(t, logs, "delivery refused")
	for _, s := range forbidden {
		for _, a := range answers {
			assert.NotContains(t, a, s)
		}
		assert.NotContains(t, logs, s)
	}
}

func TestConfigValidate(t *testing.T) {
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1})
	require.NoError(t, err)
	good := webhook.Config{Source: testSource, Verifier: &webhook.Standard{Secrets: []webhook.Secret{secretNew}},
		Map: shipmentMapper, Log: eventlog.NewMemory(eventlog.MemoryConfig{}), Dedupe: store}
	require.NoError(t, good.Validate())
	tests := []struct {
		name string
		edit func(*webhook.Config)
	}{
		{"no source", func(c *webhook.Config) { c.Source = "" }},
		{"no verifier", func(c *webhook.Config) { c.Verifier = nil }},
		{"verifier without secret", func(c *webhook.Config) { c.Verifier = &webhook.Standard{} }},
		{"no map", func(c *webhook.Config) { c.Map = nil }},
		{"no log", func(c *webhook.Config) { c.Log = nil }},
		{"no dedupe", func(c *webhook.Config) { c.Dedupe = nil }},
		{"negative lease", func(c *webhook.Config) { c.Lease = -1 }},
		{"negative body limit", func(c *webhook.Config) { c.MaxBodyBytes = -1 }},
	}
	for _, tt := range tests {
		c := good
		tt.edit(&c)
		_, err := webhook.NewHandler(c)
		assert.ErrorIs(t, err, webhook.ErrInvalidConfig, tt.name)
	}
}

// TestHandlerDuplicateWhileRecording: a duplicate arriving while the first
// delivery is being mapped is told to retry (409), not acknowledged before
// the record exists.
func TestHandlerDuplicateWhileRecording(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	f := newFixture(t, func(c *webhook.Config) {
		c.Map = func(ctx context.Context, d webhook.Delivery) ([]canonical.Event, error) {
			close(entered)
			<-release
			return shipmentMapper(ctx, d)
		}
	})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the server closes, even when the test fails
	body := []byte(`{"order":"SO-1"}`)
	h := signed("msg_1", t0, body, secretNew)
	first := make(chan answer, 1)
	go func() { first <- f.post(t, h, body) }()
	<-entered
	a := f.post(t, h, body)
	require.Equal(t, http.StatusConflict, a.status, a.raw)
	assert.Equal(t, webhook.ProblemInProgress, a.problem.Type)
	assert.Equal(t, "1", a.header.Get("Retry-After"))
	assert.Empty(t, f.events(t), "nothing recorded yet")
	unblock()
	require.Equal(t, http.StatusNoContent, (<-first).status)
	a = f.post(t, h, body)
	require.Equal(t, http.StatusNoContent, a.status)
	assert.Equal(t, "true", a.header.Get(idempotency.ReplayedHeader))
	assert.Len(t, f.events(t), 1)
}

// TestHandlerShipHeroScheme runs the intake with the body-HMAC verifier
// and ShipHero's acknowledgement body over loopback.
func TestHandlerShipHeroScheme(t *testing.T) {
	k := webhook.Secret("shiphero-app-secret")
	f := newFixture(t, func(c *webhook.Config) {
		c.Verifier = &webhook.BodyHMAC{Header: "X-Shiphero-Hmac-Sha256", IDHeader: "X-Shiphero-Message-ID", Secrets: []webhook.Secret{k}}
		c.AckBody = []byte(`{"code":"200","Status":"Success"}`)
	})
	body := []byte(`{"order":"SO-7","webhook_type":"Shipment Update"}`)
	h := http.Header{}
	h.Set("X-Shiphero-Hmac-Sha256", webhook.SignBody(k, body))
	h.Set("X-Shiphero-Message-ID", "sh-msg-1")
	for i, want := range []string{"", "true"} {
		a := f.post(t, h, body)
		require.Equal(t, http.StatusOK, a.status, "delivery %d: %s", i, a.raw)
		assert.JSONEq(t, `{"code":"200","Status":"Success"}`, a.raw)
		assert.Equal(t, want, a.header.Get(idempotency.ReplayedHeader), "delivery %d", i)
	}
	h.Set("X-Shiphero-Hmac-Sha256", webhook.SignBody(secretBad, body))
	a := f.post(t, h, body)
	assert.Equal(t, http.StatusUnauthorized, a.status)
	evs := f.events(t)
	require.Len(t, evs, 1)
	assert.Equal(t, "sh-msg-1", evs[0].ID)
}
