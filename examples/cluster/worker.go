package main

// worker.go owns a worker process: the flow over the emulators, on a
// member of the partitioned group, reporting each handling to the
// coordinator on its standard output.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
)

// workerFlags are what the coordinator tells a worker.
type workerFlags struct {
	nats, name string
	replicas   int
	urls       endpoints
}

func (w workerFlags) args() []string {
	return []string{"-worker", "-nats", w.nats, "-name", w.name, "-replicas", fmt.Sprint(w.replicas),
		"-sf", w.urls.sf, "-sap", w.urls.sap, "-shipbob", w.urls.shipbob, "-channel", fmt.Sprint(w.urls.channel)}
}

func parseWorker(args []string) (workerFlags, error) {
	var w workerFlags
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.Bool("worker", true, "run as a worker")
	fs.StringVar(&w.nats, "nats", "", "NATS URLs")
	fs.StringVar(&w.name, "name", "", "member name")
	fs.IntVar(&w.replicas, "replicas", 3, "replicas of the stream and buckets")
	fs.StringVar(&w.urls.sf, "sf", "", "Salesforce emulator URL")
	fs.StringVar(&w.urls.sap, "sap", "", "SAP emulator URL")
	fs.StringVar(&w.urls.shipbob, "shipbob", "", "ShipBob emulator URL")
	fs.Int64Var(&w.urls.channel, "channel", 0, "ShipBob channel ID")
	if err := fs.Parse(args); err != nil {
		return w, err
	}
	if w.nats == "" || w.name == "" || w.urls.sf == "" || w.urls.sap == "" || w.urls.shipbob == "" {
		return w, errors.New("worker: -nats, -name, -sf, -sap and -shipbob are required")
	}
	return w, nil
}

// stores are the JetStream stores a flow of the cluster uses.
type stores struct {
	log   *jetstream.Backend
	state *jetstream.FlowState
	idem  *jetstream.IdempotencyStore
}

// openStores opens (creating when needed) the log, the flow's state and
// cursors and the dedupe store; on failure it closes what it opened.
func openStores(ctx context.Context, url string, replicas int) (s stores, err error) {
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.log, err = jetstream.Open(ctx, jetstream.Config{URL: url, Replicas: replicas, Partitions: partitions}); err != nil {
		return s, err
	}
	if s.state, err = jetstream.NewFlowState(ctx, jetstream.FlowStateConfig{URL: url, Replicas: replicas}); err != nil {
		return s, err
	}
	s.idem, err = jetstream.NewIdempotencyStore(ctx, jetstream.IdempotencyConfig{URL: url, Bucket: idemBucket, Replicas: replicas})
	return s, err
}

func (s stores) close() {
	if s.idem != nil {
		_ = s.idem.Close()
	}
	if s.state != nil {
		_ = s.state.Close()
	}
	if s.log != nil {
		_ = s.log.Close()
	}
}

// workerMain runs one worker until SIGTERM: the order-to-cash flow over
// the emulators, its handler on a member of the partitioned group.
func workerMain(args []string) (err error) {
	wf, err := parseWorker(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// A worker started while a NATS node is down may find the cluster
	// busy electing leaders: it tries again for a minute, as a process
	// supervisor restarting it would.
	var st stores
	for attempt := 0; ; attempt++ {
		if st, err = openStores(ctx, wf.nats, wf.replicas); err == nil || attempt == 60 || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return err
	}
	defer st.close()
	cfg, err := flowConfig(wf.urls)
	if err != nil {
		return err
	}
	// DISTSYNC_CLUSTER_LOG=debug (or info, warn) shows more of what the
	// worker does: its group's balancing, released partitions.
	level := slog.LevelError
	_ = level.UnmarshalText([]byte(os.Getenv("DISTSYNC_CLUSTER_LOG")))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("worker", wf.name)
	cfg.Log, cfg.State, cfg.Cursors, cfg.Dedupe, cfg.Logger = st.log, st.state, st.state, st.idem, logger
	var g *jetstream.Group
	cfg.NewConsumer = func(cc eventlog.ConsumerConfig) (flow.Consumer, error) {
		// The consumers find the appends of other processes (the feeds'
		// events another worker or the coordinator polled) at their next
		// poll of the log: poll it more often than the feeds.
		cc.PollInterval = consumerPoll
		g, err = st.log.NewGroup(jetstream.GroupConfig{Member: wf.name, LeaseTTL: leaseTTL, Renew: renew, Consumer: cc})
		return g, err
	}
	w := &worker{}
	go w.listen(os.Stdin)
	cfg.Middleware = w.track
	f, err := flow.New(cfg)
	if err != nil {
		return err
	}
	go func() { // tell the coordinator once this member owns partitions
		for ctx.Err() == nil {
			if len(g.Owned()) > 0 {
				w.report("R")
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	err = f.Run(ctx)
	if ctx.Err() != nil { // SIGTERM: a clean stop
		return nil
	}
	return err
}

// worker reports its handlings.
type worker struct {
	mu sync.Mutex
	// hold is set when the coordinator writes "hold" on the worker's
	// standard input: the next handling to finish its effects stops
	// before its acknowledgement, reports "H KEY ID" and waits there for
	// the SIGKILL the coordinator sends on reading it.
	hold atomic.Bool
}

// listen sets w.hold on each "hold" line of r, until r ends.
func (w *worker) listen(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == "hold" {
			w.hold.Store(true)
		}
	}
}

func (w *worker) report(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Printf(format+"\n", args...)
}

// track reports the start and the end of each handling with the event's
// partition key (its order), its ID and the time: "S KEY ID UNIXNANO",
// "E KEY ID UNIXNANO OUTCOME". A handling told to hold stops after its
// effects, before the event is acknowledged: the coordinator's SIGKILL
// then lands mid-handling, the case where the next owner must not apply
// the effects a second time.
func (w *worker) track(next eventlog.Handler) eventlog.Handler {
	return func(ctx context.Context, ev canonical.Event) error {
		key, id := strings.Join(strings.Fields(ev.Partition()), "_"), strings.Join(strings.Fields(ev.ID), "_")
		w.report("S %s %s %d", key, id, time.Now().UnixNano())
		err := next(ctx, ev)
		if w.hold.CompareAndSwap(true, false) {
			w.report("H %s %s", key, id)
			<-ctx.Done()
		}
		outcome := "ok"
		if err != nil {
			outcome = "failed"
		}
		w.report("E %s %s %d %s", key, id, time.Now().UnixNano(), outcome)
		return err
	}
}
