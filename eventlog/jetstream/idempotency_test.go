package jetstream_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
	"github.com/distsync/distsync/internal/natstest"
)

func TestIdempotencyConformance(t *testing.T) {
	srv := natstest.Start(t)
	idempotencytest.Run(t, func(t *testing.T, cfg idempotencytest.Config) idempotency.Store {
		s, err := jetstream.NewIdempotencyStore(t.Context(), jetstream.IdempotencyConfig{URL: srv.URL(),
			Bucket: "idem" + strconv.FormatInt(storeN.Add(1), 10), Retention: cfg.Retention, Now: cfg.Now})
		require.NoError(t, err, "NewIdempotencyStore")
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestIdempotencyServerTTL checks that the server deletes a record by
// itself once its retention (the per-key TTL) has passed: a completed key
// with a one-second retention can be claimed anew without a Reap.
func TestIdempotencyServerTTL(t *testing.T) {
	srv := natstest.Start(t)
	ctx := t.Context()
	s, err := jetstream.NewIdempotencyStore(ctx, jetstream.IdempotencyConfig{URL: srv.URL(), Bucket: "ttl", Retention: time.Second})
	require.NoError(t, err, "NewIdempotencyStore")
	defer s.Close()
	k := idempotency.Derive("ttl-test", "k")
	fp := idempotency.FingerprintBytes([]byte("req"))
	c, err := s.Claim(ctx, k, fp, time.Second)
	require.NoError(t, err, "Claim")
	require.NoError(t, s.Complete(ctx, c.Lease, idempotency.Result{Data: []byte("ok")}), "Complete")
	// The server-side expiry: a second-granular TTL (plus a second of
	// margin), so the record is gone within a few seconds.
	require.Eventually(t, func() bool {
		keys, err := natsKeys(ctx, srv.URL(), "ttl")
		return err == nil && len(keys) == 0
	}, 10*time.Second, 50*time.Millisecond, "the server deletes the record after its TTL")
}

// natsKeys lists the live keys of bucket with a client of its own.
func natsKeys(ctx context.Context, url, bucket string) ([]string, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, err
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, natsjs.ErrNoKeysFound) {
		return nil, nil
	}
	return keys, err
}
