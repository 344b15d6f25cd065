// Command cluster runs a partitioned consumer group across real
// processes on an embedded 3-node NATS JetStream cluster, kills a worker
// with SIGKILL and shuts a NATS node down at random points, restarts
// both, and ends with an agreement table: exit status 0 when every order
// went through every step exactly once, in order, and no order was
// handled by two workers at once; 1 otherwise.
//
//	go run ./examples/cluster -orders 50 -faults 0.1
//
// Flags: -orders N and -faults F as above; -seed S chooses the faults and
// the kill points; -workers W (3) and -nodes 1 or 3 (3; R3 streams and
// buckets on 3) size the run; -chaos=false runs without killing anything
// (it needs 2 workers and 3 nodes); -work D is how long a handler works
// before its effect (5ms); -timeout (3m) gives up on orders not through.
// The last lines give the orders per second from the first append and
// the stored bytes per event.
//
// # Design
//
// The coordinator (this program without -worker) starts the cluster in a
// temporary directory, creates the event stream (R3, Partitions
// partitions) and starts three workers by running its own executable
// again with -worker. Each worker is a member of the partitioned group
// "orders" (package eventlog/jetstream's Group): it owns its share of the
// partitions, announced and leased on JetStream KV, and handles their
// events. The coordinator waits until every worker owns partitions, then
// appends, for each order, its five order-to-cash steps (submitted,
// accepted, released, shipped, invoiced) as events partitioned by the
// order's ID, one round per step (the next once half of the previous one
// is applied). At random points of the run, counted in effects applied, it
// SIGKILLs one worker and starts it again half a second later, and shuts
// one NATS node down and restarts it two seconds later (the worker is
// killed while it handles an event, when it does within 5s); appends that fail
// meanwhile are retried (the stream stores a retried event once).
//
// A step's effect is the one thing every system call of the real flow
// must be: idempotent and conditional. The order's record in the KV bucket
// cluster_orders names the last step applied; a worker applies step s only
// with a write conditional on the revision at which it read step s−1 (a
// record already at s or beyond is a duplicate and changes nothing; one
// before s−1 is an order violation, reported). So the store itself says
// whether any step was applied twice or out of order. With probability
// -faults a handler fails before its effect, and with the same
// probability after it (an answer lost): the consumer retries both.
//
// Each worker prints, per handling, the order, the step, its name and the
// start and end time (one clock: the processes share the machine); the
// coordinator checks that no two workers' handlings of one order overlap
// (a SIGKILLed worker's open handling ends at its kill).
//
// This is the cluster machinery, not examples/ordertocash across
// processes: the order-to-cash flow (package flow) runs one consumer of
// its own and its simulators live in one process; running it on a Group
// needs the flow to take a partitioned consumer and connectors that reach
// shared systems (the HTTP emulators), which this example does not do.
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
	"github.com/distsync/distsync/retry"
)

// steps are the order-to-cash steps, in order.
var steps = []string{"submitted", "accepted", "released", "shipped", "invoiced"}

const (
	partitions   = 12
	ordersBucket = "cluster_orders"
	idemBucket   = "cluster_idempotency"
	group        = "orders"
	source       = "urn:distsync:example:cluster"
	leaseTTL     = 2 * time.Second
	renew        = 250 * time.Millisecond
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
	// work is how long a handler works before its effect.
	work time.Duration
	// rate, when not nil, receives the orders per second from the first
	// append until every order was through.
	rate *float64
	// exe and env start a worker: the program and its extra environment
	// (a test runs its own binary with an environment variable).
	exe string
	env []string
}

