package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	tests := []config{
		{seed: 1},
		{seed: 2, orders: 20},
		{seed: 3, orders: 20, faults: 0.2},
	}
	for _, cfg := range tests {
		var out bytes.Buffer
		err := run(context.Background(), &out, cfg)
		require.NoError(t, err, "run %+v:\n%s", cfg, out.String())
		assert.Contains(t, out.String(), "all systems agree", "run %+v", cfg)
		assert.Contains(t, out.String(), "0 dead letters", "run %+v", cfg)
		// The order cancelled in part: 8 of SKU-102 shipped, the 6
		// backordered SKU-105 cancelled in the ERP, the CRM and the WMS.
		assert.Regexp(t, `ORD-000006 +accepted/shipped/invoiced +accepted/shipped/invoiced +accepted +L1:8/8 L2:0/0 +L2:6/6/6 +1 for 1 shipments +yes`,
			out.String(), "run %+v: the order cancelled in part in the table", cfg)
		assert.Contains(t, out.String(), "cancel request CCR-000001 from crm: cancelled L2 6 EA", "run %+v: the CRM's message", cfg)
		if cfg.orders > 0 {
			assert.Contains(t, out.String(), "Cancellations:3}", "run %+v: two generated orders are cancelled in the ERP too", cfg)
		}
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, cfg := range []config{{faults: 0.9}, {orders: -1}} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), &out, cfg), "run %+v", cfg)
	}
}
