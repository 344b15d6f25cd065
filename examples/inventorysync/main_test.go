package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/flow"
)

func TestRun(t *testing.T) {
	tests := []config{
		{seed: 1},
		{seed: 2, faults: 0.2},
		{seed: 2, faults: 0.5}, // opened breakers: this seed took 60 s with the default OpenTimeout
	}
	for _, cfg := range tests {
		var out bytes.Buffer
		err := run(context.Background(), &out, cfg)
		require.NoError(t, err, "run %+v:\n%s", cfg, out.String())
		assert.Contains(t, out.String(), "all systems agree", "run %+v", cfg)
		assert.Contains(t, out.String(), "0 dead letters", "run %+v", cfg)
		// The burst ends at sequence 4 with 47 on hand, the stale snapshot
		// leaves the damage in place.
		assert.Regexp(t, `SKU-101 +WH-WEST +47 +47 +4 +47 +47 +4 +ok`, out.String(), "burst row of run %+v", cfg)
		assert.Regexp(t, `SKU-102 +WH-SOUTH +220 +220 +2 +220 +220 +2 +ok`, out.String(), "stale snapshot row of run %+v", cfg)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, cfg := range []config{{faults: 0.9}, {faults: -0.1}} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), &out, cfg), "run %+v", cfg)
	}
}

// TestTableDisagrees checks that the comparison sees a CRM that shows
// something else than the WMS.
func TestTableDisagrees(t *testing.T) {
	ctx := context.Background()
	w, err := newWorld(config{seed: 1})
	require.NoError(t, err, "newWorld")
	w.clk.advance(time.Minute)
	require.NoError(t, w.adjust(ctx, "ADJ-1", "SKU-100", "WH-EAST", "5", canonical.AdjustFound), "adjust")
	require.NoError(t, w.flow.Drain(ctx), "Drain")
	rows, err := w.table(ctx)
	require.NoError(t, err, "table")
	require.Len(t, rows, 1, "rows after one adjustment")
	require.True(t, rows[0].agree(), "row after the flow: %+v", rows[0])
	require.NoError(t, w.crm.PublishAvailability(ctx, []connector.Availability{{SKU: "SKU-100", Location: "WH-EAST",
		Available: canonical.MustParseQuantity("1", "EA"), Sequence: 9 * flow.AvailabilityStride}}), "PublishAvailability")
	rows, err = w.table(ctx)
	require.NoError(t, err, "table")
	assert.False(t, rows[0].agree(), "row after the CRM was changed behind the flow's back: %+v", rows[0])
}

// TestHelp checks that -h starts with one line saying what the program
// does, then lists the flags.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp, "-h")
	first, rest, _ := strings.Cut(out.String(), "\n")
	assert.Equal(t, summary, first, "first line of -h")
	assert.True(t, strings.HasPrefix(first, "inventorysync syncs "), "first line of -h says what the program does: %q", first)
	assert.Contains(t, rest, "-seed", "-h lists the flags")
	out.Reset()
	_, err = parseFlags([]string{"-nosuchflag"}, &out)
	require.Error(t, err, "an unknown flag")
	assert.True(t, strings.HasPrefix(out.String(), "flag provided but not defined"), "an unknown flag is named first:\n%s", out.String())
}
