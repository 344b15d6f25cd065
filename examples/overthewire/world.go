package main

// world.go owns the systems on loopback: the simulators, their emulators
// behind fault injectors and request counters, the connectors and the flow.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365"
	"github.com/distsync/distsync/erp/d365/d365emu"
	"github.com/distsync/distsync/erp/sap"
	"github.com/distsync/distsync/erp/sap/sapemu"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/examples/internal/o2c"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// Credentials the emulators accept and the connectors send.
const (
	sfClientID, sfClientSecret = "distsync-app", "s3cret"
	sapUser, sapPassword       = "DISTSYNC", "secret"
	d365ClientID, d365Secret   = "distsync-app", "s3cret"
	d365Company, d365Tenant    = "usmf", "contoso"
	shipbobToken               = "pat-distsync"
)

// outage is SAP's outage: its HTTP requests in this window are answered
// 503. In the scenario it comes while the first orders are accepted and
// shipments posted: the timelines show the retries, the breaker opening
// and the work parked until SAP is back.
var outage = struct{ from, until int64 }{40, 60}

// world is the three systems on loopback and the flow over them.
type world struct {
	clk *o2c.Clock

	crm *crm.Memory
	erp *erp.Memory
	wms *wms.Memory // ShipBob's warehouses
	dc  *wms.Memory // the own DC's WMS, in the process; nil without one

	sf      *sfemu.Server
	erpName string // "SAP" or "Dynamics 365"
	sb      *shipbobemu.Emulator
	servers []*httptest.Server
	systems []*system // salesforce, sap, shipbob

	shipbobView *shipbob.Client // reads ShipBob without faults, for the table

	transport    *http.Transport // the connectors'
	shipbobLimit int             // requests a minute the ShipBob emulator allows; 0 means no limit

	down    atomic.Int64 // SAP requests answered 503 by the outage
	flow    *flow.Flow
	metrics *metrics
	rec     *tracing.MemoryRecorder
}

// system is one emulator as the world serves it: its requests counted per
// operation, its faults injector.
type system struct {
	name   string
	faults *faults.HTTP

	conns atomic.Int64 // connections opened

	mu  sync.Mutex
	ops map[string]int64 // requests per operation ("POST A_SalesOrder")
}

// count wraps h: every request is counted under its operation.
func (s *system) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := operation(r)
		s.mu.Lock()
		s.ops[op]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// requests returns the requests per operation so far.
func (s *system) requests() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.ops)
}

// total returns the requests so far.
func (s *system) total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, v := range s.ops {
		n += v
	}
	return n
}

// operation names a request by its method and path, with IDs and keys
// replaced by placeholders and the API prefixes left out:
// "POST API_OUTBOUND_DELIVERY_SRV;v=0002/PostGoodsIssue",
// "PATCH sobjects/Order/{id}", "POST order".
func operation(r *http.Request) string {
	p := r.URL.Path
	for _, prefix := range []string{sapemu.Root, "/services/data/", d365emu.DataRoot} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			p = rest
		}
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) > 1 && (strings.HasPrefix(segs[0], "v") || strings.HasPrefix(segs[0], "20")) && strings.ContainsAny(segs[0][:2], "0123456789.") {
		segs = segs[1:] // the API version
	}
	for i, s := range segs {
		if name, _, ok := strings.Cut(s, "("); ok && name != "" {
			segs[i] = name + "(…)"
			continue
		}
		if digits := strings.Count(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '0'
			}
			return -1
		}, s), "0"); strings.Contains(s, "@") || digits >= 3 && !strings.Contains(s, "_") {
			segs[i] = "{id}"
		}
	}
	op := r.Method + " " + strings.Join(segs, "/")
	if r.Method == http.MethodGet && r.Header.Get("X-CSRF-Token") == "Fetch" {
		op += " (CSRF token)"
	}
	return op
}

// resend spares the request that repeats one refused 401, so that an
// injected 401 stands for a token or session that expired once: the
// connectors send a refused request once more (Salesforce with a new
// token, SAP and ShipBob with their credentials), and a second 401 in a
// row would mean credentials revoked, which the flow rightly dead-letters.
// It is safe for concurrent use.
type resend struct {
	mu      sync.Mutex
	refused map[string]bool // requests answered 401, by method and URL
}

// requestKey is the context key of a request's identity for resend.
type requestKey struct{}

