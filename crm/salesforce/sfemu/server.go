package sfemu

// This file owns the HTTP side: routing, the token endpoint, sessions,
// the API request limit, error bodies and the REST resources.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

// Defaults of [Config], used for its zero fields.
const (
	// DefaultVersion is the REST API version the emulator's URLs carry.
	DefaultVersion = "v62.0"
	// DefaultBatchSize is how many records one query answer holds before
	// the rest is behind nextRecordsUrl.
	DefaultBatchSize = 2000
	// DefaultAPILimit is the API requests allowed per LimitWindow.
	DefaultAPILimit = 100000
	// DefaultLimitWindow is the window of the API request limit.
	DefaultLimitWindow = 24 * time.Hour
	// DefaultIntegrationUserID is the user the client credentials act as.
	DefaultIntegrationUserID = "005000000000002AAA"
)

// TokenPath is the path of the OAuth2 token endpoint.
const TokenPath = "/services/oauth2/token"

// maxComposite is the most sub-requests one composite request may hold.
const maxComposite = 25

// maxLocators bounds the query cursors (nextRecordsUrl) kept at once.
const maxLocators = 1000

// ErrInvalidConfig is matched (with errors.Is) by the error [New] and
// [Config.Validate] return for an unusable configuration.
var ErrInvalidConfig = errors.New("sfemu: invalid configuration")

// Config configures a [Server]. CRM, ClientID and ClientSecret are
// required; the other zero fields mean the documented defaults. It is a
// plain value: safe for concurrent use when not modified.
type Config struct {
	// CRM is the simulator whose orders, cancellation requests and
	// returns the emulator serves, and which shows the statuses and
	// availability written to it. Required.
	CRM *crm.Memory
	// ClientID and ClientSecret are the connected app's credentials the
	// token endpoint accepts. Both required.
	ClientID, ClientSecret string
	// IntegrationUserID is the user the client credentials flow runs as:
	// records the connector writes get it as LastModifiedById. "" means
	// DefaultIntegrationUserID.
	IntegrationUserID string
	// InstanceURL is the instance_url the token endpoint returns; "" means
	// the scheme and host the token request came to.
	InstanceURL string
	// Version is the API version of nextRecordsUrl and of the sObject
	// URLs in answers; "" means DefaultVersion. Requests may use any
	// version.
	Version string
	// BatchSize is how many records one query answer holds; 0 means
	// DefaultBatchSize.
	BatchSize int
	// APILimit is the API requests allowed per LimitWindow, reported in
	// Sforce-Limit-Info; past it requests are refused with 403
	// REQUEST_LIMIT_EXCEEDED. 0 means DefaultAPILimit.
	APILimit int
	// LimitWindow is the window of APILimit; 0 means DefaultLimitWindow.
	LimitWindow time.Duration
	// Clock returns the current time (LastModifiedDate, the limit
	// window); nil means time.Now. It must be safe for concurrent use.
	Clock func() time.Time
	// CustomFields declares the org's custom fields of Order and
	// OrderItem beyond the DistSync ones; nil declares none.
	CustomFields []CustomField
}

// Validate reports whether c is usable; the error matches
// [ErrInvalidConfig] and names the field.
func (c Config) Validate() error {
	switch {
	case c.CRM == nil:
		return fmt.Errorf("%w: CRM is required", ErrInvalidConfig)
	case c.ClientID == "" || c.ClientSecret == "":
		return fmt.Errorf("%w: ClientID and ClientSecret are required", ErrInvalidConfig)
	case c.BatchSize < 0 || c.APILimit < 0 || c.LimitWindow < 0:
		return fmt.Errorf("%w: BatchSize, APILimit and LimitWindow must not be negative", ErrInvalidConfig)
	case c.Version != "" && !versionRE.MatchString(c.Version):
		return fmt.Errorf("%w: Version %q is not of the form v62.0", ErrInvalidConfig, c.Version)
	}
	_, _, err := fieldIndexes(c.CustomFields)
	return err
}

