package jetstream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/idempotency"
)

// DefaultIdempotencyBucket is the bucket of an [IdempotencyStore] when
// IdempotencyConfig.Bucket is empty.
const DefaultIdempotencyBucket = "distsync_idempotency"

// IdempotencyConfig configures an [IdempotencyStore]. The zero value is
// valid apart from URL. It is a plain value, safe for concurrent reads.
type IdempotencyConfig struct {
	// URL is the NATS server URL. Required.
	URL string
	// Bucket is the key-value bucket of the records. Empty means
	// [DefaultIdempotencyBucket].
	Bucket string
	// Replicas is the bucket's replication factor. Zero means 1.
	Replicas int
	// Retention is how long a record is kept after its last change. Zero
	// means idempotency.DefaultRetention.
	Retention time.Duration
	// Now is the clock of leases and retention. Nil means time.Now.
	Now func() time.Time
}

// Validate reports a configuration error, matching
// idempotency.ErrInvalidConfig.
func (c IdempotencyConfig) Validate() error {
	switch {
	case c.URL == "":
		return fmt.Errorf("jetstream: IdempotencyConfig.URL is empty: %w", idempotency.ErrInvalidConfig)
	case c.Bucket != "" && !nameRE.MatchString(c.Bucket):
		return fmt.Errorf("jetstream: IdempotencyConfig.Bucket %q is not a bucket name: %w", c.Bucket, idempotency.ErrInvalidConfig)
	case c.Replicas < 0 || c.Replicas > 5:
		return fmt.Errorf("jetstream: IdempotencyConfig.Replicas %d is not within 0..5: %w", c.Replicas, idempotency.ErrInvalidConfig)
	case c.Retention < 0:
		return fmt.Errorf("jetstream: IdempotencyConfig.Retention %v is negative: %w", c.Retention, idempotency.ErrInvalidConfig)
	}
	return nil
}

// IdempotencyStore is an [idempotency.Store] on a JetStream key-value
// bucket, shared by every process using the bucket. A record is one key;
// every change is a write conditional on the key's revision, and a lease's
// token is the revision of the write that claimed the key, so a holder
// whose lease was taken over (the key rewritten since) can neither
// complete nor release it. Each write carries a per-key TTL of the
// record's remaining retention, so the server deletes expired records by
// itself; Reap deletes them at once. Expiry is also checked on every read,
// by the configured clock.
//
// Create it with [NewIdempotencyStore] and end it with Close. The zero
// value is not usable. It is safe for concurrent use.
type IdempotencyStore struct {
	nc        *nats.Conn
	kv        *casKV
	retention time.Duration
	now       func() time.Time
}

var (
	_ idempotency.Store  = (*IdempotencyStore)(nil)
	_ idempotency.Looker = (*IdempotencyStore)(nil)
	_ idempotency.Reaper = (*IdempotencyStore)(nil)
)

// NewIdempotencyStore connects to NATS and creates or updates the bucket.
func NewIdempotencyStore(ctx context.Context, cfg IdempotencyConfig) (*IdempotencyStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultIdempotencyBucket
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Retention == 0 {
		cfg.Retention = idempotency.DefaultRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	nc, err := nats.Connect(cfg.URL, nats.Name("distsync idempotency"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("jetstream: connect to %s: %w", cfg.URL, err)
	}
	js, err := natsjs.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	kv, err := openCASKV(ctx, js, cfg.Bucket, cfg.Replicas, false)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &IdempotencyStore{nc: nc, kv: kv, retention: cfg.Retention, now: cfg.Now}, nil
}

// Close closes the connection to NATS.
func (s *IdempotencyStore) Close() error {
	s.nc.Close()
	return nil
}

// idemRec is the stored form of a record.
type idemRec struct {
	Fingerprint idempotency.Fingerprint `json:"fp"`
	Completed   bool                    `json:"completed,omitempty"`
	Failed      bool                    `json:"failed,omitempty"`
	LeaseEnd    int64                   `json:"lease_end,omitempty"` // unix ns
	Expires     int64                   `json:"expires"`             // unix ns
	Data        []byte                  `json:"data,omitempty"`
}

func idemKey(k idempotency.Key) string {
	return "i_" + base64.RawURLEncoding.EncodeToString([]byte(k.String()))
}

// read returns the live record of k (nil when absent or expired at now)
// and the revision a write must name.
func (s *IdempotencyStore) read(ctx context.Context, k idempotency.Key, now int64) (*idemRec, uint64, error) {
	v, rev, err := s.kv.get(ctx, idemKey(k))
	if err != nil || v == nil {
		return nil, rev, err
	}
	var r idemRec
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, rev, fmt.Errorf("jetstream: idempotency record %q: %w", k, err)
	}
	if r.Expires <= now {
		return nil, rev, nil
	}
	return &r, rev, nil
}

func (s *IdempotencyStore) write(ctx context.Context, k idempotency.Key, r *idemRec, rev uint64, now int64) (uint64, error) {
	v, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("jetstream: encode idempotency record %q: %w", k, err)
	}
	return s.kv.put(ctx, idemKey(k), v, rev, time.Duration(r.Expires-now))
}