// wrap notes the requests h answers 401. A request is known by its method,
// URL and body: concurrent requests to one URL (two orders validated at
// once) are told apart.
func (s *resend) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		k := r.Method + " " + r.URL.String() + " " + hex.EncodeToString(sum[:8])
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, k))
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == http.StatusUnauthorized {
			s.mu.Lock()
			s.refused[k] = true
			s.mu.Unlock()
		}
	})
}

// spare reports whether r repeats a request answered 401, and forgets it.
func (s *resend) spare(r *http.Request) bool {
	k, _ := r.Context().Value(requestKey{}).(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused[k] {
		delete(s.refused, k)
		return true
	}
	return false
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection (the fault
// injector hijacks it to reset).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// metrics counts what the flow reports. It is safe for concurrent use.
type metrics struct {
	mu     sync.Mutex
	counts map[flow.Counter]map[string]int
}

// Count implements flow.Metrics.
func (m *metrics) Count(_ context.Context, c flow.Counter, entity string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts[c] == nil {
		m.counts[c] = map[string]int{}
	}
	m.counts[c][entity]++
}

// SyncLag implements flow.Metrics.
func (m *metrics) SyncLag(context.Context, string, time.Duration) {}

// count returns how many times the flow reported c, in all and per entity.
func (m *metrics) count(c flow.Counter) (int, map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, v := range m.counts[c] {
		n += v
	}
	return n, maps.Clone(m.counts[c])
}

// serve starts s's handler h on loopback behind its request counter; f is
// the fault injector inside h, if any.
func (w *world) serve(s *system, h http.Handler, f *faults.HTTP) (*httptest.Server, error) {
	s.faults = f
	srv := httptest.NewUnstartedServer(s.count(h))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	srv.Start()
	w.servers = append(w.servers, srv)
	w.systems = append(w.systems, s)
	return srv, nil
}

func newWorld(cfg config) (_ *world, err error) {
	if cfg.erp == "" {
		cfg.erp = "sap"
	}
	switch {
	case cfg.faults < 0 || cfg.faults > 0.5:
		return nil, fmt.Errorf("-faults %v: must be between 0 and 0.5", cfg.faults)
	case cfg.orders < 0:
		return nil, fmt.Errorf("-orders %d: must not be negative", cfg.orders)
	case cfg.workers < 1:
		return nil, fmt.Errorf("-workers %d: must be at least 1", cfg.workers)
	case cfg.erp != "sap" && cfg.erp != "d365":
		return nil, fmt.Errorf("-erp %q: want sap or d365", cfg.erp)
	case cfg.shipbobLimit < 0:
		return nil, fmt.Errorf("-shipbob-limit %d: must not be negative", cfg.shipbobLimit)
	}
	w := &world{clk: o2c.NewClock(wms.DemoEpoch()), metrics: &metrics{counts: map[flow.Counter]map[string]int{}}}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if w.erp, err = erp.New(erp.Config{Clock: w.clk.Now}); err != nil {
		return nil, err
	}
	if cfg.ownDC {
		// The own DC runs WH-WEST on the in-memory WMS; the 3PL, ShipBob,
		// runs WH-EAST and WH-SOUTH.
		if w.dc, err = newWMS("dc", dcWarehouses, w.clk.Now, cfg.seed); err != nil {
			return nil, err
		}
		if w.wms, err = newWMS("3pl", tplWarehouses, w.clk.Now, cfg.seed+1); err != nil {
			return nil, err
		}
	} else if w.wms, err = wms.New(wms.Config{Clock: w.clk.Now, Seed: cfg.seed}); err != nil {
		return nil, err
	}
	if w.crm, err = crm.New(crm.Config{Clock: w.clk.Now}); err != nil {
		return nil, err
	}
	if w.rec, err = tracing.NewMemoryRecorder(tracing.MemoryConfig{}); err != nil {
		return nil, err
	}
	// The faults: a share of each kind, the whole adding up to cfg.faults.
	// Answers withheld after the effect are held 20 ms, waits asked for
	// by rate limits are short, so that a run stays quick.
	f := cfg.faults
	faultsFor := func(seed uint64, reject func(http.ResponseWriter, *http.Request, int, time.Duration), match func(*http.Request) bool) *faults.HTTPConfig {
		if f == 0 {
			return nil
		}
		return &faults.HTTPConfig{Seed: seed, Unavailable: f * 0.3, RateLimited: f * 0.2, Unauthorized: f * 0.1,
			TimeoutAfterEffect: f * 0.2, ResetAfterEffect: f * 0.2, RetryAfter: 5 * time.Millisecond, Hold: 20 * time.Millisecond,
			Match: match, Reject: reject}
	}
	// injected wraps an emulator in its fault injector (nil without
	// faults), sparing the resend of a request refused 401 and the
	// requests spare names.
	injected := func(h http.Handler, seed uint64, reject func(http.ResponseWriter, *http.Request, int, time.Duration),
		spare func(*http.Request) bool) (http.Handler, *faults.HTTP, error) {
		if f == 0 {
			return h, nil, nil
		}
		rs := &resend{refused: map[string]bool{}}
		fh, err := faults.NewHTTP(h, *faultsFor(seed, reject, func(r *http.Request) bool {
			return !rs.spare(r) && (spare == nil || !spare(r))
		}))
		if err != nil {
			return nil, nil, err
		}
		return rs.wrap(fh), fh, nil
	}

	// Salesforce: the token endpoint is spared, and so is the first use
	// of a token (a session just opened has not expired).
	if w.sf, err = sfemu.New(sfemu.Config{CRM: w.crm, ClientID: sfClientID, ClientSecret: sfClientSecret, Clock: w.clk.Now}); err != nil {
		return nil, err
	}
	sfSys := &system{name: "salesforce", ops: map[string]int64{}}
	sfHandler, sfFaults, err := injected(w.sf, cfg.seed, w.sf.Reject,
		func(r *http.Request) bool { return sfemu.IsTokenRequest(r) || w.sf.FirstUse(r) })
	if err != nil {
		return nil, err
	}
	sfSrv, err := w.serve(sfSys, sfHandler, sfFaults)
	if err != nil {
		return nil, err
	}

	// The ERP, SAP or Dynamics 365, with its outage in front of the
	// faults.
	var (
		erpEmu      http.Handler
		erpReject   func(http.ResponseWriter, *http.Request, int, time.Duration)
		erpSpare    func(*http.Request) bool
		erpSys      = cfg.erp
		erpRequests atomic.Int64
	)
	switch cfg.erp {
	case "sap":
		w.erpName = "SAP"
		erpEmu, err = sapemu.New(sapemu.Config{ERP: w.erp, User: sapUser, Password: sapPassword, Now: w.clk.Now})
		erpReject = sapemu.Reject
	case "d365":
		w.erpName = "Dynamics 365"
		erpEmu, err = d365emu.New(d365emu.Config{ERP: w.erp, ClientID: d365ClientID, ClientSecret: d365Secret, Now: w.clk.Now})
		erpReject, erpSpare = d365emu.Reject, d365emu.IsTokenRequest
	}
	if err != nil {
		return nil, err
	}
	erpHandler, erpFaults, err := injected(erpEmu, cfg.seed+1, erpReject, erpSpare)
	if err != nil {
		return nil, err
	}
	withOutage := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if n := erpRequests.Add(1); !cfg.noOutage && n >= outage.from && n < outage.until {
			w.down.Add(1)
			erpReject(rw, r, http.StatusServiceUnavailable, 0)
			return
		}
		erpHandler.ServeHTTP(rw, r)
	})
	erpSrv, err := w.serve(&system{name: erpSys, ops: map[string]int64{}}, withOutage, erpFaults)
	if err != nil {
		return nil, err
	}

	// ShipBob over the simulated warehouses, its rate limit off unless
	// asked for.
	limit := -1
	if cfg.shipbobLimit > 0 {
		limit = cfg.shipbobLimit
		w.shipbobLimit = limit
	}
	if w.sb, err = shipbobemu.New(shipbobemu.Config{WMS: w.wms, Token: shipbobToken, RateLimit: limit}); err != nil {
		return nil, err
	}
	sbHandler, sbFaults, err := injected(w.sb, cfg.seed+2, w.sb.Reject, nil)
	if err != nil {
		return nil, err
	}
	sbSrv, err := w.serve(&system{name: "shipbob", ops: map[string]int64{}}, sbHandler, sbFaults)
	if err != nil {
		return nil, err
	}
	// The table reads ShipBob through a server without faults, as an
	// operator's check would, and uncounted.
	viewSrv := httptest.NewServer(w.sb)
	w.servers = append(w.servers, viewSrv)

	// The connectors, as a user builds them. They share a transport that
	// keeps an idle connection per flow worker and system: the default
	// transport keeps two per host and would open a new connection for
	// most calls of more than two workers.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4 * cfg.workers
	w.transport = tr
	sfc, err := salesforce.New(salesforce.Config{LoginURL: sfSrv.URL, ClientID: sfClientID, ClientSecret: sfClientSecret,
		LimitPause: 5 * time.Millisecond, Transport: tr})
	if err != nil {
		return nil, err
	}
	var erpc connector.ERP
	switch cfg.erp {
	case "sap":
		erpc, err = sap.New(sap.Config{BaseURL: erpSrv.URL, User: sapUser, Password: sapPassword, MaxRetryAfter: 5 * time.Millisecond, Transport: tr})
	case "d365":
		erpc, err = d365.New(d365.Config{BaseURL: erpSrv.URL, Company: d365Company, TokenURL: erpSrv.URL + d365emu.TokenPath(d365Tenant),
			ClientID: d365ClientID, ClientSecret: d365Secret, MaxRetryAfter: 5 * time.Millisecond, Transport: tr})
	}
	if err != nil {
		return nil, err
	}
	sbCfg := shipbob.Config{BaseURL: sbSrv.URL, Token: shipbobToken, ChannelID: w.sb.ChannelID(), Locations: w.sb.Locations(),
		DefaultAddress: canonical.Address{Lines: []string{"1 Commerce Way"}, City: "Columbus", Region: "OH", PostalCode: "43004", Country: "US"},
		MaxRetryAfter:  5 * time.Millisecond, Transport: tr}
	if limit > 0 {
		// The limit is on: the connector waits the x-retry-after a 429
		// asks for, as it would with ShipBob.
		sbCfg.RateLimit, sbCfg.MaxRetryAfter = limit, 0
	} else {
		sbCfg.LowRemaining = -1
	}
	sbc, err := shipbob.New(sbCfg)
	if err != nil {
		return nil, err
	}
	sbCfg.BaseURL = viewSrv.URL
	if w.shipbobView, err = shipbob.New(sbCfg); err != nil {
		return nil, err
	}

	opts := connector.Options{
		Recorder:    w.rec,
		MaxAttempts: 3,
		Timeout:     5 * time.Second,
		Backoff:     retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond},
	}
	opts.Breaker.OpenTimeout = 20 * time.Millisecond
	ce, err := connector.WrapERP(erpc, opts)
	if err != nil {
		return nil, err
	}
	fcfg := flow.Config{WMSSources: []string{sbc.Source()}}
	if w.dc == nil {
		if fcfg.WMS, err = connector.WrapWMS(sbc, opts); err != nil {
			return nil, err
		}
	} else {
		// The own DC's WMS is in the process: its faults are injected at
		// its calls, as in examples/ordertocash.
		fdc, err := faults.WrapWMS(w.dc, faults.Config{Seed: cfg.seed + 3, Unavailable: f * 0.8, RateLimited: f * 0.2,
			AmbiguousTimeout: f / 4, Duplicate: f, Reorder: f, RetryAfter: 5 * time.Millisecond})
		if err != nil {
			return nil, err
		}
		dopts, sopts := opts, opts
		dopts.System, sopts.System = "wms-dc", "shipbob"
		cdc, err := connector.WrapWMS(fdc, dopts)
		if err != nil {
			return nil, err
		}
		csb, err := connector.WrapWMS(sbc, sopts)
		if err != nil {
			return nil, err
		}
		fcfg.WMSSources = nil
		fcfg.Warehouses = []flow.WarehouseSystem{
			{Name: "dc", WMS: cdc, Locations: dcWarehouses},
			{Name: "shipbob", WMS: csb, Locations: tplWarehouses, Sources: []string{sbc.Source()}},
		}
	}
	cc, err := connector.WrapCRM(sfc, opts)
	if err != nil {
		return nil, err
	}
	fcfg.ERP, fcfg.CRM, fcfg.Recorder, fcfg.Metrics, fcfg.Workers = ce, cc, w.rec, w.metrics, cfg.workers
	fcfg.Log = eventlog.NewMemory(eventlog.MemoryConfig{})
	fcfg.OrderSources, fcfg.ERPSources = []string{salesforce.Source}, []string{w.erp.Source()}
	fcfg.PollInterval = 2 * time.Millisecond
	fcfg.Policy = eventlog.ErrorPolicy{MaxAttempts: 50, OpenRecheck: 20 * time.Millisecond,
		Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Jitter: retry.NoJitter}}
	w.flow, err = flow.New(fcfg)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// step moves the warehouses one step: ShipBob's, and the own DC's.
