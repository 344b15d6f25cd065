// Command operator runs distsync's order-to-cash flow continuously on the
// in-memory CRM, ERP and warehouses, with faults, and serves the operator
// pages and their JSON API (package ops) over the live run, with a
// reconciliation every few seconds shown on the overview.
//
//	go run ./examples/operator [-addr 127.0.0.1:8080] [-orders N] [-faults F] [-duration D] [-reconcile D] [-hold D] [-seed S]
//
// It prints the address of the page with a login link. The run starts with
// two orders that need an operator: one for SKU-900, an item the ERP sells
// but no warehouse knows, whose release is refused and dead-lettered as
// permanent; and one by Cobalt Tools (ACC-0003) above its credit limit,
// which the ERP puts on a credit hold and which becomes a business
// exception once it has been held for longer than -hold (10 seconds). Then -orders
// orders a second are generated, the warehouses move every 200ms, stock
// arrives every 30 seconds for the backorders (SKU-105 is never in stock
// otherwise), and -faults injects transient failures, rate limits,
// ambiguous timeouts and duplicated or reordered feed pages on every
// connector, plus an ERP outage (its calls 40 to 59 fail) that opens the
// ERP's circuit breaker: the timelines show the retries and the outage.
//
// # Authentication of the demo
//
// Reading the pages needs nothing. Replay and discard need a principal:
// the program makes a random token at start (or takes -token) and prints
// it. Send it as "Authorization: Bearer TOKEN" to the API, or open the
// printed /login?token=TOKEN link once in the browser, which stores it in
// an HttpOnly, SameSite=Strict cookie; the forms then work, as "operator"
// in the audit trail. Without the token every action is refused (401).
// The server listens on 127.0.0.1 by default; the token is a demo device,
// not a login system: a real service plugs its own session or proxy check
// into ops.Config.Authenticate.
//
// # Reconciliation
//
// A reconcile.Reconciler runs every -reconcile (report only, no repair),
// and the overview's "Drift and exceptions" table shows its latest report
// (Reconciler.Last) through ops.Config.Findings: a difference as its kind
// (shipped_quantity, availability, ...), a business exception as
// "exception:RULE" (exception:on_hold_too_long for the held order), its
// subject linked to the order's page. Each business exception is also
// printed once by the reconciler's Hook, where a service would open a
// ticket.
//
// -duration 0 runs until interrupted (Ctrl-C); otherwise the program stops
// after that long. Either way it stops taking new work, lets the handlers
// in flight finish and shuts the server down.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/ops"
	"github.com/distsync/distsync/reconcile"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

// summary is the first line of -h.
const summary = "operator runs order-to-cash continuously on in-memory systems with faults and serves the operator pages " +
	"and JSON API over the live run, with reconciliation findings on the overview."

// config is what the flags set.
type config struct {
	addr      string
	orders    float64
	faults    float64
	duration  time.Duration
	reconcile time.Duration
	hold      time.Duration
	seed      uint64
	token     string
	verbose   bool

	// ready, when set, is called with the server's base URL and the demo
	// token once the server listens (for tests).
	ready func(base, token string)
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nusage: go run ./examples/operator [flags]\n", summary)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address the operator page listens on")
	fs.Float64Var(&cfg.orders, "orders", 1, "generated orders a second, 0 for only the two that need an operator")
	fs.Float64Var(&cfg.faults, "faults", 0.05, "fault rate on every connector, 0 to 0.5; above 0 also an ERP outage")
	fs.DurationVar(&cfg.duration, "duration", 0, "how long to run; 0 runs until interrupted")
	fs.DurationVar(&cfg.reconcile, "reconcile", 5*time.Second, "interval of the reconciliation runs")
	fs.DurationVar(&cfg.hold, "hold", 10*time.Second, "how long an order may be on hold before it is a business exception")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated orders and the faults")
	fs.StringVar(&cfg.token, "token", "", "the demo token that authenticates replay and discard; empty makes a random one")
	fs.BoolVar(&cfg.verbose, "v", false, "write the flow's log records to stderr")
	return cfg, fs.Parse(args)
}

