package tracing_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/tracectx"
	"github.com/distsync/distsync/tracing"
)

func TestContextIDs(t *testing.T) {
	ctx := context.Background()
	assert.Empty(t, tracing.CorrelationID(ctx), "no correlation ID")
	assert.Empty(t, tracing.CausationID(ctx), "no causation ID")
	_, ok := tracing.SpanContextFrom(ctx)
	assert.False(t, ok, "no span")

	ctx2, id := tracing.EnsureCorrelationID(ctx)
	_, err := uuid.Parse(id)
	require.NoError(t, err, "new correlation ID %q", id)
	assert.Equal(t, id, tracing.CorrelationID(ctx2), "ensured correlation ID")
	ctx3, id3 := tracing.EnsureCorrelationID(ctx2)
	assert.Equal(t, id, id3, "EnsureCorrelationID keeps an existing ID")
	assert.Equal(t, ctx2, ctx3, "EnsureCorrelationID keeps the context")
	assert.NotEqual(t, tracing.NewCorrelationID(), tracing.NewCorrelationID(), "NewCorrelationID is random")

	ctx = tracing.WithCausationID(tracing.WithCorrelationID(ctx, "order-42"), "evt-1")
	assert.Equal(t, "order-42", tracing.CorrelationID(ctx), "correlation ID")
	assert.Equal(t, "evt-1", tracing.CausationID(ctx), "causation ID")
	assert.Equal(t, "evt-2", tracing.CausationID(tracing.WithCausationID(ctx, "evt-2")), "causation ID replaced")

	_, ok = tracing.SpanContextFrom(tracing.WithSpanContext(ctx, tracing.SpanContext{}))
	assert.False(t, ok, "an invalid span is not reported")
}

func TestFields(t *testing.T) {
	sc, err := tracing.ParseTraceparent(specExample)
	require.NoError(t, err)
	sc.State, err = tracing.ParseTraceState("rojo=1")
	require.NoError(t, err)
	ctx := tracing.WithSpanContext(tracing.WithCausationID(tracing.WithCorrelationID(t.Context(), "order-42"), "evt-1"), sc)

	f := tracing.FieldsFrom(ctx)
	assert.Equal(t, tracing.Fields{CorrelationID: "order-42", CausationID: "evt-1", Traceparent: specExample, Tracestate: "rojo=1"}, f, "FieldsFrom")
	assert.Equal(t, f, tracing.FieldsFrom(f.Context(context.Background())), "Fields round trip")
	assert.Equal(t, tracing.Fields{}, tracing.FieldsFrom(context.Background()), "FieldsFrom an empty context")

	bad := tracing.Fields{CorrelationID: "order-42", Traceparent: "00-garbage", Tracestate: "rojo=1"}
	got := tracing.FieldsFrom(bad.Context(context.Background()))
	assert.Equal(t, tracing.Fields{CorrelationID: "order-42"}, got, "invalid traceparent dropped with its tracestate")
	bad = tracing.Fields{Traceparent: specExample, Tracestate: "BAD=1"}
	got = tracing.FieldsFrom(bad.Context(context.Background()))
	assert.Equal(t, tracing.Fields{Traceparent: specExample}, got, "invalid tracestate dropped")
}

// TestWithIDs checks that WithIDs is WithCorrelationID then
// WithCausationID in one step, keeping the span, and that it allocates as
// one of them does.
func TestWithIDs(t *testing.T) {
	sc, err := tracing.ParseTraceparent(specExample)
	require.NoError(t, err)
	base := tracing.WithSpanContext(tracing.WithCausationID(tracing.WithCorrelationID(t.Context(), "order-1"), "evt-0"), sc)
	for _, tc := range []struct {
		name, corr, cause string
	}{
		{"both", "order-42", "evt-1"},
		{"no correlation", "", "evt-1"},
		{"no causation", "order-42", ""},
		{"none", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tracing.FieldsFrom(tracing.WithCausationID(tracing.WithCorrelationID(base, tc.corr), tc.cause))
			got := tracing.WithIDs(base, tc.corr, tc.cause)
			assert.Equal(t, want, tracing.FieldsFrom(got), "fields")
			assert.Equal(t, tc.corr, tracing.CorrelationID(got), "correlation ID")
			assert.Equal(t, tc.cause, tracing.CausationID(got), "causation ID")
		})
	}
	ctx := t.Context()
	one := testing.AllocsPerRun(100, func() { _ = tracing.WithCausationID(ctx, "evt-1") })
	both := testing.AllocsPerRun(100, func() { _ = tracing.WithIDs(ctx, "order-42", "evt-1") })
	assert.Equal(t, one, both, "WithIDs allocates as WithCausationID alone")
}

// idsNode is a context node of another package of the module that carries
// tracing's IDs itself, as eventlog's handler context does.
type idsNode struct {
	context.Context
	ids tracectx.IDs
}

func (n *idsNode) Value(key any) any {
	if _, ok := key.(tracectx.Key); ok {
		return &n.ids
	}
	return n.Context.Value(key)
}

// TestTracectxIDs checks that a context node answering tracectx.Key with
// IDs reads as tracing.WithIDs on its parent: the IDs its own (an empty one
// absent), the span its parent's, and what is set on top of it wins.
func TestTracectxIDs(t *testing.T) {
	sc, err := tracing.ParseTraceparent(specExample)
	require.NoError(t, err)
	base := tracing.WithSpanContext(tracing.WithIDs(t.Context(), "order-1", "evt-0"), sc)
	for _, tc := range []struct {
		name, corr, cause string
	}{
		{"both", "order-42", "evt-1"},
		{"no correlation", "", "evt-1"},
		{"none", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tracing.WithIDs(base, tc.corr, tc.cause)
			got := &idsNode{Context: base, ids: tracectx.IDs{Correlation: tc.corr, Causation: tc.cause, Parent: base}}
			assert.Equal(t, tracing.FieldsFrom(want), tracing.FieldsFrom(got), "fields")
			assert.Equal(t, tc.corr, tracing.CorrelationID(got), "correlation ID")
			assert.Equal(t, tc.cause, tracing.CausationID(got), "causation ID")
			gotSC, ok := tracing.SpanContextFrom(got)
			assert.True(t, ok, "span inherited from the parent")
			assert.Equal(t, sc, gotSC, "span")
			over := tracing.WithCausationID(got, "evt-2")
			assert.Equal(t, "evt-2", tracing.CausationID(over), "causation ID set on top")
			assert.Equal(t, tc.corr, tracing.CorrelationID(over), "correlation ID under it")
		})
	}
}
