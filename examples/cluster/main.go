// Command cluster runs distsync's order-to-cash flow across real
// processes on an embedded 3-node NATS JetStream cluster: three worker
// processes run the flow (package flow) over the vendor emulators, each
// handling the orders of the partitions it owns in a partitioned consumer
// group (package eventlog/jetstream). At random points one worker is
// killed with SIGKILL inside a handling (after its effects, before the
// event is acknowledged) and one NATS node is shut down; both are
// restarted.
// The run ends with the agreement table and exit status of
// examples/ordertocash (exit 1 when the systems disagree), followed by the
// cluster's own checks: no order got a second ERP acceptance, release,
// posting or invoice, and no key was handled by two workers at once.
//
//	go run ./examples/cluster -orders 50 -faults 0.1
//
// Flags: -orders N generated orders beside the scripted ones; -faults F,
// the share of HTTP requests each emulator answers 503, rate limited, or
// applies and loses the answer of; -seed S chooses the orders, the faults
// and the kill points; -workers W (3) and -nodes 1 or 3 (3; R3 streams and
// buckets on 3) size the run; -chaos=false kills nothing (it needs 2
// workers and 3 nodes otherwise); -timeout (5m) gives up. The last lines
// give orders per second, events per order, bytes per event and CPU per
// order of the workers and of the coordinator (NATS and the emulators).
//
// # Design
//
// The coordinator (this program without -worker) starts the NATS cluster
// in a temporary directory, creates the event stream (12 partitions), the
// flow's state and cursor bucket and the dedupe bucket, and serves the
// emulators on loopback over the in-memory simulators: Salesforce
// (crm/salesforce/sfemu), SAP S/4HANA (erp/sap/sapemu) and ShipBob
// (wms/shipbob/shipbobemu, all three warehouses). It starts the workers by
// running its own executable again with -worker and the URLs. Each
// worker builds the HTTP connectors (crm/salesforce, erp/sap,
// wms/shipbob) and runs flow.Run with Config.NewConsumer set to a member
// of the jetstream Group "ordertocash", Config.State and Config.Cursors
// set to one jetstream.FlowState and Config.Dedupe to one
// jetstream.IdempotencyStore: an order's events (partition key: its ID)
// are handled by the owner of its partition, its state saves are
// conditional on the version loaded, and every worker polls the feeds,
// the appends deduplicated by the stream (see package flow, section
// Across processes).
//
// The coordinator then plays examples/ordertocash's script
// (examples/internal/o2c) on the simulators, as the systems' users would,
// and settles the run with a flow of its own that handles nothing: it
// polls the feeds and the holds like the workers and waits with
// jetstream.Group.WaitIdle until every partition's committed cursor is at
// its last event, whoever owns it. It reads the results from the same
// stores (Flow.Where loads an order's state from the FlowState).
//
// Each worker prints, per handling, the partition key, the event and the
// start and end time (one clock: the processes share the machine); the
// coordinator checks that no two workers' handlings of one key overlap (a
// SIGKILLed worker's open handlings end at its kill). It checks the
// simulators' records: the acceptances the ERP recorded against the
// orders it holds, the fulfilment orders the WMS released against those
// the flow released, and per order the invoices (one per posting) against
// the shipments.
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/examples/internal/o2c"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/natstest"
)

const (
	partitions = 12
	idemBucket = "cluster_idempotency"
	// The partition leases: the defaults' TTL, renewed twice as often. A
	// shorter TTL moves partitions faster after a kill, but renewals late
	// on a loaded machine then lose leases and partitions move back and
	// forth.
	leaseTTL = jetstream.DefaultLeaseTTL
	renew    = 500 * time.Millisecond
	// consumerPoll is how often a worker's partition consumers read the
	// log (the feeds are polled every flowConfig's PollInterval).
	consumerPoll = 25 * time.Millisecond
)