// Counts says what the emulator has served. It is a plain value, safe for
// concurrent use. The zero value counts nothing.
type Counts struct {
	// Tokens is how many access tokens the token endpoint issued.
	Tokens int
	// APIRequests is how many authenticated REST requests came in (a
	// composite request counts once), refused ones included.
	APIRequests int
	// Composite is how many composite requests came in, SubRequests how
	// many sub-requests they held.
	Composite, SubRequests int
	// LimitExceeded is how many requests were refused with
	// REQUEST_LIMIT_EXCEEDED.
	LimitExceeded int
}

// Server is the emulated Salesforce org, an http.Handler. Create it with
// [New]; the zero value is not usable. It is safe for concurrent use.
type Server struct {
	cfg   Config
	crm   *crm.Memory
	clock func() time.Time

	mu         sync.Mutex
	tokens     map[string]bool
	used1      map[string]bool // tokens used at least once
	counts     Counts
	windowFrom time.Time
	used       int // API requests in the window
	memCursor  connector.Cursor
	records    []*record
	byID       map[string]*record
	byMem      map[string]*record
	accounts   map[string]string
	products   map[string]string
	nextOrder  int
	nextItem   int
	lastStamp  time.Time
	locators   map[string][]map[string]any
	locOrder   []string
	nextLoc    int
	avail      map[string]string // availability key -> record ID
	// orderIdx and itemIdx map a lower-case field name of Order and
	// OrderItem, custom fields included, to its spelling.
	orderIdx, itemIdx map[string]string
}

// New returns an emulator for cfg, or an error matching
// [ErrInvalidConfig].
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.APILimit == 0 {
		cfg.APILimit = DefaultAPILimit
	}
	if cfg.LimitWindow == 0 {
		cfg.LimitWindow = DefaultLimitWindow
	}
	if cfg.IntegrationUserID == "" {
		cfg.IntegrationUserID = DefaultIntegrationUserID
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	cfg.CustomFields = slices.Clone(cfg.CustomFields)
	orderIdx, itemIdx, _ := fieldIndexes(cfg.CustomFields)
	return &Server{cfg: cfg, crm: cfg.CRM, clock: clock, tokens: map[string]bool{}, used1: map[string]bool{}, orderIdx: orderIdx, itemIdx: itemIdx,
		byID: map[string]*record{}, byMem: map[string]*record{}, accounts: map[string]string{},
		products: map[string]string{}, locators: map[string][]map[string]any{}, avail: map[string]string{}}, nil
}

// RevokeTokens invalidates every access token issued so far, as when
// sessions expire: the next request with one is answered 401
// INVALID_SESSION_ID.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
	clear(s.used1)
}

// Counts returns what the emulator has served so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// FirstUse reports whether r is the first request carrying its access
// token, and records that it came. A fault injector may spare such
// requests ([faults.HTTPConfig.Match]): a session just opened has not
// expired, so a refreshed token's retry is not refused again.
func (s *Server) FirstUse(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tokens[tok] || s.used1[tok] {
		return false
	}
	s.used1[tok] = true
	return true
}

// IsTokenRequest reports whether r is for the token endpoint, so that a
// fault injector can spare it ([faults.HTTPConfig.Match]).
func IsTokenRequest(r *http.Request) bool { return r.URL.Path == TokenPath }

// OrderID returns the Salesforce Order ID of the simulator's order (or
// cancellation request or return) with the given ID, once a request has
// made the emulator read the simulator's feed.
func (s *Server) OrderID(memID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byMem[memID]
	if !ok {
		return "", false
	}
	return r.id, true
}

// SimulatorID returns the simulator's ID of the order (or cancellation
// request or return) the Salesforce Order ID sfID stands for.
func (s *Server) SimulatorID(sfID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[sfID]
	if !ok {
		return "", false
	}
	return r.memID, true
}

// Reject writes the answer of an injected fault in Salesforce's shape,
// for [faults.HTTPConfig.Reject]: 401 INVALID_SESSION_ID; for a rate
// limit, 403 REQUEST_LIMIT_EXCEEDED with Sforce-Limit-Info reporting the
// limit used up (Salesforce answers no 429); 503 SERVER_UNAVAILABLE.
func (s *Server) Reject(w http.ResponseWriter, _ *http.Request, status int, _ time.Duration) {
	switch status {
	case http.StatusUnauthorized:
		writeError(w, status, "INVALID_SESSION_ID", "Session expired or invalid")
	case http.StatusTooManyRequests:
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", s.cfg.APILimit+1, s.cfg.APILimit))
		writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	default:
		writeError(w, status, "SERVER_UNAVAILABLE", "Service temporarily unavailable")
	}
}

