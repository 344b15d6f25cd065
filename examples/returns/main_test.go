package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"

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
		{seed: 3, faults: 0.5},
	}
	for _, cfg := range tests {
		var out bytes.Buffer
		err := run(context.Background(), &out, cfg)
		require.NoError(t, err, "run %+v:\n%s", cfg, out.String())
		s := out.String()
		assert.Contains(t, s, "all systems agree", "run %+v", cfg)
		assert.Contains(t, s, "\n0 dead letters", "run %+v", cfg)
		// One credit memo for both lines at the ERP's prices, with the
		// Illinois sales tax of the order.
		assert.Regexp(t, `R1 +L1 +SKU-100 +4 EA +12.50 USD +50.00 USD`, s, "credit memo line 1 of run %+v", cfg)
		assert.Regexp(t, `R2 +L2 +SKU-104 +5 EA +3.10 USD +15.50 USD`, s, "credit memo line 2 of run %+v", cfg)
		assert.Regexp(t, `total +69.59 USD`, s, "credit memo total of run %+v", cfg)
		// The restocked line is back in every system, the scrapped one
		// changes nothing.
		assert.Regexp(t, `SKU-100 +restock +110 +114 +110 +114 +110 +114 +ok`, s, "restocked row of run %+v", cfg)
		assert.Regexp(t, `SKU-104 +scrap +280 +280 +280 +280 +280 +280 +ok`, s, "scrapped row of run %+v", cfg)
		assert.Contains(t, s, "CRM shows order ORD-000001: accepted/shipped/credited", "CRM status of run %+v", cfg)
		assert.Contains(t, s, "line L1: ordered 10 EA, shipped 10 EA, returned 4 EA", "CRM line of run %+v", cfg)
		assert.Contains(t, s, "return RMA-000001 (RET-000001): credited CM-000001 69.59 USD", "CRM credit of run %+v", cfg)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, cfg := range []config{{faults: 0.9}, {faults: -0.1}} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), &out, cfg), "run %+v", cfg)
	}
}

// TestReportDisagrees checks that the report sees a CRM changed behind
// the flow's back.
func TestReportDisagrees(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, w *world, sc scene)
		want   string
	}{
		{name: "returned quantity", tamper: func(t *testing.T, w *world, sc scene) {
			shown, ok := w.crm.ShownStatus(sc.orderID)
			require.True(t, ok, "ShownStatus")
			shown.Sequence += 100
			shown.Lines[0].Returned = canonical.MustParseQuantity("1", "EA")
			require.NoError(t, w.crm.PublishStatus(context.Background(), shown), "PublishStatus")
		}, want: "returned of line L1: CRM 1 EA"},
		{name: "credit", tamper: func(t *testing.T, w *world, sc scene) {
			shown, ok := w.crm.ShownStatus(sc.orderID)
			require.True(t, ok, "ShownStatus")
			shown.Sequence += 100
			shown.Returns[0].Credits = nil
			require.NoError(t, w.crm.PublishStatus(context.Background(), shown), "PublishStatus")
		}, want: "the CRM shows 0 credits of RET-000001, the ERP has 1"},
		{name: "availability", tamper: func(t *testing.T, w *world, sc scene) {
			require.NoError(t, w.crm.PublishAvailability(context.Background(), []connector.Availability{{SKU: "SKU-104", Location: sc.wh,
				Available: canonical.MustParseQuantity("1", "EA"), Sequence: 1000 * flow.AvailabilityStride}}), "PublishAvailability")
		}, want: "stock of SKU-104"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w, err := newWorld(config{seed: 1})
			require.NoError(t, err, "newWorld")
			var out bytes.Buffer
			sc, err := play(ctx, &out, w)
			require.NoError(t, err, "play:\n%s", out.String())
			tt.tamper(t, w, sc)
			err = report(ctx, &out, w, sc)
			require.ErrorIs(t, err, errDisagree, "report after %s changed:\n%s", tt.name, out.String())
			assert.Contains(t, err.Error(), tt.want, "report after %s changed", tt.name)
		})
	}
}

// TestHelp checks that -h starts with one line saying what the program
// does, then lists the flags.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp, "-h")
	first, rest, _ := strings.Cut(out.String(), "\n")
	assert.Equal(t, summary, first, "first line of -h")
	assert.True(t, strings.HasPrefix(first, "returns runs "), "first line of -h says what the program does: %q", first)
	assert.Contains(t, rest, "-seed", "-h lists the flags")
	out.Reset()
	_, err = parseFlags([]string{"-nosuchflag"}, &out)
	require.Error(t, err, "an unknown flag")
	assert.True(t, strings.HasPrefix(out.String(), "flag provided but not defined"), "an unknown flag is named first:\n%s", out.String())
}
