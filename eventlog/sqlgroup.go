package eventlog

// This file owns partitioned consumer groups on the SQL backend: Group,
// its configuration, and the partition leases and member rows it keeps
// in the database (what its partitions' consumers read is
// sqlgroup_view.go's).

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/internal/lease"
)

// Defaults of [GroupConfig].
const (
	DefaultPartitions = 16
	DefaultLeaseTTL   = 4 * time.Second
)

// MaxPartitions is the largest GroupConfig.Partitions.
const MaxPartitions = 1024

// GroupConfig configures a [Group]. Consumer.Group and Consumer.Handler
// are required; the zero values of the other fields are the documented
// defaults. It is a plain value, safe for concurrent reads.
type GroupConfig struct {
	// Consumer configures the consumer of each partition this member
	// owns; Consumer.Group names the partitioned group. Each partition is
	// consumed as the consumer group [PartitionGroup](Group, N): its
	// cursor, retry states, epoch and dead letters are kept under that
	// name. Use one Dedupe store for every member (an
	// idempotency.SQLStore over the same database, say), so that an event
	// redelivered after a partition moved is not handled twice.
	Consumer ConsumerConfig
	// Partitions is the number of partitions P the events are spread over
	// by their partition key ([PartitionOf]): the unit of ownership. Every
	// member of a group must use the same P, which stays the group's for
	// its life (Run refuses another one, matching [ErrInvalidConfig]): a
	// different P moves keys to other partitions. Zero means
	// [DefaultPartitions]; at most [MaxPartitions].
	Partitions int
	// Member names this process among the members of the group; two
	// running members must not share a name. Empty means a random name.
	// At most 200 bytes.
	Member string
	// LeaseTTL is how long a partition lease, and a member's
	// announcement, count as held without renewal, as each other member
	// measures it on its own clock from when it saw the last renewal: a
	// crashed member's partitions are taken over within LeaseTTL +
	// 2×Renew. Zero means [DefaultLeaseTTL]; at least 10ms.
	LeaseTTL time.Duration
	// Renew is how often a member renews its leases and announcement and
	// balances the partitions. Zero means LeaseTTL/4; less than
	// LeaseTTL/2.
	Renew time.Duration
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c GroupConfig) Validate() error {
	if err := c.Consumer.Validate(); err != nil {
		return err
	}
	ttl := c.LeaseTTL
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	switch {
	case c.Partitions < 0 || c.Partitions > MaxPartitions:
		return fmt.Errorf("eventlog: GroupConfig.Partitions %d is not within 0..%d: %w", c.Partitions, MaxPartitions, ErrInvalidConfig)
	case ttl < 10*time.Millisecond:
		return fmt.Errorf("eventlog: GroupConfig.LeaseTTL %v is below 10ms: %w", c.LeaseTTL, ErrInvalidConfig)
	case c.Renew < 0 || c.Renew*2 >= ttl:
		return fmt.Errorf("eventlog: GroupConfig.Renew %v is negative or not below LeaseTTL/2: %w", c.Renew, ErrInvalidConfig)
	case len(PartitionGroup(c.Consumer.Group, MaxPartitions-1)) > 200:
		return fmt.Errorf("eventlog: GroupConfig.Consumer.Group %q is too long: with the partition suffix it must be at most 200 bytes: %w",
			c.Consumer.Group, ErrInvalidConfig)
	case len(c.Member) > 200:
		return fmt.Errorf("eventlog: GroupConfig.Member is longer than 200 bytes: %w", ErrInvalidConfig)
	}
	return nil
}

// PartitionGroup returns the name of the consumer group that consumes
// partition n of the partitioned group group: "GROUP/pN". Its cursor,
// epoch and retry states ([Cursors.Group]) and its dead letters
// (Filter.Consumer) are kept under that name. It is the naming of the
// eventlog/jetstream package's partitioned groups too.
func PartitionGroup(group string, n int) string { return group + "/p" + strconv.Itoa(n) }

// PartitionOf returns the partition, 0 to partitions-1, of the events
// whose partition key ([canonical.Event.Partition]) is key: the 32-bit
// FNV-1a hash of key modulo partitions, as the eventlog/jetstream
// package's Backend.PartitionOf computes it. It returns 0 when
// partitions is less than 1.
func PartitionOf(key string, partitions int) int {
	if partitions < 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(partitions))
}

