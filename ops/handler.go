// This file owns the HTTP side: routing, the HTML and JSON answers, the
// authentication of actions, CSRF protection and problem+json errors.

package ops

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

//go:embed templates/*.html templates/style.css
var assets embed.FS

// CSRFCookie is the name of the cookie that holds the double-submit CSRF
// token of the HTML forms; the forms send the same token in the field
// CSRFField.
const (
	CSRFCookie = "ops_csrf"
	CSRFField  = "csrf"
)

// maxBody bounds the body of an action (a form or a JSON document).
const maxBody = 64 << 10

// Handler serves the operator pages and the JSON API (see the package
// documentation for the routes). It is safe for concurrent use. The zero
// value is not usable; create it with New.
type Handler struct {
	cfg  Config
	mux  *http.ServeMux
	tmpl *template.Template
	cop  *http.CrossOriginProtection
	log  *slog.Logger
	now  func() time.Time
}

// New returns a Handler configured by cfg. The error matches
// ErrInvalidConfig.
func New(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection(), log: cfg.Logger, now: cfg.Now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if len(h.cfg.GroupNames) == 0 {
		h.cfg.GroupNames = []string{flow.DefaultGroup}
	}
	if h.cfg.MaxLag == 0 {
		h.cfg.MaxLag = DefaultMaxLag
	}
	css, err := assets.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("ops: embedded style: %w", err)
	}
	funcs := template.FuncMap{
		"base":  func() string { return cfg.BasePath },
		"css":   func() template.CSS { return template.CSS(css) },
		"when":  formatTime,
		"clock": func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
		"since": func(t time.Time) string { return formatAge(h.now().Sub(t)) },
		"path":  func(s string) string { return url.PathEscape(s) },
		"list":  func(s ...string) []string { return s },
		// isKey reports that a finding's subject is a SKU@WAREHOUSE key,
		// not an order ID.
		"isKey": func(s string) bool { return strings.Contains(s, "@") },
	}
	h.tmpl, err = template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ops: templates: %w", err)
	}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /{$}", h.overviewPage)
	m.HandleFunc("GET /orders", h.ordersPage)
	m.HandleFunc("GET /orders/{id}", h.orderPage)
	m.HandleFunc("GET /deadletters", h.deadLettersPage)
	m.HandleFunc("GET /deadletters/{id}", h.deadLetterPage)
	m.HandleFunc("POST /deadletters/{id}/replay", h.form(h.replayOne))
	m.HandleFunc("POST /deadletters/{id}/discard", h.form(h.discardOne))
	m.HandleFunc("POST /deadletters/replay", h.form(h.replayMany))
	m.HandleFunc("GET /inventory", h.inventoryPage)

	m.HandleFunc("GET /api/overview", h.overviewAPI)
	m.HandleFunc("GET /api/orders", h.ordersAPI)
	m.HandleFunc("GET /api/orders/{id}", h.orderAPI)
	m.HandleFunc("GET /api/deadletters", h.deadLettersAPI)
	m.HandleFunc("GET /api/deadletters/{id}", h.deadLetterAPI)
	m.HandleFunc("POST /api/deadletters/{id}/replay", h.api(h.replayOne))
	m.HandleFunc("POST /api/deadletters/{id}/discard", h.api(h.discardOne))
	m.HandleFunc("POST /api/deadletters/replay", h.api(h.replayMany))
	m.HandleFunc("GET /api/inventory", h.inventoryAPI)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		h.problem(w, r, http.StatusNotFound, ProblemNotFound, "no such API route: "+r.Method+" "+r.URL.Path, "")
	})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
	}
	h.mux.ServeHTTP(w, r)
}

// problemDoc is an RFC 9457 problem details document.
type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Param names the request parameter or field at fault.
	Param string `json:"param,omitempty"`
}

// Problem types of the API's RFC 9457 answers (application/problem+json).
const (
	// ProblemBadInput: 400, a parameter, the form or the body is not
	// valid; param names it.
	ProblemBadInput = "https://distsync.dev/problems/ops-bad-input"
	// ProblemUnauthenticated: 401, an action by a request that
	// Config.Authenticate does not authenticate.
	ProblemUnauthenticated = "https://distsync.dev/problems/ops-unauthenticated"
	// ProblemActionsDisabled: 403, an action while Config.Authenticate is
	// nil.
	ProblemActionsDisabled = "https://distsync.dev/problems/ops-actions-disabled"
	// ProblemCrossOrigin: 403, an action from another origin.
	ProblemCrossOrigin = "https://distsync.dev/problems/ops-cross-origin"
	// ProblemCSRF: 403, a form without the right CSRF token.
	ProblemCSRF = "https://distsync.dev/problems/ops-csrf-token"
	// ProblemNotFound: 404, no such dead letter, order or route, or a
	// page the configuration leaves out.
	ProblemNotFound = "https://distsync.dev/problems/ops-not-found"
	// ProblemState: 409, the dead letter is not dead (being replayed,
	// resolved or discarded already).
	ProblemState = "https://distsync.dev/problems/ops-dead-letter-state"
	// ProblemMediaType: 415, an API action whose body is not
	// application/json.
	ProblemMediaType = "https://distsync.dev/problems/ops-unsupported-media-type"
	// ProblemUnavailable: 503, the request was cancelled.
	ProblemUnavailable = "https://distsync.dev/problems/ops-unavailable"
	// ProblemInternal: 500, a store failed (the failure is logged).
	ProblemInternal = "https://distsync.dev/problems/ops-internal"
)

