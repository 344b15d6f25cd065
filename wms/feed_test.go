package wms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
)

// busyWorld releases, ships, cancels, adjusts and receives a return, so
// that the feed holds every kind of event.
func busyWorld(t testing.TB, cfg wms.Config) *wms.Memory {
	t.Helper()
	ctx := context.Background()
	m := newSim(t, cfg)
	release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-103", "12"}, line{"SKU-104", "150"}))
	release(t, m, makeFO("FO-2", "WH-WEST", line{"SKU-100", "7"}))
	step(t, m, 3)
	_, err := m.CancelRelease(ctx, "c1", connector.CancelRequest{FulfillmentOrderID: "FO-1"})
	require.NoError(t, err)
	adjust(t, m, "A-1", "WH-WEST", "SKU-105", "5")
	_, err = m.AuthorizeReturn(ctx, kitReturn(1))
	require.NoError(t, err)
	_, err = m.ReceiveReturn(ctx, "kit-ret-1", []wms.ReturnReceipt{{LineID: "kit-ret-1:1", Quantity: qty("1"), Condition: "new", Disposition: "restock"}})
	require.NoError(t, err)
	_, err = m.Snapshot(ctx, connector.InventoryQuery{SKUs: []string{"SKU-100"}})
	require.NoError(t, err)
	return m
}

func TestFeedEvents(t *testing.T) {
	clock := &fixedClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	m := busyWorld(t, wms.Config{Name: "east-1", Clock: clock.now})
	es := allEvents(t, m)
	types := map[canonical.EventType]int{}
	ids := map[string]bool{}
	seqs := map[string]uint64{}
	for i, e := range es {
		require.NoError(t, e.Validate(), "event %d", i)
		_, err := json.Marshal(e)
		require.NoError(t, err, "event %d encodes", i)
		types[e.Type]++
		assert.Equal(t, "wms://east-1", e.Source, "event %d source", i)
		assert.False(t, ids[e.ID], "event ID %s is unique", e.ID)
		ids[e.ID] = true
		assert.Equal(t, seqs[e.Subject]+1, e.Sequence, "event %d (%s) continues the sequence of %s", i, e.Type, e.Subject)
		seqs[e.Subject] = e.Sequence
		assert.Equal(t, clock.t, e.Time, "event %d has the injected clock's time", i)
		assert.NotEmpty(t, e.Partition(), "event %d has a partition", i)
		kind, ok := canonical.EventKind(e.Type)
		require.True(t, ok, "event %d type %s is known", i, e.Type)
		switch kind {
		case canonical.KindFulfillmentOrder:
			_, err = canonical.DecodeData[canonical.FulfillmentOrder](e)
		case canonical.KindAllocationUpdate:
			_, err = canonical.DecodeData[canonical.AllocationUpdate](e)
		case canonical.KindShipment:
			_, err = canonical.DecodeData[canonical.Shipment](e)
		case canonical.KindInventoryAdjustment:
			_, err = canonical.DecodeData[canonical.InventoryAdjustment](e)
		case canonical.KindInventoryPosition:
			_, err = canonical.DecodeData[canonical.InventoryPosition](e)
		case canonical.KindReturn:
			_, err = canonical.DecodeData[canonical.Return](e)
		default:
			t.Errorf("event %d: unexpected kind %s", i, kind)
		}
		assert.NoError(t, err, "event %d (%s) data decodes and validates", i, e.Type)
		if kind == canonical.KindFulfillmentOrder || kind == canonical.KindAllocationUpdate || kind == canonical.KindShipment {
			assert.Equal(t, "order-"+e.Subject, e.Partition(), "fulfilment event %d is partitioned by order", i)
		}
	}
	for _, typ := range []canonical.EventType{canonical.EventFulfillmentReleased, canonical.EventFulfillmentAllocated,
		canonical.EventFulfillmentBackordered, canonical.EventFulfillmentPicked, canonical.EventFulfillmentShipped,
		canonical.EventFulfillmentCancelled, canonical.EventInventoryAdjusted, canonical.EventInventorySnapshot, canonical.EventReturnReceived} {
		assert.Positive(t, types[typ], "the feed has %s events", typ)
	}
	assert.Equal(t, len(es), m.Counts().Events)
}