// Group is one member of a partitioned consumer group over an [SQL]
// backend: several processes (members) run a Group of the same name over
// one database, and the group's partitions are shared among them, each
// partition owned by one member at a time and consumed there by a
// [Consumer] (in order per key, with the error policy and dead letters of
// this package). See the package documentation, section Partitioned
// groups, for the guarantees.
//
// Create it with [SQL.NewGroup]. A Group is safe for concurrent use; Run
// runs it, once at a time. The zero value is not usable.
type Group struct {
	s      *SQL
	cfg    GroupConfig
	log    *slog.Logger
	member string

	running atomic.Bool
	owned   lease.Owned
	tail    tail
	scan    idleScan // WaitIdle's
}

// NewGroup returns a member of the partitioned group cfg.Consumer.Group
// over s. The error matches [ErrInvalidConfig].
func (s *SQL) NewGroup(cfg GroupConfig) (*Group, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultPartitions
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Renew == 0 {
		cfg.Renew = cfg.LeaseTTL / 4
	}
	if cfg.Member == "" {
		cfg.Member = randomToken()
	}
	g := &Group{s: s, cfg: cfg, log: cfg.Consumer.Logger, member: cfg.Member}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	return g, nil
}

// randomToken returns 16 random bytes in hex.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// randomVersion returns a random version in [1, 2^40), far from the
// largest value of a BIGINT however often it is incremented.
func randomVersion() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])>>24) | 1
}

// Member returns the name of this member.
func (g *Group) Member() string { return g.member }

// Owned returns the partitions this member owns now, in increasing order.
func (g *Group) Owned() []int { return g.owned.List() }

