package d365emu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// DataRoot is the path of the OData service.
const DataRoot = "/data/"

// TokenPath returns the path of the Entra ID token endpoint of tenant
// that the server also serves: /{tenant}/oauth2/v2.0/token.
func TokenPath(tenant string) string { return "/" + tenant + "/oauth2/v2.0/token" }

// Defaults of Config, used for its zero fields.
const (
	DefaultPageSize       = 50
	DefaultCompany        = "dat"
	DefaultTokenLifetime  = 3599 * time.Second
	DefaultThrottleWindow = 5 * time.Minute
)

// ErrInvalidConfig is matched by the error New returns for an unusable
// Config.
var ErrInvalidConfig = errors.New("d365emu: invalid configuration")

// Config configures a Server. ERP is required; the zero value of every
// other field is its documented default.
type Config struct {
	// ERP holds the business logic (pricing, credit, ATP, billing) and the
	// state behind the F&O shapes. Required.
	ERP *erp.Memory
	// ClientID and ClientSecret are the app registration's credentials the
	// token endpoint accepts; an empty ClientID accepts requests without a
	// token.
	ClientID, ClientSecret string
	// Environment is the environment URL whose "/.default" scope tokens
	// are issued for, such as "https://contoso.operations.dynamics.com";
	// "" means the URL the token request reached (scheme http or https by
	// TLS, and its Host).
	Environment string
	// DefaultCompany is the legal entity (dataAreaId) a query without
	// cross-company=true covers; "" means DefaultCompany.
	DefaultCompany string
	// PageSize is the server page size of collections (an
	// @odata.nextLink follows a full page); zero means DefaultPageSize.
	PageSize int
	// TokenLifetime is how long an access token is valid; zero means
	// DefaultTokenLifetime (about an hour).
	TokenLifetime time.Duration
	// RequestLimit is how many requests one user (client ID) may make in
	// ThrottleWindow before the server answers 429 with Retry-After; zero
	// means no limit.
	RequestLimit int
	// ThrottleWindow is the sliding window of RequestLimit; zero means
	// DefaultThrottleWindow (five minutes).
	ThrottleWindow time.Duration
	// Now is the clock of tokens, throttling and document dates; nil
	// means time.Now.
	Now func() time.Time
}

// Validate reports whether c is usable; the error matches ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.ERP == nil:
		return fmt.Errorf("%w: ERP is required", ErrInvalidConfig)
	case c.PageSize < 0 || c.RequestLimit < 0:
		return fmt.Errorf("%w: PageSize %d or RequestLimit %d is negative", ErrInvalidConfig, c.PageSize, c.RequestLimit)
	case c.TokenLifetime < 0 || c.ThrottleWindow < 0:
		return fmt.Errorf("%w: TokenLifetime %v or ThrottleWindow %v is negative", ErrInvalidConfig, c.TokenLifetime, c.ThrottleWindow)
	}
	return nil
}

// Server is an emulated Dynamics 365 Finance & Operations environment
// (OData v4 under /data/) with its Entra ID token endpoint: an
// http.Handler. Create it with New; the zero value is not usable. It is
// safe for concurrent use.
type Server struct {
	cfg Config
	m   *erp.Memory

	mu       sync.Mutex
	tokens   map[string]token       // access token → holder
	calls    map[string][]time.Time // user → request times in the window
	orders   map[string]*orderRec   // "company/number"
	byOrder  map[string]*orderRec   // canonical order ID
	byKey    map[string]*orderRec   // CustomerRequisitionNumber
	lots     map[string]*orderRec   // InventoryLotId
	nextSO   int
	nextLot  int
	slips    map[string]*slipRec // by key
	nextSlip int
	bills    map[string]*billRec // by invoice number
	billByID map[string]*billRec // by canonical invoice ID
	nextBill int
	rets     map[string]*odata.ReturnOrderHeader // by key
	nextRet  int
	journals map[string]odata.CountingJournalHeader // by key
	nextJour int
}

type token struct {
	user    string
	expires time.Time
}

// New returns a Server for cfg, or an error matching ErrInvalidConfig.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.DefaultCompany == "" {
		cfg.DefaultCompany = DefaultCompany
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.ThrottleWindow == 0 {
		cfg.ThrottleWindow = DefaultThrottleWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, m: cfg.ERP, tokens: map[string]token{}, calls: map[string][]time.Time{},
		orders: map[string]*orderRec{}, byOrder: map[string]*orderRec{}, byKey: map[string]*orderRec{}, lots: map[string]*orderRec{},
		nextSO: 1000, nextLot: 1, slips: map[string]*slipRec{}, nextSlip: 1, bills: map[string]*billRec{}, billByID: map[string]*billRec{}, nextBill: 1,
		rets: map[string]*odata.ReturnOrderHeader{}, nextRet: 1, journals: map[string]odata.CountingJournalHeader{}, nextJour: 1}, nil
}

// ERP returns the simulator behind the server.
func (s *Server) ERP() *erp.Memory { return s.m }

