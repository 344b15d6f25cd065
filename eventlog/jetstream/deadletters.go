package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/eventlog"
)

// The dead letters bucket holds, per dead letter, the key d.ID (its
// record, audit trail included), an index key k.DIGEST (the ID of the dead
// letter of one consumer and event) and the key seq (the last ID given).

// deadRec is the stored form of a dead letter.
type deadRec struct {
	ID            int64            `json:"id"`
	Consumer      string           `json:"consumer"`
	Offset        uint64           `json:"offset,omitempty"`
	Event         json.RawMessage  `json:"event,omitempty"`
	Raw           []byte           `json:"raw,omitempty"`
	Reason        eventlog.Reason  `json:"reason"`
	Error         string           `json:"error,omitempty"`
	ErrorClass    string           `json:"error_class,omitempty"`
	Attempts      int              `json:"attempts"`
	FirstFailure  time.Time        `json:"first_failure"`
	LastFailure   time.Time        `json:"last_failure"`
	CorrelationID string           `json:"correlation_id,omitempty"`
	State         eventlog.State   `json:"state"`
	Replays       int              `json:"replays"`
	Audit         []eventlog.Audit `json:"audit"`
	Index         string           `json:"index"`
}

func (r *deadRec) letter() (eventlog.DeadLetter, error) {
	d := eventlog.DeadLetter{ID: r.ID, Consumer: r.Consumer, Offset: r.Offset, Raw: r.Raw, Reason: r.Reason,
		Error: r.Error, ErrorClass: r.ErrorClass, Attempts: r.Attempts, FirstFailure: r.FirstFailure,
		LastFailure: r.LastFailure, CorrelationID: r.CorrelationID, State: r.State, Replays: r.Replays, Audit: r.Audit}
	if len(r.Event) > 0 {
		if err := d.Event.UnmarshalJSON(r.Event); err != nil {
			return d, fmt.Errorf("jetstream: dead letter %d: undecodable event: %w", r.ID, err)
		}
	}
	return d, nil
}

// indexKey returns the index key of the dead letter of consumer for d's
// event: a digest of the consumer and the event's dedupe key (or its
// offset when it could not be decoded).
func indexKey(d *eventlog.DeadLetter) string {
	id := "offset:" + strconv.FormatUint(d.Offset, 10)
	if d.Event.ID != "" {
		id = "event:" + strconv.Itoa(len(d.Event.Source)) + ":" + d.Event.Source + d.Event.ID
	}
	h := sha256.Sum256([]byte(strconv.Itoa(len(d.Consumer)) + ":" + d.Consumer + id))
	return "k." + hex.EncodeToString(h[:])
}

func deadKey(id int64) string { return "d." + strconv.FormatInt(id, 10) }

func notFound(id int64) error {
	return fmt.Errorf("jetstream: dead letter %d: %w", id, eventlog.ErrNotFound)
}

// getDead returns the record of id and its revision, or an error matching
// ErrNotFound.
func (b *Backend) getDead(ctx context.Context, id int64) (deadRec, uint64, error) {
	var r deadRec
	if id < 1 {
		return r, 0, notFound(id)
	}
	e, err := b.dead.Get(ctx, deadKey(id))
	if errors.Is(err, natsjs.ErrKeyNotFound) {
		return r, 0, notFound(id)
	}
	if err != nil {
		return r, 0, fmt.Errorf("jetstream: read dead letter %d: %w", id, err)
	}
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return r, 0, fmt.Errorf("jetstream: dead letter %d: undecodable record: %w", id, err)
	}
	return r, e.Revision(), nil
}

// nextID gives the next dead letter ID (revision-checked counter).
func (b *Backend) nextID(ctx context.Context) (int64, error) {
	for {
		var last int64
		var rev uint64
		e, err := b.dead.Get(ctx, "seq")
		switch {
		case errors.Is(err, natsjs.ErrKeyNotFound):
		case err != nil:
			return 0, fmt.Errorf("jetstream: read dead letter counter: %w", err)
		default:
			rev = e.Revision()
			if last, err = strconv.ParseInt(string(e.Value()), 10, 64); err != nil {
				return 0, fmt.Errorf("jetstream: dead letter counter %q: %w", e.Value(), err)
			}
		}
		v := []byte(strconv.FormatInt(last+1, 10))
		if rev == 0 {
			_, err = b.dead.Create(ctx, "seq", v)
		} else {
			_, err = b.dead.Update(ctx, "seq", v, rev)
		}
		if casConflict(err) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("jetstream: write dead letter counter: %w", err)
		}
		return last + 1, nil
	}
}

