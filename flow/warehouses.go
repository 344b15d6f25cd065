//lint:file-ignore ST1005 Validate's errors start with the Go name of the Config field they are about.

// This file owns the routing to several WMS (Config.Warehouses): which
// system owns a warehouse, the inventory read across systems, the feeds
// polled per system and the check that a warehouse's events come from the
// system that owns it.

package flow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
)

// ErrUnownedWarehouse is matched by the error of a release, cancellation
// or return the flow routes to a warehouse that no WMS of
// Config.Warehouses owns (a Sourcer planned it, or a return names it). It
// is permanent: the event is dead-lettered at once; replay it once a
// system owns the warehouse.
var ErrUnownedWarehouse = errors.New("flow: warehouse owned by no WMS")

// WarehouseSystem is one WMS of a flow that runs several
// (Config.Warehouses): the warehouses it owns and the sources of its
// events. It is a plain value; New copies it. Its zero value is not a
// valid system: Name, WMS and Locations are required.
type WarehouseSystem struct {
	// Name names the system in OrderView.Systems, in errors and in the
	// name of its feed's cursor (FeedWMSEvents+"/"+Name): keep it across
	// restarts, or the feed is read again from its start. Required,
	// unique among Config.Warehouses.
	Name string
	// WMS is the system, typically decorated with connector.WrapWMS with
	// its own connector.Options.System, so that its calls show under its
	// name in timelines and metrics. Required.
	WMS connector.WMS
	// Locations are the canonical IDs of the warehouses the system owns:
	// the flow releases fulfilment orders of these warehouses to it,
	// cancels them there, registers the returns they receive with it and
	// reads their stock from it, and accepts their events only from its
	// Sources. Required: each warehouse is owned by exactly one system.
	Locations []string
	// Sources are the CloudEvents sources of the system's events (its
	// feed, and its webhooks appended to the log by other means): an
	// event about one of Locations from another source, even another
	// system's, is dead-lettered with ErrForeignSource. Nil means the
	// source the WMS reports through a Source() string method, found with
	// connector.As through decorators (wms.Memory has one); Validate
	// requires Sources when it has none. A source belongs to one system
	// only.
	Sources []string
}

// wmsSystem is a WMS of a built flow: a WarehouseSystem with defaults, or
// the one of Config.WMS (or InventoryConfig.WMS), which owns every
// warehouse.
type wmsSystem struct {
	name    string
	wms     connector.WMS // nil for inventory sync
	feed    connector.EventFeed
	stock   connector.InventoryReader
	cursor  string // the feed's cursor name
	sources []string
	owns    []string // nil: every warehouse (one system)
}

// validateWarehouses checks Config.Warehouses and returns its systems
// with their sources defaulted. The errors name the field and are joined,
// without ErrInvalidConfig.
func (c Config) validateWarehouses() ([]*wmsSystem, error) {
	var errs []error
	if c.WMS != nil {
		errs = append(errs, errors.New("WMS and Warehouses are exclusive: set WMS for one system that owns every warehouse, Warehouses for several"))
	}
	if c.WMSSources != nil {
		errs = append(errs, errors.New("WMSSources is for WMS: with Warehouses, set each system's Sources"))
	}
	var out []*wmsSystem
	names := map[string]int{}
	owner := map[string]int{}
	source := map[string]int{}
	for i, ws := range c.Warehouses {
		at := fmt.Sprintf("Warehouses[%d]", i)
		if ws.Name != "" {
			at += " (" + strconv.Quote(ws.Name) + ")"
		}
		switch j, dup := names[ws.Name]; {
		case ws.Name == "":
			errs = append(errs, fmt.Errorf("%s.Name is required", at))
		case dup:
			errs = append(errs, fmt.Errorf("%s.Name is Warehouses[%d]'s too", at, j))
		default:
			names[ws.Name] = i
		}
		if ws.WMS == nil {
			errs = append(errs, fmt.Errorf("%s.WMS is required", at))
		}
		if len(ws.Locations) == 0 {
			errs = append(errs, fmt.Errorf("%s.Locations is empty: the system would own no warehouse", at))
		}
		for _, l := range ws.Locations {
			switch j, dup := owner[l]; {
			case l == "":
				errs = append(errs, fmt.Errorf("%s.Locations has an empty warehouse", at))
			case dup && j == i:
				errs = append(errs, fmt.Errorf("%s.Locations names %q twice", at, l))
			case dup:
				errs = append(errs, fmt.Errorf("%s.Locations: warehouse %q is owned by Warehouses[%d] (%q) too", at, l, j, c.Warehouses[j].Name))
			default:
				owner[l] = i
			}
		}
		srcs := ws.Sources
		switch {
		case srcs == nil && ws.WMS != nil:
			if r, ok := connector.As[sourceReporter](ws.WMS); ok && r.Source() != "" {
				srcs = []string{r.Source()}
			} else {
				errs = append(errs, fmt.Errorf("%s.Sources is required: the WMS connector reports no source (Source() string)", at))
			}
		case srcs != nil && len(srcs) == 0:
			errs = append(errs, fmt.Errorf("%s.Sources is empty: none of its events would be accepted", at))
		}
		for _, s := range srcs {
			switch j, dup := source[s]; {
			case s == "":
				errs = append(errs, fmt.Errorf("%s.Sources has an empty source", at))
			case dup && j != i:
				errs = append(errs, fmt.Errorf("%s.Sources: source %q is Warehouses[%d]'s (%q) too: the flow could not tell whose events it brings", at, s, j, c.Warehouses[j].Name))
			default:
				source[s] = i
			}
		}
		out = append(out, &wmsSystem{name: ws.Name, wms: ws.WMS, feed: ws.WMS, stock: ws.WMS,
			cursor: FeedWMSEvents + "/" + ws.Name, sources: slices.Clone(srcs), owns: slices.Clone(ws.Locations)})
	}
	return out, errors.Join(errs...)
}

