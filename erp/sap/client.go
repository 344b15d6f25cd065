package sap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/erp/sap/internal/odata"
	"github.com/distsync/distsync/tracing"
)

// Paths of the OData services under Config.BaseURL.
const (
	ServiceRoot             = "/sap/opu/odata/sap/"
	salesOrderService       = ServiceRoot + "API_SALES_ORDER_SRV/"
	simulationService       = ServiceRoot + "API_SALES_ORDER_SIMULATION_SRV/"
	outboundDeliveryService = ServiceRoot + "API_OUTBOUND_DELIVERY_SRV;v=0002/"
	billingDocumentService  = ServiceRoot + "API_BILLING_DOCUMENT_SRV/"
	customerReturnService   = ServiceRoot + "API_CUSTOMER_RETURN_SRV/"
	materialDocumentService = ServiceRoot + "API_MATERIAL_DOCUMENT_SRV/"
)

// RefSalesOrder is the type of the ExternalRef that names an order's SAP
// sales order number (SalesOrder).
const RefSalesOrder = "salesOrder"

// ErrInvalidConfig is matched by the error New returns for an unusable
// Config.
var ErrInvalidConfig = errors.New("sap: invalid configuration")

// errCSRFRequired is matched by the error of a write answered 403 with
// X-CSRF-Token: Required.
var errCSRFRequired = errors.New("sap: CSRF token required")

// Config configures a Client. BaseURL is required; the zero value of every
// other field is its documented default. It is a plain value.
type Config struct {
	// BaseURL is the system's scheme, host and port, such as
	// "https://my-s4.example.com"; the services are under
	// /sap/opu/odata/sap/. Required.
	BaseURL string
	// User and Password are the Basic credentials; an empty User sends
	// none.
	User, Password string
	// System names the ERP in errors and in the refs the Client returns;
	// "" means "erp".
	System string
	// Transport sends the requests; nil means http.DefaultTransport.
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
	// Extensions map custom fields (YY1_ properties) of the sales order
	// and its items to extension attributes of the order and its lines,
	// both ways; nil maps none. Each must be valid and map its own field.
	Extensions []ExtensionField
}

// Validate reports whether c is usable; the error matches ErrInvalidConfig.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if c.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: BaseURL %q is not an http(s) URL", ErrInvalidConfig, c.BaseURL)
	}
	if c.Timeout < 0 || c.MaxRetryAfter < 0 {
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

// Client is a connector.ERP for SAP S/4HANA over its OData v2 APIs. Create
// it with New; the zero value is not usable. It is safe for concurrent use.
type Client struct {
	http   *httpkit.Client
	system string
	ext    []ExtensionField // Config.Extensions

	mu     sync.Mutex
	token  string
	cookie string
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
	hc := httpkit.Config{System: cfg.System, BaseURL: strings.TrimSuffix(cfg.BaseURL, "/"), Transport: cfg.Transport,
		Propagator: tracing.Propagator{TraceContextOnly: true}, Timeout: cfg.Timeout, MaxRetryAfter: cfg.MaxRetryAfter, DecodeError: decodeError, Logger: cfg.Logger,
		Redact: []string{"X-CSRF-Token"}}
	if cfg.User != "" {
		hc.Auth = basicAuth{user: cfg.User, password: cfg.Password}
	}
	h, err := httpkit.New(hc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return &Client{http: h, system: cfg.System, ext: slices.Clone(cfg.Extensions)}, nil
}

// basicAuth is an httpkit.Authorizer with fixed Basic credentials: a 401
// is answered by sending the request once more.
type basicAuth struct{ user, password string }

func (b basicAuth) Authorize(req *http.Request) error {
	req.SetBasicAuth(b.user, b.password)
	return nil
}

func (basicAuth) Invalidate(*http.Request) {}

// Error is the detail of an error the SAP system answered: its SAP Gateway
// error code, message and details. It is found with errors.As in the errors
// the Client returns; a detail whose propertyref names a field the Client
// sent is reported as a *canonical.ValidationError too (Unwrap). It is a
// plain value, safe for concurrent reads; the zero value is an error with
// no code and no details.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the SAP message code, such as "/IWBEP/CM_MGW_RT/020".
	Code string
	// Message is the message text.
	Message string
	// Details are innererror.errordetails as code, message and property.
	Details []ErrorDetail
	csrf    bool
	fields  *canonical.ValidationError
}

// ErrorDetail is one entry of the error's innererror.errordetails. It is a
// plain value, safe for concurrent reads; the zero value is empty.
type ErrorDetail struct {
	Code, Message, PropertyRef string
}

// Error returns "CODE: MESSAGE" and the details.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s", d.Message)
		if d.PropertyRef != "" {
			if p, ok := odata.FieldPath(d.PropertyRef); ok {
				fmt.Fprintf(&b, " (%s, %s)", d.PropertyRef, p)
			} else {
				fmt.Fprintf(&b, " (%s)", d.PropertyRef)
			}
		}
	}
	return b.String()
}