func (w *world) step(ctx context.Context) (int, error) {
	n, err := w.sb.Step(ctx)
	if err != nil || w.dc == nil {
		return n, err
	}
	k, err := w.dc.Step(ctx)
	return n + k, err
}

// The warehouses of each WMS with the own DC: ShipBob runs the two where
// most orders are sourced, the own DC the third, so that most of the work
// goes over the wire and the split order ships from both.
var (
	dcWarehouses  = []string{"WH-WEST"}
	tplWarehouses = []string{"WH-EAST", "WH-SOUTH"}
)

// newWMS returns a WMS simulator of the demo world that holds only the
// given warehouses and their stock, named name (its source "wms://NAME").
func newWMS(name string, owns []string, clock func() time.Time, seed uint64) (*wms.Memory, error) {
	cfg := wms.Config{Name: name, Items: wms.DemoItems(), Clock: clock, Seed: seed}
	if name != "dc" {
		cfg.CompanyPrefix = "0614142"
	}
	for _, l := range wms.DemoWarehouses() {
		if slices.Contains(owns, l.ID) {
			cfg.Warehouses = append(cfg.Warehouses, l)
		}
	}
	for _, st := range wms.DemoStock() {
		if slices.Contains(owns, st.Warehouse) {
			cfg.Stock = append(cfg.Stock, st)
		}
	}
	return wms.New(cfg)
}

