//go:build !race

// Under -race the allocation counts include the detector's own.

package flow

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
)

// discardLog is a Backend that appends nothing.
type discardLog struct{ eventlog.Backend }

func (discardLog) Append(context.Context, ...canonical.Event) error { return nil }

// TestPollAllocs: polling a page copies its events into a pooled buffer
// (Log.Append keeps no slice it is given), so that a page the feed
// returns costs the poll no allocation (one per page before).
func TestPollAllocs(t *testing.T) {
	page := connector.Page{Next: "c1"}
	for i := range 10 {
		page.Events = append(page.Events, canonical.Event{ID: strconv.Itoa(i), Source: "crm", Type: canonical.EventOrderSubmitted,
			Subject: "ORD-" + strconv.Itoa(i), Data: []byte(`{"id":"ORD-1"}`)})
	}
	cursors := &MemoryCursors{}
	require.NoError(t, cursors.Save(t.Context(), "feed", "c1"), "save the cursor")
	f := &Flow{cursors: cursors, log: discardLog{}, pageSize: 10}
	read := func(context.Context, connector.Cursor, int) (connector.Page, error) { return page, nil }
	keep := func(e *canonical.Event) bool { return e.ID != page.Events[3].ID }
	allocs := testing.AllocsPerRun(20, func() {
		n, err := f.poll(t.Context(), "feed", read, keep)
		if err != nil || n != 9 {
			t.Fatal(n, err)
		}
	})
	assert.Equal(t, 0.0, allocs, "allocations per poll of a page")
}
