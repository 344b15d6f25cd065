package tracing

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Outcome is how one step of a flow ended. It is a plain value, safe for
// concurrent use. The zero value is not an outcome [Time] records.
type Outcome string

// The outcomes a [Step] can have.
const (
	// OutcomeOK: the step succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeRetry: the step failed and will be retried.
	OutcomeRetry Outcome = "retry"
	// OutcomeFailed: the step failed and will not be retried.
	OutcomeFailed Outcome = "failed"
	// OutcomeParked: the step waits for a system that is down.
	OutcomeParked Outcome = "parked"
	// OutcomeDeadLettered: the step gave up; its work is in the dead letters.
	OutcomeDeadLettered Outcome = "dead_lettered"
	// OutcomeDuplicate: the step was already done and was skipped.
	OutcomeDuplicate Outcome = "duplicate"
)

// Step is one entry of a flow's timeline: one attempt of one operation
// against one system. It is a plain value: safe for concurrent use when not
// modified. The zero value is an empty step.
type Step struct {
	// CorrelationID is the flow the step belongs to.
	CorrelationID string
	// System is where the step ran, such as "erp", "wms" or "sdk".
	System string
	// Operation names the step, such as "accept_order".
	Operation string
	// Start is when the step started.
	Start time.Time
	// Duration is how long it took.
	Duration time.Duration
	// Attempt is the 1-based attempt number.
	Attempt int
	// Outcome is how it ended.
	Outcome Outcome
	// ErrorClass classifies the failure, such as "rate_limited"; it is ""
	// for a success.
	ErrorClass string
}

// String returns the step as one line, the way every distsync example
// prints a timeline:
//
//	09:00:00.120 wms release attempt 1: retry (deadline_exceeded), 40ms
//
// that is the start time of day (in Start's location, to the millisecond;
// left out when Start is zero), the system, the operation, the attempt,
// the outcome with the error class in parentheses when there is one, and
// the duration (rounded to the microsecond, or to the millisecond from one
// second up). The correlation ID is left out: a timeline is per
// correlation ID.
func (s Step) String() string {
	b := make([]byte, 0, 80)
	if !s.Start.IsZero() {
		b = s.Start.AppendFormat(b, "15:04:05.000")
		b = append(b, ' ')
	}
	b = append(b, s.System...)
	b = append(b, ' ')
	b = append(b, s.Operation...)
	b = append(b, " attempt "...)
	b = strconv.AppendInt(b, int64(s.Attempt), 10)
	b = append(b, ": "...)
	b = append(b, s.Outcome...)
	if s.ErrorClass != "" {
		b = append(b, " ("...)
		b = append(b, s.ErrorClass...)
		b = append(b, ')')
	}
	b = append(b, ", "...)
	d := s.Duration
	switch {
	case d >= time.Second || d <= -time.Second:
		d = d.Round(time.Millisecond)
	case d >= time.Microsecond || d <= -time.Microsecond:
		d = d.Round(time.Microsecond)
	}
	b = append(b, d.String()...)
	return string(b)
}

// Recorder receives the steps of flows. Implementations must be safe for
// concurrent use; those that can read timelines back check themselves with
// the conformance kit in package tracingtest. Record must not fail the business step it records: an
// implementation that can fail (say, one writing to a database) handles its
// own errors, for example by logging them.
// The zero value, nil, is no implementation; a field of this type says what
// nil means there.
type Recorder interface {
	Record(ctx context.Context, s Step)
}

// ErrorClasser is implemented by errors that know their class for a
// timeline, such as a connector error returning its code. [Time] finds it
// with errors.As. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type ErrorClasser interface {
	ErrorClass() string
}

