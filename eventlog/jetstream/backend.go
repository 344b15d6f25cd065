package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
)

// Defaults of [Config].
const (
	DefaultStream          = "DISTSYNC_EVENTS"
	DefaultSubject         = "distsync.events"
	DefaultBucketPrefix    = "distsync"
	DefaultDuplicateWindow = 2 * time.Minute
	// DefaultPartitions is the number of partitions of the log when
	// Config.Partitions is zero.
	DefaultPartitions = 16
	// MaxAtomicBatch is the largest batch Append writes all or none (the
	// server's default limit of an atomic batch). A larger batch is
	// written in chunks of this size, each all or none.
	MaxAtomicBatch = 1000
)

// Config configures a [Backend]. The zero value is valid apart from URL.
// It is a plain value, safe for concurrent reads.
type Config struct {
	// URL is the NATS server URL (several separated by commas; user and
	// password may be given in the URL). Required.
	URL string
	// Stream is the name of the JetStream stream holding the events.
	// Empty means [DefaultStream].
	Stream string
	// Subject is the subject prefix of the events: an event is stored on
	// SUBJECT.p.N, N its partition ([Backend.PartitionOf]). Empty means
	// [DefaultSubject].
	Subject string
	// Partitions is the number of partitions P the events are spread over
	// by their partition key ([canonical.Event.Partition]): the unit of
	// ownership of a [Group]. Every process appending to the stream must
	// use the same P; changing it moves keys to other partitions, so
	// change it only while no group has events in flight. Zero means
	// [DefaultPartitions]; at most 1024.
	Partitions int
	// BucketPrefix names the key-value buckets of the group states
	// (PREFIX_groups) and dead letters (PREFIX_deadletters). Empty means
	// [DefaultBucketPrefix].
	BucketPrefix string
	// Replicas is the replication factor of the stream and the buckets
	// (1, 3 or 5 on a cluster). Zero means 1.
	Replicas int
	// DuplicateWindow is how long the stream remembers the dedupe key of
	// an appended event (Nats-Msg-Id): an event appended again within it
	// is not stored twice. Zero means [DefaultDuplicateWindow].
	DuplicateWindow time.Duration
	// MaxAge, MaxBytes and MaxMsgs are the retention limits of the event
	// stream: the server deletes the oldest events beyond any of them,
	// and a Read before the first event left fails with
	// [eventlog.ErrTrimmed]. Zero means no limit. Set them with room:
	// the server deletes events whether the consumer groups committed
	// them or not; [Backend.TrimEvents] deletes only committed ones.
	MaxAge   time.Duration
	MaxBytes int64
	MaxMsgs  int64
	// Now is the clock of audit entries. Nil means time.Now.
	Now func() time.Time
	// Logger receives a Warn, once per Backend for the subscription and
	// once for the publishes, when the server refuses the NATS user the
	// subject of the append notices, _DISTSYNC.appended.STREAM (see
	// Wake-ups in the package doc): consumers then wake only on their
	// poll interval. Nil leaves those refusals to the NATS client's
	// default error handler, which prints each to stderr.
	Logger *slog.Logger
	// Existing makes Open open the stream and buckets as they are, for
	// tools that read a store a flow keeps: it creates nothing, changes
	// no setting (Replicas, DuplicateWindow and the limits are ignored),
	// and fails with a [*NotFoundError] naming the stream or bucket that
	// is not there. An empty Subject is then the stream's own; another
	// than the stream's is an error matching [eventlog.ErrInvalidConfig].
	Existing bool
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
var subjectRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// Validate reports a configuration error, matching
// [eventlog.ErrInvalidConfig].
func (c Config) Validate() error {
	bad := func(what string) error {
		return fmt.Errorf("jetstream: Config.%s: %w", what, eventlog.ErrInvalidConfig)
	}
	switch {
	case c.URL == "":
		return bad("URL is empty")
	case c.Stream != "" && !nameRE.MatchString(c.Stream):
		return bad(fmt.Sprintf("Stream %q is not a stream name (letters, digits, - and _)", c.Stream))
	case c.BucketPrefix != "" && !nameRE.MatchString(c.BucketPrefix):
		return bad(fmt.Sprintf("BucketPrefix %q is not a bucket name (letters, digits, - and _)", c.BucketPrefix))
	case c.Subject != "" && !subjectRE.MatchString(c.Subject):
		return bad(fmt.Sprintf("Subject %q is not a subject without wildcards", c.Subject))
	case c.Replicas < 0 || c.Replicas > 5:
		return bad(fmt.Sprintf("Replicas %d is not within 0..5", c.Replicas))
	case c.Partitions < 0 || c.Partitions > 1024:
		return bad(fmt.Sprintf("Partitions %d is not within 0..1024", c.Partitions))
	case c.DuplicateWindow < 0 || c.MaxAge < 0 || c.MaxBytes < 0 || c.MaxMsgs < 0:
		return bad("DuplicateWindow, MaxAge, MaxBytes or MaxMsgs is negative")
	}
	return nil
}

func (c *Config) defaults() {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Subject == "" && !c.Existing {
		c.Subject = DefaultSubject
	}
	if c.BucketPrefix == "" {
		c.BucketPrefix = DefaultBucketPrefix
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Backend is an [eventlog.Backend] on NATS JetStream: the log is a stream,
// the group states and the dead letters are key-value buckets. Several
// processes may open the same Backend (the same Config against the same
// NATS system); each sees the others' appends, cursors and dead letters.
//
// Create it with [Open] and end it with [Close]. The zero value is not
// usable. A Backend is safe for concurrent use.
type Backend struct {
	cfg    Config
	nc     *nats.Conn
	js     natsjs.JetStream
	stream natsjs.Stream
	groups natsjs.KeyValue
	dead   natsjs.KeyValue
	// leases holds the partition leases and members of Groups.
	leases *casKV
	// deadStream is the stream of the dead letters bucket.
	deadStream natsjs.Stream

	// id tells this Backend's wake-up messages from other processes'.
	id string
	// respPrefix is the prefix of the reply subjects of reads, answered
	// on one wildcard subscription (respSub) and routed by their last
	// token to the read waiting for them (resps).
	respPrefix string
	respSub    *nats.Subscription
	wakeSub    *nats.Subscription
	respN      atomic.Uint64
	// wakeSubDenied and wakePubDenied are set once the server refused
	// the subscription to, or a publish of, the append notices.
	wakeSubDenied atomic.Bool
	wakePubDenied atomic.Bool
	closed        chan struct{} // closed by Close: reads waiting for replies stop
	closeOnce     sync.Once

	mu         sync.Mutex
	resps      map[string]*pendingRead
	notify     chan struct{}
	partNotify []chan struct{} // per partition: closed at its next append
	lastSeen   []uint64        // the highest offset read, of the whole log (0) and of each partition (1+N)
	lastCheck  time.Time       // when a read at the tail last asked for the stream's first offset
	deadSeq    uint64          // the dead letters bucket's last sequence when deadCache was read
	deadCache  []deadRec
	deadRevs   []uint64
	// groupCache holds the state of each group as this Backend last read
	// or wrote it, with its revision: a write tries it first, and reads
	// the key only when another writer came in between.
	groupCache map[string]cachedGroup

	// beforeFencedWrite, when set (by tests), runs before each write
	// checked against an epoch, after the epoch was read.
	beforeFencedWrite func()
}

type cachedGroup struct {
	rec groupRec
	rev uint64
}

var (
	_ eventlog.Backend  = (*Backend)(nil)
	_ eventlog.Notifier = (*Backend)(nil)
	_ eventlog.Pruner   = (*Backend)(nil)
)

// Open connects to NATS and creates the stream and buckets, or updates
// their configuration when they exist; with Config.Existing it only opens
// them.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	nc, err := nats.Connect(cfg.URL, nats.Name("distsync eventlog"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("jetstream: connect to %s: %w", cfg.URL, err)
	}
	b, err := open(ctx, cfg, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

func open(ctx context.Context, cfg Config, nc *nats.Conn) (*Backend, error) {
	js, err := natsjs.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b := &Backend{cfg: cfg, nc: nc, js: js, id: nuid.Next(), notify: make(chan struct{}),
		partNotify: make([]chan struct{}, cfg.Partitions), lastSeen: make([]uint64, cfg.Partitions+1),
		resps: make(map[string]*pendingRead), closed: make(chan struct{})}
	for i := range b.partNotify {
		b.partNotify[i] = make(chan struct{})
	}
	b.catchWakeDenials()
	b.respPrefix = nc.NewInbox() + "."
	if b.respSub, err = nc.Subscribe(b.respPrefix+"*", b.onResp); err != nil {
		return nil, fmt.Errorf("jetstream: subscribe to read replies: %w", err)
	}
	if b.wakeSub, err = nc.Subscribe(b.wakeSubject(), b.onWake); err != nil {
		return nil, fmt.Errorf("jetstream: subscribe to append notices: %w", err)
	}
	if !cfg.Existing {
		if err := b.ensureStream(ctx); err != nil {
			return nil, err
		}
	}
	st, err := js.Stream(ctx, cfg.Stream)
	if err != nil {
		if cfg.Existing && errors.Is(err, natsjs.ErrStreamNotFound) {
			return nil, &NotFoundError{Kind: "stream", Name: cfg.Stream, Err: err}
		}
		return nil, fmt.Errorf("jetstream: stream %s: %w", cfg.Stream, err)
	}
	b.stream = boundedStream{st}
	if cfg.Existing {
		subj := b.stream.CachedInfo().Config.Subjects
		switch {
		case len(subj) != 1 || !strings.HasSuffix(subj[0], ".>"):
			return nil, fmt.Errorf("jetstream: stream %s has subjects %q, not one SUBJECT.>: %w", cfg.Stream, subj, eventlog.ErrInvalidConfig)
		case cfg.Subject == "":
			b.cfg.Subject = strings.TrimSuffix(subj[0], ".>")
		case subj[0] != cfg.Subject+".>":
			return nil, fmt.Errorf("jetstream: stream %s has subject %s, not Config.Subject %s.>: %w", cfg.Stream, subj[0], cfg.Subject, eventlog.ErrInvalidConfig)
		}
	}
	kv := func(name string) (natsjs.KeyValue, error) {
		return openKV(ctx, js, natsjs.KeyValueConfig{
			Bucket: cfg.BucketPrefix + "_" + name, Storage: natsjs.FileStorage, Replicas: cfg.Replicas, History: 1}, cfg.Existing)
	}
	if b.groups, err = kv("groups"); err != nil {
		return nil, err
	}
	if b.dead, err = b.openDeadLetters(ctx, kv); err != nil {
		return nil, err
	}
	if b.leases, err = openCASKV(ctx, js, cfg.BucketPrefix+"_leases", cfg.Replicas, cfg.Existing); err != nil {
		return nil, err
	}
	dst, err := js.Stream(ctx, "KV_"+cfg.BucketPrefix+"_deadletters")
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream of bucket %s_deadletters: %w", cfg.BucketPrefix, err)
	}
	b.deadStream = boundedStream{dst}
	return b, nil
}

// ensureStream creates the event stream, or updates it. It goes through
// the JetStream API directly because the client's StreamConfig has no
// field for atomic batch publishing.
func (b *Backend) ensureStream(ctx context.Context) error {
	sc := natsjs.StreamConfig{
		Name:        b.cfg.Stream,
		Subjects:    []string{b.cfg.Subject + ".>"},
		Storage:     natsjs.FileStorage,
		Replicas:    b.cfg.Replicas,
		Retention:   natsjs.LimitsPolicy,
		Discard:     natsjs.DiscardOld,
		Duplicates:  b.cfg.DuplicateWindow,
		MaxAge:      b.cfg.MaxAge,
		MaxBytes:    orUnlimited(b.cfg.MaxBytes),
		MaxMsgs:     orUnlimited(b.cfg.MaxMsgs),
		AllowDirect: true,
	}
	raw, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("jetstream: encode stream config: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("jetstream: encode stream config: %w", err)
	}
	m["allow_atomic"] = true
	req, _ := json.Marshal(m)
	for _, op := range []string{"CREATE", "UPDATE"} {
		rctx, cancel := requestCtx(ctx)
		resp, err := b.nc.RequestWithContext(rctx, "$JS.API.STREAM."+op+"."+b.cfg.Stream, req)
		cancel()
		if err != nil {
			return fmt.Errorf("jetstream: %s stream %s: %w", op, b.cfg.Stream, err)
		}
		var r struct {
			Error *natsjs.APIError `json:"error"`
		}
		if err := json.Unmarshal(resp.Data, &r); err != nil {
			return fmt.Errorf("jetstream: %s stream %s: bad response: %w", op, b.cfg.Stream, err)
		}
		if r.Error == nil {
			return nil
		}
		if op == "CREATE" && r.Error.ErrorCode == natsjs.JSErrCodeStreamNameInUse {
			continue
		}
		return fmt.Errorf("jetstream: %s stream %s: %w", op, b.cfg.Stream, r.Error)
	}
	return nil
}

func orUnlimited(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// Close closes the connection to NATS. The Backend is not usable after.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() { close(b.closed) })
	b.nc.Close()
	return nil
}

// Appended implements [eventlog.Notifier]: the channel is closed at the
// next append of any process appending through a Backend of the same
// stream, this one at once and another within the time a NATS message
// takes to come (see [Backend.Append]).
func (b *Backend) Appended() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.notify
}

// partAppended is Appended for the appends to partition n only.
func (b *Backend) partAppended(n int) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.partNotify[n]
}

