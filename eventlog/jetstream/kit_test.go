package jetstream_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

var storeN atomic.Int64

// newStorage returns an Opener of a fresh backend (its own stream and
// buckets) on srv.
func newStorage(srv *natstest.Server) func(t *testing.T) eventlogtest.Opener {
	return func(t *testing.T) eventlogtest.Opener {
		n := strconv.FormatInt(storeN.Add(1), 10)
		cfg := jetstream.Config{URL: srv.URL(), Stream: "EV" + n, Subject: "ev" + n, BucketPrefix: "b" + n}
		return func(t *testing.T) eventlog.Backend {
			b, err := jetstream.Open(t.Context(), cfg)
			require.NoError(t, err, "Open")
			t.Cleanup(func() { _ = b.Close() })
			return b
		}
	}
}

func TestConformance(t *testing.T) {
	srv := natstest.Start(t)
	eventlogtest.Run(t, newStorage(srv))
}
