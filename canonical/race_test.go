//go:build race

package canonical_test

// raceEnabled reports whether the race detector is on: it allocates on its
// own account, so allocation counts are not the code's.
const raceEnabled = true
