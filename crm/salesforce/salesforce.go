package salesforce

// This file owns the connector's configuration, its session (the OAuth2
// client credentials token and the instance URL it names), the HTTP
// client, and how Salesforce's errors and limit header are read.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/tracing"
)

// System is the system name the connector uses in its errors and refs.
const System = "salesforce"

// Source is the CloudEvents source of the events on the order feed.
const Source = "urn:distsync:crm:salesforce"

// Defaults of [Config], used for its zero fields.
const (
	// DefaultVersion is the REST API version the connector calls.
	DefaultVersion = "v62.0"
	// DefaultSlowDownAt is the share of the API request limit past which
	// the connector slows down.
	DefaultSlowDownAt = 0.9
	// DefaultLimitPause is the pause once the API request limit is used
	// up.
	DefaultLimitPause = time.Minute
)

// TokenPath is the path of the OAuth2 token endpoint under the login URL.
const TokenPath = "/services/oauth2/token"

// maxPageSize caps the orders one PollOrders call reads.
const maxPageSize = 2000

// ErrInvalidConfig is matched (with errors.Is) by the error [New] and
// [Config.Validate] return for an unusable configuration.
var ErrInvalidConfig = errors.New("salesforce: invalid configuration")

// Config configures a [CRM]. LoginURL, ClientID and ClientSecret are
// required; the zero value of every other field is its documented
// default. It is a plain value: safe for concurrent use when not
// modified.
type Config struct {
	// LoginURL is where the token endpoint is: the org's My Domain URL
	// (https://example.my.salesforce.com). The API calls go to the
	// instance_url the token endpoint returns. Required.
	LoginURL string
	// ClientID and ClientSecret are the connected app's consumer key and
	// secret for the client credentials flow. Both required.
	ClientID, ClientSecret string
	// Version is the REST API version, such as "v62.0"; "" means
	// DefaultVersion.
	Version string
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds each call; zero means only the caller's context
	// bounds it.
	Timeout time.Duration
	// SlowDownAt is the share of the API request limit (Sforce-Limit-Info
	// api-usage=N/M) past which every answer pauses the connector, for a
	// time growing from zero to LimitPause as N nears M. Zero means
	// DefaultSlowDownAt; it must be below 1.
	SlowDownAt float64
	// LimitPause is the pause once the limit is used up (N ≥ M, or a 403
	// REQUEST_LIMIT_EXCEEDED), carried as the error's retry-after; zero
	// means DefaultLimitPause.
	LimitPause time.Duration
	// Logger logs each request at debug level, secrets redacted; nil logs
	// nothing.
	Logger *slog.Logger
	// Extensions map the org's custom fields of Order and OrderItem to
	// canonical extension attributes, read by the feed and, for Order
	// fields marked WriteBack, written by PublishStatus; nil maps none.
	Extensions []ExtensionField
}

// Validate reports whether c is usable; the error matches
// [ErrInvalidConfig] and names the field.
func (c Config) Validate() error {
	u, err := url.Parse(c.LoginURL)
	switch {
	case c.LoginURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: LoginURL %q must be an absolute http(s) URL", ErrInvalidConfig, c.LoginURL)
	case c.ClientID == "" || c.ClientSecret == "":
		return fmt.Errorf("%w: ClientID and ClientSecret are required", ErrInvalidConfig)
	case c.Version != "" && (len(c.Version) < 4 || c.Version[0] != 'v' || !strings.Contains(c.Version, ".")):
		return fmt.Errorf("%w: Version %q is not of the form v62.0", ErrInvalidConfig, c.Version)
	case c.SlowDownAt < 0 || c.SlowDownAt >= 1:
		return fmt.Errorf("%w: SlowDownAt %v must be in [0, 1)", ErrInvalidConfig, c.SlowDownAt)
	case c.LimitPause < 0 || c.Timeout < 0:
		return fmt.Errorf("%w: LimitPause and Timeout must not be negative", ErrInvalidConfig)
	}
	seen := map[string]bool{}
	for i, f := range c.Extensions {
		if err := f.validate(i, seen); err != nil {
			return err
		}
	}
	return nil
}

// CRM is a [connector.CRM] for a Salesforce org over its REST API. Create
// it with [New]; the zero value is not usable. It is safe for concurrent
// use.
type CRM struct {
	cfg  Config
	sess *session

	mu sync.Mutex
	hc *httpkit.Client // created on the first call, with the instance URL
}

var (
	_ connector.CRM                  = (*CRM)(nil)
	_ connector.StatusBatchPublisher = (*CRM)(nil)
	_ connector.HealthChecker        = (*CRM)(nil)
)

