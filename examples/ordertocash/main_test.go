package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/examples/internal/o2c"
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
		{cfg: config{seed: 6, orders: 50}},
		// Two WMS: the own DC's and the 3PL's.
		{cfg: config{seed: 7, orders: 20, faults: 0.1, systems: 2}},
		{cfg: config{seed: 8, orders: 30, faults: 0.1, systems: 2, store: "sqlite:" + filepath.Join(dir, "c.db"), restarts: 5}, restarts: 5},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), &out, tt.cfg)
		require.NoError(t, err, "run %+v:\n%s", tt.cfg, out.String())
		assert.Contains(t, out.String(), "all systems agree", "run %+v", tt.cfg)
		assert.Contains(t, out.String(), "0 dead letters", "run %+v", tt.cfg)
		assert.Equal(t, tt.restarts, strings.Count(out.String(), "; reopened from "), "restarts of run %+v", tt.cfg)
		// The order cancelled in part: 8 of SKU-102 shipped, the 6
		// backordered SKU-105 cancelled in the ERP, the CRM and the WMS;
		// its heading says so beside its status.
		assert.Regexp(t, `ORD-000006 +accepted/shipped/invoiced +accepted/shipped/invoiced +accepted +L1:8/8 L2:0/0 +L2:6/6/6 +1 for 1 shipments +yes`,
			out.String(), "run %+v: the order cancelled in part in the table", tt.cfg)
		assert.Regexp(t, `== ORD-000006: .* accepted/shipped/invoiced; cancelled L2 6 of 6 EA\n`, out.String(),
			"run %+v: the heading of the order cancelled in part", tt.cfg)
		// Past 30 orders the table keeps the scenario's rows and sums up
		// the generated orders that agree, per status.
		// The orders changed after the ERP's decision: the increase
		// re-sourced to another warehouse, the reduction of a backorder
		// after a partial shipment, the reduction refused once picked;
		// the systems agree on each.
		// (With many generated orders the ERP can promise only part of
		// the increase: the rest is refused for stock.)
		assert.Regexp(t, `ORD-000007 +accepted/shipped/invoiced .* \d+ for \d+ shipments +yes`, out.String(), "run %+v: the increased order", tt.cfg)
		assert.Regexp(t, `fulfilment order ORD-000007-WH-[A-Z]+-v2 at WH-[A-Z]+( is held by WMS \w+)?\n`, out.String(), "run %+v: the increase in a fulfilment order of its own", tt.cfg)
		assert.Regexp(t, `CRM shows the change: L1 quantity (applied \+50 EA|partially_applied \+\d+ EA, not \+\d+ EA \(stock\))\n`, out.String(), "run %+v", tt.cfg)
		assert.Regexp(t, `ORD-000008 +accepted/shipped/invoiced .* L1:6/6 L2:3/3 +L2:5/5/5 +2 for 2 shipments +yes`, out.String(), "run %+v: the reduced order", tt.cfg)
		assert.Contains(t, out.String(), "CRM shows the change: L2 quantity applied -5 EA\n", "run %+v", tt.cfg)
		assert.Regexp(t, `ORD-000009 +accepted/shipped/invoiced .* L1:30/30 +- +1 for 1 shipments +yes`, out.String(), "run %+v: the refused change", tt.cfg)
		assert.Contains(t, out.String(), "CRM shows the change: L1 quantity refused, not -20 EA (picked)\n", "run %+v", tt.cfg)
		if n := 9 + tt.cfg.orders; n > o2c.MaxRows {
			assert.Regexp(t, `\n\d+ more from ORD-000010 +accepted/shipped/invoiced +accepted/shipped/invoiced +accepted +(-|in \d+ of them) +\d+ for \d+ shipments +yes\n`,
				out.String(), "run %+v: the summed-up rows", tt.cfg)
			assert.NotContains(t, out.String(), "\nORD-000020 ", "run %+v: a generated order that agrees has no row of its own", tt.cfg)
		}
		// The ERP outage: its calls fail, the flow parks the work for it
		// and says so in the summary.
		assert.Regexp(t, fmt.Sprintf(`ERP outage: its calls %d to %d failed unavailable \(%d calls\); the flow retried events .* and parked them [1-9]\d* times? \(`,
			outage.FromCall, outage.UntilCall-1, outage.UntilCall-outage.FromCall),
			out.String(), "run %+v: the outage in the summary", tt.cfg)
		assert.Contains(t, out.String(), "cancel request CCR-000001 from crm: cancelled L2 6 EA", "run %+v: the CRM's message", tt.cfg)
		if tt.cfg.systems == 2 {
			// The split order ships from both systems, each holding its
			// warehouse's fulfilment order and named in the timelines.
			assert.Contains(t, out.String(), "fulfilment order ORD-000002-WH-EAST at WH-EAST is held by WMS dc\n", "run %+v", tt.cfg)
			assert.Contains(t, out.String(), "fulfilment order ORD-000002-WH-WEST at WH-WEST is held by WMS 3pl\n", "run %+v", tt.cfg)
			// A generated order may take SKU-101 at WH-EAST between the
			// split order's inventory read and its release: WH-EAST then
			// backorders the rest and ships it once restocked, a third
			// shipment (more likely since a handler waiting for a retry
			// gives its worker's place to a spare).
			assert.Regexp(t, `ORD-000002 +accepted/shipped/invoiced .* L1:100/100 .* (2 for 2|3 for 3) shipments +yes`, out.String(), "run %+v", tt.cfg)
			assert.Regexp(t, `\n   wms-3pl +Release +`, out.String(), "run %+v: the 3PL's WMS in the timelines", tt.cfg)
		} else {
			assert.NotContains(t, out.String(), "is held by WMS", "run %+v: one WMS holds everything", tt.cfg)
		}
		if tt.cfg.orders > 0 && tt.cfg.store == "" {
			assert.Regexp(t, fmt.Sprintf(`Cancellations:%d[ }]`, 1+tt.cfg.orders/10), out.String(),
				"run %+v: every tenth generated order is cancelled in the ERP too", tt.cfg)
		}
	}
}

