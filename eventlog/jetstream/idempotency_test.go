package jetstream_test

import (
	"strconv"
	"testing"

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
