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
		{n: 40, seed: 1},
		{n: 40, seed: 2, faults: 0.3},
		{n: 40, seed: 3, faults: 0.05},
	}
	for _, cfg := range tests {
		var out bytes.Buffer
		rep, err := run(context.Background(), &out, cfg)
		require.NoError(t, err, "run %+v:\n%s", cfg, out.String())
		assert.Contains(t, out.String(), "every genuine message is in the log, once", "run %+v", cfg)
		assert.Zero(t, rep.missing, "run %+v", cfg)
		assert.Zero(t, rep.duplicated, "run %+v", cfg)
		assert.Equal(t, rep.genuine, rep.appended, "one event per genuine message, run %+v", cfg)
		assert.Equal(t, rep.genuine, rep.accepted, "each genuine message accepted once, run %+v", cfg)
		assert.Positive(t, rep.replayed, "duplicates acknowledged, run %+v", cfg)
		assert.Positive(t, rep.badSignature, "forgeries refused, run %+v", cfg)
		assert.Positive(t, rep.tooOld, "late and replayed requests refused, run %+v", cfg)
		if cfg.faults >= 0.3 {
			assert.Positive(t, rep.unavailable, "log failures answered 503, run %+v", cfg)
		}
	}
}

func TestRunBadConfig(t *testing.T) {
	for _, cfg := range []config{{n: 0}, {n: 5, faults: 1}, {n: 5, faults: -0.1}} {
		var out bytes.Buffer
		_, err := run(context.Background(), &out, cfg)
		assert.Error(t, err, "run %+v", cfg)
	}
}
