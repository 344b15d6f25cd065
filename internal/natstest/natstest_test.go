package natstest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/internal/natstest"
)

func TestRestartKeepsURLAndJetStream(t *testing.T) {
	s := natstest.Start(t)
	url := s.URL()
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if s.URL() != url {
		t.Fatalf("URL after restart = %s, want %s", s.URL(), url)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	defer nc.Close()
	if _, err := nc.Request("$JS.API.INFO", nil, 5e9); err != nil {
		t.Fatalf("JetStream after restart: %v", err)
	}
	s.Shutdown()
	s.Shutdown() // twice is fine
}

func TestClusterSurvivesANode(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Replicas: 3, Storage: jetstream.FileStorage}); err != nil {
		t.Fatalf("create an R3 stream: %v", err)
	}
	publish := func(n int) {
		t.Helper()
		for {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := js.Publish(pctx, "s.x", []byte("m"), jetstream.WithMsgID(strconv.Itoa(n)))
			cancel()
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("publish %d: %v", n, err)
			}
		}
	}
	for i := range 10 {
		publish(i)
	}
	c.Nodes[0].Shutdown()
	if c.Nodes[0].Running() {
		t.Fatal("node 0 runs after Shutdown")
	}
	for i := 10; i < 20; i++ {
		publish(i)
	}
	if err := c.Nodes[0].Restart(); err != nil {
		t.Fatalf("restart node 0: %v", err)
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 20 {
		t.Fatalf("stream holds %d messages, want the 20 acknowledged", info.State.Msgs)
	}
	if info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream cluster info %+v, want a leader and 2 replicas", info.Cluster)
	}
}
