//go:build race

package main

// raceEnabled reports whether the race detector is on: it slows loopback
// HTTP several times over, so the fault test runs fewer orders.
const raceEnabled = true