func parse(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.orders, "orders", 50, "orders to run through the five steps")
	fs.Float64Var(&c.faults, "faults", 0.1, "probability that a handler fails before, and again after, its effect")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the faults and of the kill points")
	fs.DurationVar(&c.timeout, "timeout", 3*time.Minute, "give up when the orders are not through by then")
	fs.IntVar(&c.workers, "workers", 3, "worker processes")
	fs.IntVar(&c.nodes, "nodes", 3, "NATS nodes (1 or 3; streams and buckets are R3 on 3)")
	fs.BoolVar(&c.chaos, "chaos", true, "SIGKILL a worker and shut down a NATS node mid-run (needs 2 workers and 3 nodes)")
	fs.DurationVar(&c.work, "work", 5*time.Millisecond, "how long a handler works before its effect")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.orders < 1 || c.faults < 0 || c.faults >= 1 || c.workers < 1 || (c.nodes != 1 && c.nodes != 3) ||
		c.chaos && (c.workers < 2 || c.nodes != 3) || c.work < 0 {
		err := fmt.Errorf("cluster: -orders and -workers must be at least 1, -faults within [0, 1), -nodes 1 or 3, -work not negative, and -chaos needs 2 workers and 3 nodes")
		fmt.Fprintln(stderr, err)
		return c, err
	}
	return c, nil
}

// orderRec is an order's record in the orders bucket.
type orderRec struct {
	Step    int      `json:"step"`
	Applied []string `json:"applied"` // per step applied: the worker
}

// handling is one handler run as a worker reported it.
type handling struct {
	order, worker string
	step          int
	start, end    int64
	outcome       string
}

// proc is a running worker process.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

type coordinator struct {
	cfg     config
	urls    string
	out     io.Writer
	mu      sync.Mutex
	runs    []handling
	open    map[string]handling // worker+order+step → started
	errs    []string
	ready   map[string]bool
	applied int
	lines   sync.WaitGroup
}

