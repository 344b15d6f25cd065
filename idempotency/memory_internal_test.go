package idempotency

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemShardCollisions checks records whose keys share a hash (and so a
// tag and a probe run): every record is found by its own key, removed
// alone, and reaped alone. Real collisions of the 64-bit hash are too rare
// to provoke, so the records are put under one hash by hand.
func TestMemShardCollisions(t *testing.T) {
	tests := []struct {
		name   string
		remove []string // removed in this order
	}{
		{"head first", []string{"c", "b", "a"}},
		{"tail first", []string{"a", "b", "c"}},
		{"middle first", []string{"b", "a", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := &memShard{arena: new(memArena)}
			const h = 42
			for i, k := range []string{"a", "b", "c"} {
				require.Nil(t, sh.get(h, k), "get(%q) before adding it", k)
				rec := sh.add(h, k)
				rec.token = uint64(i + 1)
			}
			require.Equal(t, 3, sh.used, "records after adding a, b, c")
			tokens := map[string]uint64{"a": 1, "b": 2, "c": 3}
			left := map[string]bool{"a": true, "b": true, "c": true}
			for _, k := range tt.remove {
				i, rec := sh.find(h, k)
				require.NotNil(t, rec, "find(%q) before removing it", k)
				sh.remove(i)
				delete(left, k)
				assert.Nil(t, sh.get(h, k), "get(%q) after removing it", k)
				for other := range left {
					i, rec := sh.find(h, other)
					if assert.NotNil(t, rec, "get(%q) after removing %q", other, k) {
						assert.Equal(t, other, sh.keyAt(i), "key of get(%q) after removing %q", other, k)
						assert.Equal(t, tokens[other], rec.token, "token of get(%q) after removing %q", other, k)
					}
				}
				assert.Equal(t, len(left), sh.used, "records after removing %q", k)
			}
			assert.Equal(t, 0, sh.used, "slots after removing every record")
			assert.NotZero(t, sh.free, "removed records are free for reuse")
		})
	}
}

// TestMemoryStoreReapCollisions checks that reaping a chain deletes its
// expired records and keeps the live ones.
func TestMemoryStoreReapCollisions(t *testing.T) {
	now := time.Unix(1000, 0)
	s, err := NewMemoryStore(MemoryConfig{ReapInterval: -1, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()
	sh := &s.shards[0]
	for i, k := range []string{"a", "b", "c", "d"} {
		rec := sh.add(7, k)
		rec.state, rec.token, rec.expires = recCompleted, uint64(i+1), now.UnixNano()+int64(i%2)
		s.keys.Add(1)
		s.bytes.Add(int64(len(k)))
	}
	n, err := s.Reap(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "records reaped (a and c have expired)")
	assert.Equal(t, 2, s.Len(), "records left")
	assert.Nil(t, sh.get(7, "a"), "a reaped")
	assert.Nil(t, sh.get(7, "c"), "c reaped")
	assert.NotNil(t, sh.get(7, "b"), "b kept")
	assert.NotNil(t, sh.get(7, "d"), "d kept")
	assert.Equal(t, int64(2), s.keys.Load(), "keys counted")
	assert.Equal(t, int64(2), s.bytes.Load(), "bytes counted")
}

// clusteredHash returns distinct hashes whose table homes crowd the last and
// first slots of any table size, so that probe runs wrap around the end of
// the table.
func clusteredHash(rng *rand.Rand, i int) uint64 {
	hi := uint64(rng.IntN(4))
	if rng.IntN(2) == 0 {
		hi = 0xFFFF_FFFF - hi
	}
	return hi<<32 | uint64(i)
}

// TestMemShardProbeRuns adds records whose hashes crowd a few table slots
// and removes them in random orders, checking after each removal that
// every other record is still found: freeing a slot must not cut a probe
// run.
func TestMemShardProbeRuns(t *testing.T) {
	tests := []struct {
		name string
		seed uint64
		n    int
	}{
		{"few", 1, 5},
		{"one growth", 2, 9},
		{"many", 3, 300},
		{"many again", 4, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 0))
			sh := &memShard{arena: new(memArena)}
			hashes := make([]uint64, tt.n)
			for i := range hashes {
				hashes[i] = clusteredHash(rng, i)
				rec := sh.add(hashes[i], strconv.Itoa(i))
				rec.token = uint64(i + 1)
			}
			require.Equal(t, tt.n, sh.used, "slots in use")
			left := map[int]bool{}
			for i := range hashes {
				left[i] = true
			}
			for _, i := range rng.Perm(tt.n) {
				slot, rec := sh.find(hashes[i], strconv.Itoa(i))
				require.NotNil(t, rec, "record %d before removing it", i)
				sh.remove(slot)
				delete(left, i)
				require.Nil(t, sh.get(hashes[i], strconv.Itoa(i)), "record %d after removing it", i)
				for j := range left {
					rec := sh.get(hashes[j], strconv.Itoa(j))
					require.NotNil(t, rec, "record %d after removing %d", j, i)
					require.Equal(t, uint64(j+1), rec.token, "token of record %d after removing %d", j, i)
				}
				require.Equal(t, len(left), sh.used, "slots in use after removing %d", i)
			}
			// The freed records are reused before new ones are taken.
			taken := sh.arena.next.Load()
			for i := range tt.n {
				sh.add(hashes[i], strconv.Itoa(i))
			}
			require.Equal(t, taken, sh.arena.next.Load(), "records taken after adding %d keys again", tt.n)
		})
	}
}