// Put implements [eventlog.DeadLetters.Put].
//
// With an Epoch, the dead letter's record is written in one JetStream
// atomic batch with its group's fence, a key of the dead letters bucket
// holding the group's epoch that [Backend.Claim] raises: the batch
// rewrites the fence conditional on the revision Put read it at, with
// the record, so the record is stored only if no Claim raised the fence
// in between; else nothing is, and Put returns an error matching
// [eventlog.ErrFenced]. (The fence is a key of the dead letters bucket,
// not the group's key itself, because an atomic batch writes one stream.)
// The index key and the ID counter written before are no dead letter: a
// refused Put leaves none for List or Get to see.
func (b *Backend) Put(ctx context.Context, d eventlog.DeadLetter) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	if d.Epoch != 0 {
		// Refuse a stale epoch before writing anything.
		if _, _, err := b.checkFence(ctx, d.Consumer, d.Epoch); err != nil {
			return 0, err
		}
	}
	var ev json.RawMessage
	if d.Event.ID != "" || d.Event.Source != "" {
		var err error
		if ev, err = d.Event.MarshalJSON(); err != nil {
			return 0, fmt.Errorf("jetstream: dead letter of %q at offset %d: encode event: %w", d.Consumer, d.Offset, err)
		}
	}
	audit := eventlog.Audit{At: b.cfg.Now(), Action: eventlog.ActionDeadLettered, By: d.Consumer, Why: d.Error}
	ik := indexKey(&d)
	for {
		rec := deadRec{Consumer: d.Consumer, Offset: d.Offset, Event: ev, Raw: d.Raw, Reason: d.Reason, Error: d.Error,
			ErrorClass: d.ErrorClass, Attempts: d.Attempts, FirstFailure: d.FirstFailure, LastFailure: d.LastFailure,
			CorrelationID: d.CorrelationID, State: eventlog.StateDead, Index: ik}
		var rev uint64
		var createdIndex bool
		if d.ID != 0 {
			o, r, err := b.getDead(ctx, d.ID)
			if err != nil {
				return 0, err
			}
			if o.Consumer != d.Consumer {
				return 0, fmt.Errorf("jetstream: dead letter %d of %q: %w", d.ID, d.Consumer, eventlog.ErrNotFound)
			}
			rec.ID, rec.FirstFailure, rec.Replays, rec.Audit, rec.Index = o.ID, o.FirstFailure, o.Replays, append(o.Audit, audit), o.Index
			rev = r
		} else {
			ie, err := b.dead.Get(ctx, ik)
			var idxRev uint64
			switch {
			case errors.Is(err, natsjs.ErrKeyNotFound):
			case err != nil:
				return 0, fmt.Errorf("jetstream: read dead letter index: %w", err)
			default:
				idxRev = ie.Revision()
				id, _ := strconv.ParseInt(string(ie.Value()), 10, 64)
				o, r, err := b.getDead(ctx, id)
				if err == nil {
					rec.ID, rec.FirstFailure, rec.Replays, rec.Audit = o.ID, o.FirstFailure, o.Replays, append(o.Audit, audit)
					rev = r
				} else if !errors.Is(err, eventlog.ErrNotFound) {
					return 0, err
				}
				// An index naming no record: a refused or purged Put's.
			}
			if rec.ID == 0 { // a new dead letter
				id, err := b.nextID(ctx)
				if err != nil {
					return 0, err
				}
				v := []byte(strconv.FormatInt(id, 10))
				if idxRev == 0 {
					_, err = b.dead.Create(ctx, ik, v)
				} else {
					_, err = b.dead.Update(ctx, ik, v, idxRev)
				}
				if casConflict(err) {
					continue // another Put of the same event came first
				}
				if err != nil {
					return 0, fmt.Errorf("jetstream: write dead letter index: %w", err)
				}
				rec.ID, rec.Audit, createdIndex = id, []eventlog.Audit{audit}, true
			}
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return 0, fmt.Errorf("jetstream: encode dead letter: %w", err)
		}
		switch {
		case d.Epoch != 0:
			err = b.fencedWrite(ctx, d.Consumer, d.Epoch, deadKey(rec.ID), v, rev)
		case rev == 0:
			_, err = b.dead.Create(ctx, deadKey(rec.ID), v)
		default:
			_, err = b.dead.Update(ctx, deadKey(rec.ID), v, rev)
		}
		if casConflict(err) || errors.Is(err, errConflict) {
			if d.ID != 0 || !createdIndex {
				continue
			}
			return 0, fmt.Errorf("jetstream: write dead letter %d: %w", rec.ID, err)
		}
		if err != nil {
			return 0, err
		}
		return rec.ID, nil
	}
}

