package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
)

// Defaults of [RelayConfig].
const (
	DefaultRelayBatch = 100
	// OutboxConsumer is the consumer name of the dead letters the relay
	// writes for outbox rows it cannot decode.
	OutboxConsumer = "eventlog.outbox"
)

// RelayConfig configures [SQL.Relay] and [SQL.RelayOnce]. The zero value is
// valid: it moves outbox events into the backend's own log. Publish is
// called from the relaying goroutine only. It is a plain value, safe for
// concurrent reads.
type RelayConfig struct {
	// Publish receives the committed outbox events, in outbox order, a
	// batch at a time; the batch is removed from the outbox only after
	// Publish returned nil, so a crash in between publishes it again (at
	// least once). Nil means append them to the backend's own log in the
	// same transaction that removes them from the outbox (exactly once).
	Publish func(ctx context.Context, events []canonical.Event) error
	// BatchSize is how many outbox rows one round moves at most. Zero
	// means [DefaultRelayBatch].
	BatchSize int
	// PollInterval is how long Relay waits after a round that found
	// nothing or failed. Zero means [DefaultPollInterval].
	PollInterval time.Duration
	// Logger receives failed rounds (Error) and undecodable rows (Warn).
	// Nil means discard.
	Logger *slog.Logger
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c RelayConfig) Validate() error {
	if c.BatchSize < 0 || c.PollInterval < 0 {
		return fmt.Errorf("eventlog: RelayConfig has a negative BatchSize or PollInterval: %w", ErrInvalidConfig)
	}
	return nil
}

// Relay publishes the outbox until ctx is done, then returns
// context.Cause(ctx). It runs rounds of [SQL.RelayOnce] back to back while
// the outbox has rows, and waits PollInterval after an empty or failed
// round; failures are logged and retried, so that the batch that failed is
// published first (per-key order is outbox order). Run one Relay per
// outbox.
func (s *SQL) Relay(ctx context.Context, cfg RelayConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := cfg.PollInterval
	if wait == 0 {
		wait = DefaultPollInterval
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
		n, err := s.RelayOnce(ctx, cfg)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "eventlog: outbox relay round failed; will retry", "err", err)
			t.Reset(wait)
		case n == 0 || err != nil:
			t.Reset(wait)
		default:
			t.Reset(0)
		}
	}
}

// RelayOnce publishes one batch of committed outbox rows, oldest first,
// and removes them from the outbox; it returns how many rows it removed.
// A row that cannot be decoded is dead-lettered under [OutboxConsumer]
// with [ReasonUndecodable] and removed, so that it never blocks the
// outbox. When another relay removed the batch first, RelayOnce publishes
// nothing to the log (with a nil Publish) and returns 0.
func (s *SQL) RelayOnce(ctx context.Context, cfg RelayConfig) (int, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	limit := cfg.BatchSize
	if limit == 0 {
		limit = DefaultRelayBatch
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id, payload FROM {p}outbox ORDER BY id LIMIT ?"), limit)
	if err != nil {
		return 0, s.wrap("relay: read outbox", err)
	}
	var ids []int64
	var events []canonical.Event
	var bad []Entry
	for rows.Next() {
		var id int64
		var payload []byte
		if err := rows.Scan(&id, &payload); err != nil {
			rows.Close()
			return 0, s.wrap("relay: read outbox", err)
		}
		ids = append(ids, id)
		if e := decodeEntry(uint64(id), payload); e.Err != nil {
			bad = append(bad, e)
		} else {
			events = append(events, e.Event)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, s.wrap("relay: read outbox", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	for _, e := range bad {
		now := s.now()
		if _, err := s.Put(ctx, DeadLetter{Consumer: OutboxConsumer, Offset: e.Offset, Raw: e.Raw,
			Reason: ReasonUndecodable, Error: e.Err.Error(), ErrorClass: "error", Attempts: 1,
			FirstFailure: now, LastFailure: now}); err != nil {
			return 0, fmt.Errorf("eventlog: relay: dead-letter undecodable outbox row %d: %w", e.Offset, err)
		}
		if cfg.Logger != nil {
			cfg.Logger.WarnContext(ctx, "eventlog: undecodable outbox row dead-lettered", "row", e.Offset, "err", e.Err)
		}
	}
	if cfg.Publish != nil && len(events) > 0 {
		if err := cfg.Publish(ctx, events); err != nil {
			return 0, fmt.Errorf("eventlog: relay: publish %d events: %w", len(events), err)
		}
	}
	var payloads [][]byte
	if cfg.Publish == nil {
		if payloads, err = encode(events); err != nil {
			return 0, err
		}
	}
	removed := 0
	err = s.inTx(ctx, "relay", func(tx *sql.Tx) error {
		if cfg.Publish == nil && len(events) > 0 {
			if err := s.insert(ctx, tx, "events", events, payloads, nil); err != nil {
				return err
			}
		} else if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey); err != nil {
				return err
			}
		}
		var b strings.Builder
		b.WriteString("DELETE FROM {p}outbox WHERE id IN (")
		for i, id := range ids {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		b.WriteString(")")
		res, err := tx.ExecContext(ctx, s.q(b.String()))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if int(n) != len(ids) && cfg.Publish == nil {
			return errRelayRaced
		}
		removed = int(n)
		return nil
	})
	if errors.Is(err, errRelayRaced) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if cfg.Publish == nil && len(events) > 0 {
		s.appended()
	}
	return removed, nil
}

// errRelayRaced rolls back a relay round whose batch another relay took.
var errRelayRaced = errors.New("eventlog: relay raced")