// TestMemoryStoreReapProbeRuns reaps a shard whose hashes crowd a few table
// slots (so freeing a slot moves later entries back, across the end of the
// table too) and checks that exactly the expired records went.
func TestMemoryStoreReapProbeRuns(t *testing.T) {
	now := time.Unix(1000, 0)
	s, err := NewMemoryStore(MemoryConfig{ReapInterval: -1, Now: func() time.Time { return now }})
	require.NoError(t, err)
	sh := &s.shards[0]
	rng := rand.New(rand.NewPCG(5, 0))
	const n = 500
	hashes := make([]uint64, n)
	exps := make([]int64, n)
	expired := 0
	for i := range hashes {
		hashes[i] = clusteredHash(rng, i)
		exps[i] = now.UnixNano() + 1
		if rng.IntN(3) > 0 {
			exps[i] = now.UnixNano()
			expired++
		}
		rec := sh.add(hashes[i], strconv.Itoa(i))
		rec.state, rec.token, rec.expires = recCompleted, uint64(i+1), exps[i]
		s.keys.Add(1)
	}
	got, err := s.Reap(context.Background())
	require.NoError(t, err)
	assert.Equal(t, expired, got, "records reaped")
	assert.Equal(t, n-expired, s.Len(), "records left")
	assert.Equal(t, n-expired, sh.used, "slots in use")
	for i, exp := range exps {
		rec := sh.get(hashes[i], strconv.Itoa(i))
		if exp <= now.UnixNano() {
			assert.Nil(t, rec, "record %d reaped", i)
		} else if assert.NotNil(t, rec, "record %d kept", i) {
			assert.Equal(t, uint64(i+1), rec.token, "token of record %d", i)
		}
	}
}

// TestMemoryStoreLayout checks that the shards fill whole cache lines and
// that the counters a claim of a new key writes do not share a cache line
// with the fields every call reads.
func TestMemoryStoreLayout(t *testing.T) {
	var s MemoryStore
	assert.Zero(t, unsafe.Sizeof(memShard{})%64, "size of memShard, %d bytes, is a multiple of a cache line", unsafe.Sizeof(memShard{}))
	assert.GreaterOrEqual(t, unsafe.Offsetof(s.keys)-unsafe.Offsetof(s.maxBytes), uintptr(64), "keys is a cache line past maxBytes")
	assert.GreaterOrEqual(t, unsafe.Offsetof(s.stop)-unsafe.Offsetof(s.keys), uintptr(64), "stop is a cache line past keys")
}