// fenceKey returns the key of group's fence in the dead letters bucket.
func fenceKey(group string) string {
	return "f." + base64.RawURLEncoding.EncodeToString([]byte(group))
}

// fence returns the epoch in group's fence and the fence's revision; a
// group without a fence (one claimed before fences existed) has its
// group key's epoch, and revision 0.
func (b *Backend) fence(ctx context.Context, group string) (uint64, uint64, error) {
	e, err := b.dead.Get(ctx, fenceKey(group))
	if errors.Is(err, natsjs.ErrKeyNotFound) {
		r, _, err := b.group(ctx, group)
		return r.Epoch, 0, err
	}
	if err != nil {
		return 0, 0, fmt.Errorf("jetstream: read fence of group %q: %w", group, err)
	}
	epoch, err := strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("jetstream: fence of group %q: undecodable epoch %q", group, e.Value())
	}
	return epoch, e.Revision(), nil
}

// checkFence returns the fence of group and its revision, or an error
// matching ErrFenced when a Claim raised it above epoch.
func (b *Backend) checkFence(ctx context.Context, group string, epoch uint64) (uint64, uint64, error) {
	f, rev, err := b.fence(ctx, group)
	if err != nil {
		return 0, 0, err
	}
	if f > epoch || (rev == 0 && f != epoch) {
		return 0, 0, fenced(group, epoch)
	}
	return f, rev, nil
}

// raiseFence sets group's fence to epoch unless it is there or above.
func (b *Backend) raiseFence(ctx context.Context, group string, epoch uint64) error {
	for {
		e, err := b.dead.Get(ctx, fenceKey(group))
		var rev uint64
		switch {
		case errors.Is(err, natsjs.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("jetstream: read fence of group %q: %w", group, err)
		default:
			rev = e.Revision()
			if f, err := strconv.ParseUint(string(e.Value()), 10, 64); err == nil && f >= epoch {
				return nil
			}
		}
		v := []byte(strconv.FormatUint(epoch, 10))
		if rev == 0 {
			_, err = b.dead.Create(ctx, fenceKey(group), v)
		} else {
			_, err = b.dead.Update(ctx, fenceKey(group), v, rev)
		}
		if casConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("jetstream: raise fence of group %q to epoch %d: %w", group, epoch, err)
		}
		return nil
	}
}

// fencedWrite writes value to key (revision rev, 0: new) and group's
// fence, unchanged at epoch, in one atomic batch conditional on the
// revisions of both: it returns an error matching ErrFenced when a Claim
// raised the fence, errConflict when key changed, and writes nothing in
// either case.
func (b *Backend) fencedWrite(ctx context.Context, group string, epoch uint64, key string, value []byte, rev uint64) error {
	prefix := "$KV." + b.cfg.BucketPrefix + "_deadletters."
	for {
		_, frev, err := b.checkFence(ctx, group, epoch)
		if err != nil {
			return err
		}
		f := nats.NewMsg(prefix + fenceKey(group))
		f.Data = []byte(strconv.FormatUint(epoch, 10))
		f.Header.Set(natsjs.ExpectedLastSubjSeqHeader, strconv.FormatUint(frev, 10))
		m := nats.NewMsg(prefix + key)
		m.Data = value
		m.Header.Set(natsjs.ExpectedLastSubjSeqHeader, strconv.FormatUint(rev, 10))
		if b.beforeFencedWrite != nil {
			b.beforeFencedWrite()
		}
		err = b.atomicBatch(ctx, []*nats.Msg{f, m})
		if err == nil {
			return nil
		}
		if !isWrongLast(err) {
			return fmt.Errorf("jetstream: write dead letter %s of group %q: %w", key, group, err)
		}
		// Either the fence moved (a Claim, or a Put of the same epoch) or
		// the record did: read the fence again to tell.
		_, nrev, err := b.checkFence(ctx, group, epoch)
		if err != nil {
			return err
		}
		if nrev == frev {
			return errConflict
		}
	}
}