// Unwrap returns the validation error naming the canonical fields of the
// details' propertyrefs, nil when none names one.
func (e *Error) Unwrap() error {
	if e.fields == nil {
		return nil
	}
	return e.fields
}

// Is reports whether target is the CSRF-required sentinel for a 403 with
// X-CSRF-Token: Required.
func (e *Error) Is(target error) bool { return e.csrf && target == errCSRFRequired }

// decodeError is httpkit's Config.DecodeError: an SAP Gateway body becomes
// an *Error.
func decodeError(status int, header http.Header, body []byte) error {
	csrf := status == http.StatusForbidden && strings.EqualFold(header.Get("X-CSRF-Token"), "Required")
	p, err := odata.DecodeError(body)
	if err != nil {
		if csrf {
			return &Error{Status: status, Code: "CSRF", Message: "CSRF token validation failed", csrf: true}
		}
		return nil
	}
	e := &Error{Status: status, Code: p.Code, Message: p.Message.Value, csrf: csrf}
	var ve canonical.ValidationError
	for _, d := range p.InnerError.ErrorDetails {
		e.Details = append(e.Details, ErrorDetail{Code: d.Code, Message: d.Message, PropertyRef: d.PropertyRef})
		if f, ok := odata.FieldPath(d.PropertyRef); ok {
			ve.Errors = append(ve.Errors, canonical.FieldError{Field: f, Message: d.Message})
		}
	}
	if len(ve.Errors) > 0 {
		ve.Kind = "sap"
		e.fields = &ve
	}
	return e
}

// sapCode returns the SAP message code of err, "" when it has none.
func sapCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

const duplicateReference = "YY1/DUPLICATE_REFERENCE"

// csrf returns the CSRF token and session cookie, fetching them with a
// GET on the sales order service root when there are none, or when stale
// is the token held (a write was refused with it). The fetch happens under
// the lock, so concurrent writers wait for one fetch instead of each
// opening a session.
func (c *Client) csrf(ctx context.Context, op, stale string) (token, cookie string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.token != stale {
		return c.token, c.cookie, nil
	}
	req, err := c.http.NewRequest(op, http.MethodGet, salesOrderService, nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("X-CSRF-Token", "Fetch")
	resp, err := c.http.Do(ctx, op, req)
	if err != nil {
		return "", "", err
	}
	tok := resp.Header.Get("X-CSRF-Token")
	if tok == "" || strings.EqualFold(tok, "Required") {
		return "", "", connector.NewError(connector.CodeUnauthorized, c.system, op, errors.New("sap: the CSRF token fetch returned no token"))
	}
	var parts []string
	for _, line := range resp.Header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(line); err == nil {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
	}
	c.token, c.cookie = tok, strings.Join(parts, "; ")
	return c.token, c.cookie, nil
}

// write sends a modifying request with the CSRF token and session cookie;
// a 403 with X-CSRF-Token: Required refetches the token and sends it once
// more.
func (c *Client) write(ctx context.Context, op, method, ref string, body any, header http.Header) (*httpkit.Response, error) {
	stale := ""
	for attempt := 0; ; attempt++ {
		tok, cookie, err := c.csrf(ctx, op, stale)
		if err != nil {
			return nil, err
		}
		req, err := c.http.NewRequest(op, method, ref, body)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("X-CSRF-Token", tok)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := c.http.Do(ctx, op, req)
		if err != nil && attempt == 0 && errors.Is(err, errCSRFRequired) {
			stale = tok
			continue
		}
		return resp, err
	}
}

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
	return c.decode(op, resp, v)
}

func (c *Client) decode(op string, resp *httpkit.Response, v any) error {
	if err := resp.DecodeJSON(v); err != nil {
		return connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("sap: decoding the answer: %w", err))
	}
	return nil
}

// first returns the first entity of the collection at ref, reading every
// page (PagesByLink follows __next), and false when there is none.
func first[T any](ctx context.Context, c *Client, op, ref string) (T, bool, error) {
	for e, err := range httpkit.PagesByLink[T](ctx, c.http, op, ref, httpkit.Paging{Items: "/d/results", Next: "/d/__next"}) {
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

// filterRef returns set?$filter=prop eq 'value' with the OData quoting
// and the given $expand.
func filterRef(set, prop, value, expand string) string {
	q := url.Values{}
	q.Set("$filter", prop+" eq '"+strings.ReplaceAll(value, "'", "''")+"'")
	if expand != "" {
		q.Set("$expand", expand)
	}
	return set + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

func (c *Client) invalid(op string, err error) error {
	return connector.NewError(connector.CodeInvalid, c.system, op, err)
}

// Health reports whether the sales order service answers: nil when it
// does, else an error of CodeUnavailable or CodeUnauthorized.
func (c *Client) Health(ctx context.Context) error {
	const op = "Health"
	req, err := c.http.NewRequest(op, http.MethodGet, salesOrderService, nil)
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