// wake closes the channels of Appended and of the partitions whose bit
// is set in parts; every partition's when parts is nil.
func (b *Backend) wake(parts []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.notify)
	b.notify = make(chan struct{})
	for n := range b.partNotify {
		if parts == nil || parts[n/8]&(1<<(n%8)) != 0 {
			close(b.partNotify[n])
			b.partNotify[n] = make(chan struct{})
		}
	}
}

// wakeSubject is the subject of the append notices of the stream: a core
// NATS subject outside the stream's, so that the notices are not stored.
func (b *Backend) wakeSubject() string { return "_DISTSYNC.appended." + b.cfg.Stream }

// catchWakeDenials makes the connection's error handler log through
// Config.Logger, once for the subscription and once for the publishes,
// that the server refused the append notices' subject to the NATS user
// (a permissions violation, which the server reports asynchronously, to
// the error handler, not to Subscribe or Publish). Every other error, and
// those too when Config.Logger is nil, goes to the handler the connection
// had.
func (b *Backend) catchWakeDenials() {
	prev := b.nc.ErrorHandler()
	subj := strconv.Quote(b.wakeSubject()) // the server quotes it with %q
	b.nc.SetErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
		var denied *atomic.Bool
		var msg string
		if b.cfg.Logger != nil && errors.Is(err, nats.ErrPermissionViolation) {
			switch e := err.Error(); {
			case strings.Contains(e, "Subscription to "+subj):
				denied, msg = &b.wakeSubDenied, "jetstream: the NATS user may not subscribe to the append notices; "+
					"this Backend's consumers wake for other processes' appends only on their poll interval"
			case strings.Contains(e, "Publish to "+subj):
				denied, msg = &b.wakePubDenied, "jetstream: the NATS user may not publish the append notices; "+
					"other processes' consumers wake for this Backend's appends only on their poll interval"
			}
		}
		switch {
		case denied == nil:
			if prev != nil {
				prev(nc, sub, err)
			}
		case denied.CompareAndSwap(false, true):
			b.cfg.Logger.WarnContext(context.Background(), msg, "stream", b.cfg.Stream, "subject", b.wakeSubject(), "err", err)
		}
	})
}

