// Package natstest starts embedded NATS servers with JetStream for tests
// and examples: file storage in a directory of the caller, a random port
// on loopback, no logging. A restart keeps the store directory and the
// ports, as a restarted server process would. [StartCluster] and
// [NewCluster] start a JetStream cluster of several such servers joined by
// cluster routes on loopback.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
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

	// Cluster membership, empty for a single server.
	name        string
	cluster     string
	clusterPort int
	routes      []*url.URL
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
	if s.cluster != "" {
		opts.ServerName = s.name
		opts.Cluster = server.ClusterOpts{Name: s.cluster, Host: "127.0.0.1", Port: s.clusterPort}
		opts.Routes = s.routes
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

// Running reports whether the server is up (started and not shut down).
func (s *Server) Running() bool { return s.srv != nil }

// Cluster is a JetStream cluster of embedded servers on loopback, each
// with its own store directory, joined by cluster routes. Its methods are
// not safe for concurrent use; the zero value is not usable (use
// [StartCluster] or [NewCluster]).
type Cluster struct {
	// Nodes are the servers of the cluster. Shut one down and restart it
	// to test a node failure.
	Nodes []*Server
}

// StartCluster starts a cluster of n servers in fresh t.TempDir()
// directories, waits until it has a JetStream meta leader and shuts it
// down when the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c, err := NewCluster(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// NewCluster starts a cluster of n (at least 1) servers storing their
// files in subdirectories of dir, each on its own random ports of
// 127.0.0.1 and routed to every other, and waits up to 30s until the
// cluster has a JetStream meta leader. A cluster of one is a single
// server without routes (JetStream not clustered). Call Shutdown when
// done.
func NewCluster(dir string, n int) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("natstest: cluster of %d servers", n)
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(ports[n+i])})
	}
	c := &Cluster{}
	for i := range n {
		c.Nodes = append(c.Nodes, &Server{dir: filepath.Join(dir, "n"+strconv.Itoa(i)), port: ports[i],
			name: "n" + strconv.Itoa(i), cluster: "distsync-test", clusterPort: ports[n+i], routes: routes})
	}
	if n == 1 { // one server: no routes, JetStream not clustered
		c.Nodes[0].cluster = ""
	}
	for _, s := range c.Nodes {
		if err := s.start(); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// freePorts returns n ports of 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("natstest: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WaitReady waits until a running node is the JetStream meta leader and
// knows every running node as a JetStream peer (so that a replicated
// stream can be placed), and every running node is routed to the other
// running ones, or returns an error after within.
func (c *Cluster) WaitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		running, peers, leader, routed := 0, 0, false, true
		for _, s := range c.Nodes {
			if s.srv != nil {
				running++
				if !s.srv.JetStreamIsClustered() && s.srv.JetStreamEnabled() {
					leader, peers = true, 1
				} else if s.srv.JetStreamIsLeader() {
					leader, peers = true, len(s.srv.JetStreamClusterPeers())
				}
			}
		}
		for _, s := range c.Nodes {
			if s.srv != nil && s.srv.NumRoutes() < running-1 {
				routed = false
			}
		}
		if leader && routed && peers >= running {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("natstest: cluster has no JetStream meta leader within " + within.String())
		}
		time.Sleep(20 * time.Millisecond) // the servers elect in real time
	}
}

// URL returns the client URLs of every node, separated by commas, as
// nats.Connect takes them: a client fails over to another node when its
// node goes down.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

// Shutdown stops every node. It may be called more than once.
func (c *Cluster) Shutdown() {
	for _, s := range c.Nodes {
		s.Shutdown()
	}
}
