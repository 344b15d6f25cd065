package lease_test

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/lease"
)

var errLost = errors.New("test: lock lost")

// store is a scripted lease.Store: the i-th renewal (from 0) returns
// renew(i, ctx).
type store struct {
	renew func(i int, ctx context.Context) error

	mu       sync.Mutex
	renewals int
	releases int
}

func (s *store) Renew(ctx context.Context) error {
	s.mu.Lock()
	i := s.renewals
	s.renewals++
	s.mu.Unlock()
	return s.renew(i, ctx)
}

func (s *store) Release(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases++
	return nil
}

func (s *store) counts() (renewals, releases int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.renewals, s.releases
}

var errDown = errors.New("test: storage down")

// TestLease runs a lease with TTL 4s and Renew 1s in a synctest bubble
// against scripted renewals and checks, on the bubble's exact clock, when
// it is lost (if at all), why, and whether Unlock releases it.
func TestLease(t *testing.T) {
	const (
		ttl   = 4 * time.Second
		renew = time.Second
	)
	tests := []struct {
		name     string
		acquired time.Duration // before the start
		renew    func(i int, ctx context.Context) error
		lostAt   time.Duration // 0: never lost within the test
		err      string        // Err's text once lost
	}{
		{name: "every renewal succeeds",
			renew: func(int, context.Context) error { return nil }},
		{name: "taken at the third renewal",
			renew: func(i int, _ context.Context) error {
				if i == 2 {
					return lease.ErrTaken
				}
				return nil
			},
			lostAt: 3 * time.Second, err: "test lease taken by another member: test: lock lost"},
		{name: "a wrapped ErrTaken",
			renew:  func(int, context.Context) error { return errors.Join(errDown, lease.ErrTaken) },
			lostAt: time.Second, err: "test lease taken by another member: test: lock lost"},
		{name: "every renewal fails: lost at TTL − Renew",
			renew:  func(int, context.Context) error { return errDown },
			lostAt: ttl - renew, err: "test lease not renewed for 3s: test: lock lost"},
		{name: "renewals fail after two: lost TTL − Renew after the last success",
			renew: func(i int, _ context.Context) error {
				if i < 2 {
					return nil
				}
				return errDown
			},
			lostAt: 2*time.Second + ttl - renew, err: "test lease not renewed for 3s: test: lock lost"},
		{name: "a renewal fails, then they succeed",
			renew: func(i int, _ context.Context) error {
				if i == 1 {
					return errDown
				}
				return nil
			}},
		{name: "a renewal hangs: its context ends at the deadline",
			renew: func(i int, ctx context.Context) error {
				if i == 0 {
					return nil
				}
				<-ctx.Done()
				return ctx.Err()
			},
			lostAt: time.Second + ttl - renew, err: "test lease not renewed for 3s: test: lock lost"},
		{name: "acquired TTL − Renew ago: lost at once",
			acquired: ttl - renew, renew: func(int, context.Context) error { return nil },
			lostAt: 0, err: "test lease not renewed for 3s: test: lock lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st := &store{renew: tt.renew}
				start := time.Now()
				l := lease.New(lease.Config{Name: "test lease", Lost: errLost, TTL: ttl, Renew: renew,
					Acquired: start.Add(-tt.acquired)}, st)
				go l.Keep()
				wantLost := tt.err != ""
				select {
				case <-l.Lost():
					require.True(t, wantLost, "%s: the lease is lost (%v) after %v", tt.name, l.Err(), time.Since(start))
					assert.Equal(t, tt.lostAt, time.Since(start), "%s: when the lease is lost", tt.name)
					require.ErrorIs(t, l.Err(), errLost, "%s: Err wraps Config.Lost", tt.name)
					assert.EqualError(t, l.Err(), tt.err, "%s: Err", tt.name)
				case <-time.After(10*ttl + renew/2):
					require.False(t, wantLost, "%s: the lease is not lost after %v", tt.name, 10*ttl)
					assert.NoError(t, l.Err(), "%s: Err of a held lease", tt.name)
					renewals, _ := st.counts()
					assert.Equal(t, int(10*ttl/renew), renewals, "%s: one renewal every Renew", tt.name)
				}
				l.Unlock()
				l.Unlock()
				_, releases := st.counts()
				if wantLost {
					assert.Zero(t, releases, "%s: a lost lease is not released", tt.name)
				} else {
					assert.Equal(t, 1, releases, "%s: a held lease is released once, however often Unlock is called", tt.name)
				}
				renewals, _ := st.counts()
				time.Sleep(10 * renew)
				after, _ := st.counts()
				assert.Equal(t, renewals, after, "%s: no renewal after Unlock", tt.name)
			})
		})
	}
}

