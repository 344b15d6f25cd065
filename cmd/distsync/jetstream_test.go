package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

// populateJetStream runs populate's flow on a JetStream store of an
// embedded server, with the jetstream package's default names unless cfg
// and bucket name others.
func populateJetStream(t *testing.T, url string, cfg jetstream.Config, bucket string) {
	t.Helper()
	ctx := context.Background()
	cfg.URL = url
	log, err := jetstream.Open(ctx, cfg)
	require.NoError(t, err)
	defer log.Close()
	state, err := jetstream.NewFlowState(ctx, jetstream.FlowStateConfig{URL: url, Bucket: bucket})
	require.NoError(t, err)
	defer state.Close()
	runFlow(t, log, state)
}

// TestCLIJetStream runs the commands of the SQLite and PostgreSQL tests
// against the JetStream store a real flow wrote with the default names.
func TestCLIJetStream(t *testing.T) {
	srv := natstest.Start(t)
	populateJetStream(t, srv.URL(), jetstream.Config{}, "")
	testCLI(t, []string{"-db", srv.URL()})
}

// TestCLIJetStreamNames opens a store under other names than the
// defaults, and checks that the CLI changes nothing of the stream's
// configuration and creates nothing that is not there.
func TestCLIJetStreamNames(t *testing.T) {
	srv := natstest.Start(t)
	cfg := jetstream.Config{Stream: "OPS", Subject: "ops.events", BucketPrefix: "ops", MaxMsgs: 5000, DuplicateWindow: 5 * 60e9}
	populateJetStream(t, srv.URL(), cfg, "ops_flow")
	before := streamConfig(t, srv.URL(), "OPS")
	names := []string{"-db", srv.URL(), "-stream", "OPS", "-kv-prefix", "ops", "-flow-bucket", "ops_flow"}

	code, out, errOut := runCLI(append(names, "-json", "dlq", "list")...)
	require.Equal(t, exitFindings, code, errOut)
	var dls []eventlog.DeadLetter
	require.NoError(t, json.Unmarshal([]byte(out), &dls), out)
	require.Len(t, dls, 1)
	assert.Equal(t, "intruder-1", dls[0].Event.ID)
	code, out, errOut = runCLI(append(names, "-json", "reconcile")...)
	require.Equal(t, exitFindings, code, errOut)
	var rep struct{ Cost struct{ Orders int } }
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, 3, rep.Cost.Orders, "the orders of bucket ops_flow")

	// The stream's limits are as the flow set them.
	after := streamConfig(t, srv.URL(), "OPS")
	assert.Equal(t, before, after, "the CLI left the stream's configuration as it was")
	assert.Equal(t, int64(5000), after.MaxMsgs)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"default stream", []string{"-db", srv.URL(), "lag"}, "stream DISTSYNC_EVENTS (-stream)"},
		{"other prefix", []string{"-db", srv.URL(), "-stream", "OPS", "-kv-prefix", "nope", "lag"}, "bucket nope_groups (-kv-prefix)"},
		{"default flow bucket", []string{"-db", srv.URL(), "-stream", "OPS", "-kv-prefix", "ops", "where", "ORD-000001"}, "bucket distsync_flow (-flow-bucket)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(tc.args...)
			assert.Equal(t, exitUnreachable, code, "args %q", tc.args)
			assert.Contains(t, errOut, tc.want, "args %q", tc.args)
		})
	}
	// Nothing was created by the failed opens.
	code, _, errOut = runCLI("-db", srv.URL(), "lag")
	assert.Equal(t, exitUnreachable, code, "the default stream is still not there: %s", errOut)
	assert.True(t, strings.Contains(errOut, "stream not found"), errOut)
}

func streamConfig(t *testing.T, url, stream string) natsjs.StreamConfig {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	st, err := js.Stream(context.Background(), stream)
	require.NoError(t, err)
	return st.CachedInfo().Config
}

// TestCLIJetStreamUnreachable checks the exit code when no server answers,
// and that the URL's password is not shown.
func TestCLIJetStreamUnreachable(t *testing.T) {
	code, out, errOut := runCLI("-db", "nats://u:secret@127.0.0.1:1", "lag")
	assert.Equal(t, exitUnreachable, code, out+errOut)
	assert.Contains(t, errOut, "nats://…@127.0.0.1:1")
	assert.NotContains(t, out+errOut, "secret")
}