func (c config) validate() error {
	switch {
	case c.orders < 0 || c.orders > 1000:
		return fmt.Errorf("-orders %v: must be between 0 and 1000", c.orders)
	case c.faults < 0 || c.faults > 0.5:
		return fmt.Errorf("-faults %v: must be between 0 and 0.5", c.faults)
	case c.duration < 0:
		return fmt.Errorf("-duration %v: must not be negative", c.duration)
	case c.reconcile <= 0:
		return fmt.Errorf("-reconcile %v: must be positive", c.reconcile)
	case c.hold <= 0:
		return fmt.Errorf("-hold %v: must be positive", c.hold)
	}
	return nil
}

// The demo's rhythm: the warehouses move every stepEvery, and stock
// arrives for the backorders every restockEvery.
const (
	stepEvery    = 200 * time.Millisecond
	restockEvery = 30 * time.Second
)

// unstocked is the item the ERP sells and no warehouse knows.
const unstocked = "SKU-900"

// demo is the live run: the systems, the flow, the reconciler and the
// operator handler.
type demo struct {
	erp   *erp.Memory
	wms   *wms.Memory
	crm   *crm.Memory
	log   *eventlog.Memory
	flow  *flow.Flow
	rec   *reconcile.Reconciler
	board *ops.BreakerBoard
	ops   *ops.Handler
	out   io.Writer
	outMu sync.Mutex
}

func (d *demo) printf(format string, args ...any) {
	d.outMu.Lock()
	defer d.outMu.Unlock()
	fmt.Fprintf(d.out, format, args...)
}

