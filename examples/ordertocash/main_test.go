package main

import (
	"bytes"
	"context"
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