// close stops the servers.
func (w *world) close() {
	if w.transport != nil {
		w.transport.CloseIdleConnections()
	}
	for _, s := range w.servers {
		s.Close()
	}
}

// o2c returns the world as the scripted run sees it.
func (w *world) o2c() *o2c.World {
	feeds := []connector.EventFeed{w.shipbobView}
	if w.dc != nil {
		feeds = append(feeds, w.dc)
	}
	ow := &o2c.World{Clock: w.clk, CRM: w.crm, ERP: w.erp, Feeds: feeds,
		Stock: func(warehouse string) *wms.Memory {
			if w.dc != nil && slices.Contains(dcWarehouses, warehouse) {
				return w.dc
			}
			return w.wms
		},
		Flow:  func() *flow.Flow { return w.flow },
		Drain: func(ctx context.Context) error { return w.flow.Drain(ctx) },
		Step:  w.step,
		OrderID: func(crmID string) (string, bool) {
			return w.sf.OrderID(crmID)
		},
		CRMID: func(id string) string {
			crmID, _ := w.sf.SimulatorID(id)
			return crmID
		},
		Count: w.metrics.count,
	}
	if outage.until > outage.from {
		ow.Outage = func() string {
			return fmt.Sprintf("%s outage: its HTTP requests %d to %d answered 503 (%d requests)", w.erpName, outage.from, outage.until-1, w.down.Load())
		}
	}
	return ow
}

