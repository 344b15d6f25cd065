// This file owns the intake Handler: body limit, verification, replay
// protection, mapping, the append to the log and the answers.

package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
)

// DefaultMaxBodyBytes is the body limit when Config.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// Problem types of the Handler's RFC 9457 answers (application/problem+json).
const (
	// ProblemMethod: 405, the request is not a POST.
	ProblemMethod = "https://distsync.dev/problems/webhook-method-not-allowed"
	// ProblemBodyTooLarge: 413, the body exceeds Config.MaxBodyBytes.
	ProblemBodyTooLarge = "https://distsync.dev/problems/webhook-body-too-large"
	// ProblemBodyUnread: 400, the body could not be read.
	ProblemBodyUnread = "https://distsync.dev/problems/webhook-body-unreadable"
	// ProblemHeader: 400, a signature header is missing or malformed.
	ProblemHeader = "https://distsync.dev/problems/webhook-header-invalid"
	// ProblemSignature: 401, no signature matches an active secret.
	ProblemSignature = "https://distsync.dev/problems/webhook-signature-invalid"
	// ProblemTimestamp: 401, the signed timestamp is outside the tolerance
	// (too old, or too far in the future).
	ProblemTimestamp = "https://distsync.dev/problems/webhook-timestamp-out-of-tolerance"
	// ProblemIDReused: 422, the webhook ID was already recorded with
	// another body.
	ProblemIDReused = "https://distsync.dev/problems/webhook-id-reused"
	// ProblemInProgress: 409, the same webhook ID is being recorded right
	// now; Retry-After says when to try again.
	ProblemInProgress = "https://distsync.dev/problems/webhook-in-progress"
	// ProblemUnmappable: 422, the payload could not be mapped to valid
	// events. Nothing was recorded; the key is released, so a redelivery
	// after the mapper is fixed is recorded.
	ProblemUnmappable = "https://distsync.dev/problems/webhook-payload-unmappable"
	// ProblemUnavailable: 503, the idempotency store or the log failed;
	// nothing was acknowledged and the sender should retry.
	ProblemUnavailable = "https://distsync.dev/problems/webhook-intake-unavailable"
)

// Delivery is one verified webhook request, as the Mapper sees it. It is a
// plain value owned by the Handler for the duration of the Mapper call; the
// Mapper may keep Body (for example as an event's Data) but must not modify
// it.
type Delivery struct {
	// ID is the delivery's ID (Verified.ID): the same for every redelivery
	// of one message.
	ID string
	// Timestamp is the signed timestamp, zero when the scheme has none.
	Timestamp time.Time
	// Received is the Handler's clock when the request arrived.
	Received time.Time
	// Header holds the request's headers (the vendor's topic header, for
	// example).
	Header http.Header
	// Body is the verified body.
	Body []byte
}

// Mapper turns a verified delivery into canonical events. An event whose
// ID is empty gets one derived from the delivery (the delivery ID, followed
// by "#" and the event's position when there are several) and an empty
// Source gets Config.Source, so that a redelivered webhook maps to the same
// event keys and a consumer deduplicating by source and id sees it once.
// A Mapper returning no events and no error acknowledges the delivery
// without recording anything (an event type the connector ignores).
//
// An error, or an event that fails canonical.Event.Validate, is answered 422
// (ProblemUnmappable) and nothing is recorded. Mappers are called
// concurrently.
type Mapper func(ctx context.Context, d Delivery) ([]canonical.Event, error)

// Appender records events durably: all or none, and before returning nil.
// eventlog.Log (Memory, SQL) implements it; so can a function that writes an
// outbox inside the application's transaction. An error matching
// eventlog.ErrInvalidEvent counts as a mapping error (422); any other as
// unavailability (503). Implementations must be safe for concurrent use.
type Appender interface {
	Append(ctx context.Context, events ...canonical.Event) error
}

