package idempotency

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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
	// MaxKeys is the most records the store holds, completed or in flight.
	// When it is reached, a Claim of a new key first deletes the records
	// whose retention has passed (at most once a second) and, if that
	// frees no room, fails with an error matching [ErrStoreFull]. A
	// record whose retention has not passed is never evicted to make
	// room: a completed operation is not forgotten (and so run twice) and
	// an in-flight claim is not lost. Claims of keys the store already
	// holds, Complete and Release always work. Zero means
	// [DefaultMaxKeys]; a negative value means no limit.
	MaxKeys int
	// MaxBytes bounds the bytes of keys and stored results the store
	// holds, checked as MaxKeys is when a new key is claimed. Complete
	// always stores the result of a claim the store granted (its effect
	// happened), so the total can pass MaxBytes by the results of the
	// claims in flight. Zero means [DefaultMaxBytes]; a negative value
	// means no limit.
	MaxBytes int64
	// Shards is the number of independently locked shards, rounded up to a
	// power of two. Zero means 64.
	Shards int
	// Now returns the current time. Nil means the wall time at the
	// store's creation plus the monotonic time elapsed since: leases and
	// retention measure elapsed time, unaffected by steps of the wall
	// clock, and each reading costs one clock read where [time.Now] makes
	// two. Tests inject a manual clock to exercise leases and retention
	// without sleeping.
	Now func() time.Time
}

// DefaultMaxKeys is MemoryConfig.MaxKeys when it is zero: one million
// records.
const DefaultMaxKeys = 1_000_000

