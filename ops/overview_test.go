package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/ops"
	"github.com/distsync/distsync/retry"
)

// logOnly hides eventlog.Memory's Len, as a log that cannot tell its length.
type logOnly struct{ eventlog.Log }

func TestOverviewLag(t *testing.T) {
	ctx := context.Background()
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		require.NoError(t, log.Append(ctx, canonical.Event{ID: string(rune('a' + i)), Source: "urn:x", SpecVersion: "1.0",
			Type: "t", Subject: "s", Time: t0.Add(time.Duration(i) * time.Minute)}))
	}
	epoch, err := log.Claim(ctx, "g")
	require.NoError(t, err)
	require.NoError(t, log.Commit(ctx, "g", epoch, 1))
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name        string
		log         eventlog.Log
		maxLag      int
		pending     int
		capped      bool
		idlePending int
		idleCapped  bool
	}{
		{"log with Len", log, 0, 2, false, 3, false},
		{"log without Len", logOnly{log}, 0, 2, false, 3, false},
		{"log without Len, capped", logOnly{log}, 1, 1, true, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptestServer(t, mustHandler(t, ops.Config{DeadLetters: log, Groups: log, Log: tc.log, GroupNames: []string{"g", "idle"},
				MaxLag: tc.maxLag, Now: func() time.Time { return now }}))
			var ov ops.Overview
			getJSON(t, srv+"/api/overview", &ov)
			require.Len(t, ov.Groups, 2)
			g := ov.Groups[0]
			assert.Equal(t, ops.GroupView{Name: "g", Cursor: 1, Pending: tc.pending, PendingCapped: tc.capped,
				Oldest: t0.Add(time.Minute), LagSec: 59 * 60}, g)
			assert.Equal(t, ops.GroupView{Name: "idle", Pending: tc.idlePending, PendingCapped: tc.idleCapped,
				Oldest: t0, LagSec: 3600}, ov.Groups[1])
		})
	}
}

func mustHandler(t testing.TB, cfg ops.Config) *ops.Handler {
	t.Helper()
	h, err := ops.New(cfg)
	require.NoError(t, err, "ops.New")
	return h
}

func TestBreakerBoard(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := &ops.BreakerBoard{Now: func() time.Time { return at }}
	b.Track("wms", "erp")
	b.Observe("erp", retry.StateClosed, retry.StateOpen)
	b.Observe("crm", retry.StateOpen, retry.StateHalfOpen)
	b.Track("erp")
	assert.Equal(t, []ops.Breaker{
		{Name: "crm", State: "half-open", Since: at},
		{Name: "erp", State: "open", Since: at},
		{Name: "wms", State: "closed"},
	}, b.Breakers())
	var zero ops.BreakerBoard
	assert.Empty(t, zero.Breakers(), "zero value")
}