func TestFeedPagingAndReopen(t *testing.T) {
	ctx := context.Background()
	m := busyWorld(t, wms.Config{MaxPageSize: 4})
	all := allEvents(t, m)
	require.Greater(t, len(all), 10)

	p, err := m.PollEvents(ctx, "", 100)
	require.NoError(t, err)
	assert.Len(t, p.Events, 4, "pages are capped at MaxPageSize")
	assert.True(t, p.More)

	// Read 5 events, reopen over the state, read the rest.
	p, err = m.PollEvents(ctx, "", 3)
	require.NoError(t, err)
	p2, err := m.PollEvents(ctx, p.Next, 2)
	require.NoError(t, err)
	stored := p2.Next
	r, err := wms.New(wms.Config{State: m.State(), MaxPageSize: 1000})
	require.NoError(t, err)
	assert.Equal(t, m.Source(), r.Source(), "a reopened instance keeps the source")
	rest := allFrom(t, r, stored)
	got := append(append(p.Events, p2.Events...), rest...)
	assert.Equal(t, all, got, "reading across a reopen neither skips nor repeats")

	// The reopened instance shares the state: its work shows on both.
	release(t, r, makeFO("FO-9", "WH-SOUTH", line{"SKU-100", "1"}))
	assert.Len(t, allEvents(t, m), len(all)+1, "the first instance sees the reopened one's release")

	end, err := r.PollEvents(ctx, wms.FormatCursor(uint64(len(all)+1)), 10)
	require.NoError(t, err)
	assert.Empty(t, end.Events)
	assert.Equal(t, wms.FormatCursor(uint64(len(all)+1)), end.Next, "an empty page keeps the cursor")
	assert.False(t, end.More)
}

func allFrom(t testing.TB, m *wms.Memory, cur connector.Cursor) []canonical.Event {
	t.Helper()
	var out []canonical.Event
	for {
		p, err := m.PollEvents(context.Background(), cur, 0)
		require.NoError(t, err)
		out = append(out, p.Events...)
		cur = p.Next
		if !p.More {
			return out
		}
	}
}

func TestFeedBadCursor(t *testing.T) {
	m := busyWorld(t, wms.Config{})
	for _, c := range []connector.Cursor{"x", "p", "p01", "p-1", "p1x", "p99999", "p18446744073709551616"} {
		_, err := m.PollEvents(context.Background(), c, 10)
		assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "cursor %q: %v", c, err)
		assert.ErrorIs(t, err, wms.ErrCursor, "cursor %q", c)
	}
}

func TestDeterministic(t *testing.T) {
	feed := func(seed uint64) []byte {
		es := allEvents(t, busyWorld(t, wms.Config{Seed: seed}))
		b, err := json.Marshal(es)
		require.NoError(t, err)
		return b
	}
	assert.JSONEq(t, string(feed(42)), string(feed(42)), "the same seed and calls give the same feed")
	assert.NotEqual(t, string(feed(42)), string(feed(43)), "another seed gives other tracking numbers")
}

func TestSimulatedClock(t *testing.T) {
	start := time.Date(2026, 2, 2, 6, 0, 0, 0, time.UTC)
	m := newSim(t, wms.Config{Start: start, Tick: 15 * time.Minute})
	fo := release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-100", "1"}))
	assert.Equal(t, start, fo.ReleasedAt)
	step(t, m, 3)
	ss := shipments(t, m, "FO-1")
	require.Len(t, ss, 1)
	assert.Equal(t, start.Add(45*time.Minute), ss[0].ShippedAt, "shipped at the third tick")
}

func TestConfigValidate(t *testing.T) {
	m := newSim(t, wms.Config{})
	tests := []struct {
		name string
		cfg  wms.Config
		want string
	}{
		{"bad name", wms.Config{Name: "East 1"}, "Name"},
		{"bad prefix", wms.Config{CompanyPrefix: "12ab"}, "CompanyPrefix"},
		{"bad SCAC", wms.Config{Carrier: canonical.Carrier{SCAC: "ups"}}, "SCAC"},
		{"negative capacity", wms.Config{PackageCapacity: dec("-1")}, "PackageCapacity"},
		{"unknown strategy", wms.Config{Strategy: 9}, "Strategy"},
		{"stock without world", wms.Config{Stock: []wms.Stock{{Warehouse: "WH-EAST", SKU: "SKU-100", Quantity: dec("1")}}}, "Stock"},
		{"empty warehouses", wms.Config{Warehouses: []canonical.Location{}}, "Warehouses"},
		{"state and world", wms.Config{State: m.State(), Name: "x"}, "State"},
		{"foreign state", wms.Config{State: &wms.State{}}, "State"},
		{"unknown stock SKU", func() wms.Config {
			c := testWorld(0)
			c.Stock = append(c.Stock, wms.Stock{Warehouse: "WH-A", SKU: "SKU-9", Quantity: dec("1")})
			return c
		}(), "SKU-9"},
	}
	for _, tt := range tests {
		_, err := wms.New(tt.cfg)
		assert.ErrorIs(t, err, wms.ErrInvalidConfig, "New with %s", tt.name)
		assert.ErrorContains(t, err, tt.want, "New with %s", tt.name)
	}
	assert.NoError(t, testWorld(wms.StrategySplit).Validate())
}

