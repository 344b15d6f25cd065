package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/distsync/distsync/tracing"
)

func BenchmarkTraceparent(b *testing.B) {
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tracing.ParseTraceparent(specExample); err != nil {
				b.Fatal(err)
			}
		}
	})
	sc, err := tracing.ParseTraceparent(specExample)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("format", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = sc.Traceparent()
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64)
		for b.Loop() {
			buf = sc.AppendTraceparent(buf[:0])
		}
	})
	b.Run("parse+format", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sc, err := tracing.ParseTraceparent(specExample)
			if err != nil {
				b.Fatal(err)
			}
			_ = sc.Traceparent()
		}
	})
}

func BenchmarkParseTraceState(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tracing.ParseTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInjectExtract(b *testing.B) {
	sc, err := tracing.ParseTraceparent(specExample)
	if err != nil {
		b.Fatal(err)
	}
	ctx := tracing.WithSpanContext(context.Background(), sc)
	ctx = tracing.WithCorrelationID(ctx, "order-42")
	ctx = tracing.WithCausationID(ctx, "evt-7")
	var p tracing.Propagator
	b.Run("without-tracestate", func(b *testing.B) {
		b.ReportAllocs()
		h := http.Header{}
		for b.Loop() {
			p.Inject(ctx, h)
			_ = p.Extract(context.Background(), h)
		}
	})
	sc.State, err = tracing.ParseTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	if err != nil {
		b.Fatal(err)
	}
	ctx = tracing.WithSpanContext(ctx, sc)
	b.Run("with-tracestate", func(b *testing.B) {
		b.ReportAllocs()
		h := http.Header{}
		for b.Loop() {
			p.Inject(ctx, h)
			_ = p.Extract(context.Background(), h)
		}
	})
}

func BenchmarkHandler(b *testing.B) {
	sc, err := tracing.ParseTraceparent(specExample)
	if err != nil {
		b.Fatal(err)
	}
	ctx := tracing.WithSpanContext(context.Background(), sc)
	ctx = tracing.WithCorrelationID(ctx, "0b5ee1b4-4cb2-4a64-9d4e-4f0e2c0a5b61")
	ctx = tracing.WithCausationID(ctx, "evt-7")
	bare := slog.NewJSONHandler(io.Discard, nil)
	// bare-same-output logs the four IDs by hand: the same output as
	// wrapped, so the difference is the wrapper's own cost.
	b.Run("bare-same-output", func(b *testing.B) {
		logger := slog.New(bare)
		traceID, spanID := sc.TraceID.String(), sc.SpanID.String()
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(ctx, "order accepted", "erp_order", "SO-1001", "lines", 3, "total", "120.50",
				tracing.KeyCorrelationID, "0b5ee1b4-4cb2-4a64-9d4e-4f0e2c0a5b61", tracing.KeyCausationID, "evt-7",
				tracing.KeyTraceID, traceID, tracing.KeySpanID, spanID)
		}
	})
	// wrapped-no-ids logs with a context carrying no IDs: the wrapper's
	// cost when it has nothing to add.
	b.Run("wrapped-no-ids", func(b *testing.B) {
		logger := slog.New(tracing.NewHandler(bare))
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(context.Background(), "order accepted", "erp_order", "SO-1001", "lines", 3, "total", "120.50")
		}
	})
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"bare", bare},
		{"wrapped", tracing.NewHandler(bare)},
	} {
		logger := slog.New(bc.h)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				logger.InfoContext(ctx, "order accepted", "erp_order", "SO-1001", "lines", 3, "total", "120.50")
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					logger.InfoContext(ctx, "order accepted", "erp_order", "SO-1001", "lines", 3, "total", "120.50")
				}
			})
		})
	}
}

func BenchmarkMemoryRecorder(b *testing.B) {
	rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{MaxFlows: 1000, MaxSteps: 100})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = tracing.NewCorrelationID()
	}
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			rec.Record(context.Background(), tracing.Step{CorrelationID: ids[i%len(ids)], System: "erp", Operation: "accept_order", Start: start, Attempt: 1, Outcome: tracing.OutcomeOK})
		}
	})
}