// DefaultMaxBytes is MemoryConfig.MaxBytes when it is zero: 256 MiB of keys
// and stored results.
const DefaultMaxBytes = 256 << 20

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
// Its memory is bounded by MemoryConfig.MaxKeys and MaxBytes: when full, a
// claim of a new key fails with [ErrStoreFull] rather than forget a record
// whose retention has not passed. The memory of deleted records is kept
// for the records of new keys: what the store holds stays at the most
// records it held at once (about 140 bytes each, a longer key or a result
// besides).
//
// A MemoryStore is safe for concurrent use. Create it with
// [NewMemoryStore] (the zero value is not usable: it has no shards) and
// call [MemoryStore.Close] to stop its reaper goroutine.
type MemoryStore struct {
	shards    []memShard
	arena     *memArena // the shards' records
	mask      uint64
	seed      maphash.Seed
	retention time.Duration
	now       func() int64 // unix nanoseconds
	maxKeys   int64        // 0: no limit
	maxBytes  int64        // 0: no limit
	// The counters every claim of a new key writes are kept off the
	// cache line of the fields above, which every call reads.
	_         [64]byte
	keys      atomic.Int64
	bytes     atomic.Int64
	lastReap  atomic.Int64 // unix nanoseconds of the last reap made because the store was full
	_         [64 - 24]byte
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var (
	_ Store  = (*MemoryStore)(nil)
	_ Looker = (*MemoryStore)(nil)
	_ Reaper = (*MemoryStore)(nil)
)

// memShard holds the records whose key hashes to it, in an open-addressing
// table of slots probed linearly from the slot picked by the high 32 bits
// of the key's 64-bit hash (the low bits pick the shard). A slot is 8
// bytes: those 32 bits, as a tag compared before the record's key, and the
// record's reference; the table is kept at most half full, so a lookup
// usually reads one slot, and one record. The records are taken from the
// store's arena and reused through the shard's free list, so a claim of a
// new key allocates nothing of its own but the table's and the arena's
// growth. A record holds its key (up to keyInline bytes; a longer key is
// kept in the shard's map), so the caller's key is not kept, and no
// pointer but its result's, so the garbage collector scans one word of
// it. A shard is usable once its arena is set.
type memShard struct {
	mu    sync.Mutex
	slots []memSlot // len is 0 or a power of two
	used  int       // slots in use: the records held
	arena *memArena
	// free is the reference of the shard's first free record (their chain
	// runs through the free records' token), 0 if none.
	free uint32
	// long holds the keys longer than keyInline by record reference.
	long map[uint32]string
	// token numbers the claims of the shard's keys, from 1: a key always
	// hashes to the same shard, so each of its claims gets another token.
	token uint64
	_     [56]byte // keep shards on separate cache lines
}

// slabSize is the number of records of a slab of a memArena: as many as
// fit in 32 KiB, the largest size class of small objects (a larger slab
// is rounded up to whole 8 KiB pages, which a record size rarely fills).
const slabSize = int(32 << 10 / unsafe.Sizeof(memRecord{}))

// memArena holds the records of a MemoryStore's shards, in slabs of
// slabSize that never move, handed out in the order the shards take them
// (new keys claimed one after the other lie side by side, as individually
// allocated records did), each then owned by the shard that took it for
// good. Reading a record needs no lock: the directory of slabs is
// replaced, never changed, when a slab is added. The zero value is an
// empty arena; it is safe for concurrent use.
type memArena struct {
	dir  atomic.Pointer[[]*[slabSize]memRecord]
	next atomic.Uint32 // records handed out
	mu   sync.Mutex    // held to add a slab
}

// take returns the reference of a zero record no shard has taken yet: its
// index plus one (a store holds fewer than 2³² records: their memory alone
// would pass 500 GiB).
func (a *memArena) take() uint32 {
	i := a.next.Add(1) - 1
	k := int(i) / slabSize
	if d := a.dir.Load(); d == nil || k >= len(*d) {
		a.grow(k)
	}
	return i + 1
}

// grow adds slabs until slab k exists.
func (a *memArena) grow(k int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var old []*[slabSize]memRecord
	if d := a.dir.Load(); d != nil {
		old = *d
	}
	if k < len(old) {
		return
	}
	// The slabs are added past the end of the directory readers hold, in
	// its spare capacity when it has some: those readers never look there,
	// and the longer directory is published only once the slabs are set.
	// The directory is copied only when its capacity doubles, so adding
	// slab after slab costs no copy of the whole directory each time.
	d := old
	if k >= cap(old) {
		d = make([]*[slabSize]memRecord, len(old), max(k+1, 2*cap(old)))
		copy(d, old)
	}
	for j := len(old); j <= k; j++ {
		d = append(d, new([slabSize]memRecord))
	}
	a.dir.Store(&d)
}

// rec returns the record of a reference take returned.
func (a *memArena) rec(ref uint32) *memRecord {
	i := int(ref - 1)
	return &(*a.dir.Load())[i/slabSize][i%slabSize]
}

// memSlot is a slot of a memShard's table: ref is 0 when it is free, else
// the record's reference in the arena; tag is the high 32 bits of the
// record key's hash.
type memSlot struct {
	tag uint32
	ref uint32
}

// nextToken returns the token of a new claim; the caller holds sh.mu.
func (sh *memShard) nextToken() uint64 {
	sh.token++
	return sh.token
}

// tagOf returns the tag of the hash h.
func tagOf(h uint64) uint32 { return uint32(h >> 32) }

// rec returns the record of a slot's ref.
func (sh *memShard) rec(ref uint32) *memRecord { return sh.arena.rec(ref) }

// find returns the slot of k, whose hash is h, and its record, or -1 and
// nil.
func (sh *memShard) find(h uint64, k string) (int, *memRecord) {
	if len(sh.slots) == 0 {
		return -1, nil
	}
	tag := tagOf(h)
	mask := len(sh.slots) - 1
	for i := int(tag) & mask; ; i = (i + 1) & mask {
		s := sh.slots[i]
		if s.ref == 0 {
			return -1, nil
		}
		if s.tag == tag {
			if rec := sh.rec(s.ref); int(rec.keyLen) == len(k) && sh.keyIs(s.ref, rec, k) {
				return i, rec
			}
		}
	}
}

// keyIs reports whether the key of rec, whose reference is ref and whose
// length is len(k), is k.
func (sh *memShard) keyIs(ref uint32, rec *memRecord, k string) bool {
	if len(k) <= keyInline {
		return string(rec.key[:len(k)]) == k
	}
	return sh.long[ref] == k
}

// keyAt returns the key of the record in slot i.
func (sh *memShard) keyAt(i int) string {
	ref := sh.slots[i].ref
	rec := sh.rec(ref)
	if rec.keyLen <= keyInline {
		return string(rec.key[:rec.keyLen])
	}
	return sh.long[ref]
}

// get returns the record of k, whose hash is h, or nil.
func (sh *memShard) get(h uint64, k string) *memRecord {
	_, rec := sh.find(h, k)
	return rec
}

// add makes a record for k, whose hash is h and which the shard does not
// hold, and returns it: zero but for its key.
func (sh *memShard) add(h uint64, k string) *memRecord {
	if 2*(sh.used+1) > len(sh.slots) {
		sh.grow()
	}
	ref := sh.alloc()
	sh.put(memSlot{tag: tagOf(h), ref: ref})
	sh.used++
	rec := sh.rec(ref)
	rec.keyLen = uint8(len(k)) // at most MaxKeyLen
	if len(k) <= keyInline {
		copy(rec.key[:], k)
	} else {
		if sh.long == nil {
			sh.long = make(map[uint32]string)
		}
		sh.long[ref] = strings.Clone(k) // k may be held on the caller's stack
	}
	return rec
}

// alloc returns the reference of a zero record, free or new.
func (sh *memShard) alloc() uint32 {
	if ref := sh.free; ref != 0 {
		rec := sh.rec(ref)
		sh.free, rec.token = uint32(rec.token), 0
		return ref
	}
	return sh.arena.take()
}

// put stores s in the first free slot of its probe; its record has no
// slot yet and the table has a free one.
func (sh *memShard) put(s memSlot) {
	mask := len(sh.slots) - 1
	i := int(s.tag) & mask
	for sh.slots[i].ref != 0 {
		i = (i + 1) & mask
	}
	sh.slots[i] = s
}

// grow doubles the table (8 slots at first) and moves the slots into it.
func (sh *memShard) grow() {
	old := sh.slots
	sh.slots = make([]memSlot, max(8, 2*len(old)))
	for _, s := range old {
		if s.ref != 0 {
			sh.put(s)
		}
	}
}

// remove deletes the record of slot i and frees both.
func (sh *memShard) remove(i int) {
	ref := sh.slots[i].ref
	rec := sh.rec(ref)
	if rec.keyLen > keyInline {
		delete(sh.long, ref)
	}
	*rec = memRecord{token: uint64(sh.free)} // the free chain
	sh.free = ref
	sh.clear(i)
}

// clear empties slot i, moving back the later slots of the probe run that
// would no longer be found past the gap (so no tombstones are needed).
func (sh *memShard) clear(i int) {
	mask := len(sh.slots) - 1
	for j := (i + 1) & mask; sh.slots[j].ref != 0; j = (j + 1) & mask {
		// The entry at j may move to the gap at i unless its home lies
		// cyclically in (i, j].
		k := int(sh.slots[j].tag) & mask
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			sh.slots[i] = sh.slots[j]
			i = j
		}
	}
	sh.slots[i] = memSlot{}
	sh.used--
}

