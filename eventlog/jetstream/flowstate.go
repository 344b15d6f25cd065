package jetstream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/flow"
)

// DefaultFlowBucket is the bucket of a [FlowState] when
// FlowStateConfig.Bucket is empty.
const DefaultFlowBucket = "distsync_flow"

// FlowStateConfig configures a [FlowState]. The zero value is valid apart
// from URL. It is a plain value, safe for concurrent reads.
type FlowStateConfig struct {
	// URL is the NATS server URL. Required.
	URL string
	// Bucket is the key-value bucket of the order states and feed
	// cursors. Empty means [DefaultFlowBucket].
	Bucket string
	// Replicas is the bucket's replication factor. Zero means 1.
	Replicas int
	// Now is the clock of the save times DeleteFinal and ListOrders
	// compare. Nil means time.Now.
	Now func() time.Time
	// Existing makes NewFlowState open the bucket as it is, for tools
	// that read a store a flow keeps: it creates nothing, changes no
	// setting (Replicas is ignored), and fails with a [*NotFoundError]
	// naming the bucket when it is not there.
	Existing bool
}

// Validate reports a configuration error, matching flow.ErrInvalidConfig.
func (c FlowStateConfig) Validate() error {
	switch {
	case c.URL == "":
		return fmt.Errorf("jetstream: FlowStateConfig.URL is empty: %w", flow.ErrInvalidConfig)
	case c.Bucket != "" && !nameRE.MatchString(c.Bucket):
		return fmt.Errorf("jetstream: FlowStateConfig.Bucket %q is not a bucket name: %w", c.Bucket, flow.ErrInvalidConfig)
	case c.Replicas < 0 || c.Replicas > 5:
		return fmt.Errorf("jetstream: FlowStateConfig.Replicas %d is not within 0..5: %w", c.Replicas, flow.ErrInvalidConfig)
	}
	return nil
}

// FlowState is a [flow.StateStore] and [flow.CursorStore] on a JetStream
// key-value bucket, so that flows in several processes share their order
// states over NATS. An order's state is one key; SaveState of version v
// is a write conditional on the revision at which version v−1 was read,
// so of two flows saving the same version one fails with
// [flow.ErrStateConflict]. Feed cursors are keys of the same bucket,
// written last-writer-wins as on SQL.
//
// HeldOrders, ListOrders and DeleteFinal read every order state of the bucket: call
// DeleteFinal periodically to keep that quick.
//
// Create it with [NewFlowState] and end it with Close. The zero value is
// not usable. It is safe for concurrent use.
type FlowState struct {
	nc  *nats.Conn
	kv  *casKV
	now func() time.Time
}

var (
	_ flow.StateStore  = (*FlowState)(nil)
	_ flow.CursorStore = (*FlowState)(nil)
	_ flow.StateLister = (*FlowState)(nil)
)

// NewFlowState connects to NATS and creates or updates the bucket; with
// FlowStateConfig.Existing it only opens it.
func NewFlowState(ctx context.Context, cfg FlowStateConfig) (*FlowState, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultFlowBucket
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	nc, err := nats.Connect(cfg.URL, nats.Name("distsync flow state"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("jetstream: connect to %s: %w", cfg.URL, err)
	}
	js, err := natsjs.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	kv, err := openCASKV(ctx, js, cfg.Bucket, cfg.Replicas, cfg.Existing)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &FlowState{nc: nc, kv: kv, now: cfg.Now}, nil
}

// Close closes the connection to NATS.
func (s *FlowState) Close() error {
	s.nc.Close()
	return nil
}

// stateRec is the stored form of a flow.StoredState.
type stateRec struct {
	Data    []byte `json:"data"`
	Held    bool   `json:"held,omitempty"`
	Final   bool   `json:"final,omitempty"`
	Version int64  `json:"version"`
	Saved   int64  `json:"saved"` // unix ns
}

const statePrefix, cursorPrefix = "s_", "c_"

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func (s *FlowState) load(ctx context.Context, key string) (*stateRec, uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, context.Cause(ctx)
	}
	v, rev, err := s.kv.get(ctx, key)
	if err != nil || v == nil {
		return nil, rev, err
	}
	var r stateRec
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, rev, fmt.Errorf("jetstream: order state under %s: %w: %w", key, flow.ErrBadState, err)
	}
	return &r, rev, nil
}

