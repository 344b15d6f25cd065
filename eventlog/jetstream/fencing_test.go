package jetstream_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
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
