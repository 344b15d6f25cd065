// This file owns the connector's configuration.

package shipbob

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
)

// Defaults of Config, used for its zero fields.
const (
	// DefaultVersion is the dated API version of the paths.
	DefaultVersion = "2026-07"
	// DefaultSource is the CloudEvents source of the connector's events.
	DefaultSource = "urn:distsync:wms:shipbob"
	// DefaultShippingMethod is the shipping method of created orders.
	DefaultShippingMethod = "Standard"
	// DefaultOrderType is the type of created orders.
	DefaultOrderType = "B2B"
	// DefaultRateLimit is ShipBob's limit per user: 150 requests a minute.
	DefaultRateLimit = 150
	// DefaultLowRemaining is the x-remaining-calls at or below which the
	// connector slows down.
	DefaultLowRemaining = 10
	// MaxPageSize is the most orders, returns or items one list page asks for.
	MaxPageSize = 250
)

// ErrInvalidConfig is matched (with errors.Is) by the error Config.Validate
// and New return for an unusable Config.
var ErrInvalidConfig = errors.New("shipbob: invalid configuration")

// Config configures a Client. BaseURL, Token and ChannelID are required;
// the zero values of the other fields are the documented defaults. It is a
// plain value, read once by New.
type Config struct {
	// BaseURL is the API's root, such as "https://api.shipbob.com" or
	// "https://sandbox-api.shipbob.com". Required.
	BaseURL string
	// Version is the dated version the paths start with. Default
	// DefaultVersion.
	Version string
	// Token is the personal access token (or an OAuth2 access token) sent
	// as a bearer token. Required.
	Token string
	// ChannelID is the channel orders are created in, sent in the
	// shipbob_channel_id header. Required.
	ChannelID int64
	// Locations maps canonical warehouse IDs to ShipBob fulfilment center
	// (location) IDs. Nil means the connector reads GET /location once and
	// takes each location's name as the warehouse ID.
	Locations map[string]int64
	// DefaultAddress is the recipient address of fulfilment orders whose
	// ship-to has none (ShipBob requires address1, city and country).
	// Zero means such orders are refused.
	DefaultAddress canonical.Address
	// ShippingMethod of created orders; default DefaultShippingMethod.
	ShippingMethod string
	// OrderType of created orders: DTC, B2B or DropShip; default
	// DefaultOrderType.
	OrderType string
	// Source is the CloudEvents source of the events the feed and the
	// webhook mapping produce. Default DefaultSource.
	Source string
	// RateLimit is the requests per minute the account allows; the
	// connector spreads its calls (one per minute/RateLimit) once
	// x-remaining-calls falls to LowRemaining. Default DefaultRateLimit.
	RateLimit int
	// LowRemaining is the x-remaining-calls at or below which the
	// connector slows down; default DefaultLowRemaining, negative never.
	LowRemaining int
	// MaxRetryAfter caps the x-retry-after a 429 may ask for; zero means
	// the httpkit default (five minutes).
	MaxRetryAfter time.Duration
	// Timeout bounds each HTTP call; zero means only the context does.
	Timeout time.Duration
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Logger logs requests at debug level, the token redacted; nil
	// discards.
	Logger *slog.Logger
	// Now is the clock of inventory positions' AsOf; nil means time.Now.
	Now func() time.Time
}

// Validate reports whether c is usable; the error matches
// ErrInvalidConfig and names every problem.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.BaseURL); err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		errs = append(errs, fmt.Errorf("the BaseURL %q is not an absolute http(s) URL", c.BaseURL))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("a Token is required"))
	}
	if c.ChannelID <= 0 {
		errs = append(errs, fmt.Errorf("the ChannelID %d is not a positive channel ID", c.ChannelID))
	}
	if strings.ContainsAny(c.Version, "/ ?#") {
		errs = append(errs, fmt.Errorf("the Version %q contains a slash, space, ? or #", c.Version))
	}
	switch c.OrderType {
	case "", "DTC", "B2B", "DropShip":
	default:
		errs = append(errs, fmt.Errorf("the OrderType %q is not DTC, B2B or DropShip", c.OrderType))
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("the RateLimit %d is negative", c.RateLimit))
	}
	for w, id := range c.Locations {
		if w == "" || id <= 0 {
			errs = append(errs, fmt.Errorf("the Locations[%q] = %d: want a warehouse ID and a positive location ID", w, id))
		}
	}
	if c.DefaultAddress.Country != "" || len(c.DefaultAddress.Lines) > 0 {
		if err := c.DefaultAddress.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("the DefaultAddress: %w", err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}