// apiError is one entry of Salesforce's error array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	writeJSON(w, status, []apiError{{Message: msg, ErrorCode: code, Fields: fields}})
}

var (
	versionRE = regexp.MustCompile(`^v[0-9]{2}\.[0-9]$`)
	pathRE    = regexp.MustCompile(`^/services/data/(v[0-9]{2}\.[0-9])/(.*)$`)
)

func (s *Server) path(rest string) string { return "/services/data/" + s.cfg.Version + "/" + rest }

// ServeHTTP answers the token endpoint and the REST resources of the
// package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath {
		s.token(w, r)
		return
	}
	m := pathRE.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if !s.admit(w, r) {
		return
	}
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, 1<<20)); err != nil {
			writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "reading the body: "+err.Error())
			return
		}
	}
	if r.Method == http.MethodPost && m[2] == "composite" {
		s.composite(w, r.Context(), body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, v := s.resourceLocked(r.Context(), r.Method, m[2], r.URL.Query(), body, true)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

// admit checks the session and counts the request against the API limit,
// writing the refusal when it fails. Every answer it admits carries
// Sforce-Limit-Info.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || !s.tokens[tok] {
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return false
	}
	now := s.clock()
	if s.windowFrom.IsZero() || now.Sub(s.windowFrom) >= s.cfg.LimitWindow {
		s.windowFrom, s.used = now, 0
	}
	s.used++
	s.counts.APIRequests++
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", s.used, s.cfg.APILimit))
	if s.used > s.cfg.APILimit {
		s.counts.LimitExceeded++
		writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return false
	}
	return true
}

// token answers the OAuth2 client credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	case id != s.cfg.ClientID:
		oauthErr(http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	case secret != s.cfg.ClientSecret:
		oauthErr(http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := orgID[:15] + "!" + hex.EncodeToString(b)
	instance := s.cfg.InstanceURL
	if instance == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		instance = scheme + "://" + r.Host
	}
	s.mu.Lock()
	s.tokens[tok] = true
	s.counts.Tokens++
	now := s.clock()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"instance_url": instance,
		"id":           instance + "/id/" + orgID + "/" + s.cfg.IntegrationUserID,
		"token_type":   "Bearer",
		"issued_at":    strconv.FormatInt(now.UnixMilli(), 10),
		"signature":    hex.EncodeToString(b[:8]),
		"scope":        "api",
	})
}