// ExpireTokens forgets every access token issued, as their expiry does:
// the next request with one gets 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Reject writes an F&O-shaped answer for an injected fault: the status,
// an F&O error body, and Retry-After (in seconds, at least 1) on a 429.
// Its signature is that of faults.HTTPConfig.Reject.
func Reject(w http.ResponseWriter, _ *http.Request, status int, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests {
		secs := int((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeError(w, status, odata.NewError(http.StatusText(status), "", ""))
}

func writeError(w http.ResponseWriter, status int, body odata.ErrorBody) {
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func badRequest(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, odata.NewError(msg, "", ""))
}

// IsTokenRequest reports whether r is a request to the token endpoint, for
// faults.HTTPConfig.Match (Entra ID is another service than F&O).
func IsTokenRequest(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") }

// ServeHTTP serves the token endpoint and the OData service.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if IsTokenRequest(r) {
		s.issueToken(w, r)
		return
	}
	user, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if wait, ok := s.admit(user); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, odata.NewError("Too many requests: the service protection limit of the user was exceeded. Retry after the time in Retry-After.", "", ""))
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, DataRoot)
	if !ok && r.URL.Path != strings.TrimSuffix(DataRoot, "/") {
		writeError(w, http.StatusNotFound, odata.NewError("No HTTP resource was found that matches the request URI '"+r.URL.Path+"'.", "", ""))
		return
	}
	if rest == "" {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, odata.NewError("The service document is read-only.", "", ""))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": DataRoot + "$metadata", "value": []any{}})
		return
	}
	if rest == "$batch" && r.Method == http.MethodPost {
		s.batch(w, r)
		return
	}
	set, pred, _ := strings.Cut(rest, "(")
	if pred != "" {
		pred = "(" + pred
	}
	switch r.Method + " " + set {
	case "POST SalesOrderHeadersV2/Microsoft.Dynamics.DataEntities.DSyncSimulate":
		s.simulate(w, r)
	case "GET SalesOrderHeadersV2":
		s.getOrders(w, r, pred)
	case "PATCH SalesOrderHeadersV2":
		s.patchOrder(w, r, pred)
	case "GET SalesPackingSlipHeaders":
		s.getSlips(w, r)
	case "GET SalesInvoiceHeadersV2":
		s.getInvoice(w, r, pred)
	case "GET ReturnOrderHeaders":
		s.getReturns(w, r)
	case "GET InventoryCountingJournalHeaders":
		s.getJournals(w, r)
	case "GET DSyncSalesOrderEvents":
		s.getEvents(w, r)
	default:
		writeError(w, http.StatusNotFound, odata.NewError(fmt.Sprintf("Resource not found for the segment '%s' (%s).", set, r.Method), "", ""))
	}
}

// issueToken is the Entra ID token endpoint: the client credentials
// grant with the environment's /.default scope.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	tokenErr := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		tokenErr(http.StatusBadRequest, "invalid_request", "AADSTS900144: POST a form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	env := s.cfg.Environment
	if env == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		env = scheme + "://" + r.Host
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		tokenErr(http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: only client_credentials is supported")
	case id != s.cfg.ClientID || secret != s.cfg.ClientSecret:
		tokenErr(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
	case r.PostForm.Get("scope") != strings.TrimSuffix(env, "/")+"/.default":
		tokenErr(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("AADSTS70011: The provided value for scope %q is not valid; want %s/.default", r.PostForm.Get("scope"), env))
	default:
		tok := randomHex()
		s.mu.Lock()
		s.tokens[tok] = token{user: id, expires: s.cfg.Now().Add(s.cfg.TokenLifetime)}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": int(s.cfg.TokenLifetime / time.Second),
			"ext_expires_in": int(s.cfg.TokenLifetime / time.Second), "access_token": tok})
	}
}

// authenticate checks the bearer token; without Config.ClientID every
// request is the anonymous user.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.cfg.ClientID == "" {
		return "", true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	t, known := s.tokens[tok]
	if known && !s.cfg.Now().Before(t.expires) {
		delete(s.tokens, tok)
		known = false
	}
	s.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return "", false
	}
	return t.user, true
}

