package d365

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/erp/d365/internal/odata"
	"github.com/distsync/distsync/tracing"
)

// DataPath is the path of the OData service under Config.BaseURL.
const DataPath = "/data/"

// RefSalesOrder is the type of the ExternalRef that names an order's F&O
// sales order, as "dataAreaId/SalesOrderNumber".
const RefSalesOrder = "salesOrder"

// ErrInvalidConfig is matched by the error New returns for an unusable
// Config.
var ErrInvalidConfig = errors.New("d365: invalid configuration")

// Config configures a Client. BaseURL and Company are required; the zero
// value of every other field is its documented default. It is a plain
// value.
type Config struct {
	// BaseURL is the environment URL, such as
	// "https://contoso.operations.dynamics.com"; the OData service is
	// under /data/, and the token's scope is BaseURL + "/.default".
	// Required.
	BaseURL string
	// Company is the legal entity (dataAreaId) the Client writes to and
	// reads from, such as "usmf". Required.
	Company string
	// Tenant is the Entra ID tenant (ID or domain) whose token endpoint
	// https://login.microsoftonline.com/{Tenant}/oauth2/v2.0/token issues
	// the tokens; ignored when TokenURL is set.
	Tenant string
	// TokenURL is the token endpoint; "" means the one of Tenant.
	TokenURL string
	// ClientID and ClientSecret are the app registration's credentials
	// (client credentials grant). An empty ClientID sends no token.
	ClientID, ClientSecret string
	// System names the ERP in errors and in the refs the Client returns;
	// "" means "erp".
	System string
	// Transport sends the requests, the token requests included; nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds each HTTP call; zero means only the context does.
	Timeout time.Duration
	// MaxRetryAfter caps the delay a 429 or 503 asks for (Retry-After)
	// before the Client pauses and the error carries it; zero means
	// httpkit's default.
	MaxRetryAfter time.Duration
	// Logger logs requests at debug level with secrets redacted; nil logs
	// nothing.
	Logger *slog.Logger
	// Extensions map custom fields of the sales order header and its
	// lines to extension attributes of the order and its lines, both
	// ways; nil maps none. Each must be valid and map its own field.
	Extensions []ExtensionField
}

// Validate reports whether c is usable; the error matches ErrInvalidConfig.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: BaseURL %q is not an http(s) URL", ErrInvalidConfig, c.BaseURL)
	case c.Company == "" || strings.ContainsAny(c.Company, "'/ "):
		return fmt.Errorf("%w: Company %q is not a dataAreaId", ErrInvalidConfig, c.Company)
	case c.ClientID != "" && c.TokenURL == "" && c.Tenant == "":
		return fmt.Errorf("%w: ClientID needs Tenant or TokenURL", ErrInvalidConfig)
	case c.Timeout < 0 || c.MaxRetryAfter < 0:
		return fmt.Errorf("%w: Timeout %v or MaxRetryAfter %v is negative", ErrInvalidConfig, c.Timeout, c.MaxRetryAfter)
	}
	seen := map[string]bool{}
	for i, f := range c.Extensions {
		if err := f.validate(i, seen); err != nil {
			return err
		}
	}
	return nil
}

// Client is a connector.ERP for Dynamics 365 Finance & Operations over its
// OData v4 data entities. Create it with New; the zero value is not
// usable. It is safe for concurrent use.
type Client struct {
	http    *httpkit.Client
	system  string
	company string
	ext     []ExtensionField // Config.Extensions
}

var (
	_ connector.ERP           = (*Client)(nil)
	_ connector.HealthChecker = (*Client)(nil)
)

// New returns a Client for cfg, or an error matching ErrInvalidConfig.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.System == "" {
		cfg.System = "erp"
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	hc := httpkit.Config{System: cfg.System, BaseURL: base + DataPath, Transport: cfg.Transport,
		Propagator: tracing.Propagator{TraceContextOnly: true}, Timeout: cfg.Timeout, MaxRetryAfter: cfg.MaxRetryAfter,
		DecodeError: decodeError, Logger: cfg.Logger}
	if cfg.ClientID != "" {
		tokenURL := cfg.TokenURL
		if tokenURL == "" {
			tokenURL = "https://login.microsoftonline.com/" + url.PathEscape(cfg.Tenant) + "/oauth2/v2.0/token"
		}
		transport := cfg.Transport
		if transport == nil {
			transport = http.DefaultTransport
		}
		auth, err := httpkit.ClientCredentials(httpkit.OAuth2Config{TokenURL: tokenURL, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			Scopes: []string{base + "/.default"}, HTTPClient: &http.Client{Transport: transport, Timeout: cfg.Timeout}})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		hc.Auth = auth
	}
	h, err := httpkit.New(hc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return &Client{http: h, system: cfg.System, company: cfg.Company, ext: slices.Clone(cfg.Extensions)}, nil
}

// Error is the detail of an error F&O answered. F&O leaves the OData error
// code empty and puts the useful text, the Infolog, in innererror.message;
// Entity is the data entity the Infolog names (such as
// SalesOrderHeaderV2Entity), else the entity set the request went to. It
// is found with errors.As in the errors the Client returns. It is a plain
// value, safe for concurrent reads; the zero value is an error with no
// text.
type Error struct {
	// Status is the HTTP status (of the $batch part, for a changeset).
	Status int
	// Code is error.code, usually empty.
	Code string
	// Message is error.message, such as "An error has occurred.".
	Message string
	// Infolog is innererror.message.
	Infolog string
	// Entity is the data entity of the failure.
	Entity string
}

