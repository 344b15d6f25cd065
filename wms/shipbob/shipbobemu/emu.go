// This file owns the Emulator: its configuration, state, routing,
// authentication and the answers in ShipBob's shapes.

package shipbobemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
	"github.com/distsync/distsync/wms/shipbob/internal/wire"
)

// Defaults of Config, used for its zero fields.
const (
	// DefaultVersion is the dated API version the paths start with.
	DefaultVersion = "2026-07"
	// DefaultRateLimit is ShipBob's limit: 150 requests per minute per user.
	DefaultRateLimit = 150
	// DefaultWindow is the sliding window of the rate limit.
	DefaultWindow = time.Minute
	// DefaultChannelID is the channel orders are created in.
	DefaultChannelID = 1
	// MaxPageSize is the largest Limit a list answers.
	MaxPageSize = 250
)

// ErrInvalidConfig is matched (with errors.Is) by the error New returns for
// an unusable Config.
var ErrInvalidConfig = errors.New("shipbobemu: invalid configuration")

// Config configures an Emulator. Its zero value is a usable emulator over
// the wms package's demo world. It is a plain value read once by New; its
// functions must be safe for concurrent use.
type Config struct {
	// Version is the dated version the paths start with ("/2026-07/order").
	// Default DefaultVersion.
	Version string
	// WMS is the warehouse logic behind the emulator (allocation, picking,
	// shipping, stock). Nil means a new wms.Memory over the demo world.
	WMS *wms.Memory
	// Token is the bearer token accepted; "" accepts any non-empty one.
	// The rate limit counts per token (per user).
	Token string
	// ChannelID is the channel ID orders must name in the
	// shipbob_channel_id header. Default DefaultChannelID.
	ChannelID int64
	// RateLimit is how many requests one user may make per Window; zero
	// means DefaultRateLimit, negative means no limit.
	RateLimit int
	// Window is the sliding window of the rate limit; zero means
	// DefaultWindow.
	Window time.Duration
	// Clock is the emulator's time: the rate limit, timestamps and webhook
	// retries use it. Nil means time.Now.
	Clock func() time.Time
	// WebhookSecret signs webhook deliveries (Standard Webhooks). Required
	// to create subscriptions.
	WebhookSecret []byte
	// HTTPClient sends webhooks; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Counts counts what the emulator has done. It is a plain value, safe for
// concurrent use; the zero value counts nothing.
type Counts struct {
	// Requests is how many requests were answered (429s included).
	Requests int
	// RateLimited is how many requests were answered 429.
	RateLimited int
	// OrdersCreated is how many orders were created (duplicates refused).
	OrdersCreated int
	// Cancellations is how many cancel requests cancelled something.
	Cancellations int
	// ReturnsCreated is how many returns were created.
	ReturnsCreated int
	// WebhooksSent is how many webhook requests were made, retries included.
	WebhooksSent int
	// WebhooksDelivered is how many webhook messages were acknowledged 2xx.
	WebhooksDelivered int
}

// Emulator is an http.Handler that answers ShipBob's REST API over a
// wms.Memory: orders become fulfilment orders of the simulator, its events
// move the orders' shipments through ShipBob's statuses, and subscribed
// webhooks are queued for DeliverWebhooks. Create it with New; the zero
// value is not usable. It is safe for concurrent use.
type Emulator struct {
	cfg    Config
	mem    *wms.Memory
	prefix string
	mux    *http.ServeMux

	mu        sync.Mutex
	last      time.Time // the last timestamp given, strictly increasing
	cursor    connector.Cursor
	orders    map[int64]*order
	byRef     map[string]*order
	returns   map[int64]*ret
	retByRef  map[string]*ret
	nextID    int64
	subs      []wire.Subscription
	outbox    []*delivery
	nextMsg   int64
	calls     map[string][]time.Time
	counts    Counts
	locations []wire.Location
}

// order is an order and its shipments as the emulator holds them.
type order struct {
	wire.Order
	lines []line // the fulfilment lines sent to the simulator, by product
}

// line maps a product of an order to the simulator's fulfilment line.
type line struct {
	id, sku, unit string
}

// ret is a return as the emulator holds it.
type ret struct {
	wire.Return
}

// Validate reports whether c is usable; the error matches
// ErrInvalidConfig and names every problem.
func (c Config) Validate() error {
	var errs []error
	if strings.ContainsAny(c.Version, "/ ?#") {
		errs = append(errs, fmt.Errorf("the Version %q contains a slash, space, ? or #", c.Version))
	}
	if c.Window < 0 {
		errs = append(errs, fmt.Errorf("the Window %v is negative", c.Window))
	}
	if c.ChannelID < 0 {
		errs = append(errs, fmt.Errorf("the ChannelID %d is negative", c.ChannelID))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// New returns an emulator configured by cfg, or an error matching
// ErrInvalidConfig.
func New(cfg Config) (*Emulator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.ChannelID == 0 {
		cfg.ChannelID = DefaultChannelID
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	mem := cfg.WMS
	if mem == nil {
		m, err := wms.New(wms.Config{})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		mem = m
	}
	e := &Emulator{
		cfg: cfg, mem: mem, prefix: "/" + cfg.Version,
		orders: map[int64]*order{}, byRef: map[string]*order{},
		returns: map[int64]*ret{}, retByRef: map[string]*ret{},
		nextID: 100000000, calls: map[string][]time.Time{},
	}
	// Events already on the simulator's feed are not ours.
	if err := e.skipFeed(context.Background()); err != nil {
		return nil, err
	}
	for i, w := range mem.Warehouses() {
		e.locations = append(e.locations, wire.Location{ID: int64(i + 1), Name: w.ID, Abbreviation: w.ID})
	}
	mux := http.NewServeMux()
	p := e.prefix
	mux.HandleFunc("POST "+p+"/order", e.createOrder)
	mux.HandleFunc("GET "+p+"/order", e.listOrders)
	mux.HandleFunc("GET "+p+"/order/{id}", e.getOrder)
	mux.HandleFunc("POST "+p+"/order/{id}/cancel", e.cancelOrder)
	mux.HandleFunc("GET "+p+"/inventory", e.inventory)
	mux.HandleFunc("GET "+p+"/location", e.listLocations)
	mux.HandleFunc("POST "+p+"/return", e.createReturn)
	mux.HandleFunc("GET "+p+"/return", e.listReturns)
	mux.HandleFunc("POST "+p+"/webhook", e.subscribe)
	mux.HandleFunc("GET "+p+"/webhook", e.listSubscriptions)
	mux.HandleFunc("DELETE "+p+"/webhook/{id}", e.unsubscribe)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, "No route matches "+r.Method+" "+r.URL.Path+".")
	})
	e.mux = mux
	return e, nil
}

// skipFeed moves the emulator's feed cursor to the simulator's feed end.
func (e *Emulator) skipFeed(ctx context.Context) error {
	for {
		p, err := e.mem.PollEvents(ctx, e.cursor, wms.DefaultMaxPageSize)
		if err != nil {
			return fmt.Errorf("shipbobemu: reading the simulator's feed: %w", err)
		}
		e.cursor = p.Next
		if !p.More || len(p.Events) == 0 {
			return nil
		}
	}
}

// WMS returns the simulator behind the emulator.
func (e *Emulator) WMS() *wms.Memory { return e.mem }

// Version returns the dated version of the paths, such as "2026-07".
func (e *Emulator) Version() string { return e.cfg.Version }

// ChannelID returns the channel ID orders must name.
func (e *Emulator) ChannelID() int64 { return e.cfg.ChannelID }

// Locations returns the fulfilment centers by warehouse: one per warehouse
// of the simulator, ID from 1 in the simulator's order, named by the
// warehouse's canonical ID. It fits shipbob.Config.Locations.
func (e *Emulator) Locations() map[string]int64 {
	m := make(map[string]int64, len(e.locations))
	for _, l := range e.locations {
		m[l.Name] = l.ID
	}
	return m
}

// Counts returns what the emulator has done so far.
func (e *Emulator) Counts() Counts {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts
}

// Step moves the simulated warehouses one step (wms.Memory.Step) and
// applies the simulator's events to the orders' shipments and returns,
// queueing webhooks for the subscribed topics. It returns the number of
// simulator events applied.
func (e *Emulator) Step(ctx context.Context) (int, error) {
	if _, err := e.mem.Step(ctx); err != nil {
		return 0, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.absorbLocked(ctx)
}

// ReceiveReturn simulates the receipt of the return with the given
// reference ID at its fulfilment center (wms.Memory.ReceiveReturn, line IDs
// "REFERENCE:N" for the N-th inventory line from 1), completing the return.
func (e *Emulator) ReceiveReturn(ctx context.Context, referenceID string, receipts []wms.ReturnReceipt) error {
	if _, err := e.mem.ReceiveReturn(ctx, referenceID, receipts); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err := e.absorbLocked(ctx)
	return err
}

// ServeHTTP answers a ShipBob API request: it authenticates the bearer
// token, applies the rate limit (429 with x-retry-after and
// x-remaining-calls) and routes the request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	e.mu.Lock()
	e.counts.Requests++
	e.mu.Unlock()
	if !ok || user == "" || e.cfg.Token != "" && user != e.cfg.Token {
		writeMessage(w, http.StatusUnauthorized, "Authorization has been denied for this request.")
		return
	}
	remaining, wait, allowed := e.admit(user)
	if !allowed {
		e.Reject(w, r, http.StatusTooManyRequests, wait)
		return
	}
	if remaining >= 0 {
		w.Header().Set(wire.HeaderRemaining, fmt.Sprint(remaining))
	}
	e.mux.ServeHTTP(w, r)
}

// Reject writes ShipBob's answer to a refused request: for a 429, the
// x-retry-after (whole seconds, rounded up, at least 1) and
// x-remaining-calls: 0 headers and the body
// {"statusCode":429,"message":"Rate limit is exceeded. Try again in N seconds."};
// for any other status a {"statusCode","message"} body. Its signature fits
// faults.HTTPConfig.Reject, so injected faults look like ShipBob's.
func (e *Emulator) Reject(w http.ResponseWriter, _ *http.Request, status int, retryAfter time.Duration) {
	if status != http.StatusTooManyRequests {
		msg := http.StatusText(status)
		if status == http.StatusUnauthorized {
			msg = "Authorization has been denied for this request."
		}
		writeMessage(w, status, msg)
		return
	}
	if e != nil {
		e.mu.Lock()
		e.counts.RateLimited++
		e.mu.Unlock()
	}
	secs := int64((retryAfter + time.Second - 1) / time.Second)
	secs = max(secs, 1)
	w.Header().Set(wire.HeaderRetryAfter, fmt.Sprint(secs))
	w.Header().Set(wire.HeaderRemaining, "0")
	writeMessage(w, http.StatusTooManyRequests, fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", secs))
}

// admit counts a request of user in the sliding window and returns the
// calls left (-1 without a limit), or the wait until one is free.
func (e *Emulator) admit(user string) (remaining int, wait time.Duration, ok bool) {
	if e.cfg.RateLimit < 0 {
		return -1, 0, true
	}
	now := e.cfg.Clock()
	e.mu.Lock()
	defer e.mu.Unlock()
	log := e.calls[user]
	i := 0
	for i < len(log) && !log[i].After(now.Add(-e.cfg.Window)) {
		i++
	}
	log = log[i:]
	if len(log) >= e.cfg.RateLimit {
		e.calls[user] = log
		return 0, log[0].Add(e.cfg.Window).Sub(now), false
	}
	log = append(log, now)
	e.calls[user] = log
	return e.cfg.RateLimit - len(log), 0, true
}

// stampLocked returns the emulator's time, strictly after every timestamp
// it gave before, so that (last_update_at, id) orders all changes.
func (e *Emulator) stampLocked() time.Time {
	t := e.cfg.Clock().UTC().Truncate(time.Microsecond)
	if !t.After(e.last) {
		t = e.last.Add(time.Microsecond)
	}
	e.last = t
	return t
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeMessage writes ShipBob's short error body.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, wire.Message{StatusCode: status, Message: msg})
}

// writeProblem writes a validation error naming fields.
func writeProblem(w http.ResponseWriter, status int, fields map[string][]string) {
	writeJSON(w, status, wire.Problem{
		Type: "https://tools.ietf.org/html/rfc9110#section-15.5.1", Title: "One or more validation errors occurred.",
		Status: status, Errors: fields,
	})
}

// writeError writes the answer for an error of the simulator.
func writeError(w http.ResponseWriter, err error) {
	switch connector.CodeOf(err) {
	case connector.CodeInvalid:
		fields := map[string][]string{}
		var ve *canonical.ValidationError
		if errors.As(err, &ve) && len(ve.Errors) > 0 {
			for _, fe := range ve.Errors {
				fields[fe.Field] = append(fields[fe.Field], fe.Message)
			}
		} else {
			fields[""] = []string{err.Error()}
		}
		writeProblem(w, http.StatusBadRequest, fields)
	case connector.CodeNotFound:
		writeMessage(w, http.StatusNotFound, err.Error())
	case connector.CodeConflict:
		writeMessage(w, http.StatusConflict, err.Error())
	default:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			writeMessage(w, http.StatusServiceUnavailable, "The request was cancelled.")
			return
		}
		writeMessage(w, http.StatusInternalServerError, err.Error())
	}
}
