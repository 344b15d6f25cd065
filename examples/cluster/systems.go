package main

// systems.go owns the systems: the simulators and their vendor emulators
// on loopback that the coordinator serves (behind fault injectors and
// request counters), and the connectors and flow configuration that the
// workers and the coordinator build against them.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/sap"
	"github.com/distsync/distsync/erp/sap/sapemu"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/examples/internal/o2c"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/wms"
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// Credentials the emulators accept and the connectors send.
const (
	sfClientID, sfClientSecret = "distsync-app", "s3cret"
	sapUser, sapPassword       = "DISTSYNC", "secret"
	shipbobToken               = "pat-distsync"
)

// endpoints are the emulators' base URLs and what a connector must know
// of them; the coordinator passes them to its workers as flags.
type endpoints struct {
	sf, sap, shipbob string
	channel          int64 // ShipBob's channel ID
}

// systems is the three systems on loopback, served by the coordinator.
type systems struct {
	clk *o2c.Clock
	crm *crm.Memory
	erp *erp.Memory
	wms *wms.Memory // ShipBob's warehouses
	sf  *sfemu.Server
	sb  *shipbobemu.Emulator

	servers []*httptest.Server
	view    *shipbob.Client // reads ShipBob without faults, for the table
	faults  []*faults.HTTP
	urls    endpoints

	requests atomic.Int64 // HTTP requests the emulators answered
}

// newSystems starts the emulators, each behind a fault injector that
// answers a share f of the requests 503, rate limited in the vendor's
// shape, or applies them and loses the answer (a reset or a timeout).
func newSystems(f float64, seed uint64) (_ *systems, err error) {
	s := &systems{clk: o2c.NewClock(wms.DemoEpoch())}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.erp, err = erp.New(erp.Config{Clock: s.clk.Now}); err != nil {
		return nil, err
	}
	if s.wms, err = wms.New(wms.Config{Clock: s.clk.Now, Seed: seed}); err != nil {
		return nil, err
	}
	if s.crm, err = crm.New(crm.Config{Clock: s.clk.Now}); err != nil {
		return nil, err
	}
	inject := func(h http.Handler, seed uint64, reject func(http.ResponseWriter, *http.Request, int, time.Duration), spare func(*http.Request) bool) (http.Handler, error) {
		if f == 0 {
			return h, nil
		}
		fh, err := faults.NewHTTP(h, faults.HTTPConfig{Seed: seed, Unavailable: f * 0.4, RateLimited: f * 0.2,
			TimeoutAfterEffect: f * 0.2, ResetAfterEffect: f * 0.2, RetryAfter: 5 * time.Millisecond, Hold: 20 * time.Millisecond,
			Reject: reject, Match: func(r *http.Request) bool { return spare == nil || !spare(r) }})
		if err != nil {
			return nil, err
		}
		s.faults = append(s.faults, fh)
		return fh, nil
	}
	serve := func(h http.Handler) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.requests.Add(1)
			h.ServeHTTP(w, r)
		}))
		s.servers = append(s.servers, srv)
		return srv
	}
	if s.sf, err = sfemu.New(sfemu.Config{CRM: s.crm, ClientID: sfClientID, ClientSecret: sfClientSecret, Clock: s.clk.Now}); err != nil {
		return nil, err
	}
	h, err := inject(s.sf, seed, s.sf.Reject, sfemu.IsTokenRequest)
	if err != nil {
		return nil, err
	}
	s.urls.sf = serve(h).URL
	sapEmu, err := sapemu.New(sapemu.Config{ERP: s.erp, User: sapUser, Password: sapPassword, Now: s.clk.Now})
	if err != nil {
		return nil, err
	}
	if h, err = inject(sapEmu, seed+1, sapemu.Reject, nil); err != nil {
		return nil, err
	}
	s.urls.sap = serve(h).URL
	if s.sb, err = shipbobemu.New(shipbobemu.Config{WMS: s.wms, Token: shipbobToken, RateLimit: -1}); err != nil {
		return nil, err
	}
	if h, err = inject(s.sb, seed+2, s.sb.Reject, nil); err != nil {
		return nil, err
	}
	s.urls.shipbob, s.urls.channel = serve(h).URL, s.sb.ChannelID()
	viewSrv := httptest.NewServer(s.sb)
	s.servers = append(s.servers, viewSrv)
	if s.view, err = shipbob.New(shipbobConfig(endpoints{shipbob: viewSrv.URL, channel: s.urls.channel}, nil)); err != nil {
		return nil, err
	}
	return s, nil
}

// close stops the servers.
func (s *systems) close() {
	for _, srv := range s.servers {
		srv.Close()
	}
}

