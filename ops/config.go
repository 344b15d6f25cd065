// This file owns the configuration of the operator handler: the small
// interfaces it reads the flow and the event log through, and the hooks the
// embedding service supplies (authentication, redaction, findings).

package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
)

// ErrInvalidConfig is matched by the error Config.Validate and New return
// for an unusable configuration.
var ErrInvalidConfig = errors.New("ops: invalid configuration")

// DeadLetterStore is what the pages need of the dead letters: list, inspect,
// replay and discard. Every eventlog.Backend (eventlog.Memory, eventlog.SQL)
// is one. Implementations must be safe for concurrent use. The zero value,
// nil, is no implementation.
type DeadLetterStore interface {
	List(ctx context.Context, f eventlog.Filter) ([]eventlog.DeadLetter, error)
	Get(ctx context.Context, id int64) (eventlog.DeadLetter, error)
	Replay(ctx context.Context, f eventlog.Filter, a eventlog.Audit) (int, error)
	Discard(ctx context.Context, id int64, a eventlog.Audit) error
}

// GroupReader reads the durable state of a consumer group; every
// eventlog.Backend is one. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type GroupReader interface {
	Group(ctx context.Context, group string) (eventlog.GroupState, error)
}

// OrderReader answers "where is order X" and lists the orders it knows;
// *flow.Flow is one. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type OrderReader interface {
	Where(ctx context.Context, orderID string) (flow.OrderView, error)
	Orders() []string
}

// InventoryReader reports the WMS sequence of the last inventory position
// pushed for an item at a location; *flow.Flow is one. Implementations must
// be safe for concurrent use. The zero value, nil, is no implementation.
type InventoryReader interface {
	InventorySeq(sku, location string) (int64, bool)
}

// BreakerSource reports the circuit breakers' states; *BreakerBoard is one.
// Implementations must be safe for concurrent use. The zero value, nil, is no
// implementation.
type BreakerSource interface {
	Breakers() []Breaker
}

// Breaker is the state of one circuit breaker as the overview shows it.
// It is a plain value, safe for concurrent reads. The zero value names no
// breaker.
type Breaker struct {
	// Name is the breaker's name, the system it guards ("erp").
	Name string `json:"name"`
	// State is "closed", "open" or "half-open".
	State string `json:"state"`
	// Since is when it entered State; zero when it never changed.
	Since time.Time `json:"since,omitzero"`
}

// Finding is one discrepancy a reconciliation found, such as an order whose
// status differs between two systems or a stock position that drifted.
// It is a plain value, safe for concurrent reads. The zero value is an empty
// finding.
type Finding struct {
	// Kind classifies it, such as "status_drift" or "inventory_drift".
	Kind string `json:"kind"`
	// Subject names what it is about: an order ID or "SKU@WAREHOUSE".
	Subject string `json:"subject"`
	// System is the system that disagrees, such as "crm".
	System string `json:"system,omitempty"`
	// Detail says what differs.
	Detail string `json:"detail,omitempty"`
	// Since is when it was first seen.
	Since time.Time `json:"since,omitzero"`
}