func main() {
	if isWorker(os.Args[1:]) {
		if err := workerMain(os.Args[1:]); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parse(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func isWorker(args []string) bool { return slices.Contains(args, "-worker") }

// config is the coordinator's configuration.
type config struct {
	orders  int
	faults  float64
	seed    uint64
	timeout time.Duration
	// workers and nodes are the worker processes and NATS nodes; zero
	// means 3. chaos, when set, kills a worker and a node mid-run.
	workers, nodes int
	chaos          bool
	// nodeDown, with chaos, shuts a NATS node down besides killing a
	// worker (the flag sets it with chaos).
	nodeDown bool
	// stats, when not nil, receives what the run measured.
	stats *stats
	// exe and env start a worker: the program and its extra environment
	// (a test runs its own binary with an environment variable).
	exe string
	env []string
}

// stats is what a run measured.
type stats struct {
	orders         int
	elapsed        time.Duration
	events, bytes  uint64
	workerCPU      time.Duration // all worker processes
	coordinatorCPU time.Duration // NATS, the emulators, the coordinator
	ledger         ledger
	overlaps       int
	requests       int64 // HTTP requests the emulators answered
	// killedInFlight is how many events the SIGKILLed worker was
	// handling when it was killed; -1 when none was killed.
	killedInFlight int
}

func (s stats) rate() float64 { return float64(s.orders) / s.elapsed.Seconds() }

func parse(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.orders, "orders", 20, "generated orders beside the scripted ones")
	fs.Float64Var(&c.faults, "faults", 0.05, "share of HTTP requests each emulator fails (503, rate limited, answer lost after the effect), 0 to 0.5")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the orders, the faults and the kill points")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up when the run is not through by then")
	fs.IntVar(&c.workers, "workers", 3, "worker processes")
	fs.IntVar(&c.nodes, "nodes", 3, "NATS nodes (1 or 3; streams and buckets are R3 on 3)")
	fs.BoolVar(&c.chaos, "chaos", true, "SIGKILL a worker and shut down a NATS node mid-run (needs 2 workers and 3 nodes)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.orders < 0 || c.faults < 0 || c.faults > 0.5 || c.workers < 1 || (c.nodes != 1 && c.nodes != 3) ||
		c.chaos && (c.workers < 2 || c.nodes != 3) {
		err := fmt.Errorf("cluster: -orders must not be negative, -workers at least 1, -faults within [0, 0.5], -nodes 1 or 3, and -chaos needs 2 workers and 3 nodes")
		fmt.Fprintln(stderr, err)
		return c, err
	}
	c.nodeDown = c.chaos
	return c, nil
}

// handling is one handler run as a worker reported it.
type handling struct {
	key, id, worker string
	start, end      int64
	outcome         string
}

// proc is a running worker process.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

type coordinator struct {
	cfg   config
	out   io.Writer
	wf    workerFlags // the flags of every worker but its name
	mu    sync.Mutex
	runs  []handling
	open  map[string]handling // worker+key+id → started
	ready map[string]bool
	cpu   time.Duration // of the workers that ended
	// started counts the handlings the workers started.
	started int
	// kill is the SIGKILL to send at the next handling of its worker;
	// killTime is when it was sent.
	kill     *pendingKill
	killTime int64
	// killedInFlight is how many events the SIGKILLed worker was
	// handling; -1 until one is killed.
	killedInFlight int
	lines          sync.WaitGroup
}

// observer is the coordinator's consumer: it handles nothing and waits
// for the group's members, in the workers, with Group.WaitIdle.
type observer struct{ *jetstream.Group }

// Run waits until ctx is done: the coordinator is no member.
func (observer) Run(ctx context.Context) error {
	<-ctx.Done()
	return context.Cause(ctx)
}

// run runs the coordinator: the cluster, the emulators, the workers, the
// script and the faults, and prints the tables.
func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.exe = exe
	}
	cfg.timeout = cmp.Or(cfg.timeout, 5*time.Minute)
	cfg.workers, cfg.nodes = cmp.Or(cfg.workers, 3), cmp.Or(cfg.nodes, 3)
	replicas := min(cfg.nodes, 3)
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5eed))
	dir, err := os.MkdirTemp("", "distsync-cluster")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cl, err := natstest.NewCluster(dir, cfg.nodes)
	if err != nil {
		return err
	}
	defer cl.Shutdown()
	st, err := openStores(ctx, cl.URL(), replicas)
	if err != nil {
		return err
	}
	defer st.close()
	sys, err := newSystems(cfg.faults, cfg.seed)
	if err != nil {
		return err
	}
	defer sys.close()
	fmt.Fprintf(out, "NATS cluster of %d nodes: %s\nemulators on loopback: salesforce %s, sap %s, shipbob %s\n",
		cfg.nodes, cl.URL(), sys.urls.sf, sys.urls.sap, sys.urls.shipbob)

	// The coordinator's flow: the same configuration as the workers',
	// on a consumer that handles nothing.
	fcfg, err := flowConfig(sys.urls)
	if err != nil {
		return err
	}
	fcfg.Log, fcfg.State, fcfg.Cursors, fcfg.Dedupe = st.log, st.state, st.state, st.idem
	fcfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})).With("worker", "coordinator")
	fcfg.NewConsumer = func(cc eventlog.ConsumerConfig) (flow.Consumer, error) {
		g, err := st.log.NewGroup(jetstream.GroupConfig{Consumer: cc})
		return observer{g}, err
	}
	f, err := flow.New(fcfg)
	if err != nil {
		return err
	}

	c := &coordinator{cfg: cfg, out: out, open: map[string]handling{}, ready: map[string]bool{}, killedInFlight: -1,
		wf: workerFlags{nats: cl.URL(), replicas: replicas, urls: sys.urls}}
	procs := make([]*proc, cfg.workers)
	for i := range procs {
		if procs[i], err = c.start(fmt.Sprintf("w%d", i+1)); err != nil {
			return err
		}
	}
	defer func() {
		c.mu.Lock()
		procs := slices.Clone(procs)
		c.mu.Unlock()
		for _, p := range procs {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}()
	if err := c.waitReady(ctx, cfg.workers); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d workers own their partitions; %d orders beside the scripted ones, faults %.2f\n", cfg.workers, cfg.orders, cfg.faults)

	// The faults, at random points of the run, counted in handlings the
	// workers started: a worker SIGKILLed (while it handles an event)
	// and started again half a second later, a NATS node shut down and
	// restarted two seconds later.
	est := (cfg.orders + 6) * 6 // about the handlings of a run
	killAt := int(float64(est) * (0.15 + 0.35*rng.Float64()))
	nodeAt := int(float64(est) * (0.15 + 0.45*rng.Float64()))
	victim, node := rng.IntN(cfg.workers), rng.IntN(len(cl.Nodes))
	fctx, stopFaults := context.WithCancel(ctx)
	faultsDone := make(chan []string, 1)
	if cfg.chaos {
		go func() { faultsDone <- c.inject(fctx, cl, procs, victim, node, killAt, nodeAt) }()
	} else {
		faultsDone <- nil
	}
	cpu0 := selfCPU()
	res, runErr := o2c.Run(ctx, out, sys.o2c(f), o2c.Config{Orders: cfg.orders, Seed: cfg.seed, WholeOrders: true})
	coordCPU := selfCPU() - cpu0
	stopFaults()
	missed := <-faultsDone
	if runErr != nil && !errors.Is(runErr, o2c.ErrDisagree) {
		return runErr
	}

	// The cluster's own checks.
	led, err := sys.check(ctx, f, res.IDs)
	if err != nil {
		return err
	}
	var events, bytes uint64
	if info, err := streamInfo(ctx, cl.URL()); err == nil {
		events, bytes = info.Msgs, info.Bytes
	}
	c.mu.Lock()
	procs = slices.Clone(procs)
	c.mu.Unlock()
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	c.lines.Wait()
	s := stats{orders: len(res.IDs), elapsed: res.Elapsed, events: events, bytes: bytes, coordinatorCPU: coordCPU, ledger: led,
		requests: sys.requests.Load()}
	c.mu.Lock()
	s.workerCPU, s.killedInFlight = c.cpu, c.killedInFlight
	c.mu.Unlock()
	problems := c.report(&s, missed)
	if cfg.stats != nil {
		*cfg.stats = s
	}
	if runErr != nil || len(problems) > 0 {
		fmt.Fprintln(out, "the cluster DISAGREES")
		return errors.Join(runErr, errors.New("the cluster disagrees: "+strings.Join(problems, "; ")))
	}
	fmt.Fprintln(out, "the cluster agrees: every effect once, every key handled by one worker at a time")
	return nil
}