// admit counts a request of user in the sliding window; when the window
// is full it returns false and how long until its oldest request leaves.
func (s *Server) admit(user string) (time.Duration, bool) {
	if s.cfg.RequestLimit == 0 {
		return 0, true
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	times := s.calls[user]
	i := 0
	for i < len(times) && !times[i].After(now.Add(-s.cfg.ThrottleWindow)) {
		i++
	}
	times = times[i:]
	if len(times) >= s.cfg.RequestLimit {
		s.calls[user] = times
		return max(times[0].Add(s.cfg.ThrottleWindow).Sub(now), time.Second), false
	}
	s.calls[user] = append(times, now)
	return 0, true
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// query is a parsed read: the filter's equality terms, the companies it
// sees, $select, and paging.
type query struct {
	eq           map[string]string // property → value
	crossCompany bool
	selected     []string
	top, skip    int // top -1: none
}

// enumProps are the enumeration properties a filter must compare with a
// type-qualified literal, and their types.
var enumProps = map[string]string{"SalesOrderStatus": "SalesStatus", "ReleaseStatus": "WHSReleaseStatus"}

// parseQuery reads $filter (terms "Prop eq literal" joined by "and"),
// cross-company, $select, $top and $skip.
func parseQuery(q url.Values) (query, error) {
	out := query{eq: map[string]string{}, top: -1, crossCompany: strings.EqualFold(q.Get("cross-company"), "true")}
	if f := strings.TrimSpace(q.Get("$filter")); f != "" {
		for _, term := range strings.Split(f, " and ") {
			prop, lit, ok := strings.Cut(strings.TrimSpace(term), " eq ")
			if !ok {
				return out, wireErrorf("The query specified in the URI is not valid: only 'Property eq literal' terms joined by 'and' are supported, not %q.", term)
			}
			prop, lit = strings.TrimSpace(prop), strings.TrimSpace(lit)
			if typ, isEnum := enumProps[prop]; isEnum {
				t, v, ok := odata.ParseEnum(lit)
				if !ok || t != typ {
					return out, wireErrorf("A binary operator with incompatible types was detected. Found operand types '%s%s' and 'Edm.String' for operator kind 'Equal'.", odata.EnumNamespace, typ)
				}
				out.eq[prop] = v
				continue
			}
			if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
				return out, wireErrorf("The query specified in the URI is not valid: %q is not a string literal.", lit)
			}
			out.eq[prop] = strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
		}
	}
	if sel := q.Get("$select"); sel != "" {
		out.selected = strings.Split(sel, ",")
	}
	for name, dst := range map[string]*int{"$top": &out.top, "$skip": &out.skip} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return out, wireErrorf("The query specified in the URI is not valid: %s %q is not a non-negative integer.", name, v)
			}
			*dst = n
		}
	}
	return out, nil
}

// wireError is an error whose text is the message the server answers, in
// F&O's wording.
type wireError string

func (e wireError) Error() string { return string(e) }

func wireErrorf(format string, args ...any) error { return wireError(fmt.Sprintf(format, args...)) }

// sees reports whether a record of company is visible to q: only the
// default company's without cross-company=true, and the filter's
// dataAreaId when given.
func (s *Server) sees(q query, company string) bool {
	if !q.crossCompany && !strings.EqualFold(company, s.cfg.DefaultCompany) {
		return false
	}
	if want, ok := q.eq["dataAreaId"]; ok && !strings.EqualFold(want, company) {
		return false
	}
	return true
}

// page writes one page of items (after $skip, at most $top and PageSize),
// with an @odata.nextLink carrying the next $skip when more follow; $select
// keeps only the named properties (and the etag and expanded lines).
func page[T any](s *Server, w http.ResponseWriter, r *http.Request, q query, set string, items []T) {
	limit := len(items)
	if q.top >= 0 {
		limit = min(limit, q.skip+q.top)
	}
	out := odata.Collection[json.RawMessage]{Context: DataRoot + "$metadata#" + set, Value: []json.RawMessage{}}
	if q.skip < limit {
		end := min(q.skip+s.cfg.PageSize, limit)
		for _, it := range items[q.skip:end] {
			b, err := selectJSON(it, q.selected)
			if err != nil {
				writeError(w, http.StatusInternalServerError, odata.NewError(err.Error(), "", ""))
				return
			}
			out.Value = append(out.Value, b)
		}
		if end < limit {
			nq := r.URL.Query()
			nq.Set("$skip", strconv.Itoa(end))
			if q.top >= 0 {
				nq.Set("$top", strconv.Itoa(limit-end))
			}
			u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: nq.Encode()}
			if r.TLS != nil {
				u.Scheme = "https"
			}
			out.NextLink = u.String()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// selectJSON encodes v keeping only the selected properties, @odata.*
// annotations and navigations (arrays); no selection keeps everything.
func selectJSON(v any, selected []string) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil || len(selected) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, p := range selected {
		keep[strings.TrimSpace(p)] = true
	}
	for k, raw := range m {
		if !keep[k] && !strings.HasPrefix(k, "@odata.") && (len(raw) == 0 || raw[0] != '[') {
			delete(m, k)
		}
	}
	return json.Marshal(m)
}

// writeConnectorError answers err of the business logic as F&O does: an
// empty code, "An error has occurred.", and the text as an Infolog of a
// failed write of entity.
func writeConnectorError(w http.ResponseWriter, entity string, err error) {
	status := http.StatusInternalServerError
	switch connector.CodeOf(err) {
	case connector.CodeInvalid:
		status = http.StatusBadRequest
	case connector.CodeNotFound:
		status = http.StatusNotFound
	case connector.CodeConflict:
		status = http.StatusConflict
	}
	text := err.Error()
	var ve *canonical.ValidationError
	if errors.As(err, &ve) {
		parts := make([]string, 0, len(ve.Errors))
		for _, fe := range ve.Errors {
			parts = append(parts, fe.Field+": "+fe.Message)
		}
		text = strings.Join(parts, "; ")
	}
	writeError(w, status, odata.WriteFailed(entity, text))
}

func invalid(err error) error {
	return connector.NewError(connector.CodeInvalid, "erp", "d365emu", err)
}
