package jetstream_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/natstest"
)

// TestRequestsBoundedWhenServerGone calls the backend and the KV stores
// with a context whose deadline is an hour away while the server is down:
// the client holds each request for a reconnection that does not come,
// and an answer never arrives. Every call must fail within the package's
// per-request bound, not wait for the caller's deadline (a coordinator's
// WaitIdle once hung for its whole run this way after a node restart).
func TestRequestsBoundedWhenServerGone(t *testing.T) {
	srv := natstest.Start(t)
	b, _ := openFresh(t, srv)
	n := strconv.FormatInt(storeN.Add(1), 10)
	st, err := jetstream.NewFlowState(t.Context(), jetstream.FlowStateConfig{URL: srv.URL(), Bucket: "fs" + n})
	require.NoError(t, err, "NewFlowState")
	t.Cleanup(func() { _ = st.Close() })
	idem, err := jetstream.NewIdempotencyStore(t.Context(), jetstream.IdempotencyConfig{URL: srv.URL(), Bucket: "idem" + n})
	require.NoError(t, err, "NewIdempotencyStore")
	t.Cleanup(func() { _ = idem.Close() })
	srv.Shutdown()

	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"Group", func(ctx context.Context) error { _, err := b.Group(ctx, "g"); return err }},
		{"Claim", func(ctx context.Context) error { _, err := b.Claim(ctx, "g"); return err }},
		{"Read", func(ctx context.Context) error { _, err := b.Read(ctx, 0, 10); return err }},
		{"Get dead letter", func(ctx context.Context) error { _, err := b.Get(ctx, 1); return err }},
		{"List dead letters", func(ctx context.Context) error { _, err := b.List(ctx, eventlog.Filter{}); return err }},
		{"LoadState", func(ctx context.Context) error { _, _, err := st.LoadState(ctx, "O-1"); return err }},
		{"Load cursor", func(ctx context.Context) error { _, err := st.Load(ctx, "crm.orders"); return err }},
		{"idempotency Claim", func(ctx context.Context) error {
			_, err := idem.Claim(ctx, idempotency.Derive("t", "op", "1"), idempotency.Fingerprint{}, time.Minute)
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.call(ctx) }()
			select {
			case err := <-done:
				require.Error(t, err, "the server is down")
				require.NoError(t, ctx.Err(), "the call failed on its own bound, not the caller's deadline")
			case <-time.After(time.Minute): // a guard far beyond the bound, not a measure
				t.Fatalf("%s still waits for an answer a minute after the server went down", c.name)
			}
		})
	}
}
