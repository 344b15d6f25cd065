package jetstream

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Every request this package makes is bounded, whatever the caller's
// context: the client waits for an answer until its context is done, and
// an answer lost with a server that went down after taking the request
// would otherwise hold a caller whose context has a distant deadline (a
// batch job's hour, a test's minutes) until that deadline. The bound is
// per request: a caller making several gets requestTimeout for each.

// requestTimeout bounds one request to NATS.
const requestTimeout = 5 * time.Second

// listTimeout bounds a listing of keys, which streams the keys in many
// messages.
const listTimeout = time.Minute

// requestCtx returns ctx bounded by requestTimeout (or by ctx's own
// deadline when that is earlier).
func requestCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, requestTimeout)
}

// boundedKV is a key-value bucket whose requests are bounded by
// requestTimeout. Listings are bounded by their callers (listTimeout).
type boundedKV struct{ jetstream.KeyValue }

func (k boundedKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return k.KeyValue.Get(ctx, key)
}

func (k boundedKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return k.KeyValue.Put(ctx, key, value)
}

func (k boundedKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return k.KeyValue.Create(ctx, key, value, opts...)
}

func (k boundedKV) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return k.KeyValue.Update(ctx, key, value, revision)
}

func (k boundedKV) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return k.KeyValue.Delete(ctx, key, opts...)
}

// boundedStream is a stream whose requests are bounded by requestTimeout.
type boundedStream struct{ jetstream.Stream }

func (s boundedStream) Info(ctx context.Context, opts ...jetstream.StreamInfoOpt) (*jetstream.StreamInfo, error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return s.Stream.Info(ctx, opts...)
}

func (s boundedStream) GetMsg(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return s.Stream.GetMsg(ctx, seq, opts...)
}

func (s boundedStream) GetLastMsgForSubject(ctx context.Context, subject string) (*jetstream.RawStreamMsg, error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return s.Stream.GetLastMsgForSubject(ctx, subject)
}

func (s boundedStream) Purge(ctx context.Context, opts ...jetstream.StreamPurgeOpt) error {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	return s.Stream.Purge(ctx, opts...)
}
