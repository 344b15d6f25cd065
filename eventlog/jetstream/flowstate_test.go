package jetstream_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/natstest"
)

func newFlowState(t *testing.T, srv *natstest.Server, now func() time.Time) (*jetstream.FlowState, jetstream.FlowStateConfig) {
	t.Helper()
	cfg := jetstream.FlowStateConfig{URL: srv.URL(), Bucket: "flow" + strconv.FormatInt(storeN.Add(1), 10), Now: now}
	s, err := jetstream.NewFlowState(t.Context(), cfg)
	require.NoError(t, err, "NewFlowState")
	t.Cleanup(func() { _ = s.Close() })
	return s, cfg
}

// TestFlowStateStore mirrors flow's TestStateStores: an absent order, save
// and load, replace, the held list, conditional saves on version, and a
// cancelled context; and that the states survive a server restart.
func TestFlowStateStore(t *testing.T) {
	ctx := t.Context()
	srv := natstest.Start(t)
	s, cfg := newFlowState(t, srv, nil)
	_, ok, err := s.LoadState(ctx, "ORD-1")
	require.NoError(t, err, "load absent")
	assert.False(t, ok, "absent order found")
	steps := []flow.StoredState{
		{OrderID: "ORD-1", Data: []byte(`{"a":1}`), Held: true, Version: 1},
		{OrderID: "ORD-2", Data: []byte(`{"b":2}`), Held: true, Version: 1},
		{OrderID: "ORD-3", Data: []byte(`{"c":3}`), Version: 1},
		{OrderID: "ORD-1", Data: []byte(`{"a":2}`), Final: true, Version: 2},
	}
	for _, st := range steps {
		require.NoError(t, s.SaveState(ctx, st), "save %s v%d", st.OrderID, st.Version)
	}
	check := func(s flow.StateStore, when string) {
		for _, want := range steps[1:] {
			got, ok, err := s.LoadState(ctx, want.OrderID)
			require.NoError(t, err, "load %s %s", want.OrderID, when)
			require.True(t, ok, "%s found %s", want.OrderID, when)
			assert.Equal(t, want, got, "state of %s %s", want.OrderID, when)
		}
		held, err := s.HeldOrders(ctx)
		require.NoError(t, err, "held %s", when)
		assert.Equal(t, []string{"ORD-2"}, held, "held orders %s", when)
	}
	check(s, "after the saves")
	assert.ErrorIs(t, s.SaveState(ctx, flow.StoredState{Data: []byte(`{}`), Version: 1}), flow.ErrBadState, "save without an order ID")
	for _, bad := range []flow.StoredState{
		{OrderID: "ORD-1", Data: []byte(`{"a":3}`), Version: 2}, // another flow saved version 2 first
		{OrderID: "ORD-1", Data: []byte(`{"a":3}`), Version: 4},
		{OrderID: "ORD-1", Data: []byte(`{"a":3}`), Version: 1},
		{OrderID: "ORD-1", Data: []byte(`{"a":3}`)},
		{OrderID: "ORD-9", Data: []byte(`{"z":1}`), Version: 2},
	} {
		assert.ErrorIs(t, s.SaveState(ctx, bad), flow.ErrStateConflict, "save %s at version %d", bad.OrderID, bad.Version)
	}
	_, ok, err = s.LoadState(ctx, "ORD-9")
	require.NoError(t, err, "load ORD-9")
	assert.False(t, ok, "ORD-9 saved at version 2 over none")
	check(s, "after the conflicts")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = s.LoadState(cctx, "ORD-1")
	assert.ErrorIs(t, err, context.Canceled, "load with a cancelled context")

	require.NoError(t, srv.Restart(), "restart the server")
	s2, err := jetstream.NewFlowState(ctx, cfg)
	require.NoError(t, err, "reopen after the restart")
	defer s2.Close()
	check(s2, "after a server restart")
}

// TestFlowStateRacingSaves saves the same version of one order from many
// goroutines (flows in several processes): exactly one save wins, the
// others fail with ErrStateConflict, and the stored state is the winner's.
func TestFlowStateRacingSaves(t *testing.T) {
	srv := natstest.Start(t)
	s, _ := newFlowState(t, srv, nil)
	ctx := t.Context()
	require.NoError(t, s.SaveState(ctx, flow.StoredState{OrderID: "O", Data: []byte(`{}`), Version: 1}), "save v1")
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.SaveState(ctx, flow.StoredState{OrderID: "O", Data: []byte(`{"w":` + strconv.Itoa(i) + `}`), Version: 2})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "a second save of version 2 succeeded (%d and %d)", winner, i)
			winner = i
			continue
		}
		require.True(t, errors.Is(err, flow.ErrStateConflict), "a losing save fails with ErrStateConflict: %v", err)
	}
	require.NotEqual(t, -1, winner, "one save of version 2 succeeds")
	got, _, err := s.LoadState(ctx, "O")
	require.NoError(t, err, "load")
	assert.Equal(t, `{"w":`+strconv.Itoa(winner)+`}`, string(got.Data), "the stored state is the winner's")
}

// TestFlowStateCursorsAndDeleteFinal mirrors flow's TestSQLState: feed
// cursors, and deleting final orders before a time.
func TestFlowStateCursorsAndDeleteFinal(t *testing.T) {
	srv := natstest.Start(t)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s, _ := newFlowState(t, srv, func() time.Time { return now })
	ctx := t.Context()
	var _ flow.CursorStore = s
	cur, err := s.Load(ctx, flow.FeedCRMOrders)
	require.NoError(t, err, "load absent cursor")
	assert.Empty(t, cur, "absent cursor")
	for _, c := range []connector.Cursor{"10", "25"} {
		require.NoError(t, s.Save(ctx, flow.FeedCRMOrders, c), "save cursor %s", c)
	}
	cur, err = s.Load(ctx, flow.FeedCRMOrders)
	require.NoError(t, err, "load cursor")
	assert.Equal(t, connector.Cursor("25"), cur, "cursor")

	require.NoError(t, s.SaveState(ctx, flow.StoredState{OrderID: "ORD-F", Data: []byte(`{}`), Final: true, Version: 1}), "save final")
	require.NoError(t, s.SaveState(ctx, flow.StoredState{OrderID: "ORD-O", Data: []byte(`{}`), Version: 1}), "save open")
	n, err := s.DeleteFinal(ctx, now.Add(-time.Hour))
	require.NoError(t, err, "delete final an hour ago")
	assert.Zero(t, n, "deleted final orders saved within the hour")
	n, err = s.DeleteFinal(ctx, now.Add(time.Second))
	require.NoError(t, err, "delete final")
	assert.Equal(t, 1, n, "final orders deleted")
	_, ok, err := s.LoadState(ctx, "ORD-F")
	require.NoError(t, err, "load deleted")
	assert.False(t, ok, "the final order is deleted")
	_, ok, err = s.LoadState(ctx, "ORD-O")
	require.NoError(t, err, "load open")
	assert.True(t, ok, "the open order is kept")
	require.NoError(t, s.SaveState(ctx, flow.StoredState{OrderID: "ORD-F", Data: []byte(`{}`), Version: 1}), "an order deleted is saved anew from version 1")

	for _, cfg := range []jetstream.FlowStateConfig{{}, {URL: "nats://x", Bucket: "a.b"}, {URL: "nats://x", Replicas: -1}} {
		_, err := jetstream.NewFlowState(ctx, cfg)
		assert.ErrorIs(t, err, flow.ErrInvalidConfig, "NewFlowState %+v", cfg)
	}
}
