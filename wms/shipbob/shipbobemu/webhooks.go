// This file owns webhook subscriptions and deliveries: Standard Webhooks
// signatures, the outbox, and retries with exponential backoff.

package shipbobemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/distsync/distsync/webhook"
	"github.com/distsync/distsync/wms/shipbob/internal/wire"
)

// Webhook retries: the first retry after RetryBase, doubling up to RetryMax,
// and a message is dropped once RetryFor has passed since it was queued.
const (
	RetryBase = time.Second
	RetryMax  = time.Hour
	RetryFor  = 24 * time.Hour
)

// topics are the webhook topics the emulator sends.
var topics = []string{
	wire.TopicOrderShipped, wire.TopicShipmentExcept, wire.TopicShipmentOnHold, wire.TopicShipmentCancel,
	wire.TopicReturnCreated, wire.TopicReturnCompleted,
}

// delivery is one message to one subscription URL.
type delivery struct {
	id, topic, url string
	body           []byte
	queued, next   time.Time
	attempts       int
}

func (e *Emulator) subscribe(w http.ResponseWriter, r *http.Request) {
	var s wire.Subscription
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&s); err != nil {
		writeProblem(w, http.StatusBadRequest, map[string][]string{"": {"The request body is not valid JSON: " + err.Error()}})
		return
	}
	bad := map[string][]string{}
	if u, err := url.Parse(s.URL); err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		bad["url"] = []string{fmt.Sprintf("The url %q is not an absolute http(s) URL.", s.URL)}
	}
	if len(s.Topics) == 0 {
		bad["topics"] = []string{"At least one topic is required."}
	}
	for i, t := range s.Topics {
		if !slices.Contains(topics, t) {
			bad[fmt.Sprintf("topics[%d]", i)] = []string{fmt.Sprintf("Unknown topic %q.", t)}
		}
	}
	if len(e.cfg.WebhookSecret) == 0 {
		bad[""] = append(bad[""], "The emulator has no webhook secret (Config.WebhookSecret).")
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, bad)
		return
	}
	e.mu.Lock()
	e.nextID++
	s.ID, s.CreatedAt = e.nextID, e.stampLocked()
	e.subs = append(e.subs, s)
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, s)
}

func (e *Emulator) listSubscriptions(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	subs := slices.Clone(e.subs)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, append([]wire.Subscription{}, subs...))
}

func (e *Emulator) unsubscribe(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	e.mu.Lock()
	n := len(e.subs)
	e.subs = slices.DeleteFunc(e.subs, func(s wire.Subscription) bool { return s.ID == id })
	found := len(e.subs) < n
	e.mu.Unlock()
	if !found {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("Subscription %q was not found.", r.PathValue("id")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// enqueueLocked queues a message of topic with payload for every
// subscription to it.
func (e *Emulator) enqueueLocked(topic string, payload any) {
	var body []byte
	now := e.cfg.Clock()
	for _, s := range e.subs {
		if !slices.Contains(s.Topics, topic) {
			continue
		}
		if body == nil {
			b, err := json.Marshal(payload)
			if err != nil {
				return
			}
			body = b
		}
		e.nextMsg++
		e.outbox = append(e.outbox, &delivery{id: fmt.Sprintf("msg_%d", e.nextMsg), topic: topic, url: s.URL, body: body, queued: now, next: now})
	}
}

// Pending returns how many webhook messages wait for delivery.
func (e *Emulator) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.outbox)
}

// DeliverWebhooks sends every queued webhook message that is due by the
// emulator's clock, one request each, in the order they were queued, and
// returns how many were acknowledged (2xx). A message answered otherwise,
// or not answered, is retried by a later call after an exponential backoff
// (RetryBase doubling to RetryMax) and dropped RetryFor after it was
// queued. Each request is a POST of the JSON payload with the Standard
// Webhooks headers webhook-id (the same for every attempt of a message),
// webhook-timestamp and webhook-signature ("v1," and the base64
// HMAC-SHA256 of "id.timestamp.body" under Config.WebhookSecret), and the
// topic in x-webhook-topic. The emulator sends nothing by itself: tests
// and examples call DeliverWebhooks when they want deliveries.
func (e *Emulator) DeliverWebhooks(ctx context.Context) (int, error) {
	now := e.cfg.Clock()
	e.mu.Lock()
	var due []*delivery
	for _, d := range e.outbox {
		if !d.next.After(now) {
			due = append(due, d)
		}
	}
	e.mu.Unlock()
	delivered := 0
	for _, d := range due {
		if err := ctx.Err(); err != nil {
			return delivered, context.Cause(ctx)
		}
		ok := e.send(ctx, d, now)
		e.mu.Lock()
		e.counts.WebhooksSent++
		if ok {
			delivered++
			e.counts.WebhooksDelivered++
		} else {
			d.attempts++
			d.next = now.Add(min(RetryBase<<(d.attempts-1), RetryMax))
		}
		if ok || d.next.Sub(d.queued) > RetryFor {
			e.outbox = slices.DeleteFunc(e.outbox, func(x *delivery) bool { return x == d })
		}
		e.mu.Unlock()
	}
	return delivered, nil
}

// send makes one delivery attempt and reports whether it was acknowledged.
func (e *Emulator) send(ctx context.Context, d *delivery, now time.Time) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	webhook.SetHeaders(req.Header, d.id, now, d.body, webhook.Secret(e.cfg.WebhookSecret))
	req.Header.Set(wire.HeaderTopic, d.topic)
	resp, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}
