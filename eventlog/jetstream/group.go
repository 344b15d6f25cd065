package jetstream

// This file owns partitioned consumer groups: Group, its partition
// leases and membership, and the per-partition view of the Backend its
// consumers read.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nuid"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/internal/lease"
)

// Defaults of [GroupConfig].
const (
	DefaultLeaseTTL = 4 * time.Second
)

// GroupConfig configures a [Group]. Consumer.Group and Consumer.Handler
// are required; the zero values of the other fields are the documented
// defaults. It is a plain value, safe for concurrent reads.
type GroupConfig struct {
	// Consumer configures the consumer of each partition this member
	// owns; Consumer.Group names the partitioned group. Each partition is
	// consumed as the eventlog consumer group [eventlog.PartitionGroup](Group, N):
	// its cursor, retry states, epoch and dead letters are kept under
	// that name. Use one Dedupe store for every member, so that an event
	// redelivered after a partition moved is not handled twice.
	Consumer eventlog.ConsumerConfig
	// Member names this process among the members of the group; two
	// running members must not share a name. Empty means a random name.
	Member string
	// LeaseTTL is how long a partition lease, and a member's
	// announcement, live without renewal: a crashed member's partitions
	// are taken over within about LeaseTTL + 3s + Renew (the server
	// rounds a key's TTL to the second, adds one, and expires keys on a
	// timer of its own). Zero means [DefaultLeaseTTL]; at least 1s.
	LeaseTTL time.Duration
	// Renew is how often a member renews its leases and announcement
	// and balances the partitions. Zero means LeaseTTL/4; less than
	// LeaseTTL/2.
	Renew time.Duration
}

// Validate reports a configuration error, matching
// [eventlog.ErrInvalidConfig].
func (c GroupConfig) Validate() error {
	if err := c.Consumer.Validate(); err != nil {
		return err
	}
	ttl := c.LeaseTTL
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	switch {
	case ttl < time.Second:
		return fmt.Errorf("jetstream: GroupConfig.LeaseTTL %v is below 1s: %w", c.LeaseTTL, eventlog.ErrInvalidConfig)
	case c.Renew < 0 || c.Renew*2 >= ttl:
		return fmt.Errorf("jetstream: GroupConfig.Renew %v is negative or not below LeaseTTL/2: %w", c.Renew, eventlog.ErrInvalidConfig)
	case len(eventlog.PartitionGroup(c.Consumer.Group, 1023)) > 200:
		return fmt.Errorf("jetstream: GroupConfig.Consumer.Group %q is too long: with the partition suffix it must be at most 200 bytes: %w", c.Consumer.Group, eventlog.ErrInvalidConfig)
	case len(c.Member) > 200:
		return fmt.Errorf("jetstream: GroupConfig.Member is longer than 200 bytes: %w", eventlog.ErrInvalidConfig)
	}
	return nil
}

// Group is one member of a partitioned consumer group: several
// processes (members) run a Group of the same name, and the partitions
// of the log are shared among them, each partition owned by one member at
// a time and consumed there by an [eventlog.Consumer] (in order per key,
// with the error policy and dead letters of that package). See the
// package documentation, section Partitioned groups, for the guarantees.
//
// Create it with [Backend.NewGroup]. A Group is safe for concurrent use;
// Run runs it, once at a time. The zero value is not usable.
type Group struct {
	b      *Backend
	cfg    GroupConfig
	log    *slog.Logger
	member string
	gk     string // the group's part of the lease keys

	running atomic.Bool
	owned   lease.Owned
}

// NewGroup returns a member of the partitioned group cfg.Consumer.Group
// over b. The error matches [eventlog.ErrInvalidConfig].
func (b *Backend) NewGroup(cfg GroupConfig) (*Group, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Renew == 0 {
		cfg.Renew = cfg.LeaseTTL / 4
	}
	if cfg.Member == "" {
		cfg.Member = nuid.Next()
	}
	g := &Group{b: b, cfg: cfg, log: cfg.Consumer.Logger, member: cfg.Member,
		gk: base64.RawURLEncoding.EncodeToString([]byte(cfg.Consumer.Group))}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	return g, nil
}

