// This file owns the Client: construction, the HTTP plumbing (bearer
// token, channel header, ShipBob's limit headers and error bodies) and the
// reads every role shares.

package shipbob

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms/shipbob/internal/wire"
)

// System is the system name of the connector's errors and refs.
const System = "shipbob"

// Client is a connector.WMS over ShipBob's REST API, with the optional
// connector.HealthChecker role. Create it with New; the zero value is not
// usable. It is safe for concurrent use; it keeps no state but a cache of
// the fulfilment centers, so several Clients over one account see the same
// orders and feed.
type Client struct {
	cfg  Config
	http *httpkit.Client
	base string // the path prefix, "/2026-07"

	mu    sync.Mutex
	locs  map[string]int64 // warehouse → location ID
	names map[int64]string // location ID → warehouse
}

var (
	_ connector.WMS           = (*Client)(nil)
	_ connector.HealthChecker = (*Client)(nil)
)

// New returns a Client for cfg, or an error matching ErrInvalidConfig.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Version = cmp.Or(cfg.Version, DefaultVersion)
	cfg.Source = cmp.Or(cfg.Source, DefaultSource)
	cfg.ShippingMethod = cmp.Or(cfg.ShippingMethod, DefaultShippingMethod)
	cfg.OrderType = cmp.Or(cfg.OrderType, DefaultOrderType)
	cfg.RateLimit = cmp.Or(cfg.RateLimit, DefaultRateLimit)
	if cfg.LowRemaining == 0 {
		cfg.LowRemaining = DefaultLowRemaining
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg, base: "/" + cfg.Version}
	hc, err := httpkit.New(httpkit.Config{
		System:        System,
		BaseURL:       strings.TrimSuffix(cfg.BaseURL, "/") + "/",
		Transport:     cfg.Transport,
		Propagator:    tracing.Propagator{TraceContextOnly: true},
		Timeout:       cfg.Timeout,
		MaxRetryAfter: cfg.MaxRetryAfter,
		DecodeError:   DecodeError,
		Throttle:      c.throttle,
		Auth:          bearer(cfg.Token),
		Logger:        cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	c.http = hc
	if cfg.Locations != nil {
		c.setLocations(cfg.Locations)
	}
	return c, nil
}

// bearer authorizes requests with a fixed bearer token.
type bearer string

func (b bearer) Authorize(req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(b))
	return nil
}

func (bearer) Invalidate(*http.Request) {}

// throttle reads ShipBob's limit headers: on a 429 the x-retry-after
// seconds; on any answer with x-remaining-calls at or below LowRemaining,
// one call's share of the minute, so the calls left are spread out.
func (c *Client) throttle(status int, h http.Header) time.Duration {
	if status == http.StatusTooManyRequests {
		if s, err := strconv.ParseFloat(strings.TrimSpace(h.Get(wire.HeaderRetryAfter)), 64); err == nil && s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if c.cfg.LowRemaining < 0 {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get(wire.HeaderRemaining))); err == nil && n <= c.cfg.LowRemaining {
		return time.Minute / time.Duration(c.cfg.RateLimit)
	}
	return 0
}