// all returns every dead letter record with its revision, oldest ID first.
// It asks first whether the bucket changed since its last scan (one direct
// get of the next message after the sequence it scanned at) and answers
// from that scan when not, so that a consumer polling for replays costs
// little.
func (b *Backend) all(ctx context.Context) ([]deadRec, []uint64, error) {
	b.mu.Lock()
	seq, scanned := b.deadSeq, b.deadCache != nil
	b.mu.Unlock()
	if scanned {
		_, err := b.deadStream.GetMsg(ctx, seq+1, natsjs.WithGetMsgSubject("$KV."+b.cfg.BucketPrefix+"_deadletters.>"))
		if errors.Is(err, natsjs.ErrMsgNotFound) { // unchanged
			b.mu.Lock()
			recs, revs := slices.Clone(b.deadCache), slices.Clone(b.deadRevs)
			b.mu.Unlock()
			for i := range recs {
				recs[i].Audit = slices.Clone(recs[i].Audit)
			}
			return recs, revs, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("jetstream: read dead letters: %w", err)
		}
	}
	info, err := b.deadStream.Info(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("jetstream: read dead letters: %w", err)
	}
	recs, revs, err := b.scan(ctx)
	if err != nil {
		return nil, nil, err
	}
	b.mu.Lock()
	b.deadSeq, b.deadCache, b.deadRevs = info.State.LastSeq, slices.Clone(recs), slices.Clone(revs)
	if b.deadCache == nil {
		b.deadCache = []deadRec{}
	}
	b.mu.Unlock()
	return recs, revs, nil
}

