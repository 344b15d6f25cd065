// Package benchmarks compares distsync's parts with their peers. It is a
// module of its own so that the peers (Watermill, ...) never enter the
// dependencies of github.com/distsync/distsync. Run it from this directory:
//
//	go test -run='^$' -bench=. -benchtime=1s .
//
// Each comparison lives in a file named by topic (idempotency_test.go, ...).
package benchmarks
