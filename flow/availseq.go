// This file owns the durability of the availability sequences (see
// AvailabilityStride): the last sequence a refresh gave each
// SKU@WAREHOUSE key is kept in the CursorStore, so that a restarted flow
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
// in its CursorStore the last availability sequence it gave a refresh of an
// item at a warehouse: "crm.availability/SKU@WAREHOUSE", the decimal
// sequence as the cursor. Only sequences above the WMS sequence times
// [AvailabilityStride] (those no read can derive again) are stored, before
// the availability is published.
const FeedCRMAvailability = "crm.availability"

// availabilityFeed is the CursorStore name of key's availability sequence.
func availabilityFeed(key string) string { return FeedCRMAvailability + "/" + key }

// loadAvailability sets st.avail to at least the sequence stored for key,
// once per key and process. The caller holds st.gate.
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
	st.loaded = true
	f.inv.mu.Unlock()
	return nil
}

// saveAvailability stores seq as key's last availability sequence when no
// read can derive it again (it is above wmsSeq×AvailabilityStride). The
// caller holds st.gate, and publishes seq only once it is stored: the CRM
// ignores a sequence it has shown, so a restarted flow must not give it
// again to another read.
func (f *Flow) saveAvailability(ctx context.Context, key string, wmsSeq, seq int64) error {
	if f.cursors == nil || seq <= wmsSeq*AvailabilityStride {
		return nil
	}
	if err := f.cursors.Save(ctx, availabilityFeed(key), connector.Cursor(strconv.FormatInt(seq, 10))); err != nil {
		return fmt.Errorf("flow: save the availability sequence of %s: %w", key, err)
	}
	return nil
}