// New returns a connector for cfg, or an error matching
// [ErrInvalidConfig]. It makes no call: the first call fetches a token.
func New(cfg Config) (*CRM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.SlowDownAt == 0 {
		cfg.SlowDownAt = DefaultSlowDownAt
	}
	if cfg.LimitPause == 0 {
		cfg.LimitPause = DefaultLimitPause
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	s := &session{tokenURL: strings.TrimSuffix(cfg.LoginURL, "/") + TokenPath, id: cfg.ClientID, secret: cfg.ClientSecret,
		http: &http.Client{Transport: transport, Timeout: cfg.Timeout}}
	cfg.Extensions = slices.Clone(cfg.Extensions)
	return &CRM{cfg: cfg, sess: s}, nil
}

// client returns the HTTP client over the instance URL, fetching the
// first token to learn it, and the integration user's ID.
func (c *CRM) client(ctx context.Context, op string) (*httpkit.Client, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hc != nil {
		return c.hc, c.sess.user(), nil
	}
	instance, err := c.sess.fetch(ctx, op)
	if err != nil {
		return nil, "", err
	}
	hc, err := httpkit.New(httpkit.Config{
		System:     System,
		BaseURL:    instance,
		Transport:  c.cfg.Transport,
		Propagator: tracing.Propagator{TraceContextOnly: true},
		Timeout:    c.cfg.Timeout,
		DecodeError: func(status int, _ http.Header, body []byte) error {
			return DecodeError(status, body)
		},
		Throttle: c.throttle,
		// Salesforce has no idempotency header: writes are idempotent
		// by the sequence validation rule and external IDs instead.
		SetIdempotencyKey: func(*http.Request, string) error { return nil },
		Auth:              c.sess,
		Logger:            c.cfg.Logger,
	})
	if err != nil {
		return nil, "", connector.NewError(connector.CodeInvalid, System, op, err)
	}
	c.hc = hc
	return hc, c.sess.user(), nil
}

// path returns the reference of a REST resource under the API version.
func (c *CRM) path(rest string) string { return "/services/data/" + c.cfg.Version + "/" + rest }

// do sends one request and returns its 2xx answer.
func (c *CRM) do(ctx context.Context, op, method, rest string, body any) (*httpkit.Response, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	hc, _, err := c.client(ctx, op)
	if err != nil {
		return nil, err
	}
	req, err := hc.NewRequest(op, method, c.path(rest), body)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(ctx, op, req)
	return resp, recode(op, err)
}

// recode turns a 403 REQUEST_LIMIT_EXCEEDED, which httpkit reads as
// unauthorized, into a rate limit with the same retry-after.
func recode(op string, err error) error {
	var ae *APIError
	var ce *connector.Error
	if err == nil || !errors.As(err, &ae) || !ae.Has("REQUEST_LIMIT_EXCEEDED") || !errors.As(err, &ce) {
		return err
	}
	return connector.NewError(connector.CodeRateLimited, System, op, ce.Unwrap(),
		connector.WithRetryAfter(ce.RetryAfter()), connector.WithMayHaveApplied(false))
}

// throttle reads Sforce-Limit-Info into a pause: none below SlowDownAt of
// the limit, growing to LimitPause at the limit.
func (c *CRM) throttle(_ int, h http.Header) time.Duration {
	used, limit, ok := parseLimitInfo(h.Get("Sforce-Limit-Info"))
	if !ok {
		return 0
	}
	if used >= limit {
		return c.cfg.LimitPause
	}
	share := float64(used) / float64(limit)
	if share <= c.cfg.SlowDownAt {
		return 0
	}
	return time.Duration(float64(c.cfg.LimitPause) * (share - c.cfg.SlowDownAt) / (1 - c.cfg.SlowDownAt))
}

// parseLimitInfo reads "api-usage=N/M" out of a Sforce-Limit-Info value
// (which may hold more entries, separated by ";" or ","). ok is false
// when there is none or it is malformed (M must be positive, N ≥ 0).
func parseLimitInfo(v string) (used, limit int64, ok bool) {
	for part := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ';' || r == ',' }) {
		name, val, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(name), "api-usage") {
			continue
		}
		n, m, found := strings.Cut(val, "/")
		u, err1 := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		l, err2 := strconv.ParseInt(strings.TrimSpace(m), 10, 64)
		if !found || err1 != nil || err2 != nil || u < 0 || l <= 0 {
			return 0, 0, false
		}
		return u, l, true
	}
	return 0, 0, false
}