// systemOf returns the system that owns a warehouse: the one system of a
// flow with Config.WMS, else the owner among Config.Warehouses, or an
// error matching ErrUnownedWarehouse, marked permanent.
func (f *Flow) systemOf(warehouse string) (*wmsSystem, error) {
	if f.owner == nil {
		return f.systems[0], nil
	}
	if s := f.owner[warehouse]; s != nil {
		return s, nil
	}
	return nil, retry.Permanent(fmt.Errorf("%w: %q (Config.Warehouses)", ErrUnownedWarehouse, warehouse))
}

// systemsReader reads the stock of several systems, each of the warehouses
// it owns: the inventory the default Sourcer and inventory sync read with
// Config.Warehouses.
type systemsReader struct {
	systems []*wmsSystem
}

var _ connector.InventoryReader = systemsReader{}

// Inventory implements connector.InventoryReader: it asks each system
// that owns a warehouse of q (each system, when q names none) for its
// owned warehouses' positions, and merges them in the order the contract
// sets. A failure of any system fails the read, naming the system.
func (r systemsReader) Inventory(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	var out []canonical.InventoryPosition
	for _, s := range r.systems {
		locs := s.owns
		if len(q.Locations) > 0 {
			locs = slices.DeleteFunc(slices.Clone(q.Locations), func(l string) bool { return !slices.Contains(s.owns, l) })
			if len(locs) == 0 {
				continue
			}
		}
		ps, err := s.stock.Inventory(ctx, connector.InventoryQuery{SKUs: q.SKUs, Locations: locs})
		if err != nil {
			return nil, fmt.Errorf("flow: inventory of WMS %s: %w", s.name, err)
		}
		for _, p := range ps {
			if slices.Contains(locs, p.Location) {
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b canonical.InventoryPosition) int {
		return cmp.Or(cmp.Compare(a.Item.SKU, b.Item.SKU), cmp.Compare(a.Location, b.Location),
			cmp.Compare(a.Lot, b.Lot), cmp.Compare(a.Status, b.Status))
	})
	return out, nil
}

// checkOwner refuses a warehouse event (see checkSource) about a warehouse
// that is not owned by the system of the event's source, with several
// systems: a system speaks only for its own warehouses. The warehouse is
// the data's "warehouse" (fulfilment orders, allocation updates,
// shipments, returns) or "location" (inventory). Data that names neither is
// left to the handler, which refuses it as invalid.
func (f *Flow) checkOwner(ev canonical.Event) error {
	if f.owner == nil {
		return nil
	}
	var d struct {
		Warehouse string `json:"warehouse"`
		Location  string `json:"location"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return nil // the handler reports it
	}
	wh := cmp.Or(d.Warehouse, d.Location)
	if wh == "" {
		return nil
	}
	s := f.owner[wh]
	switch {
	case s == nil:
		return fmt.Errorf("%w: warehouse %q is owned by no WMS (Config.Warehouses)", ErrForeignSource, wh)
	case !slices.Contains(s.sources, ev.Source):
		return fmt.Errorf("%w: warehouse %q is owned by WMS %q, whose events come from %q only", ErrForeignSource, wh, s.name, s.sources)
	}
	return nil
}

// checkWarehouseLocked refuses, with several systems, a warehouse event
// about a planned fulfilment order of another warehouse than the one the
// event names (checkOwner vouched only for the named one). f.mu is held.
func (f *Flow) checkWarehouseLocked(st *orderState, foID, warehouse string) error {
	if f.owner == nil {
		return nil
	}
	i := slices.IndexFunc(st.plan, func(fo canonical.FulfillmentOrder) bool { return fo.ID == foID })
	if i >= 0 && st.plan[i].Warehouse != warehouse {
		return fmt.Errorf("%w: fulfilment order %s is of warehouse %q, not %q", ErrBadEvent, foID, st.plan[i].Warehouse, warehouse)
	}
	return nil
}

// checkReceiptWarehouse refuses, with several systems, a receipt of a
// return at another warehouse than the one it was authorized for, whose
// system was told to expect the goods (checkOwner vouched only for the
// warehouse the receipt names).
func (f *Flow) checkReceiptWarehouse(authorized, received canonical.Return) error {
	if f.owner == nil || received.Warehouse == authorized.Warehouse {
		return nil
	}
	return fmt.Errorf("%w: return %s was authorized for warehouse %q, received at %q", ErrBadEvent, authorized.ID, authorized.Warehouse, received.Warehouse)
}
