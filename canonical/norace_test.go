//go:build !race

package canonical_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