// LoadState implements [flow.StateStore].
func (s *FlowState) LoadState(ctx context.Context, orderID string) (flow.StoredState, bool, error) {
	r, _, err := s.load(ctx, statePrefix+b64(orderID))
	if err != nil || r == nil {
		return flow.StoredState{}, false, err
	}
	return flow.StoredState{OrderID: orderID, Data: r.Data, Held: r.Held, Final: r.Final, Version: r.Version}, true, nil
}

// SaveState implements [flow.StateStore].
func (s *FlowState) SaveState(ctx context.Context, st flow.StoredState) error {
	if st.OrderID == "" {
		return fmt.Errorf("jetstream: save state: %w: empty order ID", flow.ErrBadState)
	}
	op := "save state of order " + strconv.Quote(st.OrderID)
	if st.Version < 1 {
		return fmt.Errorf("jetstream: %s: %w: version %d", op, flow.ErrStateConflict, st.Version)
	}
	key := statePrefix + b64(st.OrderID)
	old, rev, err := s.load(ctx, key)
	if err != nil {
		return err
	}
	var have int64
	if old != nil {
		have = old.Version
	}
	if have != st.Version-1 {
		return fmt.Errorf("jetstream: %s: %w: it is not at version %d", op, flow.ErrStateConflict, st.Version-1)
	}
	v, err := json.Marshal(stateRec{Data: st.Data, Held: st.Held, Final: st.Final, Version: st.Version, Saved: s.now().UnixNano()})
	if err != nil {
		return fmt.Errorf("jetstream: %s: %w", op, err)
	}
	if _, err := s.kv.put(ctx, key, v, rev, 0); err != nil {
		if errors.Is(err, errConflict) {
			return fmt.Errorf("jetstream: %s: %w: saved by another flow meanwhile", op, flow.ErrStateConflict)
		}
		return fmt.Errorf("jetstream: %s: %w", op, err)
	}
	return nil
}

// states calls fn with every order state of the bucket.
func (s *FlowState) states(ctx context.Context, fn func(orderID, key string, r *stateRec, rev uint64) error) error {
	keys, err := s.kv.keys(ctx, ">")
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, statePrefix) {
			continue
		}
		id, err := base64.RawURLEncoding.DecodeString(k[len(statePrefix):])
		if err != nil {
			continue // not a key of this store
		}
		r, rev, err := s.load(ctx, k)
		if err != nil {
			return err
		}
		if r != nil {
			if err := fn(string(id), k, r, rev); err != nil {
				return err
			}
		}
	}
	return nil
}

// HeldOrders implements [flow.StateStore]; the IDs are sorted.
func (s *FlowState) HeldOrders(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.states(ctx, func(id, _ string, r *stateRec, _ uint64) error {
		if r.Held {
			ids = append(ids, id)
		}
		return nil
	})
	slices.Sort(ids)
	return ids, err
}

// ListOrders implements [flow.StateLister] as [flow.SQLState] does: the
// IDs, sorted, of the open orders and of the final ones last saved (by the
// clock of FlowStateConfig.Now) at or after since; the zero since lists
// every order. It reads every order state of the bucket.
func (s *FlowState) ListOrders(ctx context.Context, since time.Time) ([]string, error) {
	var ids []string
	err := s.states(ctx, func(id, _ string, r *stateRec, _ uint64) error {
		if !r.Final || since.IsZero() || r.Saved >= since.UnixNano() {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// DeleteFinal deletes the states of the final orders last saved before t
// and returns how many it deleted, as [flow.SQLState.DeleteFinal] does.
// Each delete is conditional on the revision read, so a state saved
// meanwhile is kept.
func (s *FlowState) DeleteFinal(ctx context.Context, t time.Time) (int, error) {
	n := 0
	err := s.states(ctx, func(_, key string, r *stateRec, rev uint64) error {
		if !r.Final || r.Saved >= t.UnixNano() {
			return nil
		}
		switch err := s.kv.del(ctx, key, rev); {
		case err == nil:
			n++
		case !errors.Is(err, errConflict):
			return err
		}
		return nil
	})
	return n, err
}

// Load implements [flow.CursorStore].
func (s *FlowState) Load(ctx context.Context, feed string) (connector.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return "", context.Cause(ctx)
	}
	v, _, err := s.kv.get(ctx, cursorPrefix+b64(feed))
	return connector.Cursor(v), err
}

// Save implements [flow.CursorStore].
func (s *FlowState) Save(ctx context.Context, feed string, c connector.Cursor) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if _, err := s.kv.kv.Put(ctx, cursorPrefix+b64(feed), []byte(c)); err != nil {
		return fmt.Errorf("jetstream: save cursor of %s: %w", feed, err)
	}
	return nil
}