// run runs the coordinator: the cluster, the workers, the orders and the
// faults, and prints the agreement table.
func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.exe = exe
	}
	if cfg.timeout == 0 {
		cfg.timeout = 3 * time.Minute
	}
	cfg.workers, cfg.nodes = cmp.Or(cfg.workers, 3), cmp.Or(cfg.nodes, 3)
	replicas := min(cfg.nodes, 3)
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
	fmt.Fprintf(out, "NATS cluster of %d nodes: %s\n", cfg.nodes, cl.URL())

	b, err := jetstream.Open(ctx, jetstream.Config{URL: cl.URL(), Replicas: replicas, Partitions: partitions})
	if err != nil {
		return err
	}
	defer b.Close()
	nc, err := nats.Connect(cl.URL(), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		return err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{Bucket: ordersBucket, Storage: natsjs.FileStorage, Replicas: replicas})
	if err != nil {
		return err
	}

	// The buckets the workers share exist before they start.
	idem, err := jetstream.NewIdempotencyStore(ctx, jetstream.IdempotencyConfig{URL: cl.URL(), Bucket: idemBucket, Replicas: replicas})
	if err != nil {
		return err
	}
	_ = idem.Close()

	c := &coordinator{cfg: cfg, urls: cl.URL(), out: out, open: map[string]handling{}, ready: map[string]bool{}}
	procs := make([]*proc, cfg.workers)
	for i := range procs {
		if procs[i], err = c.start(fmt.Sprintf("w%d", i+1), cfg.faults, cfg.seed+uint64(i)); err != nil {
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

	if err := c.waitReady(procs, 60*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d workers own their partitions; %d orders, %d steps each, faults %.2f\n", cfg.workers, cfg.orders, len(steps), cfg.faults)
	began := time.Now()

	// The faults, at random points of the run (counted in effects
	// applied): a worker SIGKILLed and started again half a second later,
	// a NATS node shut down and restarted two seconds later.
	total := cfg.orders * len(steps)
	killAt := int(float64(total) * (0.1 + 0.4*rng.Float64()))
	nodeAt := int(float64(total) * (0.1 + 0.5*rng.Float64()))
	victim, node := rng.IntN(cfg.workers), rng.IntN(len(cl.Nodes))
	faultsDone := make(chan error, 1)
	if cfg.chaos {
		go func() { faultsDone <- c.inject(ctx, cl, procs, victim, node, killAt, nodeAt) }()
	} else {
		faultsDone <- nil
	}

	// The orders: one round per step, the next round once half of this
	// one is applied, so that the rounds overlap the faults.
	for s := range steps {
		if err := appendStep(ctx, b, cfg.orders, s); err != nil {
			return err
		}
		c.waitApplied(s*cfg.orders+cfg.orders/2, 60*time.Second)
	}
	if err := <-faultsDone; err != nil {
		return err
	}
	recs, err := waitDone(ctx, kv, cfg.orders, cfg.timeout)
	if err != nil {
		fmt.Fprintln(out, "waiting for the orders:", err)
	} else {
		took := time.Since(began)
		rate := float64(cfg.orders) / took.Seconds()
		if cfg.rate != nil {
			*cfg.rate = rate
		}
		fmt.Fprintf(out, "%d orders through 5 steps in %v: %.1f orders/s\n", cfg.orders, took.Round(time.Millisecond), rate)
		if st, err := js.Stream(ctx, jetstream.DefaultStream); err == nil {
			if info, err := st.Info(ctx); err == nil && info.State.Msgs > 0 {
				fmt.Fprintf(out, "event stream: %d events, %d bytes stored, %d bytes per event\n",
					info.State.Msgs, info.State.Bytes, info.State.Bytes/info.State.Msgs)
			}
		}
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
	return c.report(recs)
}

// waitReady waits until every worker reported that it owns partitions.
func (c *coordinator) waitReady(procs []*proc, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c.mu.Lock()
		n := len(c.ready)
		c.mu.Unlock()
		if n == len(procs) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d workers ready within %v", n, len(procs), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitApplied waits until n effects were reported applied, or within.
func (c *coordinator) waitApplied(n int, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		done := c.applied >= n
		c.mu.Unlock()
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitHandling waits until worker has a handling open, or within.
func (c *coordinator) waitHandling(worker string, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, h := range c.open {
			if h.worker == worker {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

// inject SIGKILLs worker victim once killAt effects were applied, at a
// moment it is handling an event (within 5s), and starts it again half a second later, and shuts NATS node node down once
// nodeAt were applied and restarts it two seconds later.
func (c *coordinator) inject(ctx context.Context, cl *natstest.Cluster, procs []*proc, victim, node, killAt, nodeAt int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.waitApplied(killAt, 2*time.Minute)
		c.mu.Lock()
		p := procs[victim]
		c.mu.Unlock()
		c.waitHandling(p.name, 5*time.Second) // kill it while it handles
		at := time.Now().UnixNano()
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		c.mu.Lock()
		inFlight := c.closeOpen(p.name, at)
		c.mu.Unlock()
		c.say("after %d effects: SIGKILLed worker %s while it handled %d event(s)", killAt, p.name, inFlight)
		time.Sleep(500 * time.Millisecond)
		np, err := c.start(p.name, c.cfg.faults, c.cfg.seed+100)
		if err != nil {
			errs <- err
			return
		}
		c.mu.Lock()
		procs[victim] = np
		c.mu.Unlock()
		c.say("restarted worker %s", p.name)
	}()
	go func() {
		defer wg.Done()
		c.waitApplied(nodeAt, 2*time.Minute)
		cl.Nodes[node].Shutdown()
		c.say("after %d effects: shut down NATS node n%d", nodeAt, node)
		time.Sleep(2 * time.Second)
		if err := restartNode(cl, node); err != nil {
			errs <- err
			return
		}
		c.say("restarted NATS node n%d", node)
	}()
	wg.Wait()
	close(errs)
	return <-errs
}

func (c *coordinator) say(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format+"\n", args...)
}

func restartNode(cl *natstest.Cluster, node int) error {
	if err := cl.Nodes[node].Restart(); err != nil {
		return err
	}
	return cl.WaitReady(30 * time.Second)
}

// appendStep appends step s of every order, in batches of 100 events,
// retrying a batch that is not acknowledged (a node down); the stream
// stores a retried event once.
func appendStep(ctx context.Context, b *jetstream.Backend, orders, s int) error {
	var batch []canonical.Event
	flush := func() error {
		for attempt := 0; len(batch) > 0; attempt++ {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := b.Append(actx, batch...)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil || attempt == 50 {
				return fmt.Errorf("append step %s: %w", steps[s], err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		batch = batch[:0]
		return nil
	}
	for o := 1; o <= orders; o++ {
		id := fmt.Sprintf("SO-%04d", o)
		batch = append(batch, canonical.Event{ID: id + "-" + steps[s], Source: source, SpecVersion: canonical.EventSpecVersion,
			Type: canonical.EventType("dev.distsync.example.order." + steps[s]), Subject: id, PartitionKey: id, CorrelationID: id,
			Data: json.RawMessage(`{"step":` + strconv.Itoa(s+1) + `}`)})
		if len(batch) == 100 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// waitDone waits until every order is at the last step.
func waitDone(ctx context.Context, kv natsjs.KeyValue, orders int, within time.Duration) (map[string]orderRec, error) {
	deadline := time.Now().Add(within)
	for {
		recs := map[string]orderRec{}
		complete := 0
		for o := 1; o <= orders; o++ {
			id := fmt.Sprintf("SO-%04d", o)
			e, err := kv.Get(ctx, id)
			if err != nil {
				continue
			}
			var r orderRec
			if json.Unmarshal(e.Value(), &r) == nil {
				recs[id] = r
				if r.Step == len(steps) {
					complete++
				}
			}
		}
		if complete == orders {
			return recs, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return recs, fmt.Errorf("%d of %d orders complete after %v", complete, orders, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// start starts a worker process and reads its report lines.
func (c *coordinator) start(name string, faults float64, seed uint64) (*proc, error) {
	cmd := exec.Command(c.cfg.exe, "-worker", "-url", c.urls, "-name", name,
		"-faults", strconv.FormatFloat(faults, 'g', -1, 64), "-seed", strconv.FormatUint(seed, 10),
		"-replicas", strconv.Itoa(min(c.cfg.nodes, 3)), "-work", c.cfg.work.String())
	cmd.Env = append(os.Environ(), c.cfg.env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	c.lines.Add(1)
	go func() {
		defer c.lines.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.line(name, sc.Text())
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// line records one report line of a worker: "S ORDER STEP UNIXNANO" when
// a handling starts, "E ORDER STEP UNIXNANO OUTCOME" when it ends, "X
// TEXT" for a violation the worker saw.
func (c *coordinator) line(worker, l string) {
	f := strings.Fields(l)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(f) == 4 && f[0] == "S":
		step, _ := strconv.Atoi(f[2])
		t, _ := strconv.ParseInt(f[3], 10, 64)
		c.open[worker+" "+f[1]+" "+f[2]] = handling{order: f[1], worker: worker, step: step, start: t}
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
		if h.outcome == "applied" {
			c.applied++
		}
	case len(f) == 1 && f[0] == "R":
		c.ready[worker] = true
	case len(f) > 1 && f[0] == "X":
		c.errs = append(c.errs, worker+": "+strings.Join(f[1:], " "))
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

// report prints the agreement table and returns an error when the store
// or the handlings show a problem.
func (c *coordinator) report(recs map[string]orderRec) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Overlaps: two workers handling one order at the same time.
	byOrder := map[string][]handling{}
	perWorker := map[string]map[string]int{}
	for _, h := range c.runs {
		byOrder[h.order] = append(byOrder[h.order], h)
		if perWorker[h.worker] == nil {
			perWorker[h.worker] = map[string]int{}
		}
		perWorker[h.worker][h.outcome]++
	}
	overlaps := 0
	for _, hs := range byOrder {
		sort.Slice(hs, func(i, j int) bool { return hs[i].start < hs[j].start })
		for i := range hs {
			for j := i + 1; j < len(hs) && hs[j].start < hs[i].end; j++ {
				if hs[j].worker != hs[i].worker {
					overlaps++
					c.errs = append(c.errs, fmt.Sprintf("order %s handled by %s and %s at once", hs[i].order, hs[i].worker, hs[j].worker))
				}
			}
		}
	}
	complete, twice := 0, 0
	for id, r := range recs {
		if r.Step == len(steps) {
			complete++
		}
		if len(r.Applied) != r.Step {
			twice++
			c.errs = append(c.errs, fmt.Sprintf("order %s: %d effects for %d steps", id, len(r.Applied), r.Step))
		}
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "worker\tapplied\tduplicate\tfailed\tkilled\tcancelled")
	names := make([]string, 0, len(perWorker))
	for w := range perWorker {
		names = append(names, w)
	}
	slices.Sort(names)
	for _, w := range names {
		m := perWorker[w]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", w, m["applied"], m["duplicate"], m["failed"], m["killed"], m["cancelled"])
	}
	_ = tw.Flush()
	orders := c.cfg.orders
	fmt.Fprintf(c.out, "\n%-34s %d of %d\n", "orders through all 5 steps:", complete, orders)
	fmt.Fprintf(c.out, "%-34s %d\n", "orders with a step applied twice:", twice)
	fmt.Fprintf(c.out, "%-34s %d\n", "orders handled by two at once:", overlaps)
	fmt.Fprintf(c.out, "%-34s %d\n", "violations reported by workers:", len(c.errs)-overlaps-twice)
	for _, e := range c.errs {
		fmt.Fprintln(c.out, "  -", e)
	}
	if complete != orders || len(c.errs) > 0 {
		fmt.Fprintln(c.out, "the cluster DISAGREES with the orders")
		return errors.New("the cluster disagrees with the orders")
	}
	fmt.Fprintln(c.out, "all orders agree: every step applied once, in order, by one worker at a time")
	return nil
}

// errInjected is a fault the worker injects.
var errInjected = errors.New("injected fault")

// workerMain runs one worker: a member of the partitioned group until
// SIGTERM.
func workerMain(args []string) (err error) {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.Bool("worker", true, "run as a worker")
	url := fs.String("url", "", "NATS URLs")
	name := fs.String("name", "", "member name")
	faults := fs.Float64("faults", 0, "fault probability")
	seed := fs.Uint64("seed", 1, "fault seed")
	replicas := fs.Int("replicas", 3, "replicas of the stream and buckets")
	work := fs.Duration("work", 5*time.Millisecond, "how long a handler works before its effect")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// A worker started while a NATS node is down may find the cluster
	// busy electing leaders: it tries again for a minute, as a process
	// supervisor restarting it would.
	var (
		b    *jetstream.Backend
		idem *jetstream.IdempotencyStore
		nc   *nats.Conn
		kv   natsjs.KeyValue
	)
	for attempt := 0; ; attempt++ {
		if err = connect(ctx, *url, *replicas, &b, &idem, &nc, &kv); err == nil || attempt == 60 || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return err
	}
	defer b.Close()
	defer idem.Close()
	defer nc.Close()
	w := &worker{name: *name, kv: kv, faults: *faults, work: *work, rng: rand.New(rand.NewPCG(*seed, 7))}
	g, err := b.NewGroup(jetstream.GroupConfig{Member: *name, LeaseTTL: leaseTTL, Renew: renew,
		Consumer: eventlog.ConsumerConfig{Group: group, Handler: w.handle, Dedupe: idem, Lease: 3 * time.Second,
			PollInterval: 50 * time.Millisecond, DrainTimeout: 5 * time.Second,
			Policy: eventlog.ErrorPolicy{MaxAttempts: 1000, Backoff: retry.Backoff{InitialInterval: 20 * time.Millisecond, MaxInterval: 500 * time.Millisecond}},
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})).With("worker", *name)}})
	if err != nil {
		return err
	}
	defer func() {
		if ctx.Err() != nil { // SIGTERM: a clean stop
			err = nil
		}
	}()
	go func() { // tell the coordinator once this member owns partitions
		for ctx.Err() == nil {
			if len(g.Owned()) > 0 {
				w.report("R")
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return g.Run(ctx)
}

// connect opens what a worker needs; on failure it closes what it opened.
func connect(ctx context.Context, url string, replicas int, b **jetstream.Backend, idem **jetstream.IdempotencyStore, nc **nats.Conn, kv *natsjs.KeyValue) (err error) {
	var closers []func() error
	defer func() {
		if err != nil {
			for _, c := range closers {
				_ = c()
			}
		}
	}()
	if *b, err = jetstream.Open(ctx, jetstream.Config{URL: url, Replicas: replicas, Partitions: partitions}); err != nil {
		return err
	}
	closers = append(closers, (*b).Close)
	if *idem, err = jetstream.NewIdempotencyStore(ctx, jetstream.IdempotencyConfig{URL: url, Bucket: idemBucket, Replicas: replicas}); err != nil {
		return err
	}
	closers = append(closers, (*idem).Close)
	if *nc, err = nats.Connect(url, nats.MaxReconnects(-1)); err != nil {
		return err
	}
	closers = append(closers, func() error { (*nc).Close(); return nil })
	js, err := natsjs.New(*nc)
	if err != nil {
		return err
	}
	*kv, err = js.KeyValue(ctx, ordersBucket)
	return err
}

type worker struct {
	name   string
	kv     natsjs.KeyValue
	faults float64
	work   time.Duration
	mu     sync.Mutex
	rng    *rand.Rand
	outMu  sync.Mutex
}

func (w *worker) report(format string, args ...any) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	fmt.Printf(format+"\n", args...)
}

func (w *worker) fault() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rng.Float64() < w.faults
}

// handle applies one step of an order: conditionally on the record being
// at the step before.
func (w *worker) handle(ctx context.Context, ev canonical.Event) (err error) {
	var d struct{ Step int }
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return retry.Permanent(err)
	}
	id := ev.PartitionKey
	w.report("S %s %d %d", id, d.Step, time.Now().UnixNano())
	outcome := "failed"
	defer func() {
		if ctx.Err() != nil && err != nil {
			outcome = "cancelled"
		}
		w.report("E %s %d %d %s", id, d.Step, time.Now().UnixNano(), outcome)
	}()
	if w.work > 0 {
		select { // some work
		case <-time.After(w.work):
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if w.fault() {
		return errInjected
	}
	for {
		var r orderRec
		var rev uint64
		e, err := w.kv.Get(ctx, id)
		switch {
		case errors.Is(err, natsjs.ErrKeyNotFound):
		case err != nil:
			return err
		default:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &r); err != nil {
				return retry.Permanent(err)
			}
		}
		switch {
		case r.Step >= d.Step:
			outcome = "duplicate"
			return nil
		case r.Step < d.Step-1:
			w.report("X order %s: step %d handled before step %d", id, d.Step, r.Step+1)
			return fmt.Errorf("order %s: step %d before step %d", id, d.Step, r.Step+1)
		}
		r.Step = d.Step
		r.Applied = append(r.Applied, w.name)
		v, _ := json.Marshal(r)
		if rev == 0 {
			_, err = w.kv.Create(ctx, id, v)
		} else {
			_, err = w.kv.Update(ctx, id, v, rev)
		}
		if errors.Is(err, natsjs.ErrKeyExists) || errors.Is(err, natsjs.ErrKeyRevisionMismatch) {
			continue // another write came first: read again
		}
		if err != nil {
			return err
		}
		outcome = "applied"
		if w.fault() {
			return errInjected // the effect happened; its answer is lost
		}
		return nil
	}
}
