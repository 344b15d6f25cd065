// Package memfake holds small in-memory ERP, WMS and CRM fakes that honour
// the connector contracts, for the tests of package connector and its
// subpackages. They pass the conformance kit (see memfake_test.go); they
// have none of the business rules of the reference systems in packages erp,
// wms and crm.
package memfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// T0 is the fixed start of the fakes' clocks.
var T0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// SampleOrder returns a valid order numbered n with two lines.
func SampleOrder(n int) canonical.Order {
	o := canonical.Order{
		ID:        fmt.Sprintf("ord-%d", n),
		Version:   1,
		SoldTo:    canonical.PartyRef{ID: "cust-1", Name: "Acme"},
		ShipTo:    canonical.PartyRef{ID: "cust-1-dock"},
		Currency:  "USD",
		OrderedAt: T0,
	}
	for i, sku := range []string{"SKU-A", "SKU-B"} {
		o.Lines = append(o.Lines, canonical.OrderLine{
			ID:        fmt.Sprintf("ord-%d-L%d", n, i+1),
			Item:      canonical.ItemRef{SKU: sku},
			Quantity:  canonical.NewQuantity(canonical.DecimalFromInt(int64(2+i)), "EA"),
			UnitPrice: canonical.MustParseMoney("12.50", "USD"),
		})
	}
	return o
}

// SampleFulfillmentOrder returns a valid fulfilment order numbered n for
// warehouse WH1.
func SampleFulfillmentOrder(n int) canonical.FulfillmentOrder {
	o := SampleOrder(n)
	fo := canonical.FulfillmentOrder{
		ID:           fmt.Sprintf("fo-%d", n),
		Version:      1,
		OrderID:      o.ID,
		OrderVersion: o.Version,
		Warehouse:    "WH1",
		Split:        canonical.SplitPosition{Group: o.ID, Index: 1, Count: 1},
		ShipTo:       o.ShipTo,
	}
	for _, l := range o.Lines {
		fo.Lines = append(fo.Lines, canonical.FulfillmentLine{ID: "f" + l.ID, OrderLineID: l.ID, Item: l.Item, Quantity: l.Quantity})
	}
	return fo
}

// SampleReturn returns a valid return authorization numbered n for
// warehouse WH1.
func SampleReturn(n int) canonical.Return {
	return canonical.Return{
		ID:           fmt.Sprintf("ret-%d", n),
		Version:      1,
		RMANumber:    fmt.Sprintf("RMA-%d", n),
		Customer:     canonical.PartyRef{ID: "cust-1"},
		Warehouse:    "WH1",
		AuthorizedAt: T0,
		Lines: []canonical.ReturnLine{{
			ID:         fmt.Sprintf("ret-%d-L1", n),
			Item:       canonical.ItemRef{SKU: "SKU-A"},
			Authorized: canonical.MustParseQuantity("1", "EA"),
			Received:   canonical.MustParseQuantity("0", "EA"),
		}},
	}
}

// SamplePositions returns valid inventory snapshots with sequence n.
func SamplePositions(n int) []canonical.InventoryPosition {
	var ps []canonical.InventoryPosition
	for _, sku := range []string{"SKU-A", "SKU-B"} {
		ps = append(ps, canonical.InventoryPosition{
			Item:      canonical.ItemRef{SKU: sku},
			Location:  "WH1",
			Status:    canonical.InventoryAvailable,
			Kind:      canonical.QuantitySnapshot,
			OnHand:    canonical.NewQuantity(canonical.DecimalFromInt(int64(100+n)), "EA"),
			Allocated: canonical.MustParseQuantity("0", "EA"),
			Available: canonical.NewQuantity(canonical.DecimalFromInt(int64(100+n)), "EA"),
			Inbound:   canonical.MustParseQuantity("0", "EA"),
			AsOf:      T0.Add(time.Duration(n) * time.Minute),
			Sequence:  int64(n),
		})
	}
	return ps
}

// fingerprint returns the JSON encoding of v, to tell whether a replay
// carries the same document.
func fingerprint(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// done returns the cause of ctx when it is done.
func done(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// invalid returns a CodeInvalid error naming field.
func invalid(system, op, field, msg string) error {
	return connector.NewError(connector.CodeInvalid, system, op, &canonical.ValidationError{
		Kind: "request", Errors: []canonical.FieldError{{Field: field, Message: msg}},
	})
}

// keyed is one stored result of an idempotent call.
type keyed[T any] struct {
	print  []byte
	result T
}

// lookup returns the stored result for key, a conflict error when key was
// used for another request, or false when key is new.
func lookup[T any](m map[string]keyed[T], key string, print []byte, system, op string) (T, bool, error) {
	k, ok := m[key]
	if !ok {
		var zero T
		return zero, false, nil
	}
	if !bytes.Equal(k.print, print) {
		var zero T
		return zero, true, connector.NewError(connector.CodeConflict, system, op, fmt.Errorf("key %q was used for another request", key))
	}
	return k.result, true, nil
}

// feed is an append-only event log whose cursor is the decimal count of
// events read.
type feed struct {
	source  string
	events  []canonical.Event
	changed chan struct{} // closed and replaced when an event is added
}

// wait returns a channel closed when the next event is added. The caller
// holds the lock guarding f.
func (f *feed) wait() <-chan struct{} {
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

// add appends an event of type t carrying doc about subject.
func (f *feed) add(t canonical.EventType, subject string, doc canonical.Document, at time.Time) error {
	e, err := canonical.NewEvent(t, doc)
	if err != nil {
		return err
	}
	e.ID = fmt.Sprintf("evt-%06d", len(f.events)+1)
	e.Source = f.source
	e.Subject = subject
	e.Time = at
	f.events = append(f.events, e)
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
	return nil
}

// page returns the events after cursor.
func (f *feed) page(system, op string, cursor connector.Cursor, limit int) (connector.Page, error) {
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(string(cursor))
		if err != nil || n < 0 || n > len(f.events) {
			return connector.Page{}, invalid(system, op, "cursor", "is not a cursor of this feed")
		}
		start = n
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	end := min(start+limit, len(f.events))
	if end == start {
		return connector.Page{Next: cursor}, nil
	}
	return connector.Page{
		Events: append([]canonical.Event(nil), f.events[start:end]...),
		Next:   connector.Cursor(strconv.Itoa(end)),
		More:   end < len(f.events),
	}, nil
}

// mutex is embedded by the fakes' shared states.
type mutex = sync.Mutex