// TestMemoryStoreLongKeys checks keys longer than a record holds in itself
// beside inline ones that share their first bytes: each is claimed,
// completed with its result, found, released and reaped as its own, and
// counted in bytes.
func TestMemoryStoreLongKeys(t *testing.T) {
	now := time.Unix(1000, 0)
	s, err := NewMemoryStore(MemoryConfig{ReapInterval: -1, Shards: 1, Retention: time.Minute, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()
	base := strings.Repeat("k", keyInline)
	keys := []string{base, base + "1", base + "2", strings.Repeat("x", MaxKeyLen), base[:keyInline-1]}
	total := 0
	for i, k := range keys {
		c, err := s.Claim(ctx, MustParse(k), Fingerprint{}, time.Second)
		require.NoError(t, err, "claim %d", i)
		require.Equal(t, Claimed, c.Status, "claim %d", i)
		require.NoError(t, s.Complete(ctx, c.Lease, Result{Data: []byte(strconv.Itoa(i))}), "complete %d", i)
		total += len(k) + 1
	}
	assert.Equal(t, int64(total), s.bytes.Load(), "bytes of the keys and results")
	for i, k := range keys {
		c, err := s.Claim(ctx, MustParse(k), Fingerprint{}, time.Second)
		require.NoError(t, err, "claim %d again", i)
		assert.Equal(t, Completed, c.Status, "claim %d again", i)
		assert.Equal(t, strconv.Itoa(i), string(c.Result.Data), "result of key %d", i)
		r, err := s.Lookup(ctx, MustParse(k))
		require.NoError(t, err, "lookup %d", i)
		assert.Equal(t, strconv.Itoa(i), string(r.Result.Data), "looked-up result of key %d", i)
	}
	// A released long key is gone, the others stay.
	long := MustParse(keys[1] + "x")
	c, err := s.Claim(ctx, long, Fingerprint{}, time.Second)
	require.NoError(t, err)
	require.NoError(t, s.Release(ctx, c.Lease))
	_, err = s.Lookup(ctx, long)
	assert.ErrorIs(t, err, ErrNotFound, "released long key")
	assert.Len(t, s.shards[0].long, 3, "long keys held")
	now = now.Add(2 * time.Minute)
	n, err := s.Reap(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(keys), n, "records reaped")
	assert.Empty(t, s.shards[0].long, "long keys after the reap")
	assert.Zero(t, s.bytes.Load(), "bytes after the reap")
}

// TestMemRecordPointers checks that a record's only pointer is its
// result's: it holds its key itself (the caller's key is not kept), and
// the garbage collector scans one word of it.
func TestMemRecordPointers(t *testing.T) {
	var walk func(name string, ty reflect.Type)
	walk = func(name string, ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Array:
			walk(name, ty.Elem())
		case reflect.Struct:
			for f := range ty.Fields() {
				walk(name+"."+f.Name, f.Type)
			}
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if name != "memRecord.data" {
				t.Errorf("%s, of type %s, holds a pointer", name, ty)
			}
		}
	}
	walk("memRecord", reflect.TypeFor[memRecord]())
}

// TestMemArenaConcurrentTakes takes records from several goroutines at
// once, across slab boundaries: every reference is handed out once, and
// each record is the taker's to write (run with -race).
func TestMemArenaConcurrentTakes(t *testing.T) {
	var a memArena
	const takers, each = 8, 3 * slabSize
	refs := make([][]uint32, takers)
	var wg sync.WaitGroup
	for g := range takers {
		wg.Go(func() {
			for range each {
				ref := a.take()
				a.rec(ref).token = uint64(g + 1)
				refs[g] = append(refs[g], ref)
			}
		})
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for g, rs := range refs {
		for _, ref := range rs {
			require.False(t, seen[ref], "reference %d handed out twice", ref)
			seen[ref] = true
			require.Equal(t, uint64(g+1), a.rec(ref).token, "record %d as its taker wrote it", ref)
		}
	}
	assert.Len(t, seen, takers*each, "references handed out")
	assert.Len(t, *a.dir.Load(), takers*each/slabSize, "slabs")
}

// TestMemRecordSize checks that a record is 128 bytes, two cache lines,
// and holds a derived key in itself.
func TestMemRecordSize(t *testing.T) {
	assert.Equal(t, uintptr(128), unsafe.Sizeof(memRecord{}), "bytes of a record")
	assert.LessOrEqual(t, len(Derive("tenant", "op", "id").String()), keyInline, "a derived key is held inline")
}

// TestMemArenaSlabSize checks that a slab fills its 32 KiB size class:
// the memory of a store's records is what they need.
func TestMemArenaSlabSize(t *testing.T) {
	size := unsafe.Sizeof([slabSize]memRecord{})
	assert.LessOrEqual(t, size, uintptr(32<<10), "bytes of a slab of %d records", slabSize)
	assert.Greater(t, size+unsafe.Sizeof(memRecord{}), uintptr(32<<10), "bytes of a slab of one record more")
}

// TestMemArenaDirectoryCopies checks that adding slab after slab copies
// the directory of slabs only when its capacity doubles, not once per
// slab (which made a store of a million fresh keys copy some 4,000
// pointers per slab added), and that every record stays where it was.
func TestMemArenaDirectoryCopies(t *testing.T) {
	var a memArena
	const slabs = 256
	copies := 0
	var first *memRecord
	var last **[slabSize]memRecord
	for range slabs * slabSize {
		ref := a.take()
		if first == nil {
			first = a.rec(ref)
		}
		if d := *a.dir.Load(); &d[0] != last {
			copies++
			last = &d[0]
		}
	}
	assert.Len(t, *a.dir.Load(), slabs, "slabs")
	assert.LessOrEqual(t, copies, 10, "directories made for %d slabs", slabs)
	assert.Same(t, first, a.rec(1), "the first record has not moved")
}
