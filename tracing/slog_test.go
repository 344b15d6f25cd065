package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
)

func TestHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return tracing.NewHandler(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m), "log line %s", buf.String())
		return m
	})
}

func TestHandlerAddsIDs(t *testing.T) {
	sc, err := tracing.ParseTraceparent(specExample)
	require.NoError(t, err)
	full := tracing.WithSpanContext(tracing.WithCausationID(tracing.WithCorrelationID(context.Background(), "order-42"), "evt-7"), sc)
	tests := []struct {
		name string
		ctx  context.Context
		want map[string]any
	}{
		{"nothing in the context", context.Background(), map[string]any{}},
		{"correlation only", tracing.WithCorrelationID(context.Background(), "order-42"), map[string]any{"correlation_id": "order-42"}},
		{"everything", full, map[string]any{"correlation_id": "order-42", "causation_id": "evt-7", "trace_id": specTraceID, "span_id": specParentID}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		logger := slog.New(tracing.NewHandler(slog.NewJSONHandler(&buf, nil)))
		logger.InfoContext(tt.ctx, "hello", "a", 1, "b", 2, "c", 3, "d", 4)
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m), "log line for %s", tt.name)
		for _, k := range []string{tracing.KeyCorrelationID, tracing.KeyCausationID, tracing.KeyTraceID, tracing.KeySpanID} {
			assert.Equal(t, tt.want[k], m[k], "%s for %s", k, tt.name)
		}
		assert.EqualValues(t, 4, m["d"], "record attributes kept for %s", tt.name)
	}
}

func TestHandlerGroupsAndLevels(t *testing.T) {
	var buf bytes.Buffer
	h := tracing.NewHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := tracing.WithCorrelationID(context.Background(), "order-42")

	assert.False(t, h.Enabled(ctx, slog.LevelInfo), "Enabled delegates: info below warn")
	assert.True(t, h.Enabled(ctx, slog.LevelError), "Enabled delegates: error")
	assert.Same(t, h, h.WithGroup(""), "WithGroup(\"\") returns the handler")
	assert.Same(t, h, h.WithAttrs(nil), "WithAttrs(nil) returns the handler")

	logger := slog.New(h).With("service", "erp").WithGroup("req")
	logger.WarnContext(ctx, "slow", "ms", 900)
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m), "log line %s", buf.String())
	assert.Equal(t, "erp", m["service"], "WithAttrs reaches the wrapped handler")
	group, ok := m["req"].(map[string]any)
	require.True(t, ok, "group req in %s", buf.String())
	assert.Equal(t, "order-42", group["correlation_id"], "IDs land in the open group, like other record attributes")

	// The original handler is unchanged by With and WithGroup.
	buf.Reset()
	slog.New(h).WarnContext(ctx, "plain")
	m = nil
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m), "log line %s", buf.String())
	assert.Equal(t, "order-42", m["correlation_id"], "top-level correlation_id")
	assert.NotContains(t, m, "service", "WithAttrs returned a copy")

	assert.NotPanics(t, func() {
		slog.New(tracing.NewHandler(nil)).InfoContext(ctx, "discarded")
	}, "nil handler discards")
}
