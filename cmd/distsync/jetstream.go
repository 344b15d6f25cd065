package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
)

// This file opens a flow's store on NATS JetStream (-db nats://...).

// jsNames names the stream and buckets of a JetStream store (-stream,
// -kv-prefix, -flow-bucket); empty names are the jetstream package's
// defaults.
type jsNames struct {
	stream, kvPrefix, flowBucket string
}

// isNATS reports whether dsn names a NATS server.
func isNATS(dsn string) bool {
	for _, p := range []string{"nats://", "tls://", "ws://", "wss://"} {
		if strings.HasPrefix(dsn, p) {
			return true
		}
	}
	return false
}

// openJetStream opens the event log and flow state a flow keeps on
// JetStream. jetstream.Open and NewFlowState create or update the stream
// and buckets with their Config; so that the CLI neither creates a store
// that is not there nor changes the limits of one that is, it first reads
// the stream's configuration and checks that the buckets exist, and opens
// with that configuration.
func (e *env) openJetStream(dsn string, n jsNames) error {
	if n.stream == "" {
		n.stream = jetstream.DefaultStream
	}
	if n.kvPrefix == "" {
		n.kvPrefix = jetstream.DefaultBucketPrefix
	}
	if n.flowBucket == "" {
		n.flowBucket = jetstream.DefaultFlowBucket
	}
	nc, err := nats.Connect(dsn, nats.Name("distsync cli"), nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	e.closers = append(e.closers, func() error { nc.Close(); return nil })
	js, err := natsjs.New(nc)
	if err != nil {
		return fmt.Errorf("%s: %w", redact(dsn), err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, n.stream)
	if err != nil {
		return fmt.Errorf("%s: stream %s (-stream): %w", redact(dsn), n.stream, err)
	}
	sc := st.CachedInfo().Config
	cfg := jetstream.Config{URL: dsn, Stream: n.stream, BucketPrefix: n.kvPrefix, Replicas: sc.Replicas,
		DuplicateWindow: sc.Duplicates, MaxAge: sc.MaxAge, MaxBytes: max(sc.MaxBytes, 0), MaxMsgs: max(sc.MaxMsgs, 0)}
	if len(sc.Subjects) == 1 && strings.HasSuffix(sc.Subjects[0], ".>") {
		cfg.Subject = strings.TrimSuffix(sc.Subjects[0], ".>")
	}
	for _, b := range []string{n.kvPrefix + "_groups", n.kvPrefix + "_deadletters"} {
		if _, err := js.KeyValue(ctx, b); err != nil {
			return fmt.Errorf("%s: bucket %s (-kv-prefix): %w", redact(dsn), b, err)
		}
	}
	fkv, err := js.KeyValue(ctx, n.flowBucket)
	if err != nil {
		return fmt.Errorf("%s: bucket %s (-flow-bucket): %w", redact(dsn), n.flowBucket, err)
	}
	fst, err := js.Stream(ctx, "KV_"+n.flowBucket)
	if err != nil {
		return fmt.Errorf("%s: bucket %s: %w", redact(dsn), n.flowBucket, err)
	}
	b, err := jetstream.Open(ctx, cfg)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, b.Close)
	fs, err := jetstream.NewFlowState(ctx, jetstream.FlowStateConfig{URL: dsn, Bucket: n.flowBucket, Replicas: max(fst.CachedInfo().Config.Replicas, 1)})
	if err != nil {
		return err
	}
	e.closers = append(e.closers, fs.Close)
	e.log = b
	e.state = jsState{FlowState: fs, kv: fkv}
	return nil
}

// jsState adds flow.StateLister to a jetstream.FlowState, which does not
// implement it: it lists the order keys of the bucket ("s_" and the order
// ID in unpadded base64url, the FlowState's layout), keeps those the
// FlowState loads, and takes a final order's save time from its key's
// revision.
type jsState struct {
	*jetstream.FlowState
	kv natsjs.KeyValue
}

var _ flow.StateLister = jsState{}

// ListOrders implements flow.StateLister.
func (s jsState) ListOrders(ctx context.Context, since time.Time) ([]string, error) {
	l, err := s.kv.ListKeys(ctx)
	if errors.Is(err, natsjs.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list orders of bucket %s: %w", s.kv.Bucket(), err)
	}
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	_ = l.Stop()
	var ids []string
	for _, k := range keys {
		if !strings.HasPrefix(k, "s_") {
			continue // a feed cursor
		}
		id, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(k, "s_"))
		if err != nil {
			continue
		}
		st, ok, err := s.LoadState(ctx, string(id))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if st.Final && !since.IsZero() {
			ent, err := s.kv.Get(ctx, k)
			if errors.Is(err, natsjs.ErrKeyNotFound) || errors.Is(err, natsjs.ErrKeyDeleted) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("list orders of bucket %s: %w", s.kv.Bucket(), err)
			}
			if ent.Created().Before(since) {
				continue
			}
		}
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	return ids, nil
}