// keyInline is the longest key a record holds in itself: a derived key
// (46 bytes) fits, exactly.
const keyInline = 46

// memRecord is a record of a memShard. Its only pointer is data's. It is
// 128 bytes: a slab's records each fill two cache lines of their own
// (a slab is a 32 KiB size class, aligned to its size), where records of
// 136 bytes spanned three lines one time in two.
type memRecord struct {
	data     []byte
	fp       Fingerprint
	token    uint64 // while the record is free: the next free record's reference
	leaseEnd int64  // unix nanoseconds
	expires  int64  // unix nanoseconds
	key      [keyInline]byte
	keyLen   uint8
	state    recState
}

// recState is whether a record's operation completed, and failed.
type recState uint8

const (
	recClaimed recState = iota
	recCompleted
	recFailed // completed with a failure
)

// completed reports whether the record's operation completed.
func (r *memRecord) completed() bool { return r.state != recClaimed }

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
		arena:     new(memArena),
		mask:      uint64(n - 1),
		seed:      maphash.MakeSeed(),
		retention: cfg.Retention,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].arena = s.arena
	}
	if s.retention == 0 {
		s.retention = DefaultRetention
	}
	switch {
	case cfg.MaxKeys == 0:
		s.maxKeys = DefaultMaxKeys
	case cfg.MaxKeys > 0:
		s.maxKeys = int64(cfg.MaxKeys)
	}
	switch {
	case cfg.MaxBytes == 0:
		s.maxBytes = DefaultMaxBytes
	case cfg.MaxBytes > 0:
		s.maxBytes = cfg.MaxBytes
	}
	if now := cfg.Now; now != nil {
		s.now = func() int64 { return now().UnixNano() }
	} else {
		// time.Since reads only the monotonic clock; time.Now reads the
		// wall clock too.
		start := time.Now()
		base := start.UnixNano()
		s.now = func() int64 { return base + int64(time.Since(start)) }
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

// shard returns the shard of k and k's hash.
func (s *MemoryStore) shard(k Key) (*memShard, uint64) {
	h := maphash.String(s.seed, k.s)
	return &s.shards[h&s.mask], h
}

// maxReuse bounds the result buffer a record keeps for its next result
// when it is claimed again, so that a large result does not stay pinned.
const maxReuse = 1 << 10

// Claim implements [Store.Claim].
func (s *MemoryStore) Claim(ctx context.Context, key Key, fp Fingerprint, lease time.Duration) (Claim, error) {
	// key flows only into the Claim returned: what outlives the call (an
	// error, a long key kept) holds a copy of it, so that a key whose text
	// is on the caller's stack stays there (see handleEvent).
	if ctx.Err() != nil || key.IsZero() || lease <= 0 {
		return Claim{}, checkClaim(ctx, Key{s: strings.Clone(key.s)}, lease)
	}
	now := s.now()
	if s.full(len(key.s)) {
		s.reapWhenFull(now)
	}
	sh, h := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, rec := sh.find(h, key.s)
	ok := rec != nil
	if ok && rec.expires > now {
		switch {
		case rec.fp != fp:
			return Claim{Status: Mismatch, Fingerprint: rec.fp}, nil
		case rec.completed():
			return Claim{Status: Completed, Result: Result{Data: clone(rec.data), Failed: rec.state == recFailed}}, nil
		case rec.leaseEnd > now:
			return Claim{Status: InProgress, RetryAfter: time.Duration(rec.leaseEnd - now)}, nil
		}
		// In progress with an expired lease and the same fingerprint:
		// take it over below.
	}
	if !ok {
		if !s.admit(len(key.s)) {
			return Claim{}, fmt.Errorf("idempotency: claim %q: the store holds %d records and %d bytes (limits %d and %d): %w",
				strings.Clone(key.s), s.keys.Load(), s.bytes.Load(), s.maxKeys, s.maxBytes, ErrStoreFull)
		}
		rec = sh.add(h, key.s)
	} else if n := len(rec.data); n > 0 {
		s.bytes.Add(-int64(n)) // the old result is dropped
	}
	// A new record, or one that expired or was abandoned: (re)initialise it
	// in place, keeping a small result buffer for the next result.
	rec.data = rec.data[:0]
	if cap(rec.data) > maxReuse {
		rec.data = nil
	}
	end := now + int64(lease)
	rec.state = recClaimed
	rec.fp = fp
	rec.token = sh.nextToken()
	rec.leaseEnd = end
	rec.expires = max(end, now+int64(s.retention))
	return Claim{Status: Claimed, Lease: Lease{Key: key, Token: rec.token, Expires: time.Unix(0, end)}}, nil
}

// Complete implements [Store.Complete]. It stores a copy of result.Data.
func (s *MemoryStore) Complete(ctx context.Context, l Lease, result Result) error {
	if err := checkLease(ctx, l); err != nil {
		return err
	}
	return s.complete(l, result)
}

// complete is Complete without a context, for [Guard]: it never waits. Like
// claim, it keeps nothing of l's key.
func (s *MemoryStore) complete(l Lease, result Result) error {
	if l.Key.IsZero() || l.Token == 0 {
		return checkLease(context.Background(), ownedLease(l))
	}
	now := s.now()
	var data []byte
	if len(result.Data) > maxReuse {
		data = clone(result.Data) // copied before taking the lock
	}
	sh, h := s.shard(l.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec := sh.get(h, l.Key.s)
	if rec == nil || rec.completed() || rec.token != l.Token {
		return leaseLost(ownedLease(l))
	}
	if data == nil {
		data = append(rec.data[:0], result.Data...) // into the buffer kept by Claim
	}
	rec.state = recCompleted
	if result.Failed {
		rec.state = recFailed
	}
	rec.data = data
	if len(data) > 0 {
		s.bytes.Add(int64(len(data)))
	}
	rec.leaseEnd = 0
	rec.expires = now + int64(s.retention)
	return nil
}

// Release implements [Store.Release].
func (s *MemoryStore) Release(ctx context.Context, l Lease) error {
	if err := checkLease(ctx, l); err != nil {
		return err
	}
	return s.release(l)
}

// release is Release without a context, for [Guard]: it never waits. Like
// claim, it keeps nothing of l's key.
func (s *MemoryStore) release(l Lease) error {
	if l.Key.IsZero() || l.Token == 0 {
		return checkLease(context.Background(), ownedLease(l))
	}
	sh, h := s.shard(l.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, rec := sh.find(h, l.Key.s)
	if rec == nil || rec.completed() || rec.token != l.Token {
		return leaseLost(ownedLease(l))
	}
	s.forget(sh, i)
	return nil
}

// ownedLease returns the key, with its own copy of the text, and the token
// of l, for an error that outlives the call.
func ownedLease(l Lease) Lease {
	return Lease{Key: Key{s: strings.Clone(l.Key.s)}, Token: l.Token}
}

// full reports whether a new key of n bytes would pass a limit.
func (s *MemoryStore) full(n int) bool {
	return s.maxKeys > 0 && s.keys.Load() >= s.maxKeys || s.maxBytes > 0 && s.bytes.Load()+int64(n) > s.maxBytes
}

// admit counts a new key of n bytes, or reports false when a limit would
// be passed.
func (s *MemoryStore) admit(n int) bool {
	if k := s.keys.Add(1); s.maxKeys > 0 && k > s.maxKeys {
		s.keys.Add(-1)
		return false
	}
	if b := s.bytes.Add(int64(n)); s.maxBytes > 0 && b > s.maxBytes {
		s.bytes.Add(-int64(n))
		s.keys.Add(-1)
		return false
	}
	return true
}

// forget deletes the record of slot i of sh (whose lock the caller
// holds) and uncounts it.
func (s *MemoryStore) forget(sh *memShard, i int) {
	rec := sh.rec(sh.slots[i].ref)
	n := int(rec.keyLen) + len(rec.data)
	sh.remove(i)
	s.keys.Add(-1)
	s.bytes.Add(-int64(n))
}

// reapWhenFull deletes the expired records, at most once a second of the
// store's clock, so that a full store does not scan itself on every claim.
// The caller holds no shard lock.
func (s *MemoryStore) reapWhenFull(now int64) {
	last := s.lastReap.Load()
	if last != 0 && now-last < int64(time.Second) {
		return
	}
	if s.lastReap.CompareAndSwap(last, now) {
		s.reap()
	}
}

// Lookup implements [Looker.Lookup].
func (s *MemoryStore) Lookup(ctx context.Context, key Key) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, context.Cause(ctx)
	}
	now := s.now()
	sh, h := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec := sh.get(h, key.s)
	if rec == nil || rec.expires <= now {
		return Record{}, fmt.Errorf("idempotency: lookup %q: %w", key.s, ErrNotFound)
	}
	r := Record{
		Key:         key,
		Fingerprint: rec.fp,
		Status:      Claimed,
		Token:       rec.token,
		Expires:     time.Unix(0, rec.expires),
	}
	if rec.completed() {
		r.Status = Completed
		r.Result = Result{Data: clone(rec.data), Failed: rec.state == recFailed}
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
		now := s.now()
		sh.mu.Lock()
		// Freeing a slot may move a later entry into it: look at the
		// same slot again until it is free or unchanged. An entry moved
		// back across the end of the table is looked at twice, which is
		// harmless.
		for i := 0; i < len(sh.slots); {
			slot := sh.slots[i]
			if slot.ref != 0 && sh.rec(slot.ref).expires <= now {
				s.forget(sh, i)
				n++
			}
			if cur := sh.slots[i]; cur.ref == 0 || cur == slot {
				i++
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
		n += sh.used
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