// TestLeaseUnlockWhileRenewing checks that Unlock waits for a renewal in
// flight before it releases the lease, and that Lost stays open.
func TestLeaseUnlockWhileRenewing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var order []string
		var mu sync.Mutex
		note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
		st := &store{renew: func(int, context.Context) error { <-release; note("renewed"); return nil }}
		l := lease.New(lease.Config{Name: "test lease", Lost: errLost, TTL: 4 * time.Second, Renew: time.Second, Acquired: time.Now()},
			&notingStore{store: st, note: note})
		go l.Keep()
		time.Sleep(time.Second) // the first renewal starts and blocks
		synctest.Wait()
		unlocked := make(chan struct{})
		go func() { l.Unlock(); close(unlocked) }()
		synctest.Wait()
		select {
		case <-unlocked:
			t.Fatal("Unlock returned while a renewal was in flight")
		default:
		}
		close(release)
		<-unlocked
		assert.Equal(t, []string{"renewed", "released"}, order, "the release follows the renewal in flight")
		select {
		case <-l.Lost():
			t.Fatal("an unlocked lease is not lost")
		default:
		}
	})
}

// notingStore notes each release.
type notingStore struct {
	*store
	note func(string)
}

func (s *notingStore) Release(ctx context.Context) error {
	s.note("released")
	return s.store.Release(ctx)
}

func TestOwned(t *testing.T) {
	var o lease.Owned
	assert.Empty(t, o.List(), "the zero Owned is empty")
	o.Stop(1)
	o.StopAll()
	stopped := map[int]int{}
	for _, n := range []int{5, 0, 3, 9} {
		o.Add(n, func() { stopped[n]++ })
	}
	assert.Equal(t, []int{0, 3, 5, 9}, o.List(), "List is in increasing order")
	o.Stop(3, 7, 9)
	assert.Equal(t, map[int]int{3: 1, 9: 1}, stopped, "Stop stops the partitions owned among those named")
	assert.Equal(t, []int{0, 3, 5, 9}, o.List(), "Stop does not forget a partition")
	o.Remove(3)
	o.Remove(7)
	assert.Equal(t, []int{0, 5, 9}, o.List(), "Remove forgets a partition")
	o.StopAll()
	assert.Equal(t, map[int]int{0: 1, 5: 1, 9: 2, 3: 1}, stopped, "StopAll stops every owned partition")
}

func TestTarget(t *testing.T) {
	tests := []struct{ parts, members, want int }{
		{16, 1, 16}, {16, 2, 8}, {16, 3, 6}, {16, 16, 1}, {16, 17, 1}, {4, 0, 4}, {4, -1, 4}, {1, 2, 1}, {0, 3, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, lease.Target(tt.parts, tt.members), "Target(%d, %d)", tt.parts, tt.members)
	}
}

func TestOrder(t *testing.T) {
	tests := []struct {
		member string
		parts  int
	}{{"m0", 1}, {"m0", 8}, {"m1", 8}, {"late", 16}, {"", 16}, {"a", 1024}}
	for _, tt := range tests {
		got := lease.Order(tt.member, tt.parts)
		h := fnv.New32a()
		_, _ = h.Write([]byte(tt.member))
		start := int(h.Sum32() % uint32(tt.parts))
		require.Len(t, got, tt.parts, "Order(%q, %d) names every partition", tt.member, tt.parts)
		assert.Equal(t, start, got[0], "Order(%q, %d) starts at FNV-1a of the member modulo P", tt.member, tt.parts)
		for i := 1; i < len(got); i++ {
			assert.Equal(t, (got[i-1]+1)%tt.parts, got[i], "Order(%q, %d) wraps around in increasing order", tt.member, tt.parts)
		}
		sorted := slices.Sorted(slices.Values(got))
		for i, n := range sorted {
			assert.Equal(t, i, n, "Order(%q, %d) is a permutation", tt.member, tt.parts)
		}
	}
	assert.Nil(t, lease.Order("m", 0), "Order with no partitions")
}
