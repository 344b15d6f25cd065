package eventlogtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

func TestRunMemory(t *testing.T) {
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		return func(*testing.T) eventlog.Backend { return m }
	})
}

// Broken backends, each breaking one rule of the contract.

// commitGoesBack stores whatever cursor it is given, even a lower one.
type commitGoesBack struct {
	*eventlog.Memory
	mu  sync.Mutex
	cur map[string]uint64
}

func (b *commitGoesBack) Group(ctx context.Context, group string) (eventlog.GroupState, error) {
	st, err := b.Memory.Group(ctx, group)
	b.mu.Lock()
	defer b.mu.Unlock()
	st.Cursor = b.cur[group]
	return st, err
}

func (b *commitGoesBack) Commit(ctx context.Context, group string, epoch, cursor uint64) error {
	b.mu.Lock()
	b.cur[group] = cursor
	b.mu.Unlock()
	return b.Memory.Commit(ctx, group, epoch, cursor)
}

// ignoresEpoch writes whatever epoch it is given.
type ignoresEpoch struct{ *eventlog.Memory }

func (b ignoresEpoch) Commit(ctx context.Context, group string, _, cursor uint64) error {
	return b.Memory.Commit(ctx, group, 0, cursor)
}

func (b ignoresEpoch) SaveRetry(ctx context.Context, group string, _ uint64, r eventlog.Retry) error {
	return b.Memory.SaveRetry(ctx, group, 0, r)
}

func (b ignoresEpoch) Put(ctx context.Context, d eventlog.DeadLetter) (int64, error) {
	d.Epoch = 0
	return b.Memory.Put(ctx, d)
}

// loses skips the entry at offset 2 when reading.
type loses struct{ *eventlog.Memory }

func (b loses) Read(ctx context.Context, after uint64, limit int) ([]eventlog.Entry, error) {
	es, err := b.Memory.Read(ctx, after, limit)
	out := es[:0]
	for _, e := range es {
		if e.Offset != 2 {
			out = append(out, e)
		}
	}
	return out, err
}

// putDuplicates never updates a dead letter: it stores the event again.
type putDuplicates struct{ *eventlog.Memory }

func (b putDuplicates) Put(ctx context.Context, d eventlog.DeadLetter) (int64, error) {
	d.Event.ID += "-again"
	return b.Memory.Put(ctx, d)
}

// replayNoop counts replays but changes nothing.
type replayNoop struct{ *eventlog.Memory }

func (b replayNoop) Replay(ctx context.Context, f eventlog.Filter, _ eventlog.Audit) (int, error) {
	ds, err := b.Memory.List(ctx, f)
	return len(ds), err
}

// discardAnyway reports success for a Discard the store refused, as an
// UPDATE ... WHERE state = 'dead' whose row count is not checked would.
type discardAnyway struct{ *eventlog.Memory }

func (b discardAnyway) Discard(ctx context.Context, id int64, a eventlog.Audit) error {
	if err := b.Memory.Discard(ctx, id, a); !errors.Is(err, eventlog.ErrState) {
		return err
	}
	return nil
}

// acceptsInvalid appends events without validating them.
type acceptsInvalid struct{ *eventlog.Memory }

func (b acceptsInvalid) Append(ctx context.Context, evs ...canonical.Event) error {
	for i := range evs {
		if evs[i].Source == "" {
			evs[i].Source = "urn:patched"
		}
	}
	return b.Memory.Append(ctx, evs...)
}

var broken = map[string]struct {
	wrap     func(*eventlog.Memory) eventlog.Backend
	mustFail []string // subtests that must catch it
	mustPass string   // a subtest it does not break
}{
	"commitGoesBack": {func(m *eventlog.Memory) eventlog.Backend { return &commitGoesBack{Memory: m, cur: map[string]uint64{}} },
		[]string{"Cursors"}, "AppendRead"},
	"loses":          {func(m *eventlog.Memory) eventlog.Backend { return loses{m} }, []string{"AppendRead"}, "DeadLetters"},
	"putDuplicates":  {func(m *eventlog.Memory) eventlog.Backend { return putDuplicates{m} }, []string{"DeadLetters"}, "AppendRead"},
	"replayNoop":     {func(m *eventlog.Memory) eventlog.Backend { return replayNoop{m} }, []string{"DeadLetters"}, "AppendRead"},
	"discardAnyway":  {func(m *eventlog.Memory) eventlog.Backend { return discardAnyway{m} }, []string{"DeadLetterRaces"}, "AppendRead"},
	"ignoresEpoch":   {func(m *eventlog.Memory) eventlog.Backend { return ignoresEpoch{m} }, []string{"Fencing"}, "AppendRead"},
	"acceptsInvalid": {func(m *eventlog.Memory) eventlog.Backend { return acceptsInvalid{m} }, []string{"AppendInvalid"}, "DeadLetters"},
}

const brokenEnv = "EVENTLOGTEST_BROKEN_BACKEND"

// TestBrokenChild runs the kit against the broken backend named by the
// environment; TestRunCatchesBrokenBackends runs it in a child process,
// and it does nothing otherwise.
func TestBrokenChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		return
	}
	b := broken[name]
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
		m := b.wrap(eventlog.NewMemory(eventlog.MemoryConfig{}))
		return func(*testing.T) eventlog.Backend { return m }
	})
}

func TestRunCatchesBrokenBackends(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		return
	}
	for name, b := range broken {
		// Only the subtests that must catch it, and one that must pass,
		// run: the others would wait for their timeouts.
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenChild$/^("+strings.Join(b.mustFail, "|")+"|"+b.mustPass+")$", "-test.v")
		cmd.Env = append(os.Environ(), brokenEnv+"="+name)
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "the kit passed the broken backend %s:\n%s", name, out)
		for _, sub := range b.mustFail {
			assert.Contains(t, string(out), "--- FAIL: TestBrokenChild/"+sub+" ", "kit subtest %s on the broken backend %s", sub, name)
		}
		assert.Contains(t, string(out), "contract \"", "the broken backend %s: failures quote their contract", name)
		assert.Contains(t, string(out), "--- PASS: TestBrokenChild/"+b.mustPass+" ", "the broken backend %s still passes %s, which it does not break", name, b.mustPass)
	}
}
