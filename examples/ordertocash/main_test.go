package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		cfg      config
		restarts int
	}{
		{cfg: config{seed: 1}},
		{cfg: config{seed: 2, orders: 20}},
		{cfg: config{seed: 3, orders: 20, faults: 0.2}},
		{cfg: config{seed: 4, orders: 20, store: "sqlite:" + filepath.Join(dir, "a.db")}},
		{cfg: config{seed: 5, orders: 30, faults: 0.1, store: "sqlite:" + filepath.Join(dir, "b.db"), restarts: 8}, restarts: 8},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), &out, tt.cfg)
		require.NoError(t, err, "run %+v:\n%s", tt.cfg, out.String())
		assert.Contains(t, out.String(), "all systems agree", "run %+v", tt.cfg)
		assert.Contains(t, out.String(), "0 dead letters", "run %+v", tt.cfg)
		assert.Equal(t, tt.restarts, strings.Count(out.String(), "; reopened from "), "restarts of run %+v", tt.cfg)
		// The order cancelled in part: 8 of SKU-102 shipped, the 6
		// backordered SKU-105 cancelled in the ERP, the CRM and the WMS.
		// (The table lists the orders of runs of at most 30 orders.)
		if tt.cfg.orders <= 24 {
			assert.Regexp(t, `ORD-000006 +accepted/shipped/invoiced +accepted/shipped/invoiced +accepted +L1:8/8 L2:0/0 +L2:6/6/6 +1 for 1 shipments +yes`,
				out.String(), "run %+v: the order cancelled in part in the table", tt.cfg)
		}
		assert.Contains(t, out.String(), "cancel request CCR-000001 from crm: cancelled L2 6 EA", "run %+v: the CRM's message", tt.cfg)
		if tt.cfg.orders > 0 && tt.cfg.store == "" {
			assert.Contains(t, out.String(), "Cancellations:3}", "run %+v: two generated orders are cancelled in the ERP too", tt.cfg)
		}
	}
}

func TestRunBadFlags(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "exists.db")
	require.NoError(t, os.WriteFile(existing, nil, 0o600), "create %s", existing)
	for _, cfg := range []config{
		{faults: 0.9},
		{orders: -1},
		{store: "postgres:x"},
		{store: "sqlite:"},
		{restarts: 2},
		{store: "sqlite:" + filepath.Join(t.TempDir(), "c.db"), restarts: -1},
		{store: "sqlite:" + existing},
	} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), &out, cfg), "run %+v", cfg)
	}
}

// TestLogsCarryCorrelation runs the scenario with the flow's log records
// captured (the -v flag): a record logged while an event is handled
// carries the order's correlation ID and the event's ID as causation ID.
func TestLogsCarryCorrelation(t *testing.T) {
	var out, logs bytes.Buffer
	require.NoError(t, run(context.Background(), &out, config{seed: 1, logs: &logs}), "run:\n%s", out.String())
	var found bool
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "log line %q is JSON", line)
		if rec["msg"] == "flow: cancel request honoured" {
			found = true
			assert.NotEmpty(t, rec["correlation_id"], "correlation_id of %q", line)
			assert.Equal(t, "crm-evt-000007", rec["causation_id"], "causation_id of %q: the cancel request's event", line)
			assert.Equal(t, "ORD-000006", rec["order"], "order of %q", line)
		}
	}
	assert.True(t, found, "the cancellation is logged:\n%s", logs.String())
}

// TestHelp checks that -h starts with one line saying what the program
// does, then lists the flags.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp, "-h")
	first, rest, _ := strings.Cut(out.String(), "\n")
	assert.Equal(t, summary, first, "first line of -h")
	assert.True(t, strings.HasPrefix(first, "ordertocash runs "), "first line of -h says what the program does: %q", first)
	assert.Contains(t, rest, "-seed", "-h lists the flags")
	out.Reset()
	_, err = parseFlags([]string{"-nosuchflag"}, &out)
	require.Error(t, err, "an unknown flag")
	assert.True(t, strings.HasPrefix(out.String(), "flag provided but not defined"), "an unknown flag is named first:\n%s", out.String())
}
