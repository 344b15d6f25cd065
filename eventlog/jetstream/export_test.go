package jetstream

import (
	"context"
	"strings"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// TailCheck is how often a quiet partition's read probes the stream.
const TailCheck = tailCheck

// StreamLeader returns the name of the server leading the event stream,
// for tests that shut that server down.
func StreamLeader(ctx context.Context, b *Backend) (string, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.Cluster == nil {
		return "", nil
	}
	return info.Cluster.Leader, nil
}

// SetBeforeFencedWrite makes b run fn before each write it checks against
// an epoch (a cursor commit, a retry state, a dead letter's record), after
// it read the epoch: a test claims the group there.
func SetBeforeFencedWrite(b *Backend, fn func()) { b.beforeFencedWrite = fn }

// RecordWrites returns how many writes the dead letters bucket's stream
// holds on dead letter records (d.ID keys), deletes included.
func RecordWrites(ctx context.Context, b *Backend) (uint64, error) {
	info, err := b.deadStream.Info(ctx, natsjs.WithSubjectFilter("$KV."+b.cfg.BucketPrefix+"_deadletters.d.>"))
	if err != nil {
		return 0, err
	}
	var n uint64
	for subj, c := range info.State.Subjects {
		if strings.Contains(subj, ".d.") {
			n += c
		}
	}
	return n, nil
}

// Flush makes a round trip to the server on b's connection: every error
// the server sent b before is read when it returns.
func Flush(b *Backend) error { return b.nc.Flush() }