// Error returns "ENTITY: INFOLOG", or the message when there is no
// Infolog.
func (e *Error) Error() string {
	text := e.Infolog
	if text == "" {
		text = e.Message
	}
	if e.Code != "" {
		text = e.Code + ": " + text
	}
	if e.Entity != "" {
		return e.Entity + ": " + text
	}
	return text
}

// decodeError is httpkit's Config.DecodeError: an F&O error body becomes
// an *Error.
func decodeError(status int, _ http.Header, body []byte) error {
	p, err := odata.DecodeError(body)
	if err != nil {
		return nil
	}
	return &Error{Status: status, Code: p.Code, Message: p.Message, Infolog: p.Infolog(), Entity: p.Entity()}
}

// infolog returns the Infolog of err's *Error, or "".
func infolog(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Infolog
	}
	return ""
}

// duplicate reports whether err is the refusal of a second document with
// a reference already used (the uniqueness check package d365 assumes).
func duplicate(err error) bool { return strings.Contains(infolog(err), "is already used on") }

// get reads one JSON document.
func (c *Client) get(ctx context.Context, op, ref string, v any) error {
	// NewRequest asks for application/json.
	req, err := c.http.NewRequest(op, http.MethodGet, ref, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(ctx, op, req)
	if err != nil {
		return err
	}
	return c.decode(op, resp.Body, v)
}

func (c *Client) decode(op string, body []byte, v any) error {
	if err := odata.Unmarshal(body, v); err != nil {
		return connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("d365: decoding the answer: %w", err), connector.WithMayHaveApplied(true))
	}
	return nil
}

// paging is where OData v4 puts the items and the next link.
var paging = httpkit.Paging{Items: "/value", Next: "/@odata.nextLink"}

// first returns the first entity of the collection at ref, following
// @odata.nextLink, and false when there is none.
func first[T any](ctx context.Context, c *Client, op, ref string) (T, bool, error) {
	for e, err := range httpkit.PagesByLink[T](ctx, c.http, op, ref, paging) {
		if err != nil {
			var zero T
			if connector.CodeOf(err) == connector.CodeUnknown {
				err = connector.NewError(connector.CodeInternal, c.system, op, err)
			}
			return zero, false, err
		}
		return e, true, nil
	}
	var zero T
	return zero, false, nil
}

// query returns set?$filter=dataAreaId eq 'COMPANY' and prop eq 'value'
// &cross-company=true with $expand: a query for the configured company,
// which without cross-company=true would silently cover only the caller's
// default company.
func (c *Client) query(set, prop, value, expand string) string {
	q := url.Values{}
	f := "dataAreaId eq " + odata.String(c.company)
	if prop != "" {
		f += " and " + prop + " eq " + value
	}
	q.Set("$filter", f)
	q.Set("cross-company", "true")
	if expand != "" {
		q.Set("$expand", expand)
	}
	return set + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// batch sends one changeset of parts as POST $batch and returns the
// answers of its parts; a changeset that failed is the error of the part
// that failed, coded by its status as Do codes a whole answer.
func (c *Client) batch(ctx context.Context, op string, parts []odata.Part) ([]odata.PartResponse, error) {
	var buf bytes.Buffer
	ct, err := odata.WriteBatch(&buf, parts)
	if err != nil {
		return nil, connector.NewError(connector.CodeInternal, c.system, op, err)
	}
	req, err := c.http.NewRequest(op, http.MethodPost, "$batch", nil)
	if err != nil {
		return nil, err
	}
	body := buf.Bytes()
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "multipart/mixed")
	req.Header.Set("OData-Version", "4.0")
	resp, err := c.http.Do(ctx, op, req)
	if err != nil {
		return nil, err
	}
	out, err := odata.ReadBatchResponse(resp.Body, resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("d365: decoding the $batch answer: %w", err), connector.WithMayHaveApplied(true))
	}
	for _, p := range out {
		if p.Status < 200 || p.Status > 299 {
			return nil, c.http.StatusError(op, p.Status, p.Header, p.Body)
		}
	}
	if len(out) != len(parts) {
		return nil, connector.NewError(connector.CodeInternal, c.system, op,
			fmt.Errorf("d365: the $batch answer has %d parts for %d requests", len(out), len(parts)), connector.WithMayHaveApplied(true))
	}
	return out, nil
}

// changeset builds the parts of a header and its lines: the header with
// Content-ID 1, each line posted to $1/nav.
func changeset(set, nav string, header any, lines []any) ([]odata.Part, error) {
	hb, err := odata.Marshal(header)
	if err != nil {
		return nil, err
	}
	parts := []odata.Part{{ContentID: "1", Method: http.MethodPost, Target: set, Body: hb}}
	for i, l := range lines {
		lb, err := odata.Marshal(l)
		if err != nil {
			return nil, err
		}
		parts = append(parts, odata.Part{ContentID: fmt.Sprint(i + 2), Method: http.MethodPost, Target: "$1/" + nav, Body: lb})
	}
	return parts, nil
}

func (c *Client) invalid(op string, err error) error {
	return connector.NewError(connector.CodeInvalid, c.system, op, err)
}

// Health reports whether the OData service answers: nil when it does, else
// an error of CodeUnavailable or CodeUnauthorized.
func (c *Client) Health(ctx context.Context) error {
	const op = "Health"
	req, err := c.http.NewRequest(op, http.MethodGet, "", nil)
	if err != nil {
		return err
	}
	if _, err := c.http.Do(ctx, op, req); err != nil {
		switch code := connector.CodeOf(err); {
		case code == connector.CodeUnauthorized, code.Transient(), ctx.Err() != nil:
			return err
		default:
			return connector.NewError(connector.CodeUnavailable, c.system, op, err)
		}
	}
	return nil
}