// describe says what runs where.
func (w *world) describe(out io.Writer) {
	for i, s := range w.systems {
		sep := ", "
		if i == 0 {
			sep = "emulators on loopback: "
		}
		fmt.Fprintf(out, "%s%s %s", sep, s.name, w.servers[i].URL)
	}
	fmt.Fprintln(out)
	if w.shipbobLimit > 0 {
		fmt.Fprintf(out, "the ShipBob emulator allows %d requests a minute (ShipBob allows 150); the connector paces its calls\n", w.shipbobLimit)
	} else {
		fmt.Fprintln(out, "the ShipBob emulator's rate limit is off (ShipBob allows 150 requests a minute: -shipbob-limit 150 to emulate it)")
	}
}

// summarize prints the HTTP requests each emulator answered, per order and
// per operation, and the faults each injected.
func (w *world) summarize(out io.Writer, orders int) {
	var total int64
	for _, s := range w.systems {
		total += s.total()
	}
	fmt.Fprintf(out, "HTTP requests: %d in all, %.1f per order\n", total, float64(total)/float64(orders))
	for _, s := range w.systems {
		ops := s.requests()
		parts := make([]string, 0, len(ops))
		for _, op := range slices.Sorted(maps.Keys(ops)) {
			parts = append(parts, fmt.Sprintf("%s %d", op, ops[op]))
		}
		fmt.Fprintf(out, "  %s %d (%.1f per order): %s\n", s.name, s.total(), float64(s.total())/float64(orders), strings.Join(parts, ", "))
		if s.faults != nil {
			fmt.Fprintf(out, "  %s faults injected: %+v\n", s.name, s.faults.Counts())
		}
	}
	if n := w.sb.Counts().RateLimited; n > 0 && w.shipbobLimit > 0 {
		fmt.Fprintf(out, "ShipBob answered %d requests 429 (its rate limit and injected faults); the connector waited as x-retry-after asked\n", n)
	}
}
