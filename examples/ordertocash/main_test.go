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
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, cfg := range []config{{faults: 0.9}, {orders: -1}} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), &out, cfg), "run %+v", cfg)
	}
}