func newDemo(cfg config, out io.Writer, token string) (*demo, error) {
	d := &demo{out: out, board: &ops.BreakerBoard{}, log: eventlog.NewMemory(eventlog.MemoryConfig{})}
	var logger *slog.Logger
	if cfg.verbose {
		logger = slog.New(tracing.NewHandler(slog.NewTextHandler(os.Stderr, nil)))
	}
	var err error
	items := append(erp.DemoItems(), canonical.Item{SKU: unstocked, Version: 1, Description: "Garden hose 50 ft (drop-shipped, in no warehouse)",
		BaseUnit: "EA"})
	prices := append(erp.DemoPrices(), erp.Price{SKU: unstocked, UnitPrice: canonical.MustParseMoney("24.00", "USD")})
	if d.erp, err = erp.New(erp.Config{Items: items, Prices: prices}); err != nil {
		return nil, err
	}
	if d.wms, err = wms.New(wms.Config{Clock: time.Now, Seed: cfg.seed}); err != nil {
		return nil, err
	}
	if d.crm, err = crm.New(crm.Config{}); err != nil {
		return nil, err
	}
	rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	if err != nil {
		return nil, err
	}
	fc := faults.Config{Seed: cfg.seed, Unavailable: cfg.faults * 0.8, RateLimited: cfg.faults * 0.2,
		AmbiguousTimeout: cfg.faults / 4, Duplicate: cfg.faults, Reorder: cfg.faults, RetryAfter: 20 * time.Millisecond}
	ec := fc
	if cfg.faults > 0 {
		ec.Outage = faults.Outage{FromCall: 40, UntilCall: 60}
	}
	fe, err := faults.WrapERP(d.erp, ec)
	if err != nil {
		return nil, err
	}
	fc.Seed++
	fw, err := faults.WrapWMS(d.wms, fc)
	if err != nil {
		return nil, err
	}
	fc.Seed++
	fcrm, err := faults.WrapCRM(d.crm, fc)
	if err != nil {
		return nil, err
	}
	d.board.Track("erp", "wms", "crm")
	opts := connector.Options{Recorder: rec, MaxAttempts: 3, Timeout: 5 * time.Second,
		Backoff: retry.Backoff{InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond},
		Breaker: retry.BreakerConfig{OpenTimeout: time.Second, OnStateChange: d.board.Observe}}
	ce, err := connector.WrapERP(fe, opts)
	if err != nil {
		return nil, err
	}
	cw, err := connector.WrapWMS(fw, opts)
	if err != nil {
		return nil, err
	}
	cc, err := connector.WrapCRM(fcrm, opts)
	if err != nil {
		return nil, err
	}
	state := &flow.MemoryState{}
	d.flow, err = flow.New(flow.Config{ERP: ce, WMS: cw, CRM: cc, Log: d.log, State: state, Recorder: rec, Logger: logger,
		PollInterval: 50 * time.Millisecond, WMSSources: []string{d.wms.Source()},
		Policy: eventlog.ErrorPolicy{MaxAttempts: 20, OpenRecheck: 200 * time.Millisecond,
			Backoff: retry.Backoff{InitialInterval: 10 * time.Millisecond, MaxInterval: 500 * time.Millisecond}}})
	if err != nil {
		return nil, err
	}
	// The reconciler reads through the same decorated connectors as the
	// flow (retries, breakers, faults), and only reports.
	var last string
	d.rec, err = reconcile.New(reconcile.Config{State: state, ERP: ce, WMS: cw, CRM: cc,
		Grace: 10 * time.Second, ReleaseGrace: 30 * time.Second, Interval: cfg.reconcile,
		Rules: reconcile.Rules{OnHold: cfg.hold, Backordered: true, NotAllocated: time.Minute, NoTracking: true, InvoiceMismatch: true},
		// Where a service would open a ticket: once per occurrence.
		Hook: func(_ context.Context, e reconcile.Exception) error {
			d.printf("exception hook: %s %s: %s (a ticket would be opened here)\n", e.Rule, e.OrderID, e.Detail)
			return nil
		},
		OnReport: func(rep reconcile.Report) {
			line := fmt.Sprintf("reconcile: %d differences, %d business exceptions, %d read errors", len(rep.Differences),
				len(rep.Exceptions), len(rep.Errors))
			if line != last { // print a change only
				last = line
				d.printf("%s (%d orders, %d calls)\n", line, rep.Cost.Orders, rep.Cost.Calls)
			}
		}})
	if err != nil {
		return nil, err
	}
	d.ops, err = ops.New(ops.Config{DeadLetters: d.log, Groups: d.log, Log: d.log, Orders: d.flow, Inventory: d.flow,
		Breakers: d.board, Logger: logger, Authenticate: tokenAuth(token),
		Findings: func(context.Context) ([]ops.Finding, error) {
			rep, ok := d.rec.Last()
			if !ok {
				return nil, nil
			}
			return findings(rep), nil
		}})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// tokenCookie holds the demo token in the browser after /login.
const tokenCookie = "operator_demo_token"

// principal is who the audit trail names for the holder of the token.
const principal = "operator"

// tokenAuth authenticates a request that carries token as a bearer token
// or in the tokenCookie cookie.
func tokenAuth(token string) func(r *http.Request) (string, bool) {
	return func(r *http.Request) (string, bool) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			c, err := r.Cookie(tokenCookie)
			if err != nil {
				return "", false
			}
			got = c.Value
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return "", false
		}
		return principal, true
	}
}

// handler is the operator handler with GET /login?token=TOKEN beside it,
// which stores the token in a cookie and redirects to the overview.
func (d *demo) handler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", d.ops)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		got := r.URL.Query().Get("token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			http.Error(w, "operator: the token of /login?token= is not the one printed at start", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: token, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	return mux
}

// submit opens and converts an opportunity in the CRM and returns the
// order ID; lines are "SKU:QTY".
func (d *demo) submit(ctx context.Context, account string, lines ...string) (string, error) {
	opp := crm.Opportunity{AccountID: account, Name: strings.Join(lines, " ")}
	for _, l := range lines {
		sku, qty, _ := strings.Cut(l, ":")
		q, err := canonical.ParseQuantity(qty, "EA")
		if err != nil {
			return "", fmt.Errorf("line %q: %w", l, err)
		}
		opp.Lines = append(opp.Lines, crm.OpportunityLine{SKU: sku, Quantity: q, UnitPrice: canonical.MustParseMoney("10.00", "USD")})
	}
	opp, err := d.crm.OpenOpportunity(ctx, opp)
	if err != nil {
		return "", err
	}
	o, err := d.crm.ConvertOpportunity(ctx, opp.ID)
	return o.ID, err
}

