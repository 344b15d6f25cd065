package jetstream_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/natstest"
)

// client returns a JetStream client of its own on srv, to look at the
// streams and buckets behind the package's back.
func client(t *testing.T, srv *natstest.Server) natsjs.JetStream {
	t.Helper()
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err, "connect")
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err, "jetstream client")
	return js
}

func streamCfg(t *testing.T, js natsjs.JetStream, name string) natsjs.StreamConfig {
	t.Helper()
	st, err := js.Stream(t.Context(), name)
	require.NoError(t, err, "stream %s", name)
	return st.CachedInfo().Config
}

// TestOpenExisting opens a store a flow made, with Existing and none of
// its settings: it reads and appends on the stream's own subject and
// changes none of the stream's limits; a store that is not there is a
// NotFoundError naming the stream or bucket, and nothing is created.
func TestOpenExisting(t *testing.T) {
	srv := natstest.Start(t)
	js := client(t, srv)
	ctx := t.Context()
	n := strconv.FormatInt(storeN.Add(1), 10)
	made := jetstream.Config{URL: srv.URL(), Stream: "EV" + n, Subject: "ev" + n, BucketPrefix: "b" + n,
		MaxMsgs: 5000, MaxAge: time.Hour, DuplicateWindow: 5 * time.Minute}
	w := open(t, made)
	require.NoError(t, w.Append(ctx, eventlogtest.Event("k", 1)), "append by the flow")
	before := streamCfg(t, js, made.Stream)

	r := open(t, jetstream.Config{URL: srv.URL(), Stream: made.Stream, BucketPrefix: made.BucketPrefix, Existing: true})
	assert.Equal(t, []string{"k-1"}, ids(t, r), "read through the existing store")
	require.NoError(t, r.Append(ctx, eventlogtest.Event("k", 2)), "append through the existing store")
	assert.Equal(t, []string{"k-1", "k-2"}, ids(t, w), "the flow reads the append on its subject")
	assert.Equal(t, before, streamCfg(t, js, made.Stream), "the stream's configuration is unchanged")
	open(t, jetstream.Config{URL: srv.URL(), Stream: made.Stream, Subject: made.Subject, BucketPrefix: made.BucketPrefix, Existing: true})

	tests := []struct {
		name       string
		cfg        jetstream.Config
		kind, what string
		clientErr  error
	}{
		{"no stream", jetstream.Config{Stream: "NOPE" + n, BucketPrefix: made.BucketPrefix}, "stream", "NOPE" + n, natsjs.ErrStreamNotFound},
		{"default stream", jetstream.Config{BucketPrefix: made.BucketPrefix}, "stream", jetstream.DefaultStream, natsjs.ErrStreamNotFound},
		{"no buckets", jetstream.Config{Stream: made.Stream, BucketPrefix: "nope" + n}, "bucket", "nope" + n + "_groups", natsjs.ErrBucketNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.URL, tc.cfg.Existing = srv.URL(), true
			_, err := jetstream.Open(ctx, tc.cfg)
			var nf *jetstream.NotFoundError
			require.True(t, errors.As(err, &nf), "a NotFoundError: %v", err)
			assert.Equal(t, tc.kind, nf.Kind, "kind")
			assert.Equal(t, tc.what, nf.Name, "name")
			assert.ErrorIs(t, err, tc.clientErr, "wraps the client's error")
			assert.Contains(t, err.Error(), tc.kind+" "+tc.what+" does not exist", "the message names it")
		})
	}
	_, err := js.Stream(ctx, jetstream.DefaultStream)
	assert.ErrorIs(t, err, natsjs.ErrStreamNotFound, "no stream was created")
	_, err = js.KeyValue(ctx, "nope"+n+"_groups")
	assert.ErrorIs(t, err, natsjs.ErrBucketNotFound, "no bucket was created")

	_, err = jetstream.Open(ctx, jetstream.Config{URL: srv.URL(), Stream: made.Stream, Subject: "other", BucketPrefix: made.BucketPrefix, Existing: true})
	assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "a Subject other than the stream's")
}