// selfCPU returns the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitReady waits until n workers reported that they own partitions.
func (c *coordinator) waitReady(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		k := len(c.ready)
		c.mu.Unlock()
		if k >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d workers ready: %w", k, n, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitStarted waits until the workers started n handlings.
func (c *coordinator) waitStarted(ctx context.Context, n int) bool {
	for {
		c.mu.Lock()
		k := c.started
		c.mu.Unlock()
		if k >= n {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// pendingKill is a SIGKILL the line reader sends when its worker starts
// a handling.
type pendingKill struct {
	p    *proc
	at   int64
	done chan struct{}
}

// fire sends the signal and records when.
func (k *pendingKill) fire() {
	k.at = time.Now().UnixNano()
	_ = k.p.cmd.Process.Signal(syscall.SIGKILL)
	close(k.done)
}

// inject SIGKILLs worker victim once the workers started killAt
// handlings, at a moment it is handling an event (within 30s), and
// starts it again half a second later; with cfg.nodeDown it shuts NATS
// node node down once they started nodeAt and restarts it two seconds
// later. It returns the faults that did not happen before ctx was done.
func (c *coordinator) inject(ctx context.Context, cl *natstest.Cluster, procs []*proc, victim, node int, killAt, nodeAt int) []string {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var missed []string
	miss := func(s string) {
		mu.Lock()
		missed = append(missed, s)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if !c.waitStarted(ctx, killAt) {
			miss("the worker was not killed: the run ended first")
			return
		}
		// Killed while it handles: the victim holds its next handling
		// after the effects, before the acknowledgement, and the line
		// reader sends the signal as it reads that (or after 30s).
		c.mu.Lock()
		p := procs[victim]
		killed := make(chan struct{})
		c.kill = &pendingKill{p: p, done: killed}
		c.mu.Unlock()
		_, _ = io.WriteString(p.stdin, "hold\n")
		select {
		case <-killed:
		case <-time.After(30 * time.Second):
			c.mu.Lock()
			if c.kill != nil {
				c.kill.fire()
				c.kill, c.killTime = nil, c.kill.at
			}
			c.mu.Unlock()
		}
		<-p.done
		c.mu.Lock()
		inFlight := c.closeOpen(p.name, c.killTime)
		c.killedInFlight = inFlight
		c.mu.Unlock()
		c.say("after %d handlings: SIGKILLed worker %s while it handled %d event(s)", killAt, p.name, inFlight)
		time.Sleep(500 * time.Millisecond)
		np, err := c.start(p.name)
		if err != nil {
			miss("restarting worker " + p.name + ": " + err.Error())
			return
		}
		c.mu.Lock()
		procs[victim] = np
		c.mu.Unlock()
		c.say("restarted worker %s", p.name)
	}()
	if c.cfg.nodeDown {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !c.waitStarted(ctx, nodeAt) {
				miss("no NATS node was shut down: the run ended first")
				return
			}
			cl.Nodes[node].Shutdown()
			c.say("after %d handlings: shut down NATS node n%d", nodeAt, node)
			time.Sleep(2 * time.Second)
			if err := cl.Nodes[node].Restart(); err != nil {
				miss(fmt.Sprintf("restarting NATS node n%d: %v", node, err))
				return
			}
			if err := cl.WaitReady(30 * time.Second); err != nil {
				miss(fmt.Sprintf("NATS node n%d not ready: %v", node, err))
				return
			}
			c.say("restarted NATS node n%d", node)
		}()
	}
	wg.Wait()
	return missed
}

func (c *coordinator) say(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format+"\n", args...)
}

// start starts a worker process and reads its report lines.
func (c *coordinator) start(name string) (*proc, error) {
	wf := c.wf
	wf.name = name
	cmd := exec.Command(c.cfg.exe, wf.args()...)
	cmd.Env = append(os.Environ(), c.cfg.env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	c.lines.Add(1)
	go func() {
		defer c.lines.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.line(name, sc.Text())
		}
		_ = cmd.Wait()
		if ps := cmd.ProcessState; ps != nil {
			c.mu.Lock()
			c.cpu += ps.UserTime() + ps.SystemTime()
			c.mu.Unlock()
		}
		close(p.done)
	}()
	return p, nil
}

// line records one report line of a worker: "S KEY ID UNIXNANO" when a
// handling starts, "E KEY ID UNIXNANO OUTCOME" when it ends, "H KEY ID"
// when it holds a handling to be killed, "R" once it owns partitions.
func (c *coordinator) line(worker, l string) {
	f := strings.Fields(l)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(f) == 4 && f[0] == "S":
		t, _ := strconv.ParseInt(f[3], 10, 64)
		c.open[worker+" "+f[1]+" "+f[2]] = handling{key: f[1], id: f[2], worker: worker, start: t}
		c.started++
	case len(f) == 3 && f[0] == "H":
		// The worker holds this handling, its effects applied and the
		// event not acknowledged, until it is killed.
		if k := c.kill; k != nil && k.p.name == worker {
			k.fire()
			c.kill, c.killTime = nil, k.at
		}
	case len(f) == 5 && f[0] == "E":
		k := worker + " " + f[1] + " " + f[2]
		h, ok := c.open[k]
		if !ok {
			return
		}
		delete(c.open, k)
		h.end, _ = strconv.ParseInt(f[3], 10, 64)
		h.outcome = f[4]
		c.runs = append(c.runs, h)
	case len(f) == 1 && f[0] == "R":
		c.ready[worker] = true
	}
}

// closeOpen ends the open handlings of a killed worker at its kill and
// returns how many there were.
func (c *coordinator) closeOpen(worker string, at int64) int {
	n := 0
	for k, h := range c.open {
		if h.worker == worker {
			h.end, h.outcome = at, "killed"
			c.runs = append(c.runs, h)
			delete(c.open, k)
			n++
		}
	}
	return n
}

// overlaps returns the keys handled by two workers at once.
func (c *coordinator) overlaps() []string {
	byKey := map[string][]handling{}
	for _, h := range c.runs {
		byKey[h.key] = append(byKey[h.key], h)
	}
	var out []string
	for key, hs := range byKey {
		sort.Slice(hs, func(i, j int) bool { return hs[i].start < hs[j].start })
		for i := range hs {
			for j := i + 1; j < len(hs) && hs[j].start < hs[i].end; j++ {
				if hs[j].worker != hs[i].worker {
					out = append(out, fmt.Sprintf("key %s handled by %s and %s at once", key, hs[i].worker, hs[j].worker))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// report prints the cluster's table and checks, and returns the
// problems found: handlings that overlapped, effects the systems
// recorded twice, faults that did not happen.
func (c *coordinator) report(s *stats, missed []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	per := map[string]map[string]int{}
	for _, h := range c.runs {
		if per[h.worker] == nil {
			per[h.worker] = map[string]int{}
		}
		per[h.worker][h.outcome]++
	}
	out := c.out
	fmt.Fprintln(out, "\nhandlings per worker (ok / failed, retried / killed by SIGKILL):")
	for _, w := range slices.Sorted(maps.Keys(per)) {
		m := per[w]
		fmt.Fprintf(out, "  %s  %d / %d / %d\n", w, m["ok"], m["failed"], m["killed"])
	}
	ov := c.overlaps()
	s.overlaps = len(ov)
	l := s.ledger
	fmt.Fprintf(out, "%-44s %d recorded for %d orders\n", "ERP acceptances:", l.acceptances, l.erpOrders)
	fmt.Fprintf(out, "%-44s %d released for %d planned\n", "WMS fulfilment orders:", l.releases, l.released)
	fmt.Fprintf(out, "%-44s %d for %d shipments\n", "ERP postings (invoices):", l.invoices, l.shipments)
	fmt.Fprintf(out, "%-44s %d\n", "keys handled by two workers at once:", len(ov))
	problems := slices.Concat(l.problems, ov, missed)
	for _, p := range problems {
		fmt.Fprintln(out, "  -", p)
	}
	if s.orders > 0 && s.elapsed > 0 {
		fmt.Fprintf(out, "%d orders in %v: %.1f orders/s, %.1f HTTP requests per order", s.orders, s.elapsed.Round(time.Millisecond), s.rate(),
			float64(s.requests)/float64(s.orders))
		if s.events > 0 {
			fmt.Fprintf(out, "; %.1f events per order, %d bytes per event stored", float64(s.events)/float64(s.orders), s.bytes/s.events)
		}
		fmt.Fprintf(out, "; CPU per order: workers %v, coordinator (NATS, emulators) %v\n",
			(s.workerCPU / time.Duration(s.orders)).Round(time.Microsecond), (s.coordinatorCPU / time.Duration(s.orders)).Round(time.Microsecond))
	}
	return problems
}

// streamInfo returns the state of the event stream.
func streamInfo(ctx context.Context, url string) (natsjs.StreamState, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return natsjs.StreamState{}, err
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		return natsjs.StreamState{}, err
	}
	st, err := js.Stream(ctx, jetstream.DefaultStream)
	if err != nil {
		return natsjs.StreamState{}, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return natsjs.StreamState{}, err
	}
	return info.State, nil
}