// problem answers an error: problem+json on the API, an HTML page otherwise.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, typ, detail, param string) {
	p := problemDoc{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail, Param: param}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(p)
		return
	}
	h.render(w, r, status, "error.html", p.Title, p)
}

// fail answers err of a store or the flow: 404 for what does not exist,
// 409 for a dead letter in another state, 500 (logged) otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, eventlog.ErrNotFound), errors.Is(err, flow.ErrUnknownOrder):
		h.problem(w, r, http.StatusNotFound, ProblemNotFound, what+" not found", "id")
	case errors.Is(err, eventlog.ErrState):
		h.problem(w, r, http.StatusConflict, ProblemState, what+" is not dead: "+err.Error(), "id")
	case errors.Is(err, context.Canceled):
		h.problem(w, r, http.StatusServiceUnavailable, ProblemUnavailable, "request cancelled", "")
	default:
		h.log.ErrorContext(r.Context(), "ops: reading "+what, "err", err)
		h.problem(w, r, http.StatusInternalServerError, ProblemInternal, "reading "+what+" failed", "")
	}
}

// page is what every template gets.
type page struct {
	Title string
	CSRF  string
	// Principal is who the request is authenticated as, "" when nobody.
	Principal string
	// CanAct reports that actions are possible at all (Authenticate set).
	CanAct bool
	Notice string
	Data   any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Title: title, CSRF: h.csrfToken(w, r), Data: data, CanAct: h.cfg.Authenticate != nil, Notice: notice(r.URL.Query())}
	if h.cfg.Authenticate != nil {
		if who, ok := h.cfg.Authenticate(r); ok {
			p.Principal = who
		}
	}
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		h.log.ErrorContext(r.Context(), "ops: rendering "+name, "err", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// notice is the message shown after an action that redirected here.
func notice(q url.Values) string {
	switch {
	case q.Has("replayed"):
		n, _ := strconv.Atoi(q.Get("replayed"))
		return fmt.Sprintf("Replay requested for %d dead letter(s); the consumer handles them at its next poll.", n)
	case q.Has("discarded"):
		return "Dead letter discarded."
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// csrfToken returns the request's CSRF token, setting a new cookie when the
// request has none.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && validToken(c.Value) {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	path := h.cfg.BasePath
	if path == "" {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: tok, Path: path, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}

func validToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// action is a change an operator asks for; it returns where the HTML form
// redirects to and the JSON answer.
type action func(ctx context.Context, r *http.Request, in actionInput) (result, error)

// actionInput is what an action reads from the form or the JSON body.
type actionInput struct {
	By     string
	Why    string `json:"why"`
	All    bool   `json:"all"`
	Filter Query
	// HasFilter reports that the body named a filter.
	HasFilter bool
}

type result struct {
	Replayed  int    `json:"replayed,omitempty"`
	Discarded int64  `json:"discarded,omitempty"`
	Redirect  string `json:"-"`
}

// inputError is bad input naming the parameter at fault.
type inputError struct{ param, detail string }

func (e *inputError) Error() string { return e.detail }

func badInput(param, format string, args ...any) error {
	return &inputError{param: param, detail: fmt.Sprintf(format, args...)}
}

// authorize returns the principal of r, or answers the refusal.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	if h.cfg.Authenticate == nil {
		h.problem(w, r, http.StatusForbidden, ProblemActionsDisabled, "actions are disabled: the service configured no authentication (ops.Config.Authenticate)", "")
		return "", false
	}
	who, ok := h.cfg.Authenticate(r)
	if !ok || who == "" {
		h.problem(w, r, http.StatusUnauthorized, ProblemUnauthenticated, "this action requires an authenticated principal", "")
		return "", false
	}
	return who, true
}

// form wraps an action of the HTML side: same-origin, CSRF token, principal.
func (h *Handler) form(act action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.cop.Check(r); err != nil {
			h.problem(w, r, http.StatusForbidden, ProblemCrossOrigin, "cross-origin request refused", "Origin")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			h.problem(w, r, http.StatusBadRequest, ProblemBadInput, "form: "+err.Error(), "")
			return
		}
		c, err := r.Cookie(CSRFCookie)
		tok := r.PostForm.Get(CSRFField)
		if err != nil || !validToken(c.Value) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(tok)) != 1 {
			h.problem(w, r, http.StatusForbidden, ProblemCSRF, "missing or wrong CSRF token: reload the page and try again", CSRFField)
			return
		}
		who, ok := h.authorize(w, r)
		if !ok {
			return
		}
		in := actionInput{By: who, Why: strings.TrimSpace(r.PostForm.Get("why")), All: r.PostForm.Get("all") == "true"}
		if len(in.Why) > MaxWhy {
			h.problem(w, r, http.StatusBadRequest, ProblemBadInput, fmt.Sprintf("the reason is %d bytes; at most %d", len(in.Why), MaxWhy), "why")
			return
		}
		in.Filter, in.HasFilter = filterFromValues(r.PostForm)
		res, err := act(r.Context(), r, in)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		http.Redirect(w, r, h.cfg.BasePath+res.Redirect, http.StatusSeeOther)
	}
}