// Member returns the name of this member.
func (g *Group) Member() string { return g.member }

// Owned returns the partitions this member owns now, in increasing order.
func (g *Group) Owned() []int { return g.owned.List() }

func (g *Group) leaseKey(n int) string { return "l." + g.gk + "." + strconv.Itoa(n) }
func (g *Group) memberKey() string {
	return "m." + g.gk + "." + base64.RawURLEncoding.EncodeToString([]byte(g.member))
}
func (g *Group) memberFilter() string     { return "m." + g.gk + ".*" }
func (g *Group) opTimeout() time.Duration { return g.cfg.LeaseTTL / 2 }

// Run announces the member, takes its share of the partitions and
// consumes them until ctx is done; then it withdraws the announcement,
// stops the consumers of its partitions (each drains and commits, as
// [eventlog.Consumer.Run] does) and releases their leases, so that the
// other members take them over at their next balance, and returns
// context.Cause(ctx). Failures to reach NATS are logged and tried again
// at the next Renew; a partition whose lease was lost or whose writes
// were fenced is stopped and may be taken again later. Run returns
// [eventlog.ErrRunning] when the Group is running already.
func (g *Group) Run(ctx context.Context) error {
	if !g.running.CompareAndSwap(false, true) {
		return eventlog.ErrRunning
	}
	defer g.running.Store(false)
	t := time.NewTicker(g.cfg.Renew)
	defer t.Stop()
	var annRev uint64
	var wg sync.WaitGroup
	for {
		annRev = g.balance(ctx, annRev, &wg)
		select {
		case <-ctx.Done():
			g.leave(annRev, &wg)
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// leave withdraws the announcement, then stops every partition and waits
// for their consumers, which release the leases.
func (g *Group) leave(annRev uint64, wg *sync.WaitGroup) {
	ctx, cancel := context.WithTimeout(context.Background(), g.opTimeout())
	if annRev != 0 {
		_ = g.b.leases.del(ctx, g.memberKey(), annRev)
	}
	cancel()
	g.owned.StopAll()
	wg.Wait()
}

// balance renews the announcement, counts the members and takes or
// releases partitions so that this member owns at most
// ceil(partitions/members) of them. It returns the announcement's
// revision (0 when it could not be written).
func (g *Group) balance(ctx context.Context, annRev uint64, wg *sync.WaitGroup) uint64 {
	octx, cancel := context.WithTimeout(ctx, g.opTimeout())
	defer cancel()
	val, _ := json.Marshal(leaseVal{Member: g.member})
	rev, err := g.b.leases.put(octx, g.memberKey(), val, annRev, g.cfg.LeaseTTL)
	if errors.Is(err, errConflict) { // written before by a member of this name, or expired
		_, cur, gerr := g.b.leases.get(octx, g.memberKey())
		if gerr == nil {
			rev, err = g.b.leases.put(octx, g.memberKey(), val, cur, g.cfg.LeaseTTL)
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			g.log.ErrorContext(ctx, "jetstream: announcing the group member failed; trying again",
				"group", g.cfg.Consumer.Group, "member", g.member, "err", err)
		}
		return 0
	}
	annRev = rev
	members, err := g.liveMembers(octx)
	if err != nil || members == 0 {
		return annRev
	}
	parts := g.b.cfg.Partitions
	target := lease.Target(parts, members)
	owned := g.Owned()
	if g.log.Enabled(ctx, slog.LevelDebug) {
		g.log.DebugContext(ctx, "jetstream: balance", "group", g.cfg.Consumer.Group, "member", g.member,
			"members", members, "target", target, "owned", owned)
	}
	if len(owned) > target {
		g.owned.Stop(owned[target:]...)
		return annRev
	}
	for _, n := range lease.Order(g.member, parts) {
		if len(owned) >= target || ctx.Err() != nil {
			break
		}
		if slices.Contains(owned, n) {
			continue
		}
		l, ok := g.acquire(octx, n)
		if !ok {
			continue
		}
		owned = append(owned, n)
		g.start(ctx, n, l, wg)
	}
	return annRev
}

// liveMembers counts the announced members. The key listing shows an
// expired announcement until the server's marker of its expiry goes too,
// so each listed key is read: a marker is no member.
func (g *Group) liveMembers(ctx context.Context) (int, error) {
	keys, err := g.b.leases.keys(ctx, g.memberFilter())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		v, _, err := g.b.leases.get(ctx, k)
		if err != nil {
			return 0, err
		}
		if v != nil {
			n++
		}
	}
	return n, nil
}

// leaseVal is the value of a lease or announcement key: the member and,
// for a lease, a nonce of this holding.
type leaseVal struct {
	Member string `json:"member"`
	Nonce  string `json:"nonce,omitempty"`
}

// acquire takes the lease of partition n when no one holds it.
func (g *Group) acquire(ctx context.Context, n int) (*lease.Lease, bool) {
	key := g.leaseKey(n)
	v, rev, err := g.b.leases.get(ctx, key)
	if err != nil || v != nil {
		g.log.DebugContext(ctx, "jetstream: partition lease not free", "group", g.cfg.Consumer.Group, "member", g.member,
			"partition", n, "holder", string(v), "err", err)
		return nil, false
	}
	val, _ := json.Marshal(leaseVal{Member: g.member, Nonce: nuid.Next()})
	sent := time.Now()
	nrev, err := g.b.leases.put(ctx, key, val, rev, g.cfg.LeaseTTL)
	if err != nil {
		g.log.DebugContext(ctx, "jetstream: taking a partition lease failed", "group", g.cfg.Consumer.Group, "member", g.member,
			"partition", n, "revision", rev, "err", err)
		return nil, false
	}
	return lease.New(lease.Config{Name: "jetstream: lease " + key, Lost: eventlog.ErrLockLost,
		TTL: g.cfg.LeaseTTL, Renew: g.cfg.Renew, Acquired: sent},
		&kvLease{kv: g.b.leases, key: key, val: val, rev: nrev, ttl: g.cfg.LeaseTTL}), true
}

// start runs the consumer of partition n, which holds l, until it stops
// or is stopped.
func (g *Group) start(ctx context.Context, n int, l *lease.Lease, wg *sync.WaitGroup) {
	pctx, stop := context.WithCancel(ctx)
	g.owned.Add(n, stop)
	go l.Keep()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			g.owned.Remove(n)
			stop()
		}()
		cfg := g.cfg.Consumer
		cfg.Group = eventlog.PartitionGroup(cfg.Group, n)
		c, err := eventlog.NewConsumer(&partView{Backend: g.b, n: n, lock: l}, cfg)
		if err != nil { // validated in NewGroup
			l.Unlock()
			g.log.ErrorContext(ctx, "jetstream: partition consumer", "group", cfg.Group, "err", err)
			return
		}
		err = c.Run(pctx)
		if err != nil && pctx.Err() == nil {
			g.log.WarnContext(ctx, "jetstream: partition consumer stopped; the partition is released",
				"group", cfg.Group, "member", g.member, "err", err)
		}
	}()
}

