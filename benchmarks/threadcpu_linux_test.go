package benchmarks_test

import (
	"syscall"
	"time"
)

// threadCPUTime returns the user and system CPU time of the calling OS
// thread so far, and true; the caller locks its goroutine to the thread.
func threadCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