// Claim implements [idempotency.Store.Claim].
func (s *IdempotencyStore) Claim(ctx context.Context, key idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	if err := ctx.Err(); err != nil {
		return idempotency.Claim{}, context.Cause(ctx)
	}
	if key.IsZero() {
		return idempotency.Claim{}, &idempotency.KeyError{Input: "", Offset: -1, Reason: "zero Key"}
	}
	if lease <= 0 {
		return idempotency.Claim{}, fmt.Errorf("jetstream: claim %q: lease %v is not positive: %w", key, lease, idempotency.ErrInvalidConfig)
	}
	for {
		now := s.now().UnixNano()
		r, rev, err := s.read(ctx, key, now)
		if err != nil {
			return idempotency.Claim{}, err
		}
		if r != nil {
			switch {
			case r.Fingerprint != fp:
				return idempotency.Claim{Status: idempotency.Mismatch, Fingerprint: r.Fingerprint}, nil
			case r.Completed:
				return idempotency.Claim{Status: idempotency.Completed, Result: idempotency.Result{Data: r.Data, Failed: r.Failed}}, nil
			case r.LeaseEnd > now:
				return idempotency.Claim{Status: idempotency.InProgress, RetryAfter: time.Duration(r.LeaseEnd - now)}, nil
			}
		}
		end := now + int64(lease)
		nr := &idemRec{Fingerprint: fp, LeaseEnd: end, Expires: max(end, now+int64(s.retention))}
		token, err := s.write(ctx, key, nr, rev, now)
		if errors.Is(err, errConflict) {
			continue // another claim came first: look again
		}
		if err != nil {
			return idempotency.Claim{}, err
		}
		return idempotency.Claim{Status: idempotency.Claimed, Lease: idempotency.Lease{Key: key, Token: token, Expires: time.Unix(0, end)}}, nil
	}
}

func leaseLost(l idempotency.Lease) error {
	return fmt.Errorf("jetstream: key %q, token %d: %w", l.Key, l.Token, idempotency.ErrLeaseLost)
}

// held returns the record l holds: the key's revision is still the token.
func (s *IdempotencyStore) held(ctx context.Context, l idempotency.Lease) (*idemRec, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	if l.Key.IsZero() || l.Token == 0 {
		return nil, fmt.Errorf("jetstream: zero lease (key %q, token %d): %w", l.Key, l.Token, idempotency.ErrLeaseLost)
	}
	v, rev, err := s.kv.get(ctx, idemKey(l.Key))
	if err != nil {
		return nil, err
	}
	if v == nil || rev != l.Token {
		return nil, leaseLost(l)
	}
	var r idemRec
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("jetstream: idempotency record %q: %w", l.Key, err)
	}
	if r.Completed {
		return nil, leaseLost(l)
	}
	return &r, nil
}

// Complete implements [idempotency.Store.Complete].
func (s *IdempotencyStore) Complete(ctx context.Context, l idempotency.Lease, result idempotency.Result) error {
	r, err := s.held(ctx, l)
	if err != nil {
		return err
	}
	now := s.now().UnixNano()
	r.Completed, r.Failed, r.Data, r.LeaseEnd = true, result.Failed, result.Data, 0
	r.Expires = now + int64(s.retention)
	_, err = s.write(ctx, l.Key, r, l.Token, now)
	if errors.Is(err, errConflict) {
		return leaseLost(l)
	}
	return err
}

// Release implements [idempotency.Store.Release].
func (s *IdempotencyStore) Release(ctx context.Context, l idempotency.Lease) error {
	if _, err := s.held(ctx, l); err != nil {
		return err
	}
	err := s.kv.del(ctx, idemKey(l.Key), l.Token)
	if errors.Is(err, errConflict) {
		return leaseLost(l)
	}
	return err
}

// Lookup implements [idempotency.Looker].
func (s *IdempotencyStore) Lookup(ctx context.Context, key idempotency.Key) (idempotency.Record, error) {
	if err := ctx.Err(); err != nil {
		return idempotency.Record{}, context.Cause(ctx)
	}
	r, rev, err := s.read(ctx, key, s.now().UnixNano())
	if err != nil {
		return idempotency.Record{}, err
	}
	if r == nil {
		return idempotency.Record{}, fmt.Errorf("jetstream: key %q: %w", key, idempotency.ErrNotFound)
	}
	rec := idempotency.Record{Key: key, Fingerprint: r.Fingerprint, Status: idempotency.Claimed, Token: rev,
		Expires: time.Unix(0, r.Expires), Result: idempotency.Result{Data: r.Data, Failed: r.Failed}}
	if r.Completed {
		rec.Status = idempotency.Completed
	} else {
		rec.LeaseExpires = time.Unix(0, r.LeaseEnd)
	}
	return rec, nil
}

// Reap implements [idempotency.Reaper]: it deletes the records whose
// retention has passed by the store's clock (the server deletes them by
// itself when their TTL ends).
func (s *IdempotencyStore) Reap(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	keys, err := s.kv.keys(ctx, ">")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		if !strings.HasPrefix(k, "i_") {
			continue
		}
		v, rev, err := s.kv.get(ctx, k)
		if err != nil {
			return n, err
		}
		if v == nil {
			continue
		}
		var r idemRec
		if json.Unmarshal(v, &r) == nil && r.Expires > s.now().UnixNano() {
			continue
		}
		switch err := s.kv.del(ctx, k, rev); {
		case err == nil:
			n++
		case !errors.Is(err, errConflict):
			return n, err
		}
	}
	return n, nil
}
