//go:build race

package idempotency_test

// raceEnabled reports whether the race detector is on: allocation counts
// are not the code's under it.
const raceEnabled = true
