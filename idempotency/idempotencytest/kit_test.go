package idempotencytest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
)

func newMemory(t *testing.T, cfg idempotencytest.Config) *idempotency.MemoryStore {
	s, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Retention: cfg.Retention, Now: cfg.Now, ReapInterval: -1})
	require.NoError(t, err, "NewMemoryStore")
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestRunMemoryStore(t *testing.T) {
	idempotencytest.Run(t, func(t *testing.T, cfg idempotencytest.Config) idempotency.Store {
		return newMemory(t, cfg)
	})
}

// Broken stores, each breaking one rule of the contract.

// claimsAlways answers Claimed to every claim: no mutual exclusion.
type claimsAlways struct{ *idempotency.MemoryStore }

func (s claimsAlways) Claim(ctx context.Context, k idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	c, err := s.MemoryStore.Claim(ctx, k, fp, lease)
	if err == nil && c.Status != idempotency.Claimed {
		c = idempotency.Claim{Status: idempotency.Claimed, Lease: idempotency.Lease{Key: k, Token: 1 << 40, Expires: time.Now().Add(lease)}}
	}
	return c, err
}

// ignoresContext does its work whatever the context says.
type ignoresContext struct{ *idempotency.MemoryStore }

func (s ignoresContext) Claim(_ context.Context, k idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	return s.MemoryStore.Claim(context.Background(), k, fp, lease)
}

func (s ignoresContext) Complete(_ context.Context, l idempotency.Lease, r idempotency.Result) error {
	return s.MemoryStore.Complete(context.Background(), l, r)
}

// releaseIsNoop pretends to release.
type releaseIsNoop struct{ *idempotency.MemoryStore }

func (releaseIsNoop) Release(context.Context, idempotency.Lease) error { return nil }

// ignoresFingerprint never reports a mismatch.
type ignoresFingerprint struct{ *idempotency.MemoryStore }

func (s ignoresFingerprint) Claim(ctx context.Context, k idempotency.Key, _ idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	return s.MemoryStore.Claim(ctx, k, idempotency.Fingerprint{}, lease)
}

// batchNotAtomic claims a batch one key after the other and stops at the
// first failure, leaving the keys claimed before it held.
type batchNotAtomic struct{ *idempotency.MemoryStore }

func (s batchNotAtomic) ClaimBatch(ctx context.Context, reqs []idempotency.ClaimRequest, lease time.Duration) ([]idempotency.Claim, error) {
	var out []idempotency.Claim
	for _, r := range reqs {
		c, err := s.MemoryStore.Claim(ctx, r.Key, r.Fingerprint, lease)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

var broken = map[string]struct {
	wrap     func(*idempotency.MemoryStore) idempotency.Store
	mustFail []string // subtests that must catch it
}{
	"claimsAlways":       {func(m *idempotency.MemoryStore) idempotency.Store { return claimsAlways{m} }, []string{"ConcurrentClaimsOneWinner", "InProgress", "CompleteThenReplay"}},
	"ignoresContext":     {func(m *idempotency.MemoryStore) idempotency.Store { return ignoresContext{m} }, []string{"ContextCancelled"}},
	"releaseIsNoop":      {func(m *idempotency.MemoryStore) idempotency.Store { return releaseIsNoop{m} }, []string{"ReleaseThenReclaim", "ForeignLease"}},
	"ignoresFingerprint": {func(m *idempotency.MemoryStore) idempotency.Store { return ignoresFingerprint{m} }, []string{"Mismatch", "ExpiredLeaseOtherFingerprintIsMismatch"}},
	"batchNotAtomic":     {func(m *idempotency.MemoryStore) idempotency.Store { return batchNotAtomic{m} }, []string{"BatchClaim"}},
}

const brokenEnv = "IDEMPOTENCYTEST_BROKEN_STORE"

// TestBrokenStoreChild runs the kit against the broken store named by the
// environment; it is run by TestRunCatchesBrokenStores in a child process
// and does nothing otherwise.
func TestBrokenStoreChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		return
	}
	b := broken[name]
	idempotencytest.Run(t, func(t *testing.T, cfg idempotencytest.Config) idempotency.Store {
		return b.wrap(newMemory(t, cfg))
	})
}

func TestRunCatchesBrokenStores(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		return
	}
	for name, b := range broken {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStoreChild$", "-test.v")
		cmd.Env = append(os.Environ(), brokenEnv+"="+name)
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "the kit passed the broken store %s:\n%s", name, out)
		for _, sub := range b.mustFail {
			assert.Contains(t, string(out), "--- FAIL: TestBrokenStoreChild/"+sub+" ", "kit subtest %s on the broken store %s", sub, name)
		}
		assert.Contains(t, string(out), "contract \"", "the broken store %s: failures quote their contract", name)
		assert.True(t, strings.Contains(string(out), "--- PASS: TestBrokenStoreChild/InvalidArguments"), "the broken store %s still passes the checks it does not break", name)
	}
}

func TestCheckCatchesBrokenStores(t *testing.T) {
	for name, b := range broken {
		err := idempotencytest.Check(func(cfg idempotencytest.Config) (idempotency.Store, error) {
			m, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Retention: cfg.Retention, Now: cfg.Now, ReapInterval: -1})
			if err != nil {
				return nil, err
			}
			return b.wrap(m), nil
		})
		require.Error(t, err, "Check passed the broken store %s", name)
		for _, check := range b.mustFail {
			assert.Contains(t, err.Error(), check+": contract ", "Check's report on the broken store %s", name)
		}
		assert.NotContains(t, err.Error(), "InvalidArguments: ", "the broken store %s still passes the checks it does not break", name)
	}
}
