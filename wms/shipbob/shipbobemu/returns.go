// This file owns returns (authorization through the simulator), fulfilment
// centers and inventory.

package shipbobemu

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms/shipbob/internal/wire"
)

// asValidation is errors.As for a *canonical.ValidationError.
func asValidation(err error, ve **canonical.ValidationError) bool { return errors.As(err, ve) }

func (e *Emulator) createReturn(w http.ResponseWriter, r *http.Request) {
	var body wire.CreateReturn
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeProblem(w, http.StatusBadRequest, map[string][]string{"": {"The request body is not valid JSON: " + err.Error()}})
		return
	}
	bad := map[string][]string{}
	if n := len(body.ReferenceID); n < 1 || n > 300 {
		bad["reference_id"] = []string{"The reference_id must be 1 to 300 characters."}
	}
	loc, ok := e.location(body.FulfillmentCenter.ID)
	if !ok || body.FulfillmentCenter.ID == 0 {
		bad["fulfillment_center.id"] = []string{fmt.Sprintf("Fulfillment center %d is not known.", body.FulfillmentCenter.ID)}
	}
	if len(body.Inventory) == 0 {
		bad["inventory"] = []string{"At least one inventory line is required."}
	}
	for i, l := range body.Inventory {
		if l.SKU == "" {
			bad[fmt.Sprintf("inventory[%d].sku", i)] = []string{"The sku is required."}
		}
		if l.Quantity < 1 {
			bad[fmt.Sprintf("inventory[%d].quantity", i)] = []string{"The quantity must be at least 1."}
		}
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, bad)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if rt, dup := e.retByRef[body.ReferenceID]; dup {
		writeMessage(w, http.StatusConflict, fmt.Sprintf("Return with reference_id %q already exists as return %d.", body.ReferenceID, rt.ID))
		return
	}
	now := e.stampLocked()
	cr := canonical.Return{ID: body.ReferenceID, Version: 1, RMANumber: body.ReferenceID,
		Customer:  canonical.PartyRef{ID: "shipbob-channel-" + strconv.FormatInt(e.cfg.ChannelID, 10)},
		Warehouse: loc.Name, AuthorizedAt: now}
	for i, l := range body.Inventory {
		cr.Lines = append(cr.Lines, canonical.ReturnLine{ID: fmt.Sprintf("%s:%d", body.ReferenceID, i+1), Item: canonical.ItemRef{SKU: l.SKU},
			Authorized: canonical.MustParseQuantity(strconv.FormatInt(l.Quantity, 10), "EA"), Received: canonical.Quantity{}})
	}
	if _, err := e.mem.AuthorizeReturn(r.Context(), cr); err != nil {
		writeError(w, inventoryNamed(err))
		return
	}
	e.nextID++
	rt := &ret{Return: wire.Return{ID: e.nextID, ReferenceID: body.ReferenceID, Status: "AwaitingArrival", InsertDate: now, LastUpdateAt: now,
		FulfillmentCenter: loc, Inventory: slices.Clone(body.Inventory), Tags: slices.Clone(body.Tags)}}
	for i := range rt.Inventory {
		rt.Inventory[i].RequestedAction = cmp.Or(rt.Inventory[i].RequestedAction, "Default")
	}
	e.returns[rt.ID] = rt
	e.retByRef[rt.ReferenceID] = rt
	e.counts.ReturnsCreated++
	e.enqueueLocked(wire.TopicReturnCreated, copyReturn(rt.Return))
	writeJSON(w, http.StatusCreated, rt.Return)
}

// inventoryNamed renames the simulator's "lines[i]" fields to ShipBob's
// "inventory[i]".
func inventoryNamed(err error) error {
	var ve *canonical.ValidationError
	if !asValidation(err, &ve) {
		return err
	}
	renamed := &canonical.ValidationError{Kind: ve.Kind, Omitted: ve.Omitted}
	for _, fe := range ve.Errors {
		fe.Field = strings.Replace(fe.Field, "lines[", "inventory[", 1)
		renamed.Errors = append(renamed.Errors, fe)
	}
	return connector.NewError(connector.CodeInvalid, "shipbob", "CreateReturn", renamed)
}

// copyReturn returns a copy of r to encode outside the lock.
func copyReturn(r wire.Return) wire.Return {
	r.Inventory = slices.Clone(r.Inventory)
	r.Tags = slices.Clone(r.Tags)
	return r
}

func (e *Emulator) listReturns(w http.ResponseWriter, r *http.Request) {
	q, ok := parseList(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	var all []wire.Return
	for _, rt := range e.returns {
		if q.refs != nil && !q.refs[rt.ReferenceID] || rt.LastUpdateAt.Before(q.since) {
			continue
		}
		all = append(all, copyReturn(rt.Return))
	}
	e.mu.Unlock()
	page := pageOf(w, q, all, func(r wire.Return) (time.Time, int64) { return r.LastUpdateAt, r.ID })
	writeJSON(w, http.StatusOK, append([]wire.Return{}, page...))
}

func (e *Emulator) listLocations(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, append([]wire.Location{}, e.locations...))
}

// inventory answers GET /{version}/inventory: one item per SKU of the
// simulator's item master, with on-hand, committed (allocated) and
// fulfillable (on hand minus committed) quantities of available stock per
// fulfilment center. Query SKUs (comma-separated), Page and Limit.
func (e *Emulator) inventory(w http.ResponseWriter, r *http.Request) {
	q, ok := parseList(w, r)
	if !ok {
		return
	}
	var skus []string
	if v := r.URL.Query().Get("SKUs"); v != "" {
		skus = strings.Split(v, ",")
	}
	positions, err := e.mem.Inventory(r.Context(), connector.InventoryQuery{SKUs: skus})
	if err != nil {
		writeError(w, err)
		return
	}
	locID := map[string]wire.Location{}
	for _, l := range e.locations {
		locID[l.Name] = l
	}
	var items []wire.InventoryItem
	for i, it := range e.mem.Items() {
		if skus != nil && !slices.Contains(skus, it.SKU) {
			continue
		}
		item := wire.InventoryItem{ID: int64(i + 1), Name: cmp.Or(it.Description, it.SKU), SKU: it.SKU, IsActive: true}
		by := map[string]*wire.FCQuantity{}
		for _, p := range positions {
			if p.Item.SKU != it.SKU || p.Status != canonical.InventoryAvailable {
				continue
			}
			fc := by[p.Location]
			if fc == nil {
				l := locID[p.Location]
				fc = &wire.FCQuantity{ID: l.ID, Name: l.Name}
				by[p.Location] = fc
			}
			fc.OnhandQuantity += whole(p.OnHand)
			fc.CommittedQuantity += whole(p.Allocated)
			fc.FulfillableQuantity += whole(p.Available)
		}
		for _, l := range e.locations {
			if fc := by[l.Name]; fc != nil {
				item.ByFulfillmentCenter = append(item.ByFulfillmentCenter, *fc)
				item.TotalOnHand += fc.OnhandQuantity
				item.TotalCommitted += fc.CommittedQuantity
				item.TotalFulfillable += fc.FulfillableQuantity
			}
		}
		item.TotalSellable = item.TotalFulfillable
		items = append(items, item)
	}
	q.oldest = true
	page := pageOf(w, q, items, func(it wire.InventoryItem) (time.Time, int64) { return time.Time{}, it.ID })
	writeJSON(w, http.StatusOK, append([]wire.InventoryItem{}, page...))
}
