package flow

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/distsync/distsync/canonical"
)

// This file holds the read-only view of a StateStore for tools that do not
// run a flow: listing its orders (StateLister) and reading one order as the
// flow derived it (StoredOrder), as reconciliation and the operator CLI do.

// StateLister is an optional capability of a [StateStore]: it lists the
// orders the store holds, for tools that read the store without a running
// flow. [SQLState] and [MemoryState] implement it. The zero value, nil, is
// no implementation. Implementations must be safe for concurrent use.
type StateLister interface {
	// ListOrders returns the IDs of the stored orders that are open (not
	// final), and of the final ones last saved at or after since, sorted.
	// The zero since lists every stored order.
	ListOrders(ctx context.Context, since time.Time) ([]string, error)
}

var (
	_ StateLister = (*SQLState)(nil)
	_ StateLister = (*MemoryState)(nil)
)

// ListOrders implements [StateLister] with one query.
func (s *SQLState) ListOrders(ctx context.Context, since time.Time) ([]string, error) {
	var ns int64
	if !since.IsZero() {
		ns = since.UnixNano()
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id FROM {p}orders WHERE final = 0 OR saved_ns >= ? ORDER BY id"), ns)
	if err != nil {
		return nil, s.wrap("list orders", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("list orders", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list orders", err)
	}
	return ids, nil
}

// ListOrders implements [StateLister].
func (m *MemoryState) ListOrders(ctx context.Context, since time.Time) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	var ids []string
	for id, st := range m.m {
		if !st.s.Final || since.IsZero() || !st.saved.Before(since) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// StoredOrder returns the order with the given ID as store holds it,
// folded as the flow folds it, without asking any system: the view's
// Order, CorrelationID, Status, Phase, FulfillmentOrders, Shipments,
// Invoices, Returns and CreditMemos are set; ERP, ERPErr, CRM, Timeline
// and DeadLetters are left empty. An order the store does not hold is an
// error matching [ErrUnknownOrder]; a state that does not decode one
// matching [ErrBadState]. It only reads the store.
func StoredOrder(ctx context.Context, store StateStore, orderID string) (OrderView, error) {
	if store == nil {
		return OrderView{}, fmt.Errorf("%w: StoredOrder: nil StateStore", ErrInvalidConfig)
	}
	s, ok, err := store.LoadState(ctx, orderID)
	if err != nil {
		return OrderView{}, fmt.Errorf("flow: load state of order %q: %w", orderID, err)
	}
	if !ok {
		return OrderView{}, fmt.Errorf("%w: %q", ErrUnknownOrder, orderID)
	}
	st, err := decodeState(orderID, s.Data)
	if err != nil {
		return OrderView{}, err
	}
	f := &Flow{ledger: canonical.Ledger{}}
	if err := f.foldLocked(st); err != nil {
		return OrderView{}, fmt.Errorf("%w: order %q: fold: %w", ErrBadState, orderID, err)
	}
	v := OrderView{Order: st.order, CorrelationID: st.corr, Phase: st.phase.String(), Status: st.order.Status()}
	for _, fo := range st.plan {
		if r, ok := st.released[fo.ID]; ok {
			v.FulfillmentOrders = append(v.FulfillmentOrders, r)
		}
	}
	v.Shipments = st.ships
	for _, id := range st.invOrder {
		v.Invoices = append(v.Invoices, st.invoices[id])
	}
	v.Returns, v.CreditMemos = st.returnsLocked(), st.creditMemosLocked()
	return v, nil
}
