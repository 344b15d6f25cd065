// Package memtest measures the heap bytes code allocates, for the tests
// that bound them: testing.AllocsPerRun counts allocations, not bytes.
package memtest

import "runtime"

// Allocated returns the bytes of heap allocated while f ran, by f and by
// any goroutine that ran meanwhile: call it when nothing else runs.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