// scan reads every dead letter record with its revision, oldest ID first.
func (b *Backend) scan(ctx context.Context) ([]deadRec, []uint64, error) {
	lctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	lister, err := b.dead.ListKeysFiltered(lctx, "d.*")
	if err != nil {
		if errors.Is(err, natsjs.ErrNoKeysFound) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("jetstream: list dead letters: %w", err)
	}
	var ids []int64
	for k := range lister.Keys() {
		if id, err := strconv.ParseInt(strings.TrimPrefix(k, "d."), 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	_ = lister.Stop()
	if err := lctx.Err(); err != nil { // the listing ended early: not every key came
		return nil, nil, fmt.Errorf("jetstream: list dead letters: %w", context.Cause(lctx))
	}
	slices.Sort(ids)
	recs := make([]deadRec, 0, len(ids))
	revs := make([]uint64, 0, len(ids))
	for _, id := range ids {
		r, rev, err := b.getDead(ctx, id)
		if errors.Is(err, eventlog.ErrNotFound) {
			continue // purged meanwhile
		}
		if err != nil {
			return nil, nil, err
		}
		recs, revs = append(recs, r), append(revs, rev)
	}
	return recs, revs, nil
}

// List implements [eventlog.DeadLetters.List]. It reads every dead letter
// of the bucket (there is no secondary index): purge settled ones
// ([Backend.PurgeDeadLetters]) to keep it quick.
func (b *Backend) List(ctx context.Context, f eventlog.Filter) ([]eventlog.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	var recs []deadRec
	if f.ID != 0 {
		r, _, err := b.getDead(ctx, f.ID)
		if errors.Is(err, eventlog.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		recs = []deadRec{r}
	} else {
		var err error
		if recs, _, err = b.all(ctx); err != nil {
			return nil, err
		}
	}
	var out []eventlog.DeadLetter
	for i := range recs {
		d, err := recs[i].letter()
		if err != nil {
			return nil, err
		}
		if f.Match(&d) {
			out = append(out, d)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out, nil
}

// Get implements [eventlog.DeadLetters.Get].
func (b *Backend) Get(ctx context.Context, id int64) (eventlog.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return eventlog.DeadLetter{}, context.Cause(ctx)
	}
	r, _, err := b.getDead(ctx, id)
	if err != nil {
		return eventlog.DeadLetter{}, err
	}
	return r.letter()
}

// change applies fn to the record of id, conditional on its revision,
// retrying from the read when another write came first. fn returns false
// to write nothing.
func (b *Backend) change(ctx context.Context, id int64, fn func(*deadRec) (bool, error)) (bool, error) {
	for {
		r, rev, err := b.getDead(ctx, id)
		if err != nil {
			return false, err
		}
		ok, err := fn(&r)
		if !ok || err != nil {
			return false, err
		}
		v, err := json.Marshal(r)
		if err != nil {
			return false, fmt.Errorf("jetstream: encode dead letter %d: %w", id, err)
		}
		_, err = b.dead.Update(ctx, deadKey(id), v, rev)
		if casConflict(err) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("jetstream: write dead letter %d: %w", id, err)
		}
		return true, nil
	}
}

// Replay implements [eventlog.DeadLetters.Replay].
func (b *Backend) Replay(ctx context.Context, f eventlog.Filter, a eventlog.Audit) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	f.State, f.Limit = eventlog.StateDead, 0
	a.Action = eventlog.ActionReplay
	if a.At.IsZero() {
		a.At = b.cfg.Now()
	}
	cands, err := b.List(ctx, f)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cands {
		ok, err := b.change(ctx, c.ID, func(r *deadRec) (bool, error) {
			d, err := r.letter()
			if err != nil || !f.Match(&d) {
				return false, err
			}
			r.State = eventlog.StateReplaying
			r.Replays++
			r.Audit = append(r.Audit, a)
			return true, nil
		})
		if errors.Is(err, eventlog.ErrNotFound) {
			continue // purged meanwhile
		}
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Discard implements [eventlog.DeadLetters.Discard].
func (b *Backend) Discard(ctx context.Context, id int64, a eventlog.Audit) error {
	return b.transition(ctx, id, eventlog.StateDead, eventlog.StateDiscarded, a, eventlog.ActionDiscard)
}

// Resolve implements [eventlog.DeadLetters.Resolve].
func (b *Backend) Resolve(ctx context.Context, id int64) error {
	return b.transition(ctx, id, eventlog.StateReplaying, eventlog.StateResolved, eventlog.Audit{}, eventlog.ActionResolved)
}

func (b *Backend) transition(ctx context.Context, id int64, from, to eventlog.State, a eventlog.Audit, action string) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	a.Action = action
	if a.At.IsZero() {
		a.At = b.cfg.Now()
	}
	_, err := b.change(ctx, id, func(r *deadRec) (bool, error) {
		if r.State != from {
			return false, fmt.Errorf("jetstream: dead letter %d is %s, not %s: %w", id, r.State, from, eventlog.ErrState)
		}
		r.State = to
		r.Audit = append(r.Audit, a)
		return true, nil
	})
	return err
}

// PurgeDeadLetters implements [eventlog.Pruner.PurgeDeadLetters]: each
// delete is conditional on the revision read, so a dead letter that a
// racing Replay moved out of the purged states is kept.
func (b *Backend) PurgeDeadLetters(ctx context.Context, olderThan time.Time, states ...eventlog.State) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	if len(states) == 0 {
		states = []eventlog.State{eventlog.StateResolved, eventlog.StateDiscarded}
	}
	recs, revs, err := b.all(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := 0; i < len(recs); i++ {
		r, rev := recs[i], revs[i]
		if !r.LastFailure.Before(olderThan) || !slices.Contains(states, r.State) {
			continue
		}
		err := b.dead.Delete(ctx, deadKey(r.ID), natsjs.LastRevision(rev))
		if casConflict(err) {
			nr, nrev, err := b.getDead(ctx, r.ID)
			if errors.Is(err, eventlog.ErrNotFound) {
				continue
			}
			if err != nil {
				return n, err
			}
			recs[i], revs[i] = nr, nrev
			i-- // look at it again
			continue
		}
		if err != nil {
			return n, fmt.Errorf("jetstream: purge dead letter %d: %w", r.ID, err)
		}
		n++
		// Drop the index entry when it still names this dead letter.
		if ie, err := b.dead.Get(ctx, r.Index); err == nil && string(ie.Value()) == strconv.FormatInt(r.ID, 10) {
			_ = b.dead.Delete(ctx, r.Index, natsjs.LastRevision(ie.Revision()))
		}
	}
	return n, nil
}