// TestOutageInTimelines checks that the scenario's timelines show the ERP
// outage (calls retried, failed and parked, then done once it is back),
// the held order's checks, and what the scenario did to its orders where
// it happened.
func TestOutageInTimelines(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, config{seed: 1}), "run:\n%s", out.String())
	blocks := map[string]string{}
	for b := range strings.SplitSeq(out.String(), "\n== ") {
		id, _, _ := strings.Cut(b, ":")
		blocks[id] = b
	}
	assert.Regexp(t, `erp +PostShipment +retry\(unavailable\)`, out.String(), "a shipment posting retried during the outage")
	assert.Regexp(t, `flow +handle fulfillment.shipped +parked\(`, out.String(), "a shipment parked during the outage")
	assert.Regexp(t, `\(the (2 lines|line) above: \d+ times in all\)`, out.String(), "rechecks of parked work folded")
	assert.NotContains(t, out.String(), "\n== after", "no narration away from its order")
	tests := []struct {
		order string
		want  []string // in this order in the order's timeline
	}{
		{"ORD-000004", []string{"handle order.held", "erp   GetOrder ", "--> ", "the credit controller releases the credit hold in the ERP",
			"erp   GetOrder ", "handle order.accepted"}},
		{"ORD-000006", []string{"handle fulfillment.shipped   ok", "--> ", "the customer cancels the open remainder in the CRM",
			"handle order.cancel_requested", "erp   CancelOrderLines"}},
		{"ORD-000003", []string{"handle fulfillment.backordered", "--> ", "stock arrives in WH-EAST for the backorder",
			"handle fulfillment.allocated"}},
	}
	for _, tt := range tests {
		b, ok := blocks[tt.order]
		require.True(t, ok, "timeline of %s in:\n%s", tt.order, out.String())
		rest := b
		for _, w := range tt.want {
			i := strings.Index(rest, w)
			require.GreaterOrEqual(t, i, 0, "%q after the previous steps in the timeline of %s:\n%s", w, tt.order, b)
			rest = rest[i+len(w):]
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
		{systems: 3},
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
			assert.Equal(t, "crm-evt-000013", rec["causation_id"], "causation_id of %q: the cancel request's event (after the 9 orders and 3 changes)", line)
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
