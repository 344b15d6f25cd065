package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// casKV is a key-value bucket written only with revision-checked writes,
// optionally with a per-key TTL. It reads the bucket's stream directly so
// that a deleted or expired key's revision is known too (a write after it
// must name it). It is safe for concurrent use.
type casKV struct {
	js     natsjs.JetStream
	stream natsjs.Stream
	kv     natsjs.KeyValue
	prefix string // $KV.BUCKET.
}

// openCASKV creates or updates bucket, with per-key TTLs allowed; or,
// when existing is set, opens it as it is (a [*NotFoundError] when it is
// not there).
func openCASKV(ctx context.Context, js natsjs.JetStream, bucket string, replicas int, existing bool) (*casKV, error) {
	kv, err := openKV(ctx, js, natsjs.KeyValueConfig{
		Bucket: bucket, Storage: natsjs.FileStorage, Replicas: replicas, History: 1, LimitMarkerTTL: time.Second}, existing)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream of bucket %s: %w", bucket, err)
	}
	return &casKV{js: js, stream: boundedStream{st}, kv: kv, prefix: "$KV." + bucket + "."}, nil
}

// openKV creates or updates the bucket of cfg, or, when existing is set,
// opens it without changing its configuration.
func openKV(ctx context.Context, js natsjs.JetStream, cfg natsjs.KeyValueConfig, existing bool) (natsjs.KeyValue, error) {
	if existing {
		kv, err := js.KeyValue(ctx, cfg.Bucket)
		if errors.Is(err, natsjs.ErrBucketNotFound) {
			return nil, &NotFoundError{Kind: "bucket", Name: cfg.Bucket, Err: err}
		}
		if err != nil {
			return nil, fmt.Errorf("jetstream: bucket %s: %w", cfg.Bucket, err)
		}
		return boundedKV{kv}, nil
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("jetstream: bucket %s: %w", cfg.Bucket, err)
	}
	return boundedKV{kv}, nil
}

// NotFoundError is the error of [Open] and [NewFlowState] with Existing
// set when the stream or a bucket they would open is not there. It wraps
// the client's error (jetstream.ErrStreamNotFound or ErrBucketNotFound).
// The zero value is not meaningful; it is a plain value, safe for
// concurrent reads.
type NotFoundError struct {
	// Kind is "stream" or "bucket".
	Kind string
	// Name is the name of the stream or bucket.
	Name string
	// Err is the client's error.
	Err error
}

// Error names the stream or bucket that is not there.
func (e *NotFoundError) Error() string {
	return "jetstream: " + e.Kind + " " + e.Name + " does not exist (opened with Existing): " + e.Err.Error()
}

// Unwrap returns Err.
func (e *NotFoundError) Unwrap() error { return e.Err }

// get returns the value of key and the revision a write must name: value
// nil and rev 0 for a key never written, value nil and the marker's
// revision for a deleted or expired one.
func (c *casKV) get(ctx context.Context, key string) (value []byte, rev uint64, err error) {
	m, err := c.stream.GetLastMsgForSubject(ctx, c.prefix+key)
	if errors.Is(err, natsjs.ErrMsgNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("jetstream: read key %s: %w", key, err)
	}
	if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" || m.Header.Get("Nats-Marker-Reason") != "" {
		return nil, m.Sequence, nil
	}
	if m.Data == nil {
		m.Data = []byte{}
	}
	return m.Data, m.Sequence, nil
}

// put writes value to key if its revision is still rev (0: never
// written), with a TTL when ttl > 0 (at least a second), and returns the
// new revision; errConflict when another write came first.
func (c *casKV) put(ctx context.Context, key string, value []byte, rev uint64, ttl time.Duration) (uint64, error) {
	m := &nats.Msg{Subject: c.prefix + key, Header: nats.Header{}, Data: value}
	opts := []natsjs.PublishOpt{natsjs.WithExpectLastSequencePerSubject(rev)}
	if ttl > 0 {
		opts = append(opts, natsjs.WithMsgTTL(max(ttl, time.Second).Round(time.Second)+time.Second))
	}
	rctx, cancel := requestCtx(ctx)
	defer cancel()
	ack, err := c.js.PublishMsg(rctx, m, opts...)
	if err != nil {
		if isWrongLast(err) {
			return 0, errConflict
		}
		return 0, fmt.Errorf("jetstream: write key %s: %w", key, err)
	}
	return ack.Sequence, nil
}

// del deletes key if its revision is still rev.
func (c *casKV) del(ctx context.Context, key string, rev uint64) error {
	err := c.kv.Delete(ctx, key, natsjs.LastRevision(rev))
	if casConflict(err) || isWrongLast(err) {
		return errConflict
	}
	if err != nil {
		return fmt.Errorf("jetstream: delete key %s: %w", key, err)
	}
	return nil
}

// keys returns the keys of the bucket matching filter.
func (c *casKV) keys(ctx context.Context, filter string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	l, err := c.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		if errors.Is(err, natsjs.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("jetstream: list keys: %w", err)
	}
	var out []string
	for k := range l.Keys() {
		out = append(out, k)
	}
	_ = l.Stop()
	if err := ctx.Err(); err != nil { // the listing ended early: not every key came
		return nil, fmt.Errorf("jetstream: list keys: %w", context.Cause(ctx))
	}
	return out, nil
}

// errConflict is returned by casKV writes that another write overtook.
var errConflict = errors.New("jetstream: revision changed")

func isWrongLast(err error) bool {
	var apiErr *natsjs.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequenceConstant)
}
