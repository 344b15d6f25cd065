package o2c

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/tracing"
)

func TestPrintTimeline(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	step := func(sec int, system, op string, o tracing.Outcome, class string) tracing.Step {
		return tracing.Step{System: system, Operation: op, Start: t0.Add(time.Duration(sec) * time.Second), Outcome: o, ErrorClass: class}
	}
	steps := []tracing.Step{
		step(1, "erp", "GetOrder", tracing.OutcomeOK, ""),
		step(2, "erp", "GetOrder", tracing.OutcomeOK, ""),
		step(3, "erp", "GetOrder", tracing.OutcomeRetry, "unavailable"),
		step(4, "erp", "GetOrder", tracing.OutcomeFailed, "circuit_open"),
		step(6, "flow", "handle x", tracing.OutcomeParked, "error"),
		step(7, "erp", "Post", tracing.OutcomeFailed, "circuit_open"),
		step(8, "flow", "handle x", tracing.OutcomeParked, "error"),
		step(9, "erp", "Post", tracing.OutcomeFailed, "circuit_open"),
		step(10, "flow", "handle x", tracing.OutcomeParked, "error"),
		step(11, "erp", "Post", tracing.OutcomeFailed, "circuit_open"),
		step(12, "flow", "handle x", tracing.OutcomeOK, ""),
	}
	notes := []note{{at: t0.Add(5 * time.Second), text: "a user acts"}, {at: t0.Add(20 * time.Second), text: "last"}}
	var out bytes.Buffer
	printTimeline(&out, steps, notes)
	want := `   erp   GetOrder                     ok ×2, retry(unavailable), failed(circuit_open)
   -->   a user acts
   flow  handle x                     parked(error)
   erp   Post                         failed(circuit_open)
         (the 2 lines above: 3 times in all)
   flow  handle x                     ok
   -->   last
`
	assert.Equal(t, want, out.String(), "timeline")
}