// Config configures a Handler. Verifier, Map, Log, Dedupe and Source are
// required; the zero values of the others are the documented defaults.
type Config struct {
	// Source names the sending system, as a CloudEvents source such as
	// "urn:distsync:wms:shipbob". It scopes the replay keys and is the
	// Source of mapped events that leave theirs empty. Required.
	Source string
	// Verifier checks signatures. Required.
	Verifier Verifier
	// Map maps a verified delivery to events. Required.
	Map Mapper
	// Log records the events before the acknowledgement. Required.
	Log Appender
	// Dedupe holds the replay keys: one per delivery ID, claimed before
	// the append and completed after it. Choose its retention longer than
	// the sender retries. Required.
	Dedupe idempotency.Store
	// Lease is how long a claim holds a delivery ID, and bounds the time
	// spent mapping and appending. A delivery whose handling crashed is
	// taken over by a redelivery after it. Zero means
	// idempotency.DefaultLease.
	Lease time.Duration
	// MaxBodyBytes is the largest accepted body. Zero means
	// DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// Now is the clock the signed timestamps are checked against. Nil
	// means time.Now. It is called concurrently.
	Now func() time.Time
	// Logger receives refused deliveries (Info) and failures (Error),
	// without secrets or signatures. Nil means discard.
	Logger *slog.Logger
	// OnMapError, when not nil, is called with a delivery whose mapping
	// failed, before the 422 answer, so the application can keep the raw
	// payload for inspection and replay rather than depend on the sender's
	// retries alone. It is called concurrently and must not keep Body
	// beyond the call without copying it.
	OnMapError func(ctx context.Context, d Delivery, err error)
	// AckBody, when not nil, is the JSON body of the acknowledgement
	// (answered 200 application/json), for vendors that expect one, such
	// as ShipHero's {"code":"200","Status":"Success"}. Nil means 204 No
	// Content.
	AckBody []byte
}

// Validate reports a missing required field or a negative duration or
// limit as an error matching ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.Source == "":
		return fmt.Errorf("%w: Source is required", ErrInvalidConfig)
	case c.Verifier == nil:
		return fmt.Errorf("%w: Verifier is required", ErrInvalidConfig)
	case c.Map == nil:
		return fmt.Errorf("%w: Map is required", ErrInvalidConfig)
	case c.Log == nil:
		return fmt.Errorf("%w: Log is required", ErrInvalidConfig)
	case c.Dedupe == nil:
		return fmt.Errorf("%w: Dedupe is required", ErrInvalidConfig)
	case c.Lease < 0:
		return fmt.Errorf("%w: Lease %v is negative", ErrInvalidConfig, c.Lease)
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("%w: MaxBodyBytes %d is negative", ErrInvalidConfig, c.MaxBodyBytes)
	}
	if v, ok := c.Verifier.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Handler is the webhook intake, an http.Handler. For each POST it