// ErrorItem is one entry of a Salesforce error answer. It is a plain
// value, safe for concurrent reads; the zero value is an empty entry.
type ErrorItem struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// APIError is a Salesforce error answer: the JSON array of
// [ErrorItem] of the REST API, or the OAuth2 error object of the token
// endpoint (its error as ErrorCode, its error_description as Message). The
// connector's errors wrap it; find it with errors.As. It is a plain value,
// safe for concurrent reads; the zero value holds no entry.
type APIError struct {
	// Status is the HTTP status of the answer.
	Status int
	Errors []ErrorItem
}

// Error names each entry's code, fields and message, such as
// `INVALID_FIELD [Foo__c]: No such column`.
func (e *APIError) Error() string {
	var b strings.Builder
	for i, it := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(it.ErrorCode)
		if len(it.Fields) > 0 {
			b.WriteString(" [" + strings.Join(it.Fields, ", ") + "]")
		}
		if it.Message != "" {
			b.WriteString(": " + it.Message)
		}
	}
	return b.String()
}

// Has reports whether an entry has the error code.
func (e *APIError) Has(code string) bool {
	for _, it := range e.Errors {
		if it.ErrorCode == code {
			return true
		}
	}
	return false
}

// DecodeError decodes a Salesforce error body into an *[APIError]: the
// REST array [{"message","errorCode","fields"}] or the OAuth2 object
// {"error","error_description"}. It returns nil for a body of neither
// shape (or an empty array), so that the caller quotes the body instead.
func DecodeError(status int, body []byte) error {
	var items []ErrorItem
	if err := json.Unmarshal(body, &items); err == nil {
		for _, it := range items {
			if it.ErrorCode == "" && it.Message == "" {
				return nil
			}
		}
		if len(items) == 0 {
			return nil
		}
		return &APIError{Status: status, Errors: items}
	}
	var o struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &o); err == nil && o.Error != "" {
		return &APIError{Status: status, Errors: []ErrorItem{{ErrorCode: o.Error, Message: o.Description}}}
	}
	return nil
}

// session is the OAuth2 client credentials session: it implements
// httpkit.Authorizer, fetching one token at a time.
type session struct {
	tokenURL, id, secret string
	http                 *http.Client

	mu       sync.Mutex
	token    string
	instance string
	userID   string
}

func (s *session) user() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID
}

// fetch returns the instance URL, fetching a token when none is held.
func (s *session) fetch(ctx context.Context, op string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" {
		return s.instance, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.id}, "client_secret": {s.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", connector.NewError(connector.CodeInvalid, System, op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", httpkit.ErrToken, context.Cause(ctx))
		} else {
			err = fmt.Errorf("%w: %w", httpkit.ErrToken, err)
		}
		return "", connector.NewError(connector.CodeUnavailable, System, op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", connector.NewError(connector.CodeUnavailable, System, op, fmt.Errorf("%w: reading the answer: %w", httpkit.ErrToken, err))
	}
	if resp.StatusCode != http.StatusOK {
		code := connector.CodeUnauthorized
		if resp.StatusCode >= 500 {
			code = connector.CodeUnavailable
		}
		detail := DecodeError(resp.StatusCode, body)
		if detail == nil {
			detail = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return "", connector.NewError(code, System, op, fmt.Errorf("%w: token endpoint answered %d: %w", httpkit.ErrToken, resp.StatusCode, detail))
	}
	var t struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
		ID          string `json:"id"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return "", connector.NewError(connector.CodeUnauthorized, System, op, fmt.Errorf("%w: the answer holds no access_token", httpkit.ErrToken))
	}
	if u, err := url.Parse(t.InstanceURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", connector.NewError(connector.CodeUnauthorized, System, op, fmt.Errorf("%w: instance_url %q is not an absolute URL", httpkit.ErrToken, t.InstanceURL))
	}
	s.token, s.instance = t.AccessToken, strings.TrimSuffix(t.InstanceURL, "/")
	// The identity URL ends in /ORG_ID/USER_ID: the integration user.
	if i := strings.LastIndexByte(t.ID, '/'); i >= 0 {
		s.userID = t.ID[i+1:]
	}
	return s.instance, nil
}

// Authorize sets the bearer token on req, fetching one when none is held.
func (s *session) Authorize(req *http.Request) error {
	if _, err := s.fetch(req.Context(), "token"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req.Header.Set("Authorization", "Bearer "+s.token)
	return nil
}

// Invalidate drops the token req carried, unless it was replaced already.
func (s *session) Invalidate(req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && req.Header.Get("Authorization") == "Bearer "+s.token {
		s.token = ""
	}
}

// LogValue shows the token endpoint and client ID only.
func (s *session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token_url", s.tokenURL), slog.String("client_id", s.id))
}
