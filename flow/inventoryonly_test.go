package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// stockWMS has only the roles inventory sync uses of a warehouse: an event
// feed and its inventory. It is safe for concurrent use.
type stockWMS struct {
	mu        sync.Mutex
	events    []canonical.Event
	positions []canonical.InventoryPosition
}

func (w *stockWMS) Source() string { return "urn:test:stock" }

func (w *stockWMS) PollEvents(_ context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := 0
	if cursor != "" {
		i = len(cursor) // the cursor is one "x" per event read
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	j := min(i+limit, len(w.events))
	return connector.Page{Events: append([]canonical.Event(nil), w.events[i:j]...), Next: connector.Cursor(strings.Repeat("x", j)),
		More: j < len(w.events)}, nil
}

func (w *stockWMS) Inventory(_ context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []canonical.InventoryPosition
	for _, p := range w.positions {
		if (len(q.SKUs) == 0 || q.SKUs[0] == p.Item.SKU) && (len(q.Locations) == 0 || q.Locations[0] == p.Location) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ledger has only the ERP's inventory ledger role.
type ledger struct {
	mu      sync.Mutex
	applied map[string][]canonical.InventoryPosition // by key
}

func (l *ledger) ApplyInventory(_ context.Context, key string, ps []canonical.InventoryPosition) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.applied == nil {
		l.applied = map[string][]canonical.InventoryPosition{}
	}
	l.applied[key] = ps
	return nil
}

// shelf has only the CRM's availability role.
type shelf struct {
	mu    sync.Mutex
	shown []connector.Availability
}

func (s *shelf) PublishAvailability(_ context.Context, items []connector.Availability) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shown = append(s.shown, items...)
	return nil
}

// stockEvent returns an event of typ carrying doc, not validated: the
// order-to-cash documents need not be complete, as the flow must not read
// them.
func stockEvent(t *testing.T, typ canonical.EventType, id, partition string, doc any) canonical.Event {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err, "marshal %s", id)
	ev := canonical.Event{Type: typ, SpecVersion: canonical.EventSpecVersion, Data: data}
	ev.ID, ev.Source, ev.Subject, ev.PartitionKey, ev.Time = id, "urn:test:stock", partition, partition, time.Unix(1_700_000_000, 0)
	return ev
}

// TestInventorySyncOnly runs inventory sync end to end on a flow made of
// the inventory roles only: the snapshot's positions reach the ledger
// (summed over lots) and the availability, the feed's other events stay out
// of the log, and the order-to-cash entry points find no orders.
func TestInventorySyncOnly(t *testing.T) {
	ctx := context.Background()
	asOf := time.Unix(1_700_000_000, 0).UTC()
	pos := func(lot, qty string, seq int64) canonical.InventoryPosition {
		q := canonical.MustParseQuantity(qty, "EA")
		return canonical.InventoryPosition{Item: canonical.ItemRef{SKU: "SKU-1"}, Location: "WH-1", Lot: lot,
			Status: canonical.InventoryAvailable, Kind: canonical.QuantitySnapshot, OnHand: q, Allocated: canonical.MustParseQuantity("0", "EA"),
			Available: q, Inbound: canonical.MustParseQuantity("0", "EA"), AsOf: asOf, Sequence: seq}
	}
	w := &stockWMS{positions: []canonical.InventoryPosition{pos("L1", "7", 1), pos("L2", "5", 2)}}
	w.events = []canonical.Event{
		stockEvent(t, canonical.EventInventorySnapshot, "snap-1", "SKU-1@WH-1", pos("L2", "5", 2)),
		// A warehouse event of order-to-cash: not for this flow.
		stockEvent(t, canonical.EventFulfillmentShipped, "ship-1", "O-1", canonical.Shipment{ID: "S-1", OrderID: "O-1"}),
	}
	l, s := &ledger{}, &shelf{}
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	f, err := flow.NewInventorySync(flow.InventoryConfig{WMS: w, ERP: l, CRM: s, Log: log, PollInterval: time.Millisecond})
	require.NoError(t, err, "NewInventorySync")
	require.NoError(t, f.Drain(ctx), "Drain")

	l.mu.Lock()
	require.Len(t, l.applied, 1, "ledger applications")
	for _, ps := range l.applied {
		require.Len(t, ps, 1, "positions summed over lots")
		require.Equal(t, "12 EA", ps[0].OnHand.String(), "on hand applied")
		require.Equal(t, int64(2), ps[0].Sequence, "sequence applied")
	}
	l.mu.Unlock()
	s.mu.Lock()
	require.Len(t, s.shown, 1, "availabilities shown")
	require.Equal(t, "12 EA", s.shown[0].Available.String(), "available shown")
	s.mu.Unlock()
	seq, ok := f.InventorySeq("SKU-1", "WH-1")
	require.True(t, ok, "InventorySeq found")
	require.Equal(t, int64(2), seq, "InventorySeq")

	require.Equal(t, 1, int(log.Len()), "events appended: the inventory snapshot only")
	dl, err := f.DeadLetters(ctx, eventlog.Filter{})
	require.NoError(t, err, "DeadLetters")
	require.Empty(t, dl, "dead letters")

	for name, call := range map[string]func() (int, error){
		"PollOrders": func() (int, error) { return f.PollOrders(ctx) },
		"PollERP":    func() (int, error) { return f.PollERP(ctx) },
		"CheckHolds": func() (int, error) { return f.CheckHolds(ctx) },
	} {
		n, err := call()
		require.NoError(t, err, name)
		require.Zero(t, n, name)
	}
	_, err = f.Where(ctx, "O-1")
	require.ErrorIs(t, err, flow.ErrUnknownOrder, "Where")
	err = f.AuthorizeReturn(ctx, canonical.Return{ID: "R-1", OrderID: "O-1"})
	require.ErrorIs(t, err, flow.ErrInvalidConfig, "AuthorizeReturn")
}