// o2c returns the world as the scripted run sees it, with f the
// coordinator's flow.
func (s *systems) o2c(f *flow.Flow) *o2c.World {
	return &o2c.World{Clock: s.clk, CRM: s.crm, ERP: s.erp, Feeds: []connector.EventFeed{s.view},
		Stock: func(string) *wms.Memory { return s.wms },
		Flow:  func() *flow.Flow { return f },
		Drain: f.Drain,
		Step:  s.sb.Step,
		OrderID: func(crmID string) (string, bool) {
			return s.sf.OrderID(crmID)
		},
		CRMID: func(id string) string {
			crmID, _ := s.sf.SimulatorID(id)
			return crmID
		},
		Count: func(flow.Counter) (int, map[string]int) { return 0, nil },
	}
}

func shipbobConfig(u endpoints, tr http.RoundTripper) shipbob.Config {
	return shipbob.Config{BaseURL: u.shipbob, Token: shipbobToken, ChannelID: u.channel,
		DefaultAddress: canonical.Address{Lines: []string{"1 Commerce Way"}, City: "Columbus", Region: "OH", PostalCode: "43004", Country: "US"},
		MaxRetryAfter:  5 * time.Millisecond, LowRemaining: -1, Transport: tr}
}

// flowConfig returns the flow's configuration over the emulators at u:
// the connectors as a user builds them, behind connector.WrapERP, WrapWMS
// and WrapCRM. The caller sets Log, State, Cursors, Dedupe and
// NewConsumer.
func flowConfig(u endpoints) (flow.Config, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	sfc, err := salesforce.New(salesforce.Config{LoginURL: u.sf, ClientID: sfClientID, ClientSecret: sfClientSecret,
		LimitPause: 5 * time.Millisecond, Transport: tr})
	if err != nil {
		return flow.Config{}, err
	}
	sapc, err := sap.New(sap.Config{BaseURL: u.sap, User: sapUser, Password: sapPassword, MaxRetryAfter: 5 * time.Millisecond, Transport: tr})
	if err != nil {
		return flow.Config{}, err
	}
	sbc, err := shipbob.New(shipbobConfig(u, tr))
	if err != nil {
		return flow.Config{}, err
	}
	opts := connector.Options{MaxAttempts: 3, Timeout: 5 * time.Second,
		Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}}
	opts.Breaker.OpenTimeout = 20 * time.Millisecond
	cfg := flow.Config{OrderSources: []string{salesforce.Source}, ERPSources: []string{erp.Source}, WMSSources: []string{sbc.Source()},
		PollInterval: 100 * time.Millisecond, Workers: 4, DedupeLease: 5 * time.Second,
		Policy: eventlog.ErrorPolicy{MaxAttempts: 50, OpenRecheck: 20 * time.Millisecond,
			Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Jitter: retry.NoJitter}}}
	if cfg.ERP, err = connector.WrapERP(sapc, opts); err != nil {
		return flow.Config{}, err
	}
	if cfg.WMS, err = connector.WrapWMS(sbc, opts); err != nil {
		return flow.Config{}, err
	}
	if cfg.CRM, err = connector.WrapCRM(sfc, opts); err != nil {
		return flow.Config{}, err
	}
	return cfg, nil
}

// ledger is what the systems' own records say each order got: its
// acceptances in the ERP, its fulfilment orders released in the WMS, its
// shipments posted and invoiced in the ERP.
type ledger struct {
	acceptances int // orders the ERP recorded, counted by the ERP
	erpOrders   int // orders the ERP holds
	releases    int // fulfilment orders the WMS released, counted by the WMS
	released    int // distinct fulfilment orders the flow released
	invoices    int // invoices the ERP produced
	shipments   int // distinct shipments the WMS reported
	problems    []string
}

// check reads the systems' records for the orders ids and reports every
// order that got a second acceptance, release, posting or invoice.
func (s *systems) check(ctx context.Context, f *flow.Flow, ids []string) (ledger, error) {
	var l ledger
	for _, id := range ids {
		v, err := f.Where(ctx, id)
		if err != nil {
			return l, err
		}
		if _, err := s.erp.GetOrder(ctx, id); err == nil {
			l.erpOrders++
		}
		l.released += len(v.FulfillmentOrders)
		n := s.erp.InvoiceCount(id)
		l.invoices += n
		ships := map[string]bool{}
		for _, sh := range v.Shipments {
			ships[sh.ID] = true
		}
		l.shipments += len(ships)
		if n != len(ships) {
			l.problems = append(l.problems, fmt.Sprintf("order %s: %d invoices (postings) for %d shipments", id, n, len(ships)))
		}
	}
	l.acceptances = s.erp.Counts().Orders
	l.releases = s.wms.Counts().Releases
	if l.acceptances != l.erpOrders {
		l.problems = append(l.problems, fmt.Sprintf("the ERP recorded %d acceptances for %d orders", l.acceptances, l.erpOrders))
	}
	if l.releases != l.released {
		l.problems = append(l.problems, fmt.Sprintf("the WMS released %d fulfilment orders, the flow %d", l.releases, l.released))
	}
	return l, nil
}