// resourceLocked answers one REST request (or composite sub-request) on
// the resource rest (the path after /services/data/vXX.X/). With apply
// false it checks the request without any effect. The caller holds s.mu.
func (s *Server) resourceLocked(ctx context.Context, method, rest string, q url.Values, body []byte, apply bool) (int, any) {
	if err := s.ingestLocked(ctx); err != nil {
		return http.StatusInternalServerError, []apiError{{Message: err.Error(), ErrorCode: "UNKNOWN_EXCEPTION"}}
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return http.StatusNotFound, errorBody("NOT_FOUND", "The requested resource does not exist")
		}
		parts[i] = u
	}
	rest = strings.Join(parts, "/")
	switch {
	case method == http.MethodGet && rest == "limits":
		return http.StatusOK, map[string]any{"DailyApiRequests": map[string]int{"Max": s.cfg.APILimit, "Remaining": max(0, s.cfg.APILimit-s.used)}}
	case method == http.MethodGet && rest == "query":
		return s.queryLocked(q.Get("q"))
	case method == http.MethodGet && len(parts) == 2 && parts[0] == "query":
		return s.moreLocked(parts[1])
	case method == http.MethodPatch && len(parts) == 3 && parts[0] == "sobjects" && parts[1] == "Order":
		return s.patchOrderLocked(ctx, parts[2], body, apply)
	case method == http.MethodPatch && len(parts) == 4 && parts[0] == "sobjects" && parts[1] == "Product_Availability__c" && parts[2] == "DistSync_Key__c":
		return s.upsertAvailabilityLocked(ctx, parts[3], body, apply)
	}
	return http.StatusNotFound, []apiError{{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"}}
}

func errorBody(code, msg string, fields ...string) []apiError {
	return []apiError{{Message: msg, ErrorCode: code, Fields: fields}}
}

func (s *Server) queryLocked(soql string) (int, any) {
	if strings.TrimSpace(soql) == "" {
		return http.StatusBadRequest, errorBody("MALFORMED_QUERY", "A query string has to be specified")
	}
	q, err := parseSOQL(soql)
	if err == nil {
		var recs []map[string]any
		if recs, err = s.runLocked(q); err == nil {
			return http.StatusOK, s.pageLocked(recs, len(recs))
		}
	}
	var se *soqlError
	if errors.As(err, &se) {
		return http.StatusBadRequest, errorBody(se.code, se.msg)
	}
	return http.StatusBadRequest, errorBody("MALFORMED_QUERY", err.Error())
}

// pageLocked returns the first batch of recs, keeping the rest behind a
// nextRecordsUrl.
func (s *Server) pageLocked(recs []map[string]any, total int) map[string]any {
	page := map[string]any{"totalSize": total, "done": true}
	if len(recs) > s.cfg.BatchSize {
		s.nextLoc++
		loc := fmt.Sprintf("01g%012dAAA", s.nextLoc)
		s.locators[loc] = recs
		s.locOrder = append(s.locOrder, loc)
		if len(s.locOrder) > maxLocators {
			delete(s.locators, s.locOrder[0])
			s.locOrder = s.locOrder[1:]
		}
		page["done"] = false
		page["nextRecordsUrl"] = s.path(fmt.Sprintf("query/%s-%d", loc, s.cfg.BatchSize))
		recs = recs[:s.cfg.BatchSize]
	}
	page["records"] = recs
	return page
}

// moreLocked answers a nextRecordsUrl.
func (s *Server) moreLocked(locator string) (int, any) {
	loc, off, ok := strings.Cut(locator, "-")
	n, err := strconv.Atoi(off)
	recs, known := s.locators[loc]
	if !ok || err != nil || !known || n < 0 || n > len(recs) {
		return http.StatusBadRequest, errorBody("INVALID_QUERY_LOCATOR", "invalid query locator")
	}
	rest := recs[n:]
	page := map[string]any{"totalSize": len(recs), "done": true}
	if len(rest) > s.cfg.BatchSize {
		page["done"] = false
		page["nextRecordsUrl"] = s.path(fmt.Sprintf("query/%s-%d", loc, n+s.cfg.BatchSize))
		rest = rest[:s.cfg.BatchSize]
	}
	page["records"] = rest
	return http.StatusOK, page
}

// decodeFields decodes an sObject body, refusing fields outside allowed.
func decodeFields(body []byte, allowed ...string) (map[string]json.RawMessage, []apiError) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, errorBody("JSON_PARSER_ERROR", "the body is not a JSON object")
	}
	for f := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || f == a
		}
		if !ok {
			return nil, errorBody("INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject", f), f)
		}
	}
	return m, nil
}

