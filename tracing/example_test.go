package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/distsync/distsync/tracing"
)

func ExampleWithCorrelationID() {
	ctx := tracing.WithCorrelationID(context.Background(), "order-42")
	ctx = tracing.WithCausationID(ctx, "evt-7")

	fmt.Println(tracing.CorrelationID(ctx), tracing.CausationID(ctx))

	// A flow that may start without one gets a fresh UUID.
	ctx, id := tracing.EnsureCorrelationID(ctx)
	fmt.Println(id == tracing.CorrelationID(ctx), id)
	// Output:
	// order-42 evt-7
	// true order-42
}

func ExampleNewHandler() {
	// Drop the time so the output is stable.
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(tracing.NewHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime})))

	sc, _ := tracing.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx := tracing.WithSpanContext(context.Background(), sc)
	ctx = tracing.WithCorrelationID(ctx, "order-42")

	logger.InfoContext(ctx, "order accepted", "erp_order", "SO-1001")
	// Output:
	// {"level":"INFO","msg":"order accepted","erp_order":"SO-1001","correlation_id":"order-42","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}
}

func ExampleParseTraceparent() {
	for _, v := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-05-future-field",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
	} {
		sc, err := tracing.ParseTraceparent(v)
		if err != nil {
			fmt.Println(errors.Is(err, tracing.ErrInvalidTraceparent), err)
			continue
		}
		fmt.Println(sc.Traceparent(), sc.Flags.Sampled())
	}
	// Output:
	// 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 true
	// 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-05 true
	// true tracing: invalid traceparent at offset 3: trace-id must be 32 lowercase hex digits
}

func ExampleParseTraceState() {
	// Two tracestate header lines are one list.
	ts, err := tracing.ParseTraceState("rojo=00f067aa0ba902b7", " congo=t61rcWkgMzE ")
	if err != nil {
		fmt.Println(err)
		return
	}
	ts, _ = ts.Insert("congo", "ucfJifl5GOE")
	fmt.Println(ts)

	// Multi-tenant keys are keys like any other; of a duplicated key the
	// first (left-most) member is kept.
	ts, _ = tracing.ParseTraceState("tenant@rojo=1,7congo=2,tenant@rojo=3")
	fmt.Println(ts)

	_, err = tracing.ParseTraceState("rojo=1,Congo=2")
	fmt.Println(err)
	// Output:
	// congo=ucfJifl5GOE,rojo=00f067aa0ba902b7
	// tenant@rojo=1,7congo=2
	// tracing: invalid tracestate at offset 7: key must start with a lowercase letter or a digit
}

func ExampleMemoryRecorder() {
	rec, _ := tracing.NewMemoryRecorder(tracing.MemoryConfig{MaxFlows: 1000})
	// A fixed clock advancing 40ms per reading keeps the output stable.
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	timer := tracing.Timer{Recorder: rec, Now: func() time.Time { now = now.Add(40 * time.Millisecond); return now }}
	ctx := tracing.WithCorrelationID(context.Background(), "order-42")

	_ = timer.Time(ctx, tracing.Step{System: "erp", Operation: "validate_order", Attempt: 1}, func(context.Context) error { return nil })
	_ = timer.Time(ctx, tracing.Step{System: "wms", Operation: "release", Attempt: 1, Outcome: tracing.OutcomeRetry},
		func(context.Context) error { return context.DeadlineExceeded })
	_ = timer.Time(ctx, tracing.Step{System: "wms", Operation: "release", Attempt: 2}, func(context.Context) error { return nil })

	for _, s := range rec.Timeline("order-42") {
		fmt.Println(s)
	}
	// Output:
	// 09:00:00.040 erp validate_order attempt 1: ok, 40ms
	// 09:00:00.120 wms release attempt 1: retry (deadline_exceeded), 40ms
	// 09:00:00.200 wms release attempt 2: ok, 40ms
}

func ExampleStep_String() {
	s := tracing.Step{
		CorrelationID: "order-42",
		System:        "erp",
		Operation:     "accept_order",
		Start:         time.Date(2026, 11, 27, 9, 0, 1, 250_000_000, time.UTC),
		Duration:      1500 * time.Millisecond,
		Attempt:       2,
		Outcome:       tracing.OutcomeFailed,
		ErrorClass:    "unavailable",
	}
	fmt.Println(s)
	fmt.Println(tracing.Step{System: "wms", Operation: "release", Attempt: 1, Outcome: tracing.OutcomeOK, Duration: 1725598 * time.Nanosecond})
	// Output:
	// 09:00:01.250 erp accept_order attempt 2: failed (unavailable), 1.5s
	// wms release attempt 1: ok, 1.726ms
}

// A call to a third party's API sends only the W3C Trace Context, and the
// caller learns the client span's ID, which the third party received as
// parent-id, to log it.
func ExampleTransport() {
	// The third party's server.
	var parentID string
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ := tracing.ParseTraceparent(r.Header.Get("Traceparent"))
		parentID = sc.SpanID.String()
		fmt.Printf("vendor got X-Correlation-ID %q\n", r.Header.Get("X-Correlation-ID"))
	}))
	defer vendor.Close()

	var sent tracing.SpanContext
	client := &http.Client{Transport: &tracing.Transport{
		Base:       vendor.Client().Transport,
		Propagator: tracing.Propagator{TraceContextOnly: true},
		// OnSend sees every call, those that fail without a response too.
		// Logging with req.Context() through tracing.NewHandler adds the
		// client span's span_id.
		OnSend: func(req *http.Request) { sent, _ = tracing.SpanContextFrom(req.Context()) },
	}}

	ctx := tracing.WithCorrelationID(context.Background(), "order-42")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, vendor.URL+"/orders", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()

	// The request that was sent carries the client span in its context.
	span, _ := tracing.SpanContextFrom(resp.Request.Context())
	fmt.Println("vendor's parent-id is our client span:", parentID == span.SpanID.String(), span.SpanID == sent.SpanID)
	fmt.Println("still our flow:", tracing.CorrelationID(resp.Request.Context()))
	// Output:
	// vendor got X-Correlation-ID ""
	// vendor's parent-id is our client span: true true
	// still our flow: order-42
}

// An order-intake endpoint behind Propagator.Middleware: its handler's
// context carries the caller's correlation ID and trace, with a server span
// of its own, and the response names the correlation ID.
func ExamplePropagator_Middleware() {
	intake := tracing.Propagator{}.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ := tracing.SpanContextFrom(r.Context())
		fmt.Println("handler: correlation", tracing.CorrelationID(r.Context()), "trace", sc.TraceID)
		fmt.Println("handler: a server span of its own:", sc.SpanID.String() != "00f067aa0ba902b7")
		w.WriteHeader(http.StatusAccepted)
	}))
	srv := httptest.NewServer(intake)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/orders", nil)
	req.Header.Set("X-Correlation-ID", "order-42")
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("client:", resp.StatusCode, resp.Header.Get("X-Correlation-ID"))
	// Output:
	// handler: correlation order-42 trace 4bf92f3577b34da6a3ce929d0e0e4736
	// handler: a server span of its own: true
	// client: 202 order-42
}