// partView is the Backend as the consumer of one partition sees it: Read
// returns that partition's events only, and the group lock is the
// partition's lease, held already. Its consumer reads it from one
// goroutine.
type partView struct {
	*Backend
	n    int
	lock *lease.Lease
	// quiet is set when the last read of the partition found nothing,
	// probed when a probe of the stream (Backend.probe) last replaced a
	// read.
	quiet  bool
	probed time.Time
	// No event of the partition is in (lo, hi], and every event through
	// hi is stored (SkippedTo).
	lo, hi uint64
}

var (
	_ eventlog.GroupLocker = (*partView)(nil)
	_ eventlog.Notifier    = (*partView)(nil)
	_ eventlog.Skipper     = (*partView)(nil)
)

// Read reads the partition's events after after. Once a read found
// nothing, the next one, at most every tailCheck, is a probe of the
// stream instead: it reads the partition only when the probe finds an
// event of it, and otherwise learns how far the stream has no event of
// the partition (SkippedTo), checking then that no event after after was
// trimmed.
func (v *partView) Read(ctx context.Context, after uint64, limit int) ([]eventlog.Entry, error) {
	if now := time.Now(); v.quiet && limit > 0 && now.Sub(v.probed) >= tailCheck {
		v.probed = now
		last, news, err := v.Backend.probe(ctx, after, v.n)
		if err != nil {
			return nil, err
		}
		if !news {
			if last > after || v.Backend.mustCheck(v.n, after, true) {
				// A skip would pass any event of the partition the
				// stream's limits deleted after after: ErrTrimmed.
				if err := v.Backend.checkTrimmed(ctx, after); err != nil {
					return nil, err
				}
			}
			if last > after {
				v.lo, v.hi = after, last
			}
			return nil, nil
		}
	}
	out, err := v.Backend.read(ctx, after, limit, v.n)
	v.quiet = err == nil && len(out) == 0
	return out, err
}

