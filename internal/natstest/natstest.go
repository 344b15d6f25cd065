// Package natstest starts embedded NATS servers with JetStream for tests:
// file storage in a directory of the test, a random port on loopback, no
// logging. A restart keeps the store directory, as a restarted server
// process would.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an embedded NATS server with JetStream. It is safe for
// concurrent use; the zero value is not usable (use [Start]).
type Server struct {
	t    testing.TB
	dir  string
	port int
	srv  *server.Server
}

// Start starts a server with JetStream and file storage in a fresh
// t.TempDir() and shuts it down when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), port: -1}
	s.start()
	t.Cleanup(s.Shutdown)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      s.port,
		JetStream: true,
		StoreDir:  s.dir,
		NoLog:     true,
		NoSigs:    true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		s.t.Fatalf("natstest: new server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.t.Fatalf("natstest: server not ready within 10s")
	}
	s.srv = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
}

// URL returns the client URL of the server (the same across restarts).
func (s *Server) URL() string { return s.srv.ClientURL() }

// Shutdown stops the server and waits until it is down.
func (s *Server) Shutdown() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
}

// Restart shuts the server down and starts it again on the same port over
// the same store directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.Shutdown()
	s.start()
}