// Run announces the member, takes its share of the partitions and
// consumes them until ctx is done; then it withdraws the announcement,
// stops the consumers of its partitions (each drains and commits, as
// [Consumer.Run] does) and releases their leases, so that the other
// members take them over at their next balance, and returns
// context.Cause(ctx). Failures to reach the database are logged and tried
// again at the next Renew; a partition whose lease was lost or whose
// writes were fenced is stopped and may be taken again later. Run returns
// [ErrRunning] when the Group is running already, an error matching
// [ErrNotMigrated] when the tables are missing and one matching
// [ErrInvalidConfig] when the group has another number of partitions in
// the database than GroupConfig.Partitions.
func (g *Group) Run(ctx context.Context) error {
	if !g.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer g.running.Store(false)
	t := time.NewTicker(g.cfg.Renew)
	defer t.Stop()
	var wg sync.WaitGroup
	ob := observer{leases: map[int]seen{}, members: map[string]seen{}}
	for {
		err := g.balance(ctx, &ob, &wg)
		if err != nil {
			g.leave(&wg)
			return err
		}
		select {
		case <-ctx.Done():
			g.leave(&wg)
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// leave withdraws the announcement, then stops every partition and waits
// for their consumers, which release the leases.
func (g *Group) leave(wg *sync.WaitGroup) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.LeaseTTL)
	_, _ = g.s.db.ExecContext(ctx, g.s.q("DELETE FROM {p}members WHERE grp = ? AND member = ?"), g.cfg.Consumer.Group, g.member)
	cancel()
	g.owned.StopAll()
	wg.Wait()
}

// seen is what a member last saw of a lease or announcement row: its
// version and when (on this member's clock) it first saw that version.
type seen struct {
	ver int64
	at  time.Time
}

// observer remembers the versions of the rows of other members, so that
// a row whose version did not change for LeaseTTL, as this member
// measured it, counts as abandoned: no clock is compared across
// processes.
type observer struct {
	leases  map[int]seen
	members map[string]seen
}

// stale records ver as the version of a row last seen in m[k] and
// reports whether it has not changed for ttl.
func stale[K comparable](m map[K]seen, k K, ver int64, now time.Time, ttl time.Duration) bool {
	s, ok := m[k]
	if !ok || s.ver != ver {
		m[k] = seen{ver: ver, at: now}
		return false
	}
	return now.Sub(s.at) >= ttl
}

// leaseRow is a partition's lease row: its holder's name and token (both
// empty when free) and its version, which every acquisition, renewal and
// release increments.
type leaseRow struct {
	part   int
	holder string
	token  string
	ver    int64
}

// balance renews the announcement, counts the live members and takes or
// releases partitions so that this member owns at most
// ceil(partitions/members) of them. It returns an error only for what no
// retry cures (missing tables, another number of partitions); other
// failures are logged.
func (g *Group) balance(ctx context.Context, ob *observer, wg *sync.WaitGroup) error {
	octx, cancel := context.WithTimeout(ctx, g.cfg.LeaseTTL/2)
	defer cancel()
	members, leases, err := g.survey(octx, ob)
	if err != nil {
		if errors.Is(err, ErrNotMigrated) || errors.Is(err, ErrInvalidConfig) {
			return err
		}
		if ctx.Err() == nil {
			g.log.ErrorContext(ctx, "eventlog: balancing the partitioned group failed; trying again",
				"group", g.cfg.Consumer.Group, "member", g.member, "err", err)
		}
		return nil
	}
	parts := g.cfg.Partitions
	target := lease.Target(parts, members)
	owned := g.Owned()
	// Every lease row is observed at every balance, so that one whose
	// holder stopped renewing is found free LeaseTTL after its last
	// renewal was seen, whether or not this member wants more partitions
	// then.
	free := make([]bool, parts)
	now := time.Now()
	for _, r := range leases {
		switch {
		case slices.Contains(owned, r.part):
			delete(ob.leases, r.part)
		case r.token == "":
			delete(ob.leases, r.part)
			free[r.part] = true
		default:
			free[r.part] = stale(ob.leases, r.part, r.ver, now, g.cfg.LeaseTTL)
		}
	}
	if len(owned) > target {
		g.owned.Stop(owned[target:]...)
		return nil
	}
	for _, n := range lease.Order(g.member, parts) {
		if len(owned) >= target || ctx.Err() != nil {
			break
		}
		if slices.Contains(owned, n) || !free[n] {
			continue
		}
		r := leases[n]
		l, err := g.acquire(octx, r)
		if err != nil {
			if ctx.Err() == nil {
				g.log.ErrorContext(ctx, "eventlog: taking a partition failed; trying again",
					"group", g.cfg.Consumer.Group, "partition", n, "member", g.member, "err", err)
			}
			continue
		}
		if l == nil { // taken or renewed since it was read
			continue
		}
		delete(ob.leases, n)
		owned = append(owned, n)
		g.start(ctx, n, l, wg)
	}
	return nil
}

// survey reads the lease rows by partition, creating them on first use
// and checking their number before anything else (a member configured
// with another number does not announce itself); then it renews this
// member's announcement, counts the live members and deletes the
// announcements of members found dead.
func (g *Group) survey(ctx context.Context, ob *observer) (members int, leases []leaseRow, err error) {
	s, grp := g.s, g.cfg.Consumer.Group
	for range 2 {
		if leases, err = g.leaseRows(ctx); err != nil || len(leases) > 0 {
			break
		}
		// A new group: create its lease rows, all free, in one statement
		// (members starting at once create them together).
		var b strings.Builder
		b.WriteString("INSERT INTO {p}leases (grp, part, holder, token, ver) VALUES ")
		args := make([]any, 0, g.cfg.Partitions)
		for n := range g.cfg.Partitions {
			if n > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, " + strconv.Itoa(n) + ", '', '', 0)")
			args = append(args, grp)
		}
		b.WriteString(" ON CONFLICT (grp, part) DO NOTHING")
		if _, err = s.db.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return 0, nil, s.wrap("create partition leases", err)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	if len(leases) != g.cfg.Partitions || leases[len(leases)-1].part != g.cfg.Partitions-1 {
		return 0, nil, fmt.Errorf("eventlog: partitioned group %q has %d partitions in the database, GroupConfig.Partitions is %d: %w",
			grp, len(leases), g.cfg.Partitions, ErrInvalidConfig)
	}
	// A new row starts at a random version, so that a member seen at
	// version v, removed and announced again is not taken for unchanged.
	if _, err := s.db.ExecContext(ctx, s.q("INSERT INTO {p}members (grp, member, ver) VALUES (?, ?, ?) "+
		"ON CONFLICT (grp, member) DO UPDATE SET ver = {p}members.ver + 1"), grp, g.member, randomVersion()); err != nil {
		return 0, nil, s.wrap("announce group member", err)
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT member, ver FROM {p}members WHERE grp = ?"), grp)
	if err != nil {
		return 0, nil, s.wrap("list group members", err)
	}
	now := time.Now()
	var dead []seen
	var deadNames []string
	live := map[string]bool{}
	for rows.Next() {
		var m string
		var ver int64
		if err := rows.Scan(&m, &ver); err != nil {
			rows.Close()
			return 0, nil, s.wrap("list group members", err)
		}
		live[m] = true
		if m != g.member && stale(ob.members, m, ver, now, g.cfg.LeaseTTL) {
			dead, deadNames = append(dead, seen{ver: ver}), append(deadNames, m)
			delete(live, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, s.wrap("list group members", err)
	}
	for m := range ob.members {
		if !live[m] {
			delete(ob.members, m)
		}
	}
	for i, m := range deadNames {
		// Only when it did not announce itself again since.
		if _, err := s.db.ExecContext(ctx, s.q("DELETE FROM {p}members WHERE grp = ? AND member = ? AND ver = ?"),
			grp, m, dead[i].ver); err != nil {
			return 0, nil, s.wrap("remove dead group member", err)
		}
	}
	members = max(len(live), 1)
	return members, leases, nil
}

// leaseRows returns the group's lease rows in partition order.
func (g *Group) leaseRows(ctx context.Context) ([]leaseRow, error) {
	s := g.s
	rows, err := s.db.QueryContext(ctx, s.q("SELECT part, holder, token, ver FROM {p}leases WHERE grp = ? ORDER BY part"), g.cfg.Consumer.Group)
	if err != nil {
		return nil, s.wrap("list partition leases", err)
	}
	defer rows.Close()
	var out []leaseRow
	for rows.Next() {
		var r leaseRow
		if err := rows.Scan(&r.part, &r.holder, &r.token, &r.ver); err != nil {
			return nil, s.wrap("list partition leases", err)
		}
		out = append(out, r)
	}
	return out, s.wrap("list partition leases", rows.Err())
}

// acquire takes the lease of r's partition when its row is still at the
// version read (a compare-and-set); it returns nil when it is not.
func (g *Group) acquire(ctx context.Context, r leaseRow) (*lease.Lease, error) {
	token := randomToken()
	sent := time.Now()
	res, err := g.s.db.ExecContext(ctx, g.s.q("UPDATE {p}leases SET holder = ?, token = ?, ver = ver + 1 WHERE grp = ? AND part = ? AND ver = ?"),
		g.member, token, g.cfg.Consumer.Group, r.part, r.ver)
	if err != nil {
		return nil, g.s.wrap("take partition lease", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, g.s.wrap("take partition lease", err)
	}
	return lease.New(lease.Config{Name: fmt.Sprintf("eventlog: lease of partition %d of group %q", r.part, g.cfg.Consumer.Group),
		Lost: ErrLockLost, TTL: g.cfg.LeaseTTL, Renew: g.cfg.Renew, Acquired: sent},
		sqlLease{s: g.s, grp: g.cfg.Consumer.Group, part: r.part, token: token}), nil
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
		cfg.Group = PartitionGroup(cfg.Group, n)
		c, err := NewConsumer(&partView{SQL: g.s, n: n, parts: g.cfg.Partitions, lock: l, tail: &g.tail,
			poll: cmp.Or(cfg.PollInterval, DefaultPollInterval)}, cfg)
		if err != nil { // validated in NewGroup
			l.Unlock()
			g.log.ErrorContext(ctx, "eventlog: partition consumer", "group", cfg.Group, "err", err)
			return
		}
		err = c.Run(pctx)
		if err != nil && pctx.Err() == nil {
			g.log.WarnContext(ctx, "eventlog: partition consumer stopped; the partition is released",
				"group", cfg.Group, "member", g.member, "err", err)
		}
	}()
}

// sqlLease writes a held partition lease (a [lease.Lease]): its row,
// renewed by an increment of its version conditional on the lease's
// token. Another member takes the partition only once it saw the row's
// version unchanged for LeaseTTL, and the last version it saw was written
// after the holder's last successful renewal was sent: the holder, which
// gives up LeaseTTL − Renew after that, stops at least Renew before.
type sqlLease struct {
	s     *SQL
	grp   string
	part  int
	token string
}

var (
	_ lease.Store = sqlLease{}
	_ GroupLock   = (*lease.Lease)(nil)
)

// Renew implements [lease.Store].
func (l sqlLease) Renew(ctx context.Context) error {
	res, err := l.s.db.ExecContext(ctx, l.s.q("UPDATE {p}leases SET ver = ver + 1 WHERE grp = ? AND part = ? AND token = ?"),
		l.grp, l.part, l.token)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	switch {
	case err != nil:
		return err
	case n != 1:
		return lease.ErrTaken
	}
	return nil
}

// Release implements [lease.Store]: it frees the lease row, when still
// held, so that another member may take the partition at once.
func (l sqlLease) Release(ctx context.Context) error {
	_, err := l.s.db.ExecContext(ctx, l.s.q("UPDATE {p}leases SET holder = '', token = '', ver = ver + 1 WHERE grp = ? AND part = ? AND token = ?"),
		l.grp, l.part, l.token)
	return err
}

// groupTables returns the statements of [SQL.Migrate] that create the
// tables of partitioned groups: PREFIXleases (one row per partition of a
// group) and PREFIXmembers (one row per announced member).
func groupTables(big string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS {p}leases (grp TEXT NOT NULL, part INTEGER NOT NULL, holder TEXT NOT NULL,
			token TEXT NOT NULL, ver ` + big + ` NOT NULL, PRIMARY KEY (grp, part))`,
		`CREATE TABLE IF NOT EXISTS {p}members (grp TEXT NOT NULL, member TEXT NOT NULL, ver ` + big + ` NOT NULL,
			PRIMARY KEY (grp, member))`,
	}
}