// drive submits the generated orders, moves the warehouses and brings
// stock until ctx is done.
func (d *demo) drive(ctx context.Context, cfg config) error {
	rng := mrand.New(mrand.NewPCG(cfg.seed, 1))
	skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}
	step := time.NewTicker(stepEvery)
	defer step.Stop()
	restock := time.NewTicker(restockEvery)
	defer restock.Stop()
	due, restocks := 0.0, 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-restock.C:
			restocks++
			for i, sku := range skus {
				_, err := d.wms.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprintf("ADJ-ARRIVAL-%d-%d", restocks, i),
					Item: canonical.ItemRef{SKU: sku}, Location: "WH-EAST", Status: canonical.InventoryAvailable,
					Delta: canonical.MustParseQuantity("50", "EA"), Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
				if err != nil && ctx.Err() == nil {
					return fmt.Errorf("restock %s: %w", sku, err)
				}
			}
		case <-step.C:
			due += cfg.orders * stepEvery.Seconds()
			for ; due >= 1; due-- {
				var lines []string
				for range 1 + rng.IntN(3) {
					lines = append(lines, fmt.Sprintf("%s:%d", skus[rng.IntN(len(skus))], 1+rng.IntN(10)))
				}
				if _, err := d.submit(ctx, []string{"ACC-0001", "ACC-0002"}[rng.IntN(2)], lines...); err != nil && ctx.Err() == nil {
					return fmt.Errorf("submit a generated order: %w", err)
				}
			}
			if _, err := d.wms.Step(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("step the warehouses: %w", err)
			}
		}
	}
}

// newToken returns a random token of 128 bits, hex-encoded.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// run serves the operator page over a live run until ctx is done or
// cfg.duration has passed, then shuts everything down and returns nil; it
// returns an error when something fails on the way.
func run(ctx context.Context, out io.Writer, cfg config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	token := cfg.token
	if token == "" {
		token = newToken()
	}
	d, err := newDemo(cfg, out, token)
	if err != nil {
		return err
	}
	held, err := d.submit(ctx, "ACC-0003", "SKU-103:15")
	if err != nil {
		return fmt.Errorf("submit the order held for credit: %w", err)
	}
	dead, err := d.submit(ctx, "ACC-0001", unstocked+":2")
	if err != nil {
		return fmt.Errorf("submit the order of an unstocked item: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", cfg.addr, err)
	}
	srv := &http.Server{Handler: d.handler(token), ReadHeaderTimeout: 5 * time.Second}
	base := "http://" + ln.Addr().String()
	d.printf("operator page: %s/  (sign in for replay and discard: %s/login?token=%s)\n", base, base, token)
	d.printf("JSON API:      curl -H 'Authorization: Bearer %s' %s/api/overview\n", token, base)
	d.printf("orders to look at: %s (credit hold, an exception after %s), %s (%s, no warehouse: a dead letter)\n",
		held, cfg.hold, dead, unstocked)

	if cfg.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
	)
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
		cancel(err)
	}
	stopped := func(err error) bool { return err == nil || ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) }
	wg.Go(func() {
		if err := d.flow.Run(ctx); !stopped(err) {
			fail(fmt.Errorf("flow: %w", err))
		}
	})
	wg.Go(func() {
		if err := d.rec.Run(ctx); !stopped(err) {
			fail(fmt.Errorf("reconcile: %w", err))
		}
	})
	wg.Go(func() {
		if err := d.drive(ctx, cfg); err != nil {
			fail(err)
		}
	})
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("serve: %w", err))
		}
	})
	if cfg.ready != nil {
		cfg.ready(base, token)
	}
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		fail(fmt.Errorf("shut the server down: %w", err))
		_ = srv.Close()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if failed == nil {
		d.printf("stopped\n")
	}
	return failed
}
