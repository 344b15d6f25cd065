package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
)

// This file holds the flow's use of its StateStore: lazy loading, the
// checkpoints and compaction. See the package documentation, section
// Durable state and crashes.

// lookup returns the order's state: from memory, else loaded from the
// store (and kept in memory when keep is set), else nil. A query (keep not
// set) of a flow whose state other processes share (Config.NewConsumer)
// reads the store too, and takes the stored state when its version is
// newer than the one in memory (another process handled the order since),
// dropping the stale copy from memory.
func (f *Flow) lookup(ctx context.Context, orderID string, keep bool) (*orderState, error) {
	f.mu.Lock()
	mem := f.orders[orderID]
	if mem != nil && mem.deciding && keep {
		// A handler deferred the order's decision to a group commit
		// that did not commit (see deferDecision): the copy in memory
		// is ahead of the store, decided without the decision appended.
		// The handler goes on from the stored state.
		delete(f.orders, orderID)
		mem = nil
	}
	f.mu.Unlock()
	if mem != nil && (keep || !f.shared) {
		if keep {
			f.mu.Lock()
			mem.changed = true // the caller is a handler: see deferSave
			f.mu.Unlock()
		}
		return mem, nil
	}
	s, ok, err := f.states.LoadState(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("flow: load state of order %q: %w", orderID, err)
	}
	if !ok || mem != nil && s.Version <= mem.version {
		if mem != nil && keep {
			f.mu.Lock()
			mem.changed = true
			f.mu.Unlock()
		}
		return mem, nil
	}
	st, err := decodeState(orderID, s.Data)
	if err != nil {
		return nil, err
	}
	if mem != nil {
		f.mu.Lock()
		if f.orders[orderID] == mem {
			delete(f.orders, orderID)
		}
		f.mu.Unlock()
	}
	// A decoded state may encode to other bytes than those stored (an
	// older encoding, the phase it is folded to): deferSave encodes it.
	st.version, st.changed = s.Version, true
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.foldLocked(st); err != nil {
		return nil, fmt.Errorf("%w: order %q: fold: %w", ErrBadState, orderID, err)
	}
	if !keep {
		return st, nil
	}
	return f.keepLocked(st), nil
}

// keepLocked puts a loaded state in memory, unless another was put there
// meanwhile, and returns the one in memory.
func (f *Flow) keepLocked(st *orderState) *orderState {
	if cur := f.orders[st.order.ID]; cur != nil {
		cur.changed = true // lookup's caller may change it
		return cur
	}
	f.orders[st.order.ID] = st
	return st
}

// correlationOf returns the correlation ID of a known order, "" for an
// unknown one; it reads a state not in memory from the store without
// keeping it.
func (f *Flow) correlationOf(ctx context.Context, orderID string) string {
	f.mu.Lock()
	st := f.orders[orderID]
	f.mu.Unlock()
	if st != nil {
		return st.corr
	}
	s, ok, err := f.states.LoadState(ctx, orderID)
	if err != nil || !ok {
		// The handler loads the state again and reports the failure.
		return ""
	}
	var r struct {
		Corr string `json:"corr"`
	}
	if json.Unmarshal(s.Data, &r) != nil {
		return ""
	}
	return r.Corr
}

// completeLocked reports whether the order is complete: rejected,
// cancelled, or accepted and shipped and invoiced in full, with every
// shipment invoiced. A complete order is final once the CRM has been shown
// its latest state (it is not dirty).
func completeLocked(st *orderState) bool {
	switch st.phase {
	case phaseRejected:
		return st.decision
	case phaseReleased:
	default:
		return false
	}
	s := st.order.Status()
	if s.Commercial == canonical.CommercialCancelled {
		return true
	}
	if s.Fulfillment != canonical.FulfillmentShipped && s.Fulfillment != canonical.FulfillmentDelivered {
		return false
	}
	return s.Billing == canonical.BillingInvoiced && len(st.invoices) == len(st.ships)
}

// heldLocked reports whether the hold watcher must check the order.
func heldLocked(st *orderState) bool {
	return st.phase == phaseHeld && !st.resumed && st.decision || changeHeldLocked(st)
}

// checkpoint saves the order's state when the flow has a durable store
// (Config.State); without one it does nothing. Handlers call it before an
// effect whose input must not change when the event is handled again.
func (f *Flow) checkpoint(ctx context.Context, st *orderState) error {
	if !f.durable {
		return nil
	}
	return f.saveState(ctx, st)
}