// api wraps an action of the JSON API: same-origin, JSON body, principal.
func (h *Handler) api(act action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.cop.Check(r); err != nil {
			h.problem(w, r, http.StatusForbidden, ProblemCrossOrigin, "cross-origin request refused", "Origin")
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			h.problem(w, r, http.StatusUnsupportedMediaType, ProblemMediaType, "the body must be application/json", "Content-Type")
			return
		}
		who, ok := h.authorize(w, r)
		if !ok {
			return
		}
		var body struct {
			Why    string `json:"why"`
			All    bool   `json:"all"`
			Filter *Query `json:"filter"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			h.problem(w, r, http.StatusBadRequest, ProblemBadInput, "body: "+err.Error(), "body")
			return
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			h.problem(w, r, http.StatusBadRequest, ProblemBadInput, "body: one JSON object expected, found more after it", "body")
			return
		}
		in := actionInput{By: who, Why: strings.TrimSpace(body.Why), All: body.All}
		if len(in.Why) > MaxWhy {
			h.problem(w, r, http.StatusBadRequest, ProblemBadInput, fmt.Sprintf("the reason is %d bytes; at most %d", len(in.Why), MaxWhy), "why")
			return
		}
		if body.Filter != nil {
			in.Filter, in.HasFilter = *body.Filter, !body.Filter.isZero()
		}
		res, err := act(r.Context(), r, in)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

func (h *Handler) actionFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ie *inputError
	if errors.As(err, &ie) {
		h.problem(w, r, http.StatusBadRequest, ProblemBadInput, ie.detail, ie.param)
		return
	}
	h.fail(w, r, err, "dead letter")
}

// MaxWhy is the most bytes of an operator's reason (why).
const MaxWhy = 1000

// DefaultReplayWhy is recorded as the reason of a replay asked for without
// one.
const DefaultReplayWhy = "replay requested by an operator"

func parseID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, badInput("id", "dead letter id %q is not a positive integer", s)
	}
	return id, nil
}

func (h *Handler) replayOne(ctx context.Context, r *http.Request, in actionInput) (result, error) {
	id, err := parseID(r)
	if err != nil {
		return result{}, err
	}
	why := in.Why
	if why == "" {
		why = DefaultReplayWhy
	}
	if _, err := h.cfg.DeadLetters.Get(ctx, id); err != nil {
		return result{}, err
	}
	n, err := h.cfg.DeadLetters.Replay(ctx, eventlog.Filter{ID: id}, eventlog.Audit{By: in.By, Why: why, At: h.now()})
	if err != nil {
		return result{}, err
	}
	if n == 0 {
		return result{}, fmt.Errorf("dead letter %d: %w", id, eventlog.ErrState)
	}
	return result{Replayed: n, Redirect: "/deadletters/" + strconv.FormatInt(id, 10) + "?replayed=1"}, nil
}

func (h *Handler) replayMany(ctx context.Context, _ *http.Request, in actionInput) (result, error) {
	f, err := in.Filter.filter()
	if err != nil {
		return result{}, err
	}
	if !in.HasFilter && !in.All {
		return result{}, badInput("all", "replaying every dead letter needs all=true; otherwise give a filter")
	}
	why := in.Why
	if why == "" {
		why = DefaultReplayWhy
	}
	f.State, f.Limit = "", 0
	n, err := h.cfg.DeadLetters.Replay(ctx, f, eventlog.Audit{By: in.By, Why: why, At: h.now()})
	if err != nil {
		return result{}, err
	}
	return result{Replayed: n, Redirect: "/deadletters?state=replaying&replayed=" + strconv.Itoa(n)}, nil
}

func (h *Handler) discardOne(ctx context.Context, r *http.Request, in actionInput) (result, error) {
	id, err := parseID(r)
	if err != nil {
		return result{}, err
	}
	if in.Why == "" {
		return result{}, badInput("why", "discarding dead letter %d needs a reason (why)", id)
	}
	if err := h.cfg.DeadLetters.Discard(ctx, id, eventlog.Audit{By: in.By, Why: in.Why, At: h.now()}); err != nil {
		return result{}, err
	}
	return result{Discarded: id, Redirect: "/deadletters/" + strconv.FormatInt(id, 10) + "?discarded=1"}, nil
}
