// This file owns the durability of the availability sequences (see
// AvailabilityStride): the highest sequence reserved for the refreshes of
// each SKU@WAREHOUSE key is kept in the CursorStore, so that a restarted flow
// goes on above it instead of starting again at the WMS sequence times the
// stride, which the CRM would ignore as already shown.

package flow

import (
	"context"
	"fmt"
	"strconv"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
)

// FeedCRMAvailability is the prefix of the names under which the flow keeps
// in its CursorStore the highest availability sequence it reserved for
// the refreshes of an item at a warehouse: "crm.availability/SKU@WAREHOUSE",
// the decimal sequence as the cursor. Only sequences above the WMS sequence
// times [AvailabilityStride] (those no read can derive again) are stored,
// before the availability is published; a save reserves the next 63
// sequences too, so that a burst of refreshes at one WMS sequence is
// stored once, and a restarted flow goes on above the reservation.
const FeedCRMAvailability = "crm.availability"

// availabilityFeed is the CursorStore name of key's availability sequence.
func availabilityFeed(key string) string { return FeedCRMAvailability + "/" + key }

// availReserve is how many availability sequences a save of one reserves
// (see saveAvailability): the refreshes within them are published without
// a save.
const availReserve = 64

// loadAvailability sets st.avail (and st.mark) to at least the sequence
// stored for key, once per key and process. The caller holds st.gate.
func (f *Flow) loadAvailability(ctx context.Context, st *invState, key string) error {
	f.inv.mu.Lock()
	loaded := st.loaded
	f.inv.mu.Unlock()
	if loaded || f.cursors == nil {
		return nil
	}
	c, err := f.cursors.Load(ctx, availabilityFeed(key))
	if err != nil {
		return fmt.Errorf("flow: load the availability sequence of %s: %w", key, err)
	}
	var v int64
	if c != "" {
		if v, err = strconv.ParseInt(string(c), 10, 64); err != nil || v < 0 {
			return retry.Permanent(fmt.Errorf("flow: the availability sequence of %s stored as %s is %q, not a sequence",
				key, availabilityFeed(key), c))
		}
	}
	f.inv.mu.Lock()
	st.avail = max(st.avail, v)
	st.mark = max(st.mark, v)
	st.loaded = true
	f.inv.mu.Unlock()
	return nil
}

// saveAvailability makes sure that seq, when no read can derive it again
// (it is above wmsSeq×AvailabilityStride), is at most the sequence stored
// as key's: when a save did not reserve it already (st.mark), it stores
// seq+availReserve−1 (below the next WMS sequence's), reserving the
// sequences up to it. The caller holds st.gate, and publishes seq only once
// it is stored: the CRM ignores a sequence it has shown, so a restarted
// flow must not give it again to another read.
func (f *Flow) saveAvailability(ctx context.Context, st *invState, key string, wmsSeq, seq int64) error {
	if f.cursors == nil || seq <= wmsSeq*AvailabilityStride {
		return nil
	}
	f.inv.mu.Lock()
	reserved := seq <= st.mark
	f.inv.mu.Unlock()
	if reserved {
		return nil
	}
	top := max(seq, min(seq+availReserve-1, (wmsSeq+1)*AvailabilityStride-1))
	if err := f.cursors.Save(ctx, availabilityFeed(key), connector.Cursor(strconv.FormatInt(top, 10))); err != nil {
		return fmt.Errorf("flow: save the availability sequence of %s: %w", key, err)
	}
	f.inv.mu.Lock()
	st.mark = max(st.mark, top)
	f.inv.mu.Unlock()
	return nil
}
