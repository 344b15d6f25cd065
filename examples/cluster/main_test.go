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

// TestRun runs the example small: three worker processes on a 3-node
// cluster, one worker SIGKILLed and one node shut down mid-run, both
// restarted; every order goes through its steps once, in order, one
// worker at a time.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and three processes")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, seed := range []uint64{1, 2} {
		var out bytes.Buffer
		err := run(t.Context(), &out, config{orders: 8, faults: 0.1, seed: seed, timeout: 2 * time.Minute,
			chaos: true, work: 5 * time.Millisecond, exe: exe, env: []string{workerEnv}})
		require.NoError(t, err, "run with seed %d:\n%s", seed, out.String())
		s := out.String()
		assert.Contains(t, s, "SIGKILLed worker", "seed %d: a worker was killed", seed)
		assert.Contains(t, s, "shut down NATS node", "seed %d: a node was shut down", seed)
		assert.Contains(t, s, "orders through all 5 steps:        8 of 8", "seed %d", seed)
		assert.Contains(t, s, "all orders agree", "seed %d", seed)
		t.Logf("seed %d:\n%s", seed, s)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-orders", "10", "-faults", "0.2"}, true},
		{[]string{"-orders", "0"}, false},
		{[]string{"-faults", "1"}, false},
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
// across workers, a step applied twice and an incomplete order: the
// report says so and fails.
func TestReportFindsProblems(t *testing.T) {
	tests := []struct {
		name  string
		lines [][2]string
		recs  map[string]orderRec
		want  string
	}{
		{"all well", [][2]string{{"w1", "S SO-1 1 100"}, {"w1", "E SO-1 1 200 applied"}, {"w2", "S SO-1 2 300"}, {"w2", "E SO-1 2 400 applied"}},
			map[string]orderRec{"SO-1": {Step: 5, Applied: []string{"w1", "w2", "w1", "w1", "w1"}}}, ""},
		{"overlap", [][2]string{{"w1", "S SO-1 1 100"}, {"w2", "S SO-1 1 150"}, {"w1", "E SO-1 1 200 applied"}, {"w2", "E SO-1 1 250 duplicate"}},
			map[string]orderRec{"SO-1": {Step: 5, Applied: []string{"w1", "w1", "w1", "w1", "w1"}}}, "handled by w1 and w2 at once"},
		{"applied twice", nil, map[string]orderRec{"SO-1": {Step: 5, Applied: []string{"w1", "w1", "w1", "w1", "w1", "w2"}}}, "6 effects for 5 steps"},
		{"incomplete", nil, map[string]orderRec{"SO-1": {Step: 4, Applied: []string{"w1", "w1", "w1", "w1"}}}, "0 of 1"},
		{"worker violation", [][2]string{{"w1", "X order SO-1: step 3 handled before step 2"}},
			map[string]orderRec{"SO-1": {Step: 5, Applied: []string{"w1", "w1", "w1", "w1", "w1"}}}, "step 3 handled before step 2"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		c := &coordinator{cfg: config{orders: 1}, out: &out, open: map[string]handling{}, ready: map[string]bool{}}
		for _, l := range tt.lines {
			c.line(l[0], l[1])
		}
		err := c.report(tt.recs)
		if tt.want == "" {
			assert.NoError(t, err, "%s:\n%s", tt.name, out.String())
			continue
		}
		assert.Error(t, err, "%s:\n%s", tt.name, out.String())
		assert.Contains(t, out.String(), tt.want, tt.name)
	}
}

// BenchmarkWorkers runs 300 orders through their five steps with 1, 2
// and 3 worker processes on one NATS server (R1), without faults or
// work in the handler, and reports orders per second from the first
// append to the last effect (the cluster's and processes' start is not
// counted).
func BenchmarkWorkers(b *testing.B) {
	exe, err := os.Executable()
	require.NoError(b, err)
	for _, workers := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var sum float64
			n := 0
			for b.Loop() {
				var rate float64
				var out bytes.Buffer
				err := run(context.Background(), &out, config{orders: 300, seed: 1, workers: workers, nodes: 1,
					exe: exe, env: []string{workerEnv}, rate: &rate})
				require.NoError(b, err, "%s", out.String())
				sum += rate
				n++
			}
			b.ReportMetric(sum/float64(n), "orders/s")
		})
	}
}