// TestFlowStateExisting opens a flow's bucket with Existing: the states
// are there and the bucket's settings unchanged; a bucket that is not
// there is a NotFoundError and is not created.
func TestFlowStateExisting(t *testing.T) {
	srv := natstest.Start(t)
	js := client(t, srv)
	ctx := t.Context()
	s, cfg := newFlowState(t, srv, nil)
	require.NoError(t, s.SaveState(ctx, flow.StoredState{OrderID: "ORD-1", Data: []byte(`{}`), Version: 1}), "save")
	// An operator set a limit the flow does not know of.
	bcfg := streamCfg(t, js, "KV_"+cfg.Bucket)
	bcfg.MaxBytes = 1 << 20
	_, err := js.UpdateStream(ctx, bcfg)
	require.NoError(t, err, "set the bucket's limit")
	before := streamCfg(t, js, "KV_"+cfg.Bucket)

	e, err := jetstream.NewFlowState(ctx, jetstream.FlowStateConfig{URL: srv.URL(), Bucket: cfg.Bucket, Existing: true})
	require.NoError(t, err, "open the existing bucket")
	defer e.Close()
	got, ok, err := e.LoadState(ctx, "ORD-1")
	require.NoError(t, err, "load")
	assert.True(t, ok && got.Version == 1, "the flow's state is there: %+v", got)
	assert.Equal(t, before, streamCfg(t, js, "KV_"+cfg.Bucket), "the bucket's configuration is unchanged")

	for _, bucket := range []string{"", "nope" + strconv.FormatInt(storeN.Add(1), 10)} {
		want := bucket
		if want == "" {
			want = jetstream.DefaultFlowBucket
		}
		_, err := jetstream.NewFlowState(ctx, jetstream.FlowStateConfig{URL: srv.URL(), Bucket: bucket, Existing: true})
		var nf *jetstream.NotFoundError
		require.True(t, errors.As(err, &nf), "bucket %q: a NotFoundError: %v", bucket, err)
		assert.Equal(t, "bucket", nf.Kind)
		assert.Equal(t, want, nf.Name)
		assert.ErrorIs(t, err, natsjs.ErrBucketNotFound)
		_, err = js.KeyValue(ctx, want)
		assert.ErrorIs(t, err, natsjs.ErrBucketNotFound, "bucket %s was not created", want)
	}
}

// TestFlowStateListOrders mirrors flow's TestStoredOrders on the listing:
// open orders always, final ones when saved at or after since, every one
// for the zero since; cursors and deleted orders are not orders.
func TestFlowStateListOrders(t *testing.T) {
	srv := natstest.Start(t)
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now := t0
	s, _ := newFlowState(t, srv, func() time.Time { return now })
	ctx := t.Context()
	var lister flow.StateLister = s
	got, err := lister.ListOrders(ctx, time.Time{})
	require.NoError(t, err, "list an empty bucket")
	assert.Empty(t, got, "orders of an empty bucket")

	for _, st := range []struct {
		at time.Time
		s  flow.StoredState
	}{
		{t0, flow.StoredState{OrderID: "ORD-OPEN", Data: []byte(`{}`), Version: 1}},
		{t0, flow.StoredState{OrderID: "ORD-HELD", Data: []byte(`{}`), Held: true, Version: 1}},
		{t0, flow.StoredState{OrderID: "ORD-F0", Data: []byte(`{}`), Final: true, Version: 1}},
		{t0.Add(-time.Hour), flow.StoredState{OrderID: "ORD-GONE", Data: []byte(`{}`), Final: true, Version: 1}},
		{t0.Add(2 * time.Hour), flow.StoredState{OrderID: "ORD-F2", Data: []byte(`{}`), Version: 1}},
		{t0.Add(2 * time.Hour), flow.StoredState{OrderID: "ORD-F2", Data: []byte(`{}`), Final: true, Version: 2}},
		{t0.Add(3 * time.Hour), flow.StoredState{OrderID: "ORD/ü é", Data: []byte(`{}`), Version: 1}},
	} {
		now = st.at
		require.NoError(t, s.SaveState(ctx, st.s), "save %s v%d", st.s.OrderID, st.s.Version)
	}
	require.NoError(t, s.Save(ctx, flow.FeedCRMOrders, "7"), "save a cursor")
	n, err := s.DeleteFinal(ctx, t0.Add(-time.Minute))
	require.NoError(t, err, "delete final")
	require.Equal(t, 1, n, "ORD-GONE deleted")

	open := []string{"ORD-HELD", "ORD-OPEN", "ORD/ü é"}
	tests := []struct {
		name  string
		since time.Time
		want  []string
	}{
		{"zero since: every order", time.Time{}, []string{"ORD-F0", "ORD-F2", "ORD-HELD", "ORD-OPEN", "ORD/ü é"}},
		{"since the save time: at or after", t0, []string{"ORD-F0", "ORD-F2", "ORD-HELD", "ORD-OPEN", "ORD/ü é"}},
		{"just after it", t0.Add(time.Nanosecond), []string{"ORD-F2", "ORD-HELD", "ORD-OPEN", "ORD/ü é"}},
		{"after every save: the open ones", t0.Add(24 * time.Hour), open},
		{"long before", t0.Add(-24 * time.Hour), []string{"ORD-F0", "ORD-F2", "ORD-HELD", "ORD-OPEN", "ORD/ü é"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lister.ListOrders(ctx, tc.since)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = lister.ListOrders(cctx, time.Time{})
	assert.ErrorIs(t, err, context.Canceled, "list with a cancelled context")
}