func (f *Flow) saveState(ctx context.Context, st *orderState) error {
	f.mu.Lock()
	data, err := encodeState(st)
	s := StoredState{OrderID: st.order.ID, Data: data, Held: heldLocked(st), Final: completeLocked(st), Version: st.version + 1}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if m, ok := f.states.(*MemoryState); ok && !f.durable {
		// The flow's own store keeps the bytes it is given (they are not
		// shared) for the retention: keep no spare capacity with them.
		if cap(s.Data)-len(s.Data) > len(s.Data)/8 {
			s.Data = bytes.Clone(s.Data)
		}
		err = m.saveOwned(ctx, s)
	} else {
		err = f.states.SaveState(ctx, s)
	}
	if err != nil {
		if errors.Is(err, ErrStateConflict) {
			// Another flow saved the order since this one loaded it: drop
			// this copy, so that the event is handled again from the
			// stored state.
			f.mu.Lock()
			if f.orders[s.OrderID] == st {
				delete(f.orders, s.OrderID)
			}
			f.mu.Unlock()
		}
		return fmt.Errorf("flow: save state of order %q: %w", s.OrderID, err)
	}
	f.mu.Lock()
	st.version, st.savedFinal, st.savedSum = s.Version, s.Final, maphash.Bytes(f.seed, s.Data)
	f.mu.Unlock()
	return nil
}

// seqReserve is how many status sequences a save reserves when the
// state is saved in the consumer's group commit (see publish): enough for
// an order's publications from submission to invoice, so that an order
// is saved before a publication once.
const seqReserve = 8

// defers reports whether the order states are saved in the group commit
// of the consumer whose handler ctx belongs to: an SQLState on the
// database of an eventlog.SQL log (see eventlog.Defer).
func (f *Flow) defers(ctx context.Context) bool {
	return f.sqlst != nil && eventlog.Defers(ctx, f.sqlst.db)
}

// deferSave saves the order's state, when it changed since its last save,
// in the group commit of the consumer whose handler ctx belongs to, so
// that it is durable with the event's acknowledgement (a crash before
// loses both, and the event is handled again from the state saved
// before). A final order is dropped from memory once saved, as compact
// does. The handler's checkpoints before effects are saved at once.
func (f *Flow) deferSave(ctx context.Context, orderID string, evType canonical.EventType) error {
	f.mu.Lock()
	st := f.orders[orderID]
	if st == nil {
		f.mu.Unlock()
		return nil
	}
	if !st.changed {
		// No handler got the state since deferSave last encoded it (a
		// record of the flow's own decision, an echo of a release): it
		// is as that save left it.
		if checkUnchanged != nil {
			if err := f.checkUnchangedLocked(st, evType); err != nil {
				checkUnchanged(err)
			}
		}
		f.dropFinalLocked(orderID, st)
		f.mu.Unlock()
		return nil
	}
	data, err := encodeState(st)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	sum := maphash.Bytes(f.seed, data)
	st.changed, st.snapSum = false, sum
	if st.version > 0 && sum == st.savedSum {
		// Unchanged since it was saved.
		f.dropFinalLocked(orderID, st)
		f.mu.Unlock()
		return nil
	}
	v := st.version
	s := StoredState{OrderID: orderID, Data: data, Held: heldLocked(st), Final: completeLocked(st), Version: v + 1}
	f.mu.Unlock()
	// Prepared now: on SQLite, preparing inside the transaction would
	// wait for the one connection it holds.
	if _, err := f.sqlst.stmts(ctx); err != nil {
		return err
	}
	// Saved with the other orders' states of the group commit; when that
	// fails, alone, where failed sees the save's own error.
	failed := func(ctx context.Context, err error) {
		// Encoded again by the next deferSave, as the save does not
		// commit.
		f.mu.Lock()
		st.changed = true
		f.mu.Unlock()
		if errors.Is(err, ErrStateConflict) {
			// As in saveState: the event is handled again from the
			// stored state (the consumer retries it).
			f.mu.Lock()
			dropped := f.orders[orderID] == st
			if dropped {
				delete(f.orders, orderID)
			}
			f.mu.Unlock()
			if dropped {
				f.count(ctx, CounterRetried, evType)
			}
		}
	}
	after := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if st.version == v {
			st.version, st.savedFinal, st.savedSum = s.Version, s.Final, sum
		}
		f.dropFinalLocked(orderID, st)
	}
	if !f.sqlst.saves.Defer(ctx, f.sqlst.db, stateSave{st: s, failed: failed}, after) {
		f.mu.Lock()
		st.changed = true
		f.mu.Unlock()
		return f.compact(ctx, orderID)
	}
	return nil
}