// DecodeError turns a ShipBob error body into an error naming its message
// and, for a validation error, each field with its messages: the short
// body {"statusCode","message"} and the validation body
// {"title","status","errors":{"field":["message"]}}. It returns nil for a
// body in neither shape. It is the connector's httpkit.Config.DecodeError.
func DecodeError(status int, _ http.Header, body []byte) error {
	var v struct {
		StatusCode *int                `json:"statusCode"`
		Message    string              `json:"message"`
		Title      string              `json:"title"`
		Errors     map[string][]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	if len(v.Errors) > 0 {
		fields := make([]string, 0, len(v.Errors))
		for f := range v.Errors {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		var b strings.Builder
		b.WriteString(cmp.Or(v.Title, v.Message, "validation failed"))
		for _, f := range fields {
			fmt.Fprintf(&b, "; %s: %s", cmp.Or(f, "(request)"), strings.Join(v.Errors[f], " "))
		}
		return errors.New(b.String())
	}
	if msg := cmp.Or(v.Message, v.Title); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// path returns the reference of an API path under the version.
func (c *Client) path(p string) string { return c.base[1:] + p }

// do sends a request and decodes the 2xx answer into out (when not nil).
func (c *Client) do(ctx context.Context, op, method, ref string, body, out any) error {
	req, err := c.http.NewRequest(op, method, ref, body)
	if err != nil {
		return err
	}
	req.Header.Set(wire.HeaderChannel, strconv.FormatInt(c.cfg.ChannelID, 10))
	resp, err := c.http.Do(ctx, op, req)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return resp.DecodeJSON(out)
}

// list reads one page of a list endpoint.
func list[T any](ctx context.Context, c *Client, op, endpoint string, q url.Values) ([]T, error) {
	var out []T
	err := c.do(ctx, op, http.MethodGet, c.path(endpoint)+"?"+q.Encode(), nil, &out)
	return out, err
}

// orderByRef reads the order with the given reference ID; CodeNotFound when
// there is none.
func (c *Client) orderByRef(ctx context.Context, op, ref string) (wire.Order, error) {
	orders, err := list[wire.Order](ctx, c, op, "/order", url.Values{"ReferenceIds": {ref}, "Limit": {"1"}})
	if err != nil {
		return wire.Order{}, err
	}
	i := slices.IndexFunc(orders, func(o wire.Order) bool { return o.ReferenceID == ref })
	if i < 0 {
		return wire.Order{}, connector.NewError(connector.CodeNotFound, System, op, fmt.Errorf("shipbob: no order with reference_id %q", ref))
	}
	return orders[i], nil
}

// setLocations installs the warehouse ↔ location maps.
func (c *Client) setLocations(m map[string]int64) {
	c.locs = make(map[string]int64, len(m))
	c.names = make(map[int64]string, len(m))
	for w, id := range m {
		c.locs[w] = id
		c.names[id] = w
	}
}

// locations returns the warehouse ↔ location maps, reading GET /location
// once when Config.Locations is nil.
func (c *Client) locations(ctx context.Context, op string) (map[string]int64, map[int64]string, error) {
	c.mu.Lock()
	locs, names := c.locs, c.names
	c.mu.Unlock()
	if locs != nil {
		return locs, names, nil
	}
	var got []wire.Location
	if err := c.do(ctx, op, http.MethodGet, c.path("/location"), nil, &got); err != nil {
		return nil, nil, err
	}
	m := map[string]int64{}
	for _, l := range got {
		if l.Name != "" {
			m[l.Name] = l.ID
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locs == nil {
		c.setLocations(m)
	}
	return c.locs, c.names, nil
}

// Health reads the fulfilment centers: nil when ShipBob answers, else the
// *connector.Error (CodeUnavailable, CodeUnauthorized, ...).
func (c *Client) Health(ctx context.Context) error {
	var got []wire.Location
	return c.do(ctx, "Health", http.MethodGet, c.path("/location"), nil, &got)
}

// invalid returns a CodeInvalid error for op naming field.
func invalid(op, kind, field, msg string) error {
	return connector.NewError(connector.CodeInvalid, System, op,
		&canonical.ValidationError{Kind: kind, Errors: []canonical.FieldError{{Field: field, Message: msg}}})
}

// invalidDoc returns a CodeInvalid error for op wrapping a validation error.
func invalidDoc(op string, err error) error {
	return connector.NewError(connector.CodeInvalid, System, op, err)
}

// wholeCount returns q's value as a positive whole number, or false.
func wholeCount(q canonical.Quantity) (int64, bool) {
	if !q.Value.IsInt() || q.Sign() <= 0 {
		return 0, false
	}
	return q.Value.Trim().Int64()
}

// count returns n of unit as a quantity.
func count(n int64, unit string) canonical.Quantity {
	u, err := canonical.ParseUnit(cmp.Or(unit, "EA"))
	if err != nil {
		u = canonical.MustParseUnit("EA")
	}
	return canonical.NewQuantity(canonical.DecimalFromInt(n), u)
}

// ctxErr returns the error of a call whose context is done: the context's
// error and its cause, without a connector code, so that the caller's own
// cancellation is neither retried nor counted against ShipBob.
func ctxErr(ctx context.Context, op string) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != err {
		return fmt.Errorf("shipbob: %s: %w: %w", op, err, cause)
	}
	return fmt.Errorf("shipbob: %s: %w", op, err)
}