//
//  1. reads the body up to Config.MaxBodyBytes (413 beyond);
//  2. verifies it with Config.Verifier (400 for missing or malformed
//     headers, 401 for a bad signature or a timestamp out of tolerance,
//     and for any other error of a Verifier);
//  3. claims the delivery ID in Config.Dedupe: an ID already recorded is
//     acknowledged again (2xx, with the Idempotent-Replayed: true header)
//     and not recorded twice; one being recorded right now is answered 409
//     with Retry-After, so that the sender comes back once the first
//     attempt is done, and an ID recorded with another body is refused
//     (422);
//  4. maps the body with Config.Map (422 on error, the key released);
//  5. appends the events to Config.Log and only then completes the key and
//     acknowledges (204, or 200 with Config.AckBody). A failing store or
//     log is answered 503 with Retry-After and the key is released.
//
// Nothing acknowledged is lost: the acknowledgement follows the append.
// A crash between the append and the completion leaves the key claimed
// until its lease ends; the redelivery then appends the events again under
// the same event keys (see Mapper), which consumers deduplicate
// (eventlog.ConsumerConfig.Dedupe). Once the body is read, the handling
// does not depend on the client staying connected.
//
// Every refusal is an application/problem+json document naming what was
// wrong; it never holds a secret or an expected signature.
//
// A Handler is safe for concurrent use. Create it with NewHandler; the zero
// value is not usable.
type Handler struct {
	cfg     Config
	lease   time.Duration
	maxBody int64
	now     func() time.Time
	log     *slog.Logger
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler for cfg, or an error matching
// ErrInvalidConfig.
func NewHandler(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, lease: cfg.Lease, maxBody: cfg.MaxBodyBytes, now: cfg.Now, log: cfg.Logger}
	if h.lease == 0 {
		h.lease = idempotency.DefaultLease
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// retryAfter is the Retry-After of 409 and 503 answers.
const retryAfter = time.Second

// ServeHTTP implements http.Handler; see Handler for what it answers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		problem(w, http.StatusMethodNotAllowed, ProblemMethod, "Webhooks are delivered with POST", "", 0)
		return
	}
	received := h.now()
	body, err := h.readBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.refuse(ctx, w, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge, "Webhook body is too large",
				fmt.Sprintf("the body exceeds %d bytes", h.maxBody), "", err)
			return
		}
		h.refuse(ctx, w, http.StatusBadRequest, ProblemBodyUnread, "Webhook body could not be read", "", "", err)
		return
	}
	v, err := h.cfg.Verifier.Verify(r.Header, body, received)
	if err != nil {
		status, typ, title := http.StatusUnauthorized, ProblemSignature, "Webhook signature is invalid"
		switch {
		case errors.Is(err, ErrMissingHeader), errors.Is(err, ErrMalformedHeader):
			status, typ, title = http.StatusBadRequest, ProblemHeader, "Webhook signature headers are missing or malformed"
		case errors.Is(err, ErrTimestamp):
			typ, title = ProblemTimestamp, "Webhook timestamp is outside the tolerance"
		}
		h.refuse(ctx, w, status, typ, title, err.Error(), "", err)
		return
	}
	if v.ID == "" {
		h.refuse(ctx, w, http.StatusBadRequest, ProblemHeader, "Webhook has no delivery ID", "", "", errors.New("verifier returned an empty ID"))
		return
	}
	d := Delivery{ID: v.ID, Timestamp: v.Timestamp, Received: received, Header: r.Header, Body: body}

	// From here on the outcome must not depend on the client staying: a
	// claim taken must be completed or released.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.lease)
	defer cancel()
	key := idempotency.Derive(h.cfg.Source, "webhook", d.ID)
	fp := idempotency.FingerprintBytes(body)
	c, err := h.cfg.Dedupe.Claim(rctx, key, fp, h.lease)
	if err != nil {
		h.fail(rctx, w, d.ID, "claim", err)
		return
	}
	switch c.Status {
	case idempotency.Completed:
		w.Header().Set(idempotency.ReplayedHeader, "true")
		h.log.LogAttrs(ctx, slog.LevelInfo, "webhook: duplicate delivery acknowledged", slog.String("source", h.cfg.Source), slog.String("webhook_id", d.ID))
		h.ack(w)
		return
	case idempotency.InProgress:
		h.refuse(ctx, w, http.StatusConflict, ProblemInProgress, "This webhook is being recorded",
			"a delivery with the same webhook ID is being recorded; retry later", d.ID, idempotency.ErrInProgress)
		return
	case idempotency.Mismatch:
		h.refuse(ctx, w, http.StatusUnprocessableEntity, ProblemIDReused, "Webhook ID was already used for another body",
			"", d.ID, idempotency.ErrMismatch)
		return
	case idempotency.Claimed:
	default:
		h.fail(rctx, w, d.ID, "claim", fmt.Errorf("unknown claim status %v", c.Status))
		return
	}

	events, err := h.cfg.Map(rctx, d)
	if err == nil {
		h.complete(events, d)
		for i := range events {
			if verr := events[i].Validate(); verr != nil {
				err = fmt.Errorf("event %d: %w", i, verr)
				break
			}
		}
	}
	if err != nil {
		h.release(rctx, c.Lease, d.ID)
		if h.cfg.OnMapError != nil {
			h.cfg.OnMapError(rctx, d, err)
		}
		h.log.LogAttrs(ctx, slog.LevelError, "webhook: payload not mapped", slog.String("source", h.cfg.Source),
			slog.String("webhook_id", d.ID), slog.String("error", err.Error()))
		problem(w, http.StatusUnprocessableEntity, ProblemUnmappable, "Webhook payload could not be mapped", err.Error(), 0)
		return
	}
	if len(events) > 0 {
		if err := h.cfg.Log.Append(rctx, events...); err != nil {
			h.release(rctx, c.Lease, d.ID)
			if errors.Is(err, eventlog.ErrInvalidEvent) {
				if h.cfg.OnMapError != nil {
					h.cfg.OnMapError(rctx, d, err)
				}
				h.log.LogAttrs(ctx, slog.LevelError, "webhook: payload not mapped", slog.String("source", h.cfg.Source),
					slog.String("webhook_id", d.ID), slog.String("error", err.Error()))
				problem(w, http.StatusUnprocessableEntity, ProblemUnmappable, "Webhook payload could not be mapped", err.Error(), 0)
				return
			}
			h.fail(rctx, w, d.ID, "append", err)
			return
		}
	}
	if err := h.cfg.Dedupe.Complete(rctx, c.Lease, idempotency.Result{}); err != nil {
		// The events are in the log: acknowledging loses nothing. The key
		// stays claimed until its lease ends; a later redelivery appends
		// the same event keys again, which consumers deduplicate.
		h.log.LogAttrs(ctx, slog.LevelError, "webhook: recorded but replay key not completed", slog.String("source", h.cfg.Source),
			slog.String("webhook_id", d.ID), slog.String("error", err.Error()))
	}
	h.ack(w)
}