// Timer times steps and hands them to a [Recorder]. Its zero value times
// with time.Now and records nothing. It is safe for concurrent use.
type Timer struct {
	// Recorder receives the steps; nil records nothing.
	Recorder Recorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Time runs fn with ctx and records a Step for it: s with CorrelationID
// taken from ctx when empty, Start and Duration measured, Outcome
// OutcomeOK or OutcomeFailed, and ErrorClass from [ErrorClass]. A non-empty
// s.Outcome is kept as it is for a failure (say, OutcomeRetry when the
// caller will retry). Time returns fn's error unchanged.
func (t Timer) Time(ctx context.Context, s Step, fn func(context.Context) error) error {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	s.Start = now()
	err := fn(ctx)
	s.Duration = now().Sub(s.Start)
	if s.CorrelationID == "" {
		s.CorrelationID = CorrelationID(ctx)
	}
	switch {
	case err == nil:
		s.Outcome, s.ErrorClass = OutcomeOK, ""
	case s.Outcome == "":
		s.Outcome = OutcomeFailed
		s.ErrorClass = ErrorClass(err)
	default:
		s.ErrorClass = ErrorClass(err)
	}
	if t.Recorder != nil {
		t.Recorder.Record(ctx, s)
	}
	return err
}

// ErrorClass returns the class of err for a timeline: "" for nil, the class
// of the first [ErrorClasser] in its chain, "canceled" or
// "deadline_exceeded" for context errors, and "error" otherwise.
func ErrorClass(err error) string {
	var c ErrorClasser
	switch {
	case err == nil:
		return ""
	case errors.As(err, &c):
		return c.ErrorClass()
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "error"
}

// MemoryConfig configures a [MemoryRecorder]. The zero value is the default.
// It is a plain value: safe for concurrent use when not modified.
type MemoryConfig struct {
	// MaxFlows is how many correlation IDs are kept; past it the flow that
	// was recorded to least recently is evicted. 0 means 10000.
	MaxFlows int
	// MaxSteps is how many steps are kept per flow; past it the oldest
	// recorded step is dropped. 0 means 1000.
	MaxSteps int
}

// Validate reports whether the limits are usable: none may be negative.
func (c MemoryConfig) Validate() error {
	if c.MaxFlows < 0 {
		return fmt.Errorf("%w: MaxFlows %d is negative", ErrInvalidConfig, c.MaxFlows)
	}
	if c.MaxSteps < 0 {
		return fmt.Errorf("%w: MaxSteps %d is negative", ErrInvalidConfig, c.MaxSteps)
	}
	return nil
}

// MemoryRecorder is a [Recorder] keeping timelines in memory, bounded by its
// [MemoryConfig]. It is safe for concurrent use. Its zero value is not
// usable; create one with [NewMemoryRecorder].
type MemoryRecorder struct {
	maxFlows, maxSteps int

	mu    sync.Mutex
	flows map[string]*list.Element // of *flow
	lru   list.List                // front: most recently recorded
	seq   uint64
}

type flow struct {
	id    string
	steps []seqStep
}

type seqStep struct {
	seq uint64
	Step
}

var _ Recorder = (*MemoryRecorder)(nil)

// NewMemoryRecorder returns an empty MemoryRecorder, or an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewMemoryRecorder(cfg MemoryConfig) (*MemoryRecorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &MemoryRecorder{maxFlows: cfg.MaxFlows, maxSteps: cfg.MaxSteps, flows: make(map[string]*list.Element)}
	if m.maxFlows == 0 {
		m.maxFlows = 10000
	}
	if m.maxSteps == 0 {
		m.maxSteps = 1000
	}
	return m, nil
}

// Record stores s under its CorrelationID. A step without a CorrelationID
// is dropped.
func (m *MemoryRecorder) Record(_ context.Context, s Step) {
	if s.CorrelationID == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	var f *flow
	if e, ok := m.flows[s.CorrelationID]; ok {
		m.lru.MoveToFront(e)
		f = e.Value.(*flow)
	} else {
		if m.lru.Len() >= m.maxFlows {
			oldest := m.lru.Back()
			m.lru.Remove(oldest)
			delete(m.flows, oldest.Value.(*flow).id)
		}
		f = &flow{id: s.CorrelationID}
		m.flows[s.CorrelationID] = m.lru.PushFront(f)
	}
	if len(f.steps) >= m.maxSteps {
		f.steps = slices.Delete(f.steps, 0, 1)
	}
	f.steps = append(f.steps, seqStep{seq: m.seq, Step: s})
}

// Timeline returns the steps kept for correlationID, ordered by Start and,
// for equal starts, by the order they were recorded. It returns nil for an
// unknown (or evicted) flow.
func (m *MemoryRecorder) Timeline(correlationID string) []Step {
	m.mu.Lock()
	e, ok := m.flows[correlationID]
	var steps []seqStep
	if ok {
		steps = slices.Clone(e.Value.(*flow).steps)
	}
	m.mu.Unlock()
	if !ok {
		return nil
	}
	slices.SortFunc(steps, func(a, b seqStep) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = s.Step
	}
	return out
}

// Len returns how many flows are kept.
func (m *MemoryRecorder) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}
