package tracing_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/tracing/tracingtest"
)

func TestMemoryRecorderConformance(t *testing.T) {
	tracingtest.Run(t, func(t *testing.T) tracingtest.Recorder {
		rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{MaxFlows: 16, MaxSteps: 64})
		require.NoError(t, err)
		return tracingtest.Recorder{Recorder: rec, Read: func(_ context.Context, id string) ([]tracing.Step, error) { return rec.Timeline(id), nil }}
	})
}
