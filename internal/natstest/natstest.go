// Package natstest starts embedded NATS servers with JetStream for tests
// and examples: file storage in a directory of the caller, a random port
// on loopback, no logging. A restart keeps the store directory and the
// port, as a restarted server process would.
package natstest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an embedded NATS server with JetStream. Its methods are not
// safe for concurrent use; the zero value is not usable (use [Start] or
// [New]).
type Server struct {
	dir  string
	port int
	srv  *server.Server
}

// Start starts a server with JetStream and file storage in a fresh
// t.TempDir() and shuts it down when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// New starts a server with JetStream storing its files in dir, on a
// random port of 127.0.0.1. Call Shutdown when done.
func New(dir string) (*Server, error) {
	s := &Server{dir: dir, port: -1}
	return s, s.start()
}

func (s *Server) start() error {
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
		return fmt.Errorf("natstest: new server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("natstest: server not ready within 10s")
	}
	s.srv = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
	return nil
}

// URL returns the client URL of the server (the same across restarts).
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// Shutdown stops the server and waits until it is down. It may be called
// more than once.
func (s *Server) Shutdown() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// Restart shuts the server down and starts it again on the same port over
// the same store directory.
func (s *Server) Restart() error {
	s.Shutdown()
	return s.start()
}