// checkUnchanged, when set, makes deferSave check, for a state it does not
// encode because no handler got it since its last encoding, that it
// encodes to the same bytes still, and call it with the error when not: a
// path that changes a state without marking it changed would lose that
// change from the store. Set by the package's tests only (they stop the
// test binary: the consumer recovers a handler's panic).
var checkUnchanged func(error)

// checkUnchangedLocked returns an error when st, not marked changed, does
// not encode to the sum deferSave took of it last (see checkUnchanged).
func (f *Flow) checkUnchangedLocked(st *orderState, evType canonical.EventType) error {
	data, err := encodeState(st)
	if err != nil {
		return fmt.Errorf("flow: check of order %q unchanged after %s: %w", st.order.ID, evType, err)
	}
	if maphash.Bytes(f.seed, data) != st.snapSum {
		return fmt.Errorf("flow: order %q changed without being marked changed (after %s): the change would not be saved",
			st.order.ID, evType)
	}
	return nil
}

// compact drops a final order (complete, and the CRM shown its latest
// state) from memory after its handler succeeded, saving it first unless
// the last checkpoint stored it complete: the store then holds it for a
// late event or a query. Only publication changes a complete order after
// its last checkpoint, so a reloaded one at most publishes again.
func (f *Flow) compact(ctx context.Context, orderID string) error {
	f.mu.Lock()
	st := f.orders[orderID]
	final := st != nil && !st.dirty && completeLocked(st)
	saved := final && f.durable && st.savedFinal
	f.mu.Unlock()
	if !final {
		return nil
	}
	if !saved {
		if err := f.saveState(ctx, st); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropLocked(orderID, st)
	return nil
}

// dropFinalLocked drops the order from memory when it is final and its
// last save stored it so (see compact).
func (f *Flow) dropFinalLocked(orderID string, st *orderState) {
	if !st.dirty && st.savedFinal && completeLocked(st) {
		f.dropLocked(orderID, st)
	}
}

// dropLocked drops st, the state of the order, from memory, unless
// another state of the order was put there meanwhile.
func (f *Flow) dropLocked(orderID string, st *orderState) {
	if f.orders[orderID] != st {
		return
	}
	f.peak = max(f.peak, len(f.orders))
	delete(f.orders, orderID)
	// A map does not shrink: rebuild it once it holds a quarter of its
	// peak, so that memory follows the open orders.
	if f.peak > 1024 && len(f.orders) < f.peak/4 {
		m := make(map[string]*orderState, len(f.orders))
		for id, st := range f.orders {
			m[id] = st
		}
		f.orders, f.peak = m, len(m)
	}
}

// heldOrders returns the orders the hold watcher must check: those in
// memory and those the store lists as held, loaded into memory.
func (f *Flow) heldOrders(ctx context.Context) ([]*orderState, error) {
	ids, err := f.states.HeldOrders(ctx)
	if err != nil {
		return nil, fmt.Errorf("flow: held orders: %w", err)
	}
	f.mu.Lock()
	var held []*orderState
	seen := map[string]bool{}
	for id, st := range f.orders {
		// An order whose decision is not committed yet is not checked:
		// its hold may never be durable (see deferDecision).
		if heldLocked(st) && !st.deciding {
			held = append(held, st)
			seen[id] = true
		}
	}
	f.mu.Unlock()
	for _, id := range ids {
		if seen[id] {
			continue
		}
		// Loaded without keeping, and kept only if still held: the list
		// may be older than an order completed and dropped meanwhile.
		st, err := f.lookup(ctx, id, false)
		if err != nil {
			return held, err
		}
		if st == nil {
			continue
		}
		f.mu.Lock()
		if heldLocked(st) {
			// A flow whose state other processes share keeps in memory
			// only the orders it handles: another process may handle
			// this one next.
			if !f.shared {
				st = f.keepLocked(st)
			}
			if heldLocked(st) && !st.deciding {
				held = append(held, st)
			}
		}
		f.mu.Unlock()
	}
	return held, nil
}