// SkippedTo implements [eventlog.Skipper]: the last probe found no event
// of the partition stored after after, through the stream's last
// sequence on the server that answered, whose store holds every event
// through it.
func (v *partView) SkippedTo(after uint64) uint64 {
	if v.lo <= after && after < v.hi {
		return v.hi
	}
	return after
}

// Appended implements [eventlog.Notifier] for the appends to this
// partition only, so that an append wakes the one consumer it concerns.
func (v *partView) Appended() <-chan struct{} { return v.Backend.partAppended(v.n) }

func (v *partView) TryLockGroup(context.Context, string) (eventlog.GroupLock, bool, error) {
	return v.lock, true, nil
}

// kvLease writes a held partition lease (a [lease.Lease]): its key,
// renewed with revision-checked writes. The holder gives up when no
// renewal succeeded for LeaseTTL − Renew since the last successful one
// was sent, which is before the server expires the key (at least
// LeaseTTL + 0.5s after that write: casKV.put rounds the TTL to the
// second and adds one).
type kvLease struct {
	kv  *casKV
	key string
	val []byte
	ttl time.Duration
	rev uint64 // of the last successful write; Renew's, then Release's
}

var (
	_ lease.Store        = (*kvLease)(nil)
	_ eventlog.GroupLock = (*lease.Lease)(nil)
)

// Renew implements [lease.Store]. A renewal refused because the key's
// revision changed adopts the new revision when the key still holds this
// lease's value (a renewal whose answer was lost had landed), and reports
// the lease taken otherwise.
func (l *kvLease) Renew(ctx context.Context) error {
	nrev, err := l.kv.put(ctx, l.key, l.val, l.rev, l.ttl)
	if errors.Is(err, errConflict) {
		var v []byte
		if v, nrev, err = l.kv.get(ctx, l.key); err == nil && !bytes.Equal(v, l.val) {
			err = errConflict
		}
		if err == nil { // our renewal landed: renew again on its revision
			nrev, err = l.kv.put(ctx, l.key, l.val, nrev, l.ttl)
		}
	}
	switch {
	case err == nil:
		l.rev = nrev
		return nil
	case errors.Is(err, errConflict):
		return fmt.Errorf("%w: %w", lease.ErrTaken, err)
	}
	return err
}

// Release implements [lease.Store]: it deletes the lease, when still
// held, so that another member may take the partition at once.
func (l *kvLease) Release(ctx context.Context) error {
	return l.kv.del(ctx, l.key, l.rev)
}
