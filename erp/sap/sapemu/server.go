package sapemu

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
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// Root is the path under which the OData services are served.
const Root = "/sap/opu/odata/sap/"

// The services served, as path segments under Root.
const (
	SalesOrderService       = "API_SALES_ORDER_SRV"
	SimulationService       = "API_SALES_ORDER_SIMULATION_SRV"
	OutboundDeliveryService = "API_OUTBOUND_DELIVERY_SRV;v=0002"
	BillingDocumentService  = "API_BILLING_DOCUMENT_SRV"
	CustomerReturnService   = "API_CUSTOMER_RETURN_SRV"
	MaterialDocumentService = "API_MATERIAL_DOCUMENT_SRV"
)

// SessionCookie is the name of the session cookie that a CSRF token fetch
// sets and that every write must carry with the token.
const SessionCookie = "SAP_SESSIONID_EMU_100"

// DefaultPageSize is the server page size of collections when
// Config.PageSize is zero.
const DefaultPageSize = 50

// ErrInvalidConfig is matched by the error New returns for an unusable
// Config.
var ErrInvalidConfig = errors.New("sapemu: invalid configuration")

// Config configures a Server. ERP is required; the zero value of every
// other field is its documented default.
type Config struct {
	// ERP holds the business logic (pricing, credit, ATP, billing) and the
	// state behind the SAP shapes. Required.
	ERP *erp.Memory
	// User and Password are the Basic credentials the server requires; an
	// empty User accepts any request without credentials.
	User, Password string
	// PageSize is the server page size of collections (the __next link
	// follows a full page); zero means DefaultPageSize.
	PageSize int
	// Now is the clock of LastChangeDateTime and document dates; nil means
	// time.Now.
	Now func() time.Time
}

// Validate reports whether c is usable; the error matches ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.ERP == nil:
		return fmt.Errorf("%w: ERP is required", ErrInvalidConfig)
	case c.PageSize < 0:
		return fmt.Errorf("%w: PageSize %d is negative", ErrInvalidConfig, c.PageSize)
	}
	return nil
}

// Server is an emulated SAP S/4HANA OData v2 endpoint: an http.Handler.
// Create it with New; the zero value is not usable. It is safe for
// concurrent use.
type Server struct {
	cfg Config
	m   *erp.Memory

	mu       sync.Mutex
	sessions map[string]string // session cookie → CSRF token
	orders   map[string]*orderRec
	byOrder  map[string]*orderRec // canonical order ID
	byKey    map[string]*orderRec
	nextSO   int
	dlv      map[string]*deliveryRec
	dlvByKey map[string]*deliveryRec
	nextDLV  int
	bills    map[string]*billRec
	billByID map[string]*billRec // canonical invoice ID
	nextBill int
	rets     map[string]*returnRec
	retByKey map[string]*returnRec
	nextRet  int
	mats     map[string]odata.MaterialDocument // by key
	nextMat  int
}

// New returns a Server for cfg, or an error matching ErrInvalidConfig.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, m: cfg.ERP, sessions: map[string]string{}, orders: map[string]*orderRec{},
		byOrder: map[string]*orderRec{}, byKey: map[string]*orderRec{}, nextSO: 1000000,
		dlv: map[string]*deliveryRec{}, dlvByKey: map[string]*deliveryRec{}, nextDLV: 80000000,
		bills: map[string]*billRec{}, billByID: map[string]*billRec{}, nextBill: 90000000, rets: map[string]*returnRec{},
		retByKey: map[string]*returnRec{}, nextRet: 60000000, mats: map[string]odata.MaterialDocument{}, nextMat: 4900000000}, nil
}

// ERP returns the simulator behind the server.
func (s *Server) ERP() *erp.Memory { return s.m }

// ExpireSessions forgets every session and its CSRF token, as a server
// restart or a session timeout does: the next write gets 403 with
// X-CSRF-Token: Required.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// Reject writes an SAP-shaped answer for an injected fault: the status,
// an SAP Gateway error body, and Retry-After (in seconds, at least 1) on a
// 429. Its signature is that of faults.HTTPConfig.Reject.
func Reject(w http.ResponseWriter, _ *http.Request, status int, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests {
		secs := int((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	code := map[int]string{http.StatusTooManyRequests: "/IWFND/CM_BEC/026", http.StatusServiceUnavailable: "/IWFND/CM_BEC/004",
		http.StatusUnauthorized: "/IWFND/CM_CONSUMER/101"}[status]
	writeError(w, status, odata.NewError(code, http.StatusText(status)))
}

func writeError(w http.ResponseWriter, status int, body odata.ErrorBody) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP serves the OData services.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.User != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.cfg.User || p != s.cfg.Password {
			writeError(w, http.StatusUnauthorized, odata.NewError("/IWFND/CM_CONSUMER/101", "Logon failed"))
			return
		}
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Root)
	if !ok {
		writeError(w, http.StatusNotFound, odata.NewError("/IWFND/MED/170", "No service found for namespace"))
		return
	}
	service, resource, _ := strings.Cut(rest, "/")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if strings.EqualFold(r.Header.Get("X-CSRF-Token"), "Fetch") {
			s.fetchToken(w, r)
		}
	} else if !s.checkToken(r) {
		w.Header().Set("X-CSRF-Token", "Required")
		writeError(w, http.StatusForbidden, odata.NewError("/IWFND/CM_COS/059", "CSRF token validation failed"))
		return
	}
	if resource == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, odata.NewError("/IWFND/MED/052", "Method not allowed on the service document"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"d": map[string]any{"EntitySets": []string{}}})
		return
	}
	h := s.route(service, resource, r.Method)
	if h == nil {
		writeError(w, http.StatusNotFound, odata.NewError("/IWBEP/CM_MGW_RT/020", fmt.Sprintf("Resource %s/%s not found for %s", service, resource, r.Method)))
		return
	}
	h(w, r, resource)
}

