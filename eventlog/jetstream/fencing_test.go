package jetstream_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

// TestFencedPutRacesClaim races a dead letter Put of the current epoch
// against a Claim from another connection, many times: a Put that
// succeeded left its dead letter, a Put refused with ErrFenced left none
// (its write undone), and a Put that starts after the Claim returned is
// refused.
func TestFencedPutRacesClaim(t *testing.T) {
	srv := natstest.Start(t)
	b, cfg := openFresh(t, srv)
	other := open(t, cfg)
	ctx := t.Context()
	const rounds = 40
	var landed, refused int
	for i := range rounds {
		epoch, err := b.Claim(ctx, "g")
		require.NoError(t, err, "Claim round %d", i)
		d := eventlog.DeadLetter{Consumer: "g", Epoch: epoch, Offset: uint64(i + 1), Event: eventlogtest.Event("race", i),
			Reason: eventlog.ReasonPermanent, Error: "boom " + strconv.Itoa(i)}
		type result struct {
			id  int64
			err error
		}
		putc := make(chan result, 1)
		go func() {
			id, err := b.Put(ctx, d)
			putc <- result{id, err}
		}()
		_, err = other.Claim(ctx, "g")
		require.NoError(t, err, "the other Claim round %d", i)
		r := <-putc
		list, err := b.List(ctx, eventlog.Filter{Consumer: "g"})
		require.NoError(t, err, "List round %d", i)
		found := false
		for _, x := range list {
			found = found || x.Event.ID == d.Event.ID
		}
		switch {
		case r.err == nil:
			landed++
			require.True(t, found, "round %d: a Put that succeeded left its dead letter", i)
		case errors.Is(r.err, eventlog.ErrFenced):
			refused++
			require.False(t, found, "round %d: a Put refused with ErrFenced left its dead letter", i)
		default:
			t.Fatalf("round %d: Put: %v", i, r.err)
		}
		_, err = b.Put(ctx, d)
		require.ErrorIs(t, err, eventlog.ErrFenced, "round %d: a Put after the Claim returned is refused", i)
	}
	t.Logf("%d Puts landed before the Claim, %d were refused", landed, refused)
}

// TestStaleOwnerRefusedAtTheWrite claims the group from another
// connection after the stale owner read its epoch and before it writes,
// the window a check-then-write would leave open: its cursor commit, its
// retry state (its acknowledgement of a failed attempt) and its dead
// letter are all refused, and the dead letter's record was never written,
// not even for a moment.
func TestStaleOwnerRefusedAtTheWrite(t *testing.T) {
	const g = "orders/p0"
	tests := []struct {
		name  string
		write func(t *testing.T, b *jetstream.Backend, epoch uint64) error
	}{
		{"cursor commit", func(t *testing.T, b *jetstream.Backend, epoch uint64) error {
			return b.Commit(t.Context(), g, epoch, 7)
		}},
		{"retry state", func(t *testing.T, b *jetstream.Backend, epoch uint64) error {
			return b.SaveRetry(t.Context(), g, epoch, eventlog.Retry{Offset: 8, Attempts: 1})
		}},
		{"dead letter", func(t *testing.T, b *jetstream.Backend, epoch uint64) error {
			_, err := b.Put(t.Context(), eventlog.DeadLetter{Consumer: g, Epoch: epoch, Offset: 8,
				Event: eventlogtest.Event("k", 8), Reason: eventlog.ReasonPermanent, Error: "late"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := natstest.Start(t)
			b, cfg := openFresh(t, srv)
			other := open(t, cfg)
			stale, err := b.Claim(t.Context(), g)
			require.NoError(t, err, "Claim as the stale owner")
			require.NoError(t, b.Commit(t.Context(), g, stale, 5), "the owner's commit before the takeover")
			before, err := b.Group(t.Context(), g)
			require.NoError(t, err, "Group")
			claims := 0
			jetstream.SetBeforeFencedWrite(b, func() {
				if claims == 0 {
					claims++
					_, err := other.Claim(t.Context(), g)
					require.NoError(t, err, "the other member's Claim")
				}
			})
			err = tt.write(t, b, stale)
			require.ErrorIs(t, err, eventlog.ErrFenced, "the stale owner's %s after the takeover", tt.name)
			require.Equal(t, 1, claims, "the Claim came between the epoch read and the write")
			after, err := other.Group(t.Context(), g)
			require.NoError(t, err, "Group")
			require.Equal(t, before, after, "the group's cursor and retry states are unchanged by the stale %s", tt.name)
			dls, err := other.List(t.Context(), eventlog.Filter{Consumer: g})
			require.NoError(t, err, "List")
			require.Empty(t, dls, "no dead letter of the stale owner")
			n, err := jetstream.RecordWrites(t.Context(), b)
			require.NoError(t, err, "RecordWrites")
			require.Zero(t, n, "no dead letter record was ever written")

			// The new owner's dead letter is written, and counted.
			epoch, err := other.Claim(t.Context(), g)
			require.NoError(t, err, "Claim")
			_, err = other.Put(t.Context(), eventlog.DeadLetter{Consumer: g, Epoch: epoch, Offset: 8,
				Event: eventlogtest.Event("k", 8), Reason: eventlog.ReasonPermanent, Error: "current"})
			require.NoError(t, err, "the current owner's dead letter")
			n, err = jetstream.RecordWrites(t.Context(), b)
			require.NoError(t, err, "RecordWrites")
			require.Equal(t, uint64(1), n, "the current owner's dead letter record is written once")
		})
	}
}