// onWake handles an append notice: the appending Backend's id and the
// bitmap of the partitions appended to.
func (b *Backend) onWake(m *nats.Msg) {
	if len(m.Data) < len(b.id) || string(m.Data[:len(b.id)]) == b.id {
		return // this Backend's own notice: it woke its readers already
	}
	parts := m.Data[len(b.id):]
	if len(parts) != (b.cfg.Partitions+7)/8 {
		parts = nil // another partition count: wake every partition
	}
	b.wake(parts)
}

// msgID returns the Nats-Msg-Id of e: its dedupe key (source and id) when
// that is short printable ASCII, else a digest of it.
func msgID(e *canonical.Event) string {
	k := e.Key().String()
	if len(k) <= 200 && printable(k) {
		return k
	}
	h := sha256.Sum256([]byte(strconv.Itoa(len(e.Source)) + ":" + e.Source + e.ID))
	return "sha256:" + hex.EncodeToString(h[:])
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// partSubject returns the subject of partition n.
func (b *Backend) partSubject(n int) string { return b.cfg.Subject + ".p." + strconv.Itoa(n) }

// Partitions returns the number of partitions of the log (Config.Partitions).
func (b *Backend) Partitions() int { return b.cfg.Partitions }

// PartitionOf returns the partition, 0 to Partitions()-1, of the events
// whose partition key ([canonical.Event.Partition]) is key: the 32-bit
// FNV-1a hash of key modulo the number of partitions, as
// [eventlog.PartitionOf] computes it for the SQL backend's groups.
func (b *Backend) PartitionOf(key string) int { return eventlog.PartitionOf(key, b.cfg.Partitions) }

// Append implements [eventlog.Log.Append]. Each event is published with
// its dedupe key as Nats-Msg-Id, so an event appended again within the
// stream's duplicate window (a relay retrying a batch) is stored once. A
// batch of up to [MaxAtomicBatch] events is one atomic batch publish: all
// or none. When such a batch holds an event already stored, the server
// refuses the batch whole; Append then publishes its events one at a time,
// each deduplicated, so that the events not yet stored are stored once.
func (b *Backend) Append(ctx context.Context, events ...canonical.Event) error {
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return fmt.Errorf("jetstream: event %d of %d (id %q): %w: %w", i, len(events), events[i].ID, eventlog.ErrInvalidEvent, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if len(events) == 0 {
		return nil
	}
	msgs := make([]*nats.Msg, len(events))
	notice := make([]byte, len(b.id)+(b.cfg.Partitions+7)/8)
	copy(notice, b.id)
	parts := notice[len(b.id):]
	for i := range events {
		data, err := events[i].MarshalJSON()
		if err != nil {
			return fmt.Errorf("jetstream: encode event %d of %d (id %q): %w: %w", i, len(events), events[i].ID, eventlog.ErrInvalidEvent, err)
		}
		n := b.PartitionOf(events[i].Partition())
		parts[n/8] |= 1 << (n % 8)
		m := nats.NewMsg(b.partSubject(n))
		m.Data = data
		m.Header.Set(natsjs.MsgIDHeader, msgID(&events[i]))
		msgs[i] = m
	}
	defer func() {
		// Readers of this Backend wake at once, other processes' when the
		// notice comes (a notice lost leaves them to their next poll).
		b.wake(parts)
		_ = b.nc.Publish(b.wakeSubject(), notice)
	}()
	for len(msgs) > 0 {
		n := min(len(msgs), MaxAtomicBatch)
		if err := b.publishBatch(ctx, msgs[:n]); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

// publishBatch publishes msgs all or none.
func (b *Backend) publishBatch(ctx context.Context, msgs []*nats.Msg) error {
	if len(msgs) == 1 {
		return b.publishOne(ctx, msgs[0])
	}
	err := b.atomicBatch(ctx, msgs)
	var apiErr *natsjs.APIError
	if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode != errCodeBatchDuplicate {
		if err != nil {
			return fmt.Errorf("jetstream: append batch of %d: %w", len(msgs), err)
		}
		return nil
	}
	// A batch holding an event stored already: publish one at a time.
	for _, m := range msgs {
		m.Header.Del("Nats-Batch-Id")
		m.Header.Del("Nats-Batch-Sequence")
		m.Header.Del("Nats-Batch-Commit")
		if err := b.publishOne(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// atomicBatch publishes msgs, to one stream that allows atomic batches,
// as one atomic batch: the server stores all of them or none. An error
// the server gave wraps its *natsjs.APIError.
func (b *Backend) atomicBatch(ctx context.Context, msgs []*nats.Msg) error {
	id := nuid.Next()
	for i, m := range msgs {
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(msgs)-1 {
			if err := b.nc.PublishMsg(m); err != nil {
				return err
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
	}
	rctx, cancel := requestCtx(ctx)
	defer cancel()
	resp, err := b.nc.RequestMsgWithContext(rctx, msgs[len(msgs)-1])
	if err != nil {
		return err
	}
	if apiErr := ackError(resp.Data); apiErr != nil {
		return apiErr
	}
	return nil
}

// openDeadLetters opens the dead letters bucket, creating or updating it
// unless Config.Existing is set, and makes its stream allow atomic
// batches (fenced Puts are one). A bucket that has its settings already
// is left as it is, so that opening a Backend does not turn atomic
// batches off for a moment under another process's Puts.
func (b *Backend) openDeadLetters(ctx context.Context, kv func(string) (natsjs.KeyValue, error)) (natsjs.KeyValue, error) {
	name := b.cfg.BucketPrefix + "_deadletters"
	if !b.cfg.Existing {
		if st, err := b.js.Stream(ctx, "KV_"+name); err == nil {
			if c := st.CachedInfo().Config; c.AllowAtomicPublish && c.Replicas == b.cfg.Replicas {
				d, err := b.js.KeyValue(ctx, name)
				if err != nil {
					return nil, fmt.Errorf("jetstream: bucket %s: %w", name, err)
				}
				return d, nil
			}
		}
	}
	d, err := kv("deadletters")
	if err != nil || b.cfg.Existing {
		return d, err
	}
	st, err := b.js.Stream(ctx, "KV_"+name)
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream of bucket %s: %w", name, err)
	}
	if c := st.CachedInfo().Config; !c.AllowAtomicPublish {
		c.AllowAtomicPublish = true
		if _, err := b.js.UpdateStream(ctx, c); err != nil {
			return nil, fmt.Errorf("jetstream: allow atomic batches in bucket %s: %w", name, err)
		}
	}
	return d, nil
}

// errCodeBatchDuplicate is the JetStream error code of an atomic batch
// holding a message whose Nats-Msg-Id the stream has seen.
const errCodeBatchDuplicate = 10201

func (b *Backend) publishOne(ctx context.Context, m *nats.Msg) error {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	resp, err := b.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return fmt.Errorf("jetstream: append: %w", err)
	}
	if apiErr := ackError(resp.Data); apiErr != nil {
		return fmt.Errorf("jetstream: append: %w", apiErr)
	}
	return nil
}

// ackError returns the error of a publish acknowledgement, nil for a
// successful one.
func ackError(data []byte) *natsjs.APIError {
	var r struct {
		Error *natsjs.APIError `json:"error"`
		Seq   uint64           `json:"seq"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return &natsjs.APIError{Description: "undecodable acknowledgement: " + err.Error()}
	}
	if r.Error == nil && r.Seq == 0 {
		return &natsjs.APIError{Description: "acknowledgement without sequence"}
	}
	return r.Error
}

// Read implements [eventlog.Log.Read]. Offsets are the stream's sequence
// numbers. It asks for the entries in one batched direct get (a request
// answered by up to limit messages and an end-of-batch marker).
func (b *Backend) Read(ctx context.Context, after uint64, limit int) ([]eventlog.Entry, error) {
	return b.read(ctx, after, limit, -1)
}

// read reads the entries after after of partition part, or of every
// partition when part < 0.
//
// A read of one partition finds a gap before its first entry whenever
// other partitions' events come between, which does not tell whether the
// stream's limits deleted events of the partition there. So it asks from
// after itself (the entry the caller read last, of the same partition as
// a rule): when that entry is still stored, nothing after it was trimmed
// (the stream deletes its oldest events first), and the read needs no
// query of the stream's state.
func (b *Backend) read(ctx context.Context, after uint64, limit int, part int) ([]eventlog.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	filter := "" // the whole stream, whose subjects are the log's only
	if part >= 0 {
		filter = b.partSubject(part)
	}
	anchor := part >= 0 && after > 0
	start, batch := after+1, limit
	if anchor {
		start, batch = after, limit+1
	}
	req, _ := json.Marshal(struct {
		Seq     uint64 `json:"seq"`
		NextFor string `json:"next_by_subj,omitempty"`
		Batch   int    `json:"batch"`
	}{start, filter, batch})
	p, err := b.directGet(req)
	if err != nil {
		return nil, fmt.Errorf("jetstream: read after offset %d: %w", after, err)
	}
	defer p.stop()
	var out []eventlog.Entry
	anchored := false
	for first := true; ; first = false {
		m, err := p.next(ctx)
		if err != nil {
			return nil, fmt.Errorf("jetstream: read after offset %d: %w", after, err)
		}
		if status := m.Header.Get("Status"); status != "" {
			if status == "204" || status == "404" { // end of batch, or nothing after
				break
			}
			return nil, fmt.Errorf("jetstream: read after offset %d: status %s %s", after, status, m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("jetstream: read after offset %d: bad Nats-Sequence %q", after, m.Header.Get("Nats-Sequence"))
		}
		if first && anchor && seq == after {
			anchored = true
			continue
		}
		if out == nil {
			// Each message of a batch tells how many follow it.
			n := limit
			if np, err := strconv.Atoi(m.Header.Get("Nats-Num-Pending")); err == nil && np >= 0 {
				n = min(n, np+1)
			}
			out = make([]eventlog.Entry, 0, n)
		}
		out = append(out, eventlog.Entry{Offset: seq})
		e := &out[len(out)-1]
		if err := e.Event.UnmarshalJSON(m.Data); err != nil {
			e.Event = canonical.Event{}
			e.Raw = m.Data
			e.Err = &eventlog.DecodeError{Offset: seq, Err: err}
		}
		if len(out) == limit {
			// The rest of the batch is dropped with the reply token.
			break
		}
	}
	if !anchored && (len(out) == 0 || out[0].Offset != after+1) {
		if b.mustCheck(part, after, len(out) == 0) {
			if err := b.checkTrimmed(ctx, after); err != nil {
				return nil, err
			}
		}
	}
	if len(out) > 0 {
		b.mu.Lock()
		b.lastSeen[part+1] = max(b.lastSeen[part+1], out[len(out)-1].Offset)
		b.mu.Unlock()
	}
	return out, nil
}

// probe asks, in one multi-last direct get, for the last event stored
// after after of each partition, and learns the stream's last sequence
// as the server that answered stored it: the reply is one point in time
// of that server's store, which holds every event up to that sequence
// (the stream's leader assigns sequences in order, and each server
// stores them in order, so no event can appear later below it). news
// reports an event of partition part after after, or a reply that does
// not tell (cut short, or a server without multi-last gets); otherwise
// no event of part is stored in (after, last]. last is after when the
// stream holds no event.
func (b *Backend) probe(ctx context.Context, after uint64, part int) (last uint64, news bool, err error) {
	ctx, cancel := requestCtx(ctx)
	defer cancel()
	req, _ := json.Marshal(struct {
		Seq       uint64   `json:"seq"`
		MultiLast []string `json:"multi_last"`
	}{after + 1, []string{b.cfg.Subject + ".>"}})
	p, err := b.directGet(req)
	if err != nil {
		return 0, false, fmt.Errorf("jetstream: probe after offset %d: %w", after, err)
	}
	defer p.stop()
	subj := b.partSubject(part)
	for {
		m, err := p.next(ctx)
		if err != nil {
			return 0, false, fmt.Errorf("jetstream: probe after offset %d: %w", after, err)
		}
		switch status := m.Header.Get("Status"); status {
		case "":
			// A multi-last reply tells the messages pending after each.
			if m.Header.Get("Nats-Subject") == subj || m.Header.Get("Nats-Num-Pending") == "" {
				return after, true, nil
			}
		case "204":
			upTo, err := strconv.ParseUint(m.Header.Get("Nats-UpTo-Sequence"), 10, 64)
			if err != nil || m.Header.Get("Nats-Num-Pending") != "0" {
				return after, true, nil
			}
			return max(after, upTo), false, nil
		case "404":
			// No Results: the stream holds no event up to its last.
			return after, m.Header.Get("Description") != "No Results", nil
		case "413": // more subjects than a reply holds: read instead
			return after, true, nil
		default:
			return 0, false, fmt.Errorf("jetstream: probe after offset %d: status %s %s", after, status, m.Header.Get("Description"))
		}
	}
}

// directGet sends req to the stream's direct get API; the reply's
// messages come through the returned pendingRead, whose stop must be
// called.
func (b *Backend) directGet(req []byte) (*pendingRead, error) {
	p := &pendingRead{b: b, tok: strconv.FormatUint(b.respN.Add(1), 36),
		ch: make(chan *nats.Msg, 64), done: make(chan struct{})}
	b.mu.Lock()
	b.resps[p.tok] = p
	b.mu.Unlock()
	if err := b.nc.PublishRequest("$JS.API.DIRECT.GET."+b.cfg.Stream, b.respPrefix+p.tok, req); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// pendingRead is a read waiting for the messages of its reply.
type pendingRead struct {
	b    *Backend
	tok  string // the last token of the reply subject
	ch   chan *nats.Msg
	done chan struct{} // closed when the read stops waiting
}

// next returns the reply's next message.
func (p *pendingRead) next(ctx context.Context) (*nats.Msg, error) {
	select {
	case m := <-p.ch:
		return m, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-p.b.closed:
		return nil, nats.ErrConnectionClosed
	}
}

// stop ends the wait: the rest of the reply is dropped.
func (p *pendingRead) stop() {
	p.b.mu.Lock()
	delete(p.b.resps, p.tok)
	p.b.mu.Unlock()
	close(p.done)
}

// onResp routes a reply message to the read waiting for it; a reply of a
// read that stopped waiting is dropped.
func (b *Backend) onResp(m *nats.Msg) {
	tok := strings.TrimPrefix(m.Subject, b.respPrefix)
	b.mu.Lock()
	p := b.resps[tok]
	b.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case p.ch <- m:
	case <-p.done:
	}
}

// tailCheck is how often a read at the tail (after the last offset this
// Backend read, finding nothing) asks whether the events after it were
// deleted by the stream's limits: a tailing consumer polls often.
const tailCheck = 100 * time.Millisecond

// mustCheck reports whether a read of partition part (-1: the whole log)
// after after that found nothing (empty) or a gap must ask for the
// stream's first offset.
func (b *Backend) mustCheck(part int, after uint64, empty bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !empty || after < b.lastSeen[part+1] {
		return true
	}
	if now := time.Now(); now.Sub(b.lastCheck) >= tailCheck {
		b.lastCheck = now
		return true
	}
	return false
}

// checkTrimmed returns an error matching ErrTrimmed when a read after
// after starts before the first event the stream holds.
func (b *Backend) checkTrimmed(ctx context.Context, after uint64) error {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("jetstream: stream info: %w", err)
	}
	if first := info.State.FirstSeq; first > 0 && after+1 < first {
		return fmt.Errorf("jetstream: read after offset %d: offsets through %d are trimmed: %w", after, first-1, eventlog.ErrTrimmed)
	}
	return nil
}

// TrimEvents implements [eventlog.Pruner.TrimEvents] by purging the stream
// below the lowest cursor of groups (never its last event).
func (b *Backend) TrimEvents(ctx context.Context, groups ...string) (uint64, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("jetstream: stream info: %w", err)
	}
	trimmed := info.State.FirstSeq
	if trimmed > 0 {
		trimmed--
	}
	if len(groups) == 0 || info.State.LastSeq == 0 {
		return trimmed, nil
	}
	upTo := info.State.LastSeq - 1
	for _, g := range groups {
		st, _, err := b.group(ctx, g)
		if err != nil {
			return trimmed, err
		}
		upTo = min(upTo, st.Cursor)
	}
	if upTo <= trimmed {
		return trimmed, nil
	}
	if err := b.stream.Purge(ctx, natsjs.WithPurgeSequence(upTo+1)); err != nil {
		return trimmed, fmt.Errorf("jetstream: purge through %d: %w", upTo, err)
	}
	return upTo, nil
}

// groupRec is the stored state of a consumer group, fencing epoch
// included, under one key so that one revision-checked write checks the
// epoch and changes the state together.
type groupRec struct {
	Epoch   uint64           `json:"epoch"`
	Cursor  uint64           `json:"cursor"`
	Retries []eventlog.Retry `json:"retries,omitempty"`
}

// groupKey returns the key of group in the groups bucket.
func groupKey(group string) string {
	return "g_" + base64.RawURLEncoding.EncodeToString([]byte(group))
}

// group returns the stored state of group and its revision (0: none).
func (b *Backend) group(ctx context.Context, group string) (groupRec, uint64, error) {
	e, err := b.groups.Get(ctx, groupKey(group))
	if errors.Is(err, natsjs.ErrKeyNotFound) {
		return groupRec{}, 0, nil
	}
	if err != nil {
		return groupRec{}, 0, fmt.Errorf("jetstream: read group %q: %w", group, err)
	}
	var r groupRec
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return groupRec{}, 0, fmt.Errorf("jetstream: group %q: undecodable state: %w", group, err)
	}
	return r, e.Revision(), nil
}

// updateGroup changes the state of group with fn, refusing with ErrFenced
// when epoch is neither 0 nor the group's epoch; the write is conditional
// on the revision read, and retried from the read when another write came
// first.
func (b *Backend) updateGroup(ctx context.Context, group string, epoch uint64, fn func(*groupRec)) (groupRec, error) {
	b.mu.Lock()
	c, cached := b.groupCache[group]
	b.mu.Unlock()
	for {
		r, rev := c.rec, c.rev
		if !cached {
			var err error
			if r, rev, err = b.group(ctx, group); err != nil {
				return r, err
			}
		}
		r.Retries = slices.Clone(r.Retries)
		if epoch != 0 && epoch != r.Epoch {
			if cached { // the cache may be stale: read the key
				cached = false
				continue
			}
			return r, fenced(group, epoch)
		}
		fn(&r)
		v, err := json.Marshal(r)
		if err != nil {
			return r, fmt.Errorf("jetstream: encode group %q: %w", group, err)
		}
		if epoch != 0 && b.beforeFencedWrite != nil {
			b.beforeFencedWrite()
		}
		var nrev uint64
		if rev == 0 {
			nrev, err = b.groups.Create(ctx, groupKey(group), v)
		} else {
			nrev, err = b.groups.Update(ctx, groupKey(group), v, rev)
		}
		if casConflict(err) {
			cached = false
			continue
		}
		if err != nil {
			b.forgetGroup(group)
			return r, fmt.Errorf("jetstream: write group %q: %w", group, err)
		}
		b.mu.Lock()
		if b.groupCache == nil {
			b.groupCache = make(map[string]cachedGroup)
		}
		b.groupCache[group] = cachedGroup{rec: r, rev: nrev}
		b.mu.Unlock()
		return r, nil
	}
}

func (b *Backend) forgetGroup(group string) {
	b.mu.Lock()
	delete(b.groupCache, group)
	b.mu.Unlock()
}

// casConflict reports whether err is a revision-checked write refused
// because another write came first.
func casConflict(err error) bool {
	return errors.Is(err, natsjs.ErrKeyRevisionMismatch) || errors.Is(err, natsjs.ErrKeyExists)
}

func fenced(group string, epoch uint64) error {
	return fmt.Errorf("jetstream: write of group %q with epoch %d: %w", group, epoch, eventlog.ErrFenced)
}

// Group implements [eventlog.Cursors.Group].
func (b *Backend) Group(ctx context.Context, group string) (eventlog.GroupState, error) {
	r, _, err := b.group(ctx, group)
	if err != nil {
		return eventlog.GroupState{}, err
	}
	return eventlog.GroupState{Cursor: r.Cursor, Retries: r.Retries}, nil
}

// Claim implements [eventlog.Cursors.Claim]: a revision-checked increment
// of the epoch stored with the group's state, then of the group's fence
// in the dead letters bucket (see [Backend.Put]). When the second write
// fails, Claim returns the error: the former owner's commits are refused
// already, its dead letters once a Claim succeeds.
func (b *Backend) Claim(ctx context.Context, group string) (uint64, error) {
	r, err := b.updateGroup(ctx, group, 0, func(r *groupRec) { r.Epoch++ })
	if err != nil {
		return 0, err
	}
	if err := b.raiseFence(ctx, group, r.Epoch); err != nil {
		return 0, err
	}
	return r.Epoch, nil
}

// Commit implements [eventlog.Cursors.Commit].
func (b *Backend) Commit(ctx context.Context, group string, epoch, cursor uint64) error {
	_, err := b.updateGroup(ctx, group, epoch, func(r *groupRec) {
		r.Cursor = max(r.Cursor, cursor)
		kept := r.Retries[:0]
		for _, x := range r.Retries {
			if x.Offset > r.Cursor {
				kept = append(kept, x)
			}
		}
		r.Retries = kept
	})
	return err
}

// SaveRetry implements [eventlog.Cursors.SaveRetry].
func (b *Backend) SaveRetry(ctx context.Context, group string, epoch uint64, x eventlog.Retry) error {
	_, err := b.updateGroup(ctx, group, epoch, func(r *groupRec) {
		for i := range r.Retries {
			switch {
			case r.Retries[i].Offset == x.Offset:
				r.Retries[i] = x
				return
			case r.Retries[i].Offset > x.Offset:
				r.Retries = append(r.Retries[:i], append([]eventlog.Retry{x}, r.Retries[i:]...)...)
				return
			}
		}
		r.Retries = append(r.Retries, x)
	})
	return err
}

// Publish appends events, as Append does; its signature is that of
// [eventlog.RelayConfig.Publish], so that an SQL outbox relays into the
// JetStream log:
//
//	s.Relay(ctx, eventlog.RelayConfig{Publish: b.Publish})
//
// A batch the relay publishes again after a crash is stored once when the
// retry comes within the stream's duplicate window (Config.DuplicateWindow).
func (b *Backend) Publish(ctx context.Context, events []canonical.Event) error {
	return b.Append(ctx, events...)
}