// Config configures the operator handler. DeadLetters is required; every
// other field is optional and its zero value is its documented default.
// New reads it once; the functions and interfaces it holds are called
// concurrently and must be safe for concurrent use.
//
// Over a flow, set DeadLetters, Groups and Log to the flow's
// eventlog.Backend, and Orders and Inventory to the *flow.Flow; without a
// flow, the backend alone gives the overview and the dead letters pages.
type Config struct {
	// DeadLetters lists, inspects, replays and discards the dead letters.
	// Required.
	DeadLetters DeadLetterStore
	// Groups reads the consumer groups' cursors for the overview's lag;
	// nil leaves the groups out.
	Groups GroupReader
	// GroupNames are the consumer groups the overview shows; nil means
	// flow.DefaultGroup.
	GroupNames []string
	// Log is the event log the groups read, to measure how far behind
	// each group is; nil leaves the lag out.
	Log eventlog.Log
	// Orders answers the order pages; nil leaves them out (404).
	Orders OrderReader
	// Inventory answers the inventory page; nil leaves it out (404).
	Inventory InventoryReader
	// Breakers reports the circuit breakers; nil leaves them out.
	Breakers BreakerSource
	// Findings, when not nil, is called by the overview for the drift and
	// business exceptions a reconciliation found.
	Findings func(ctx context.Context) ([]Finding, error)
	// Authenticate returns the principal a request is made by, and false
	// when it names none. Every action that changes something (replay,
	// discard) requires a principal, recorded in the dead letter's audit
	// trail. Nil denies every such action.
	Authenticate func(r *http.Request) (principal string, ok bool)
	// Redact, when not nil, is applied to every event before it is shown
	// or returned (to remove personal data); the payload of an
	// undecodable event is then withheld, since it cannot be redacted.
	Redact func(canonical.Event) canonical.Event
	// BasePath is the path the handler is mounted under (with
	// http.StripPrefix), such as "/ops"; links are made under it. "" means
	// the root.
	BasePath string
	// MaxLag caps how many pending events the lag counts when Log cannot
	// tell its length; 0 means DefaultMaxLag.
	MaxLag int
	// Logger receives failed reads of the stores; nil means discard.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultMaxLag is the default of Config.MaxLag.
const DefaultMaxLag = 10_000

// Validate reports whether c is usable. The error matches ErrInvalidConfig
// and names the field.
func (c Config) Validate() error {
	if c.DeadLetters == nil {
		return fmt.Errorf("%w: DeadLetters is required", ErrInvalidConfig)
	}
	if c.MaxLag < 0 {
		return fmt.Errorf("%w: MaxLag %d is negative", ErrInvalidConfig, c.MaxLag)
	}
	if c.BasePath != "" && (!strings.HasPrefix(c.BasePath, "/") || strings.HasSuffix(c.BasePath, "/")) {
		return fmt.Errorf("%w: BasePath %q must start with / and not end with /", ErrInvalidConfig, c.BasePath)
	}
	for i, g := range c.GroupNames {
		if g == "" {
			return fmt.Errorf("%w: GroupNames[%d] is empty", ErrInvalidConfig, i)
		}
	}
	return nil
}

// BreakerBoard keeps the last known state of named circuit breakers: pass
// its Observe method as retry.BreakerConfig.OnStateChange (or the Breaker
// field of connector.Options) and give the board to Config.Breakers.
// Track names a breaker before it ever changes state. Its zero value is ready
// to use; it is safe for concurrent use.
type BreakerBoard struct {
	mu     sync.Mutex
	states map[string]Breaker
	// Now is the clock of the Since times; nil means time.Now. Set it
	// before first use.
	Now func() time.Time
}

// Track shows the breaker name as closed until it changes state.
func (b *BreakerBoard) Track(names ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.states == nil {
		b.states = make(map[string]Breaker)
	}
	for _, n := range names {
		if _, ok := b.states[n]; !ok {
			b.states[n] = Breaker{Name: n, State: retry.StateClosed.String()}
		}
	}
}

// Observe records that breaker name went from one state to another; its
// signature is retry.BreakerConfig.OnStateChange's.
func (b *BreakerBoard) Observe(name string, _, to retry.State) {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	t := now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.states == nil {
		b.states = make(map[string]Breaker)
	}
	b.states[name] = Breaker{Name: name, State: to.String(), Since: t}
}

// Breakers implements BreakerSource: the states sorted by name.
func (b *BreakerBoard) Breakers() []Breaker {
	b.mu.Lock()
	out := make([]Breaker, 0, len(b.states))
	for _, s := range b.states {
		out = append(out, s)
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y Breaker) int { return strings.Compare(x.Name, y.Name) })
	return out
}