// patchOrderLocked updates the status fields of an Order. The org is
// assumed to have a validation rule refusing a DistSync_Sequence__c below
// or equal to the one the order holds.
func (s *Server) patchOrderLocked(ctx context.Context, id string, body []byte, apply bool) (int, any) {
	r, ok := s.byID[id]
	if !ok {
		return http.StatusNotFound, errorBody("NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+id)
	}
	m, bad := decodeFields(body, append([]string{"DistSync_Sequence__c", "DistSync_Status__c", "DistSync_Tracking__c"}, s.customNames("Order")...)...)
	if bad != nil {
		return http.StatusBadRequest, bad
	}
	var seq int64
	var raw string
	var st connector.OrderStatus
	if json.Unmarshal(m["DistSync_Sequence__c"], &seq) != nil {
		return http.StatusBadRequest, errorBody("INVALID_TYPE_ON_FIELD_IN_RECORD", "DistSync Sequence: value not of required type", "DistSync_Sequence__c")
	}
	if json.Unmarshal(m["DistSync_Status__c"], &raw) != nil || json.Unmarshal([]byte(raw), &st) != nil {
		return http.StatusBadRequest, errorBody("INVALID_TYPE_ON_FIELD_IN_RECORD", "DistSync Status: not a status document", "DistSync_Status__c")
	}
	if st.OrderID != id || st.Sequence != seq {
		return http.StatusBadRequest, errorBody("FIELD_INTEGRITY_EXCEPTION", "DistSync Status names another order or sequence", "DistSync_Status__c")
	}
	if r.kind != canonical.EventOrderSubmitted {
		return http.StatusBadRequest, errorBody("FIELD_INTEGRITY_EXCEPTION", "status is kept on the original order, not a reduction order")
	}
	if cur, ok := s.crm.ShownStatus(r.memID); ok && seq <= cur.Sequence {
		return http.StatusBadRequest, errorBody("FIELD_CUSTOM_VALIDATION_EXCEPTION", fmt.Sprintf("DistSync sequence %d is not after the %d shown", seq, cur.Sequence), "DistSync_Sequence__c")
	}
	custom := map[string]any{}
	for _, f := range s.customNames("Order") {
		if raw, ok := m[f]; ok {
			v, ok := customValue(raw)
			if !ok {
				return http.StatusBadRequest, errorBody("INVALID_TYPE_ON_FIELD_IN_RECORD", f+": value not of required type", f)
			}
			custom[f] = v
		}
	}
	if !apply {
		return http.StatusNoContent, nil
	}
	if err := s.crm.PublishStatus(ctx, s.statusOf(r, st)); err != nil {
		return simulatorError(err)
	}
	r.fields["DistSync_Sequence__c"] = json.Number(strconv.FormatInt(seq, 10))
	r.fields["DistSync_Status__c"] = raw
	if t, ok := m["DistSync_Tracking__c"]; ok {
		var v string
		_ = json.Unmarshal(t, &v)
		r.fields["DistSync_Tracking__c"] = v
	}
	for f, v := range custom {
		r.fields[f] = v
	}
	r.fields["LastModifiedDate"] = s.stampLocked()
	r.fields["LastModifiedById"] = s.cfg.IntegrationUserID
	return http.StatusNoContent, nil
}

// simulatorError maps an error of the crm simulator to a Salesforce
// answer.
func simulatorError(err error) (int, any) {
	switch connector.CodeOf(err) {
	case connector.CodeNotFound:
		return http.StatusNotFound, errorBody("NOT_FOUND", err.Error())
	case connector.CodeInvalid:
		return http.StatusBadRequest, errorBody("FIELD_INTEGRITY_EXCEPTION", err.Error())
	}
	return http.StatusInternalServerError, errorBody("UNKNOWN_EXCEPTION", err.Error())
}

// availability is the body of a Product_Availability__c upsert.
type availability struct {
	SKU       string      `json:"Sku__c"`
	Location  string      `json:"Location__c"`
	Available json.Number `json:"Available__c"`
	Unit      string      `json:"Unit__c"`
	AsOf      string      `json:"As_Of__c"`
	Sequence  json.Number `json:"DistSync_Sequence__c"`
}

// upsertAvailabilityLocked upserts a Product_Availability__c record by its
// external ID DistSync_Key__c, "SKU@Location".
func (s *Server) upsertAvailabilityLocked(ctx context.Context, key string, body []byte, apply bool) (int, any) {
	if _, bad := decodeFields(body, "Sku__c", "Location__c", "Available__c", "Unit__c", "As_Of__c", "DistSync_Sequence__c"); bad != nil {
		return http.StatusBadRequest, bad
	}
	var a availability
	if err := json.Unmarshal(body, &a); err != nil {
		return http.StatusBadRequest, errorBody("JSON_PARSER_ERROR", err.Error())
	}
	if key != a.SKU+"@"+a.Location {
		return http.StatusBadRequest, errorBody("FIELD_INTEGRITY_EXCEPTION", "DistSync_Key__c must be Sku__c@Location__c", "DistSync_Key__c")
	}
	qty, err := canonical.ParseQuantity(a.Available.String(), a.Unit)
	if err != nil {
		return http.StatusBadRequest, errorBody("INVALID_TYPE_ON_FIELD_IN_RECORD", "Available: "+err.Error(), "Available__c", "Unit__c")
	}
	seq, err := a.Sequence.Int64()
	if err != nil {
		return http.StatusBadRequest, errorBody("INVALID_TYPE_ON_FIELD_IN_RECORD", "DistSync Sequence: value not of required type", "DistSync_Sequence__c")
	}
	asOf, err := time.Parse(timeLayout, a.AsOf)
	if err != nil {
		return http.StatusBadRequest, errorBody("INVALID_TYPE_ON_FIELD_IN_RECORD", "As Of: value not of required type", "As_Of__c")
	}
	if cur, ok := s.crm.ShownAvailability(a.SKU, a.Location); ok && seq <= cur.Sequence {
		return http.StatusBadRequest, errorBody("FIELD_CUSTOM_VALIDATION_EXCEPTION", fmt.Sprintf("DistSync sequence %d is not after the %d shown", seq, cur.Sequence), "DistSync_Sequence__c")
	}
	id, exists := s.avail[key]
	if !exists {
		id = sfID("a01", len(s.avail)+1)
	}
	if !apply {
		return http.StatusOK, nil
	}
	err = s.crm.PublishAvailability(ctx, []connector.Availability{{SKU: a.SKU, Location: a.Location, Available: qty, AsOf: asOf, Sequence: seq}})
	if err != nil {
		return simulatorError(err)
	}
	s.avail[key] = id
	if exists {
		return http.StatusOK, map[string]any{"id": id, "success": true, "errors": []any{}, "created": false}
	}
	return http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}, "created": true}
}