func TestCursorRoundTrip(t *testing.T) {
	for _, pos := range []uint64{0, 1, 9, 10, 123456, 1<<64 - 1} {
		c := wms.FormatCursor(pos)
		got, err := wms.ParseCursor(c)
		require.NoError(t, err, "ParseCursor(%q)", c)
		assert.Equal(t, pos, got, "round trip of %d", pos)
	}
}

func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "p1", "p10", "p0", "p01", "x", "p18446744073709551615", "p18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := wms.ParseCursor(connector.Cursor(s))
		if err != nil {
			require.ErrorIs(t, err, wms.ErrCursor, "ParseCursor(%q)", s)
			return
		}
		require.Equal(t, connector.Cursor(s), wms.FormatCursor(pos), "FormatCursor(ParseCursor(%q))", s)
	})
}

func TestSubscribe(t *testing.T) {
	m := busyWorld(t, wms.Config{})
	all := allEvents(t, m)
	stored := wms.FormatCursor(uint64(len(all) - 2))
	errEnough := errors.New("enough")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []canonical.Event
	var cursors []connector.Cursor
	done := make(chan error, 1)
	seen := make(chan struct{}, 10)
	go func() {
		done <- m.Subscribe(ctx, stored, func(ctx context.Context, e canonical.Event, next connector.Cursor) error {
			got = append(got, e)
			cursors = append(cursors, next)
			seen <- struct{}{}
			if len(got) == 3 {
				return errEnough
			}
			return nil
		})
	}()
	<-seen
	<-seen // the two stored events; the third comes from a release made while subscribed
	fo := release(t, m, makeFO("FO-LIVE", "WH-EAST", line{"SKU-100", "1"}))
	require.ErrorIs(t, <-done, errEnough, "Subscribe returns the callback's error")
	require.Len(t, got, 3)
	assert.Equal(t, all[len(all)-2:], got[:2], "the events after the stored cursor")
	assert.Equal(t, fo.ID, got[2].Subject, "then the live event")
	assert.Equal(t, wms.FormatCursor(uint64(len(all)+1)), cursors[2], "with the cursor after it")

	cancel()
	err := m.Subscribe(ctx, "", func(context.Context, canonical.Event, connector.Cursor) error { return nil })
	assert.ErrorIs(t, err, context.Canceled, "Subscribe ends with its context")
	err = m.Subscribe(context.Background(), "bogus", nil)
	assert.ErrorIs(t, err, wms.ErrCursor)
}

// TestFeedAcrossChunks pages through and subscribes to a feed of more
// events than one chunk of the feed's storage holds, with page sizes that
// straddle the chunk boundaries: no event is skipped or repeated.
func TestFeedAcrossChunks(t *testing.T) {
	const n = 2100
	m := newSim(t, wms.Config{})
	for i := range n {
		adjust(t, m, "A-"+strconv.Itoa(i), "WH-EAST", "SKU-100", "1")
	}
	ctx := context.Background()
	for _, limit := range []int{1000, 333, 1024} {
		var ids []string
		cur := connector.Cursor("")
		for {
			page, err := m.PollEvents(ctx, cur, limit)
			require.NoError(t, err, "PollEvents(%q, %d)", cur, limit)
			for _, e := range page.Events {
				ids = append(ids, e.ID)
			}
			cur = page.Next
			if !page.More {
				break
			}
		}
		require.Len(t, ids, n, "events read in pages of %d", limit)
		for i, id := range ids {
			require.Equal(t, fmt.Sprintf("EV-%010d", i+1), id, "event %d in pages of %d", i, limit)
		}
	}
	var got []string
	errEnough := errors.New("enough")
	err := m.Subscribe(ctx, wms.FormatCursor(5), func(_ context.Context, e canonical.Event, next connector.Cursor) error {
		got = append(got, e.ID)
		if len(got) == n-5 {
			return errEnough
		}
		return nil
	})
	require.ErrorIs(t, err, errEnough, "Subscribe returns the callback's error")
	assert.Equal(t, fmt.Sprintf("EV-%010d", 6), got[0], "Subscribe starts after the cursor")
	assert.Equal(t, fmt.Sprintf("EV-%010d", n), got[len(got)-1], "Subscribe reaches the last event")
}
