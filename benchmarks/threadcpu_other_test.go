//go:build !linux

package benchmarks_test

import "time"

// threadCPUTime reports false: only Linux measures one thread's CPU time.
func threadCPUTime() (time.Duration, bool) { return 0, false }
