package natstest_test

import (
	"testing"

	"github.com/nats-io/nats.go"

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