// subRequest is one request of a composite request.
type subRequest struct {
	Method      string          `json:"method"`
	URL         string          `json:"url"`
	ReferenceID string          `json:"referenceId"`
	Body        json.RawMessage `json:"body"`
}

type subResponse struct {
	Body           any               `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// composite answers POST /composite: 200 with one answer per sub-request.
// With allOrNone, nothing is applied unless every sub-request succeeds.
func (s *Server) composite(w http.ResponseWriter, ctx context.Context, body []byte) {
	var req struct {
		AllOrNone bool         `json:"allOrNone"`
		Requests  []subRequest `json:"compositeRequest"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "composite request: "+err.Error())
		return
	}
	if len(req.Requests) == 0 || len(req.Requests) > maxComposite {
		writeError(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("compositeRequest must hold 1 to %d sub-requests, holds %d", maxComposite, len(req.Requests)), "compositeRequest")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Composite++
	s.counts.SubRequests += len(req.Requests)
	run := func(sr subRequest, apply bool) subResponse {
		out := subResponse{HTTPHeaders: map[string]string{}, ReferenceID: sr.ReferenceID}
		u, err := url.Parse(sr.URL)
		var m []string
		if err == nil {
			m = pathRE.FindStringSubmatch(u.EscapedPath())
		}
		if err != nil || m == nil {
			out.HTTPStatusCode, out.Body = http.StatusBadRequest, errorBody("INVALID_FIELD", "sub-request url must be a /services/data/ path", "url")
			return out
		}
		out.HTTPStatusCode, out.Body = s.resourceLocked(ctx, sr.Method, m[2], u.Query(), sr.Body, apply)
		return out
	}
	resps := make([]subResponse, len(req.Requests))
	if req.AllOrNone {
		failed := false
		for i, sr := range req.Requests {
			resps[i] = run(sr, false)
			failed = failed || resps[i].HTTPStatusCode >= 300
		}
		if failed {
			for i := range resps {
				if resps[i].HTTPStatusCode < 300 {
					resps[i].HTTPStatusCode = http.StatusBadRequest
					resps[i].Body = errorBody("PROCESSING_HALTED", "The transaction was rolled back since another operation in the same transaction failed.")
				}
			}
			writeJSON(w, http.StatusOK, map[string]any{"compositeResponse": resps})
			return
		}
	}
	for i, sr := range req.Requests {
		resps[i] = run(sr, true)
	}
	writeJSON(w, http.StatusOK, map[string]any{"compositeResponse": resps})
}