// TestInventorySyncOnlyOrderEvent: an order-to-cash event appended to the
// log of an inventory-only flow by other means goes to Unhandled, or is
// dead-lettered with ErrUnhandledEvent without it, and touches no system.
func TestInventorySyncOnlyOrderEvent(t *testing.T) {
	for _, withHook := range []bool{false, true} {
		t.Run(map[bool]string{false: "dead letter", true: "unhandled hook"}[withHook], func(t *testing.T) {
			ctx := context.Background()
			log := eventlog.NewMemory(eventlog.MemoryConfig{})
			cfg := flow.InventoryConfig{WMS: &stockWMS{}, ERP: &ledger{}, CRM: &shelf{}, Log: log, PollInterval: time.Millisecond,
				Policy: eventlog.ErrorPolicy{MaxAttempts: 1}}
			var seen []canonical.EventType
			if withHook {
				cfg.Unhandled = func(_ context.Context, ev canonical.Event) error { seen = append(seen, ev.Type); return nil }
			}
			f, err := flow.NewInventorySync(cfg)
			require.NoError(t, err, "NewInventorySync")
			order := canonical.Order{ID: "O-1", Version: 1}
			require.NoError(t, log.Append(ctx, stockEvent(t, canonical.EventOrderSubmitted, "o-1", "O-1", order)), "Append")
			require.NoError(t, f.Drain(ctx), "Drain")
			dl, err := f.DeadLetters(ctx, eventlog.Filter{})
			require.NoError(t, err, "DeadLetters")
			if withHook {
				require.Equal(t, []canonical.EventType{canonical.EventOrderSubmitted}, seen, "Unhandled saw")
				require.Empty(t, dl, "dead letters")
				return
			}
			require.Len(t, dl, 1, "dead letters")
			require.Contains(t, dl[0].Error, flow.ErrUnhandledEvent.Error(), "dead letter's error")
		})
	}
}

// TestInventoryConfigMissingRole: each role inventory sync needs, when
// missing, is an ErrInvalidConfig naming the field and the role.
func TestInventoryConfigMissingRole(t *testing.T) {
	full := func() flow.InventoryConfig {
		return flow.InventoryConfig{WMS: &stockWMS{}, ERP: &ledger{}, CRM: &shelf{}, Log: eventlog.NewMemory(eventlog.MemoryConfig{})}
	}
	for _, tt := range []struct {
		name string
		drop func(*flow.InventoryConfig)
		want string
	}{
		{"WMS", func(c *flow.InventoryConfig) { c.WMS = nil }, "WMS is required: the warehouse's inventory and event feed (flow.InventoryFeed)"},
		{"ERP", func(c *flow.InventoryConfig) { c.ERP = nil }, "ERP is required: the ERP's inventory ledger (connector.InventoryApplier)"},
		{"CRM", func(c *flow.InventoryConfig) { c.CRM = nil }, "CRM is required: the CRM's availability (connector.AvailabilityPublisher)"},
		{"Log", func(c *flow.InventoryConfig) { c.Log = nil }, "Log is required"},
		{"WMSSources", func(c *flow.InventoryConfig) { c.WMS = struct{ flow.InventoryFeed }{&stockWMS{}} },
			"WMSSources is required: the WMS connector reports no source"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full()
			tt.drop(&cfg)
			_, err := flow.NewInventorySync(cfg)
			require.ErrorIs(t, err, flow.ErrInvalidConfig)
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err := flow.NewInventorySync(full())
	require.NoError(t, err, "all roles")
	if errors.Is(full().Validate(), flow.ErrInvalidConfig) {
		t.Fatal("Validate of a full InventoryConfig failed")
	}
}
