package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrCircuitOpen is matched (with errors.Is) by the [*OpenError] a [Breaker]
// returns instead of calling a dependency it considers down. [Do] does not
// retry it: the caller is expected to park the work and resume it once the
// dependency is back.
var ErrCircuitOpen = errors.New("retry: circuit open")

// ErrInvalidConfig is matched (with errors.Is) by the error
// [BreakerConfig.Validate] returns.
var ErrInvalidConfig = errors.New("retry: invalid configuration")

// OpenError is returned by [Breaker.Do] when the breaker rejects a call. It
// matches [ErrCircuitOpen] with errors.Is. It is not modified after it is
// returned, so it is safe for concurrent use. Its zero value names no
// breaker; [Breaker.Do] fills it in.
type OpenError struct {
	// Name is the breaker's name.
	Name string
	// Until is when the breaker will let a probe call through; it is zero
	// when the breaker is half-open and its probes are all in flight.
	Until time.Time
}

// Error returns "retry: circuit open: NAME".
func (e *OpenError) Error() string { return "retry: circuit open: " + e.Name }

// Is reports whether target is [ErrCircuitOpen].
func (e *OpenError) Is(target error) bool { return target == ErrCircuitOpen }

// State is the state of a [Breaker]. It is a plain value, safe for
// concurrent use. The zero value is [StateClosed].
type State int

// The states of a [Breaker].
const (
	// StateClosed: calls go through and their failures are counted.
	StateClosed State = iota
	// StateOpen: calls are rejected with [ErrCircuitOpen] until OpenTimeout
	// has passed.
	StateOpen
	// StateHalfOpen: a few probe calls go through; their success closes the
	// breaker, a failure opens it again.
	StateHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	}
	return "State(" + fmt.Sprint(int(s)) + ")"
}

// BreakerConfig configures a [Breaker]. The zero value of each field is its
// documented default. It is read once by [NewBreaker]; the functions it
// holds are called concurrently and must be safe for concurrent use.
type BreakerConfig struct {
	// Name identifies the breaker in errors and callbacks, such as "erp".
	Name string
	// ConsecutiveFailures trips the breaker after this many failures in a
	// row. 0 means 5.
	ConsecutiveFailures int
	// FailureRatio, when above 0, also trips the breaker when at least this
	// share (at most 1) of the calls that ended in the last Window failed,
	// once MinRequests calls ended in it. 0 disables the ratio rule.
	FailureRatio float64
	// MinRequests is how many calls the Window must hold before the ratio
	// rule applies. 0 means 20.
	MinRequests int
	// Window is the sliding window of the ratio rule, kept in 10 buckets.
	// 0 means one minute.
	Window time.Duration
	// OpenTimeout is how long the breaker stays open before it lets probe
	// calls through. 0 means 30 seconds.
	OpenTimeout time.Duration
	// HalfOpenProbes is how many probe calls may run at once when half-open,
	// and how many must succeed to close the breaker. 0 means 1.
	HalfOpenProbes int
	// IsFailure reports whether an error counts against the dependency.
	// nil means every error except those marked with [Permanent] (the
	// dependency answered). Cancellation of the caller's context never
	// counts, either way.
	IsFailure func(err error) bool
	// OnStateChange, when not nil, is called after each state change, with
	// no lock held, on the goroutine whose call caused it. Changes caused
	// at nearly the same time by different goroutines may be reported in
	// either order.
	OnStateChange func(name string, from, to State)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Validate reports whether c is usable: no negative count or duration and a
// FailureRatio within [0, 1]. The error matches [ErrInvalidConfig].
func (c BreakerConfig) Validate() error {
	switch {
	case c.ConsecutiveFailures < 0:
		return fmt.Errorf("%w: ConsecutiveFailures %d is negative", ErrInvalidConfig, c.ConsecutiveFailures)
	case math.IsNaN(c.FailureRatio) || c.FailureRatio < 0 || c.FailureRatio > 1:
		return fmt.Errorf("%w: FailureRatio %v is outside [0, 1]", ErrInvalidConfig, c.FailureRatio)
	case c.MinRequests < 0:
		return fmt.Errorf("%w: MinRequests %d is negative", ErrInvalidConfig, c.MinRequests)
	case c.Window < 0:
		return fmt.Errorf("%w: Window %v is negative", ErrInvalidConfig, c.Window)
	case c.OpenTimeout < 0:
		return fmt.Errorf("%w: OpenTimeout %v is negative", ErrInvalidConfig, c.OpenTimeout)
	case c.HalfOpenProbes < 0:
		return fmt.Errorf("%w: HalfOpenProbes %d is negative", ErrInvalidConfig, c.HalfOpenProbes)
	}
	return nil
}

const windowBuckets = 10

type bucket struct {
	index              int64
	requests, failures int
}

type transition struct{ from, to State }

// Breaker is a circuit breaker for calls to one dependency: closed, it
// counts failures; past a threshold it opens and rejects calls with
// [ErrCircuitOpen]; after OpenTimeout it turns half-open and lets probe calls
// decide whether to close again. It is safe for concurrent use. Its zero
// value is not usable; create one with [NewBreaker].
type Breaker struct {
	cfg         BreakerConfig
	bucketWidth time.Duration
	base        time.Time // origin of the bucket indexes

	mu          sync.Mutex
	state       State
	generation  uint64
	consecutive int
	openUntil   time.Time
	probes      int // in flight, when half-open
	successes   int // probe successes, when half-open
	buckets     [windowBuckets]bucket
}

// NewBreaker returns a closed Breaker, or an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewBreaker(cfg BreakerConfig) (*Breaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ConsecutiveFailures == 0 {
		cfg.ConsecutiveFailures = 5
	}
	if cfg.MinRequests == 0 {
		cfg.MinRequests = 20
	}
	if cfg.Window == 0 {
		cfg.Window = time.Minute
	}
	if cfg.OpenTimeout == 0 {
		cfg.OpenTimeout = 30 * time.Second
	}
	if cfg.HalfOpenProbes == 0 {
		cfg.HalfOpenProbes = 1
	}
	if cfg.IsFailure == nil {
		cfg.IsFailure = func(err error) bool {
			var pe *PermanentError
			return !errors.As(err, &pe)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Breaker{cfg: cfg, bucketWidth: max(cfg.Window/windowBuckets, 1), base: cfg.Now()}, nil
}

// State returns the current state.
func (b *Breaker) State() State {
	b.mu.Lock()
	var changes [2]transition
	n := b.advance(b.cfg.Now(), changes[:0])
	s := b.state
	b.mu.Unlock()
	b.notify(n)
	return s
}

// Do calls fn with ctx unless the breaker rejects the call, in which case it
// returns an [*OpenError] matching [ErrCircuitOpen] without calling fn. It
// returns fn's error unchanged and counts it as a success or a failure (see
// [BreakerConfig.IsFailure]). When ctx is already done, Do returns
// context.Cause(ctx) without calling fn.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) (err error) {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	gen, err := b.allow()
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished { // fn panicked: count a failure and let the panic go on
			b.done(ctx, gen, errPanicked)
		}
	}()
	err = fn(ctx)
	finished = true
	b.done(ctx, gen, err)
	return err
}