// readBody reads the whole body up to the limit.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > h.maxBody {
		return nil, &http.MaxBytesError{Limit: h.maxBody}
	}
	rd := http.MaxBytesReader(w, r.Body, h.maxBody)
	if r.ContentLength >= 0 {
		// Known length: one allocation, and one read past it to see EOF.
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(rd, buf); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(rd)
}

// complete gives mapped events their derived IDs and Source.
func (h *Handler) complete(events []canonical.Event, d Delivery) {
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			e.ID = d.ID
			if len(events) > 1 {
				e.ID = d.ID + "#" + strconv.Itoa(i+1)
			}
		}
		if e.Source == "" {
			e.Source = h.cfg.Source
		}
	}
}

func (h *Handler) release(ctx context.Context, l idempotency.Lease, id string) {
	if err := h.cfg.Dedupe.Release(ctx, l); err != nil {
		h.log.LogAttrs(ctx, slog.LevelError, "webhook: replay key not released", slog.String("source", h.cfg.Source),
			slog.String("webhook_id", id), slog.String("error", err.Error()))
	}
}

// fail answers 503 for a failure of the store or the log.
func (h *Handler) fail(ctx context.Context, w http.ResponseWriter, id, step string, err error) {
	h.log.LogAttrs(ctx, slog.LevelError, "webhook: not recorded", slog.String("source", h.cfg.Source),
		slog.String("webhook_id", id), slog.String("step", step), slog.String("error", err.Error()))
	problem(w, http.StatusServiceUnavailable, ProblemUnavailable, "Webhook intake is unavailable",
		"the webhook was not recorded; retry later", retryAfter)
}

// refuse logs a refused delivery and answers the problem.
func (h *Handler) refuse(ctx context.Context, w http.ResponseWriter, status int, typ, title, detail, id string, err error) {
	h.log.LogAttrs(ctx, slog.LevelInfo, "webhook: delivery refused", slog.String("source", h.cfg.Source),
		slog.String("webhook_id", id), slog.Int("status", status), slog.String("error", err.Error()))
	var ra time.Duration
	if status == http.StatusConflict {
		ra = retryAfter
	}
	problem(w, status, typ, title, detail, ra)
}

func (h *Handler) ack(w http.ResponseWriter) {
	if h.cfg.AckBody == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(h.cfg.AckBody)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(h.cfg.AckBody)
}

type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// problem writes an RFC 9457 problem response.
func problem(w http.ResponseWriter, status int, typ, title, detail string, retryAfter time.Duration) {
	b, err := json.Marshal(problemDoc{Type: typ, Title: title, Status: status, Detail: detail})
	if err != nil {
		b = []byte(`{"type":"about:blank"}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/problem+json")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	if retryAfter > 0 {
		hd.Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
