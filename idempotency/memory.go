package idempotency

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryConfig configures a [MemoryStore]. The zero value is valid and gives
// the documented defaults. Now is called concurrently and must be safe for
// concurrent use.
type MemoryConfig struct {
	// Retention is how long a record is kept after it was claimed or
	// completed. Zero means [DefaultRetention].
	Retention time.Duration
	// ReapInterval is how often the reaper goroutine deletes expired
	// records. Zero means one minute; a negative value disables the
	// reaper (expired records still count as absent, and Reap deletes
	// them on demand).
	ReapInterval time.Duration
	// Shards is the number of independently locked shards, rounded up to a
	// power of two. Zero means 64.
	Shards int
	// Now returns the current time. Nil means [time.Now]. Tests inject a
	// manual clock to exercise leases and retention without sleeping.
	Now func() time.Time
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c MemoryConfig) Validate() error {
	switch {
	case c.Retention < 0:
		return fmt.Errorf("idempotency: MemoryConfig.Retention %v is negative: %w", c.Retention, ErrInvalidConfig)
	case c.Shards < 0 || c.Shards > 1<<16:
		return fmt.Errorf("idempotency: MemoryConfig.Shards %d is outside 0..65536: %w", c.Shards, ErrInvalidConfig)
	}
	return nil
}

// MemoryStore is a [Store] held in process memory, sharded by key. It suits
// a single process and tests; its records are lost when the process ends.
//
// A MemoryStore is safe for concurrent use. Create it with
// [NewMemoryStore] (the zero value is not usable: it has no shards) and
// call [MemoryStore.Close] to stop its reaper goroutine.
type MemoryStore struct {
	shards    []memShard
	mask      uint64
	seed      maphash.Seed
	retention time.Duration
	now       func() time.Time
	token     atomic.Uint64
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var (
	_ Store  = (*MemoryStore)(nil)
	_ Looker = (*MemoryStore)(nil)
	_ Reaper = (*MemoryStore)(nil)
)

type memShard struct {
	mu sync.Mutex
	m  map[Key]*memRecord
	_  [48]byte // keep shards on separate cache lines
}

type memRecord struct {
	fp        Fingerprint
	completed bool
	failed    bool
	token     uint64
	leaseEnd  int64 // unix nanoseconds
	expires   int64 // unix nanoseconds
	data      []byte
}

// NewMemoryStore returns a MemoryStore configured by cfg and starts its
// reaper goroutine (unless disabled). The error matches [ErrInvalidConfig].
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := 64
	if cfg.Shards > 0 {
		n = 1
		for n < cfg.Shards {
			n <<= 1
		}
	}
	s := &MemoryStore{
		shards:    make([]memShard, n),
		mask:      uint64(n - 1),
		seed:      maphash.MakeSeed(),
		retention: cfg.Retention,
		now:       cfg.Now,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if s.retention == 0 {
		s.retention = DefaultRetention
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].m = make(map[Key]*memRecord)
	}
	interval := cfg.ReapInterval
	if interval == 0 {
		interval = time.Minute
	}
	if interval < 0 {
		close(s.done)
		return s, nil
	}
	go s.reapLoop(interval)
	return s, nil
}

func (s *MemoryStore) reapLoop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.reap()
		}
	}
}

// Close stops the reaper goroutine and waits for it to end. The store stays
// usable. Close is idempotent and always returns nil.
func (s *MemoryStore) Close() error {
	s.closeOnce.Do(func() {
		select {
		case <-s.done: // reaper disabled
		default:
			close(s.stop)
		}
	})
	<-s.done
	return nil
}

func (s *MemoryStore) shard(k Key) *memShard {
	return &s.shards[maphash.String(s.seed, k.s)&s.mask]
}

// Claim implements [Store.Claim].
func (s *MemoryStore) Claim(ctx context.Context, key Key, fp Fingerprint, lease time.Duration) (Claim, error) {
	if err := checkClaim(ctx, key, lease); err != nil {
		return Claim{}, err
	}
	now := s.now().UnixNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec, ok := sh.m[key]
	if ok && rec.expires > now {
		switch {
		case rec.fp != fp:
			return Claim{Status: Mismatch}, nil
		case rec.completed:
			return Claim{Status: Completed, Result: Result{Data: clone(rec.data), Failed: rec.failed}}, nil
		case rec.leaseEnd > now:
			return Claim{Status: InProgress, RetryAfter: time.Duration(rec.leaseEnd - now)}, nil
		}
		// In progress with an expired lease and the same fingerprint:
		// take it over below.
	}
	if !ok {
		rec = new(memRecord)
		sh.m[key] = rec
	}
	// A new record, or one that expired or was abandoned: (re)initialise it
	// in place.
	end := now + int64(lease)
	*rec = memRecord{
		fp:       fp,
		token:    s.token.Add(1),
		leaseEnd: end,
		expires:  max(end, now+int64(s.retention)),
	}
	return Claim{Status: Claimed, Lease: Lease{Key: key, Token: rec.token, Expires: time.Unix(0, end)}}, nil
}

// Complete implements [Store.Complete]. It stores a copy of result.Data.
func (s *MemoryStore) Complete(ctx context.Context, l Lease, result Result) error {
	if err := checkLease(ctx, l); err != nil {
		return err
	}
	now := s.now().UnixNano()
	data := clone(result.Data)
	sh := s.shard(l.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec, ok := sh.m[l.Key]
	if !ok || rec.completed || rec.token != l.Token {
		return leaseLost(l)
	}
	rec.completed = true
	rec.failed = result.Failed
	rec.data = data
	rec.leaseEnd = 0
	rec.expires = now + int64(s.retention)
	return nil
}

// Release implements [Store.Release].
func (s *MemoryStore) Release(ctx context.Context, l Lease) error {
	if err := checkLease(ctx, l); err != nil {
		return err
	}
	sh := s.shard(l.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec, ok := sh.m[l.Key]
	if !ok || rec.completed || rec.token != l.Token {
		return leaseLost(l)
	}
	delete(sh.m, l.Key)
	return nil
}

// nonBlocking marks s as a store whose calls never wait.
func (s *MemoryStore) nonBlocking() {}

// Lookup implements [Looker.Lookup].
func (s *MemoryStore) Lookup(ctx context.Context, key Key) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, context.Cause(ctx)
	}
	now := s.now().UnixNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec, ok := sh.m[key]
	if !ok || rec.expires <= now {
		return Record{}, fmt.Errorf("idempotency: lookup %q: %w", key.s, ErrNotFound)
	}
	r := Record{
		Key:         key,
		Fingerprint: rec.fp,
		Status:      Claimed,
		Token:       rec.token,
		Expires:     time.Unix(0, rec.expires),
	}
	if rec.completed {
		r.Status = Completed
		r.Result = Result{Data: clone(rec.data), Failed: rec.failed}
	} else {
		r.LeaseExpires = time.Unix(0, rec.leaseEnd)
	}
	return r, nil
}

// Reap implements [Reaper.Reap]: it deletes every record whose retention has
// passed. The reaper goroutine calls it every ReapInterval.
func (s *MemoryStore) Reap(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	return s.reap(), nil
}

func (s *MemoryStore) reap() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		now := s.now().UnixNano()
		sh.mu.Lock()
		for k, rec := range sh.m {
			if rec.expires <= now {
				delete(sh.m, k)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// Len returns the number of records held, expired or not.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// clone copies b, returning nil for an empty b.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
