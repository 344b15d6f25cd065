package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// workerEnv makes the test binary a worker: the coordinator runs this
// binary again, as the example runs its own executable.
const workerEnv = "DISTSYNC_CLUSTER_TEST_WORKER=1"

func TestMain(m *testing.M) {
	if os.Getenv("DISTSYNC_CLUSTER_TEST_WORKER") == "1" {
		if err := workerMain(os.Args[1:]); err != nil && err != context.Canceled {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRun runs the example small: three worker processes running the
// order-to-cash flow over the emulators on a 3-node cluster, with HTTP
// faults, one worker SIGKILLed and one node shut down mid-run, both
// restarted; the systems agree and the cluster's checks pass.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and three processes")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	var out bytes.Buffer
	var st stats
	err = run(t.Context(), &out, config{orders: 4, faults: 0.05, seed: 1, timeout: 6 * time.Minute,
		chaos: true, nodeDown: true, exe: exe, env: []string{workerEnv}, stats: &st})
	require.NoError(t, err, "run:\n%s", out.String())
	s := out.String()
	assert.Contains(t, s, "SIGKILLed worker", "a worker was killed")
	assert.Contains(t, s, "shut down NATS node", "a node was shut down")
	assert.Contains(t, s, "all systems agree")
	assert.Contains(t, s, "the cluster agrees")
	assert.Equal(t, 10, st.orders, "6 scripted and 4 generated orders")
	t.Logf("\n%s", s)
}

// TestSIGKILL runs two workers and SIGKILLs one while it handles
// events: from the simulators' records behind the emulators, no order got
// a second ERP acceptance, WMS release, shipment posting or invoice, and
// no key was handled by both workers at once.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and two processes")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, seed := range []uint64{4} {
		var out bytes.Buffer
		var st stats
		err = run(t.Context(), &out, config{orders: 6, faults: 0.05, seed: seed, timeout: 3 * time.Minute,
			workers: 2, nodes: 1, chaos: true, exe: exe, env: []string{workerEnv}, stats: &st})
		require.NoError(t, err, "seed %d:\n%s", seed, out.String())
		l := st.ledger
		assert.Positive(t, st.killedInFlight, "seed %d: the worker was killed while it handled events:\n%s", seed, out.String())
		assert.Empty(t, l.problems, "seed %d", seed)
		assert.Equal(t, l.erpOrders, l.acceptances, "seed %d: one ERP acceptance per order", seed)
		assert.Equal(t, l.released, l.releases, "seed %d: one WMS release per fulfilment order", seed)
		assert.Equal(t, l.shipments, l.invoices, "seed %d: one posting and invoice per shipment", seed)
		assert.Zero(t, st.overlaps, "seed %d: no key handled by two workers at once", seed)
		assert.Positive(t, l.invoices, "seed %d: something was invoiced", seed)
		t.Logf("seed %d:\n%s", seed, out.String())
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-orders", "10", "-faults", "0.2"}, true},
		{[]string{"-orders", "0"}, true},
		{[]string{"-orders", "-1"}, false},
		{[]string{"-faults", "0.6"}, false},
		{[]string{"-faults", "-0.1"}, false},
		{[]string{"-nope"}, false},
		{[]string{"-workers", "1"}, false}, // chaos needs two
		{[]string{"-workers", "1", "-chaos=false", "-nodes", "1"}, true},
		{[]string{"-nodes", "2"}, false},
	}
	for _, tt := range tests {
		_, err := parse(tt.args, io.Discard)
		if tt.ok {
			assert.NoError(t, err, "parse %q", tt.args)
		} else {
			assert.Error(t, err, "parse %q", tt.args)
		}
	}
}

// TestReportFindsProblems feeds the coordinator handlings that overlap
// across workers, a killed worker's open handling and effects recorded
// twice: the report names each.
func TestReportFindsProblems(t *testing.T) {
	tests := []struct {
		name   string
		lines  [][2]string
		killed string // a worker killed at time 260
		ledger ledger
		want   string
	}{
		{name: "all well", lines: [][2]string{{"w1", "S O-1 e1 100"}, {"w1", "E O-1 e1 200 ok"}, {"w2", "S O-1 e2 300"}, {"w2", "E O-1 e2 400 ok"}}},
		{name: "overlap", lines: [][2]string{{"w1", "S O-1 e1 100"}, {"w2", "S O-1 e1 150"}, {"w1", "E O-1 e1 200 ok"}, {"w2", "E O-1 e1 250 ok"}},
			want: "key O-1 handled by w1 and w2 at once"},
		{name: "killed while the other starts", lines: [][2]string{{"w1", "S O-1 e1 100"}, {"w2", "S O-1 e1 250"}, {"w2", "E O-1 e1 300 ok"}},
			killed: "w1", want: "key O-1 handled by w1 and w2 at once"},
		{name: "killed before the other starts", lines: [][2]string{{"w1", "S O-1 e1 100"}, {"w2", "S O-1 e1 270"}, {"w2", "E O-1 e1 300 ok"}},
			killed: "w1"},
		{name: "same worker twice", lines: [][2]string{{"w1", "S O-1 e1 100"}, {"w1", "S O-1 e2 150"}, {"w1", "E O-1 e1 200 ok"}, {"w1", "E O-1 e2 250 ok"}}},
		{name: "recorded twice", ledger: ledger{problems: []string{"the ERP recorded 2 acceptances for 1 orders"}}, want: "2 acceptances"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		c := &coordinator{out: &out, open: map[string]handling{}, ready: map[string]bool{}}
		for _, l := range tt.lines {
			c.line(l[0], l[1])
		}
		if tt.killed != "" {
			c.closeOpen(tt.killed, 260)
		}
		st := stats{ledger: tt.ledger}
		problems := c.report(&st, nil)
		if tt.want == "" {
			assert.Empty(t, problems, "%s:\n%s", tt.name, out.String())
			continue
		}
		assert.Contains(t, fmt.Sprint(problems), tt.want, tt.name)
		assert.Contains(t, out.String(), tt.want, tt.name)
	}
}

// BenchmarkWorkers runs the order-to-cash script with 100 generated
// orders through 1, 2 and 3 worker processes on one NATS server (R1),
// without faults or kills, and reports orders per second (from the first
// drain to the settled end, as examples/ordertocash counts), events per
// order, bytes per event, and CPU per order in the workers and in the
// coordinator (the NATS server, the emulators and the script).
func BenchmarkWorkers(b *testing.B) {
	exe, err := os.Executable()
	require.NoError(b, err)
	for _, workers := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var sum stats
			n := 0
			for b.Loop() {
				var st stats
				var out bytes.Buffer
				err := run(context.Background(), &out, config{orders: 100, seed: 1, workers: workers, nodes: 1,
					exe: exe, env: []string{workerEnv}, stats: &st})
				require.NoError(b, err, "%s", out.String())
				sum.orders += st.orders
				sum.elapsed += st.elapsed
				sum.events += st.events
				sum.bytes += st.bytes
				sum.workerCPU += st.workerCPU
				sum.coordinatorCPU += st.coordinatorCPU
				n++
			}
			b.ReportMetric(sum.rate(), "orders/s")
			b.ReportMetric(float64(sum.events)/float64(sum.orders), "events/order")
			b.ReportMetric(float64(sum.bytes)/float64(sum.events), "B/event")
			b.ReportMetric(float64(sum.workerCPU.Microseconds())/float64(sum.orders), "worker-CPU-us/order")
			b.ReportMetric(float64(sum.coordinatorCPU.Microseconds())/float64(sum.orders), "coord-CPU-us/order")
		})
	}
}