var errPanicked = errors.New("retry: call panicked")

func (b *Breaker) allow() (uint64, error) {
	b.mu.Lock()
	var changes [2]transition
	n := b.advance(b.cfg.Now(), changes[:0])
	gen := b.generation
	var err error
	switch b.state {
	case StateOpen:
		err = &OpenError{Name: b.cfg.Name, Until: b.openUntil}
	case StateHalfOpen:
		if b.probes >= b.cfg.HalfOpenProbes {
			err = &OpenError{Name: b.cfg.Name}
		} else {
			b.probes++
		}
	}
	b.mu.Unlock()
	b.notify(n)
	return gen, err
}

func (b *Breaker) done(ctx context.Context, gen uint64, err error) {
	cancelled := err != nil && ctx.Err() != nil
	failure := err != nil && !cancelled && b.cfg.IsFailure(err)
	b.mu.Lock()
	now := b.cfg.Now()
	var changes [2]transition
	n := b.advance(now, changes[:0])
	if gen == b.generation {
		switch b.state {
		case StateClosed:
			if !cancelled {
				n = b.recordClosed(now, failure, n)
			}
		case StateHalfOpen:
			b.probes--
			switch {
			case failure:
				n = b.setState(now, StateOpen, n)
			case !cancelled:
				b.successes++
				if b.successes >= b.cfg.HalfOpenProbes {
					n = b.setState(now, StateClosed, n)
				}
			}
		}
	}
	b.mu.Unlock()
	b.notify(n)
}

// recordClosed counts one call ending while closed and trips if needed.
func (b *Breaker) recordClosed(now time.Time, failure bool, changes []transition) []transition {
	index := int64(now.Sub(b.base) / b.bucketWidth)
	bk := &b.buckets[(index%windowBuckets+windowBuckets)%windowBuckets]
	if bk.index != index {
		*bk = bucket{index: index}
	}
	bk.requests++
	if !failure {
		b.consecutive = 0
		return changes
	}
	bk.failures++
	b.consecutive++
	if b.consecutive >= b.cfg.ConsecutiveFailures {
		return b.setState(now, StateOpen, changes)
	}
	if b.cfg.FailureRatio > 0 {
		requests, failures := 0, 0
		for _, w := range b.buckets {
			if w.index > index-windowBuckets && w.index <= index {
				requests += w.requests
				failures += w.failures
			}
		}
		if requests >= b.cfg.MinRequests && float64(failures) >= b.cfg.FailureRatio*float64(requests) {
			return b.setState(now, StateOpen, changes)
		}
	}
	return changes
}

// advance turns an open breaker half-open once its timeout has passed.
func (b *Breaker) advance(now time.Time, changes []transition) []transition {
	if b.state == StateOpen && !now.Before(b.openUntil) {
		return b.setState(now, StateHalfOpen, changes)
	}
	return changes
}

func (b *Breaker) setState(now time.Time, to State, changes []transition) []transition {
	from := b.state
	b.state = to
	b.generation++
	b.consecutive, b.probes, b.successes = 0, 0, 0
	b.buckets = [windowBuckets]bucket{}
	if to == StateOpen {
		b.openUntil = now.Add(b.cfg.OpenTimeout)
	}
	return append(changes, transition{from, to})
}

// notify reports state changes; it is called with no lock held.
func (b *Breaker) notify(changes []transition) {
	if b.cfg.OnStateChange == nil {
		return
	}
	for _, c := range changes {
		b.cfg.OnStateChange(b.cfg.Name, c.from, c.to)
	}
}