type handler func(w http.ResponseWriter, r *http.Request, resource string)

func (s *Server) route(service, resource, method string) handler {
	set, _, _ := strings.Cut(resource, "(")
	switch service + " " + method + " " + set {
	case SalesOrderService + " POST A_SalesOrder":
		return s.createSalesOrder
	case SalesOrderService + " GET A_SalesOrder":
		return s.getSalesOrders
	case SalesOrderService + " PATCH A_SalesOrder":
		return s.patchSalesOrder
	case SimulationService + " POST A_SalesOrderSimulation":
		return s.simulateSalesOrder
	case OutboundDeliveryService + " POST A_OutbDeliveryHeader":
		return s.createDelivery
	case OutboundDeliveryService + " GET A_OutbDeliveryHeader":
		return s.getDeliveries
	case OutboundDeliveryService + " POST PostGoodsIssue":
		return s.postGoodsIssue
	case BillingDocumentService + " GET A_BillingDocument":
		return s.getBillingDocuments
	case CustomerReturnService + " POST A_CustomerReturn":
		return s.createReturn
	case CustomerReturnService + " GET A_CustomerReturn":
		return s.getReturns
	case MaterialDocumentService + " POST A_MaterialDocumentHeader":
		return s.createMaterialDocument
	case EventService + " GET YY1_SalesOrderEvent":
		return s.getEvents
	case MaterialDocumentService + " GET A_MaterialDocumentHeader":
		return s.getMaterialDocuments
	}
	return nil
}

func (s *Server) fetchToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(SessionCookie); err == nil {
		if tok, ok := s.sessions[c.Value]; ok {
			w.Header().Set("X-CSRF-Token", tok)
			return
		}
	}
	session, tok := randomHex(), randomHex()
	s.sessions[session] = tok
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: session, Path: "/", HttpOnly: true})
	w.Header().Set("X-CSRF-Token", tok)
}

func (s *Server) checkToken(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.sessions[c.Value]
	return ok && tok != "" && r.Header.Get("X-CSRF-Token") == tok
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyOf parses the key of a single-entity resource such as
// A_SalesOrder('1000001'); ok is false for the entity set itself.
func keyOf(resource string) (key string, ok bool, err error) {
	_, args, found := strings.Cut(resource, "(")
	if !found {
		return "", false, nil
	}
	args, found = strings.CutSuffix(args, ")")
	if !found || len(args) < 2 || args[0] != '\'' || args[len(args)-1] != '\'' {
		return "", true, fmt.Errorf("malformed key in %q", resource)
	}
	return strings.ReplaceAll(args[1:len(args)-1], "''", "'"), true, nil
}

// filterEq parses a $filter of the form "Prop eq 'value'"; ok is false
// when there is no filter.
func filterEq(q url.Values) (prop, value string, ok bool, err error) {
	f := q.Get("$filter")
	if f == "" {
		return "", "", false, nil
	}
	prop, lit, found := strings.Cut(f, " eq ")
	if !found || len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", "", true, fmt.Errorf("$filter %q is not Property eq 'value'", f)
	}
	return strings.TrimSpace(prop), strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"), true, nil
}

// page writes one page of items, with a __next link when more follow.
// $skiptoken is the offset of the page.
func page[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T) {
	skip := 0
	if t := r.URL.Query().Get("$skiptoken"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", fmt.Sprintf("$skiptoken %q is invalid", t)))
			return
		}
		skip = n
	}
	size := s.cfg.PageSize
	if t := r.URL.Query().Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", fmt.Sprintf("$top %q is invalid", t)))
			return
		}
		size = min(size, n)
	}
	var out odata.Collection[T]
	out.D.Results = []T{}
	if skip < len(items) {
		end := min(skip+size, len(items))
		out.D.Results = items[skip:end]
		if end < len(items) {
			q := r.URL.Query()
			q.Set("$skiptoken", strconv.Itoa(end))
			u := *r.URL
			u.RawQuery = q.Encode()
			out.D.Next = u.String()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/022", "The request body is not valid JSON for the entity: "+err.Error()))
		return false
	}
	return true
}

// writeConnectorError answers err of the business logic in SAP's shape:
// a validation error's field paths become error details whose propertyref
// names the OData property.
func writeConnectorError(w http.ResponseWriter, err error, paths func(string) string) {
	status := http.StatusInternalServerError
	code := "/IWBEP/CM_MGW_RT/500"
	switch connector.CodeOf(err) {
	case connector.CodeInvalid:
		status, code = http.StatusBadRequest, "SD/INVALID"
	case connector.CodeNotFound:
		status, code = http.StatusNotFound, "SD/NOT_FOUND"
	case connector.CodeConflict:
		status, code = http.StatusConflict, "SD/CONFLICT"
	}
	body := odata.NewError(code, err.Error())
	var ve *canonical.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Errors {
			body.Error.InnerError.ErrorDetails = append(body.Error.InnerError.ErrorDetails,
				odata.ErrorDetail{Code: code, Message: v.Message, PropertyRef: paths(v.Field), Severity: "error"})
		}
	}
	writeError(w, status, body)
}

// invalid wraps a validation error as the business logic's invalid error.
func invalid(err error) error {
	return connector.NewError(connector.CodeInvalid, "erp", "sapemu", err)
}
