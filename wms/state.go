package wms

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// State is the storage of a simulated WMS: its warehouses, stock,
// fulfilment orders, returns and event feed. It outlives the [Memory]
// instances opened over it, as a database outlives its clients: open a
// new instance with Config.State to simulate a restart. It has no
// exported fields; its zero value is not usable. A State is safe for
// concurrent use by any number of instances.
type State struct {
	w *world
}

// world is everything a State holds, guarded by mu.
type world struct {
	mu sync.Mutex

	name, source string
	strategy     Strategy
	rng          *rand.Rand
	prefix       string
	carrier      canonical.Carrier
	capacity     canonical.Decimal
	now          time.Time // the simulated time
	callNow      time.Time // the time of the call holding mu
	tick         time.Duration
	counts       Counts

	// The documents emitAllocation and ship build and emit, reused under
	// mu: NewEvent encodes a document and keeps nothing of it, and a
	// document given as an interface would be copied to the heap.
	allocDoc canonical.AllocationUpdate
	shipDoc  canonical.Shipment

	warehouses []canonical.Location
	whIndex    map[string]int
	items      map[string]canonical.Item

	// stock by key; lots lists the stock of each warehouse and SKU in
	// allocation order (FEFO, then lot).
	stock map[stockKey]*lot
	lots  map[whSKU][]*lot

	// active holds the fulfilment orders with something open, in release
	// order.
	active  []*fulfillment
	foByID  map[string]*fulfillment
	cancels map[string]cancelRecord
	// releaseChanges holds the ChangeRelease calls by key.
	releaseChanges map[string]releaseChangeRecord

	returns map[string]*rma
	// adjustments holds where the event of each adjustment applied is in
	// events, by the hash of its ID (adjustmentSeed): the event's data is
	// the adjustment, so the world keeps it once, and the map holds no
	// strings to scan or to read again as it grows (wms/stock.go, Adjust).
	// An ID whose hash an earlier ID has is in adjustmentsByID, nil
	// until one is.
	adjustments     map[uint64]adjustmentRecord
	adjustmentsByID map[string]adjustmentRecord
	// hashAdjustmentID, when not nil, replaces the hash of adjustment IDs
	// (tests make IDs collide with it).
	hashAdjustmentID func(string) uint64

	events  eventFeed
	subjSeq map[string]uint64
	// invSubjects holds the inventory subject of each warehouse and SKU
	// (inventorySubject), made once; nil until the first.
	invSubjects map[whSKU]string
	// adjDoc is the document applyAdjustment hands to emit, which does not
	// keep it: one for the world, as emit runs under the lock, rather than
	// one allocation per adjustment.
	adjDoc canonical.InventoryAdjustment
	// grew, when not nil, is closed (and set to nil) when events are
	// appended, waking subscribers; a subscriber makes it when it finds
	// it nil, so that appending makes no channel while nobody waits.
	grew chan struct{}

	// counters of the WMS's own IDs.
	nextOB, nextShipment, nextRMA, nextAdj, nextSerial int64
}

type whSKU struct{ wh, sku string }

type stockKey struct {
	wh, sku, lot string
	status       canonical.InventoryStatus
}

// lot is the stock of one key. allocated counts reserved quantity,
// picked or not, until it ships.
type lot struct {
	key       stockKey
	expires   time.Time
	onHand    canonical.Decimal
	allocated canonical.Decimal
}

// reservation is the part of a fulfilment line reserved in one lot.
type reservation struct {
	lot       *lot
	allocated canonical.Decimal // reserved, not picked
	picked    canonical.Decimal // picked, not shipped
}

// foLine is the state of one fulfilment line. Its quantities, and those
// of its reservations, are in the line's unit; factor is how many base
// units (the unit of stock) one line unit is.
type foLine struct {
	doc         canonical.FulfillmentLine
	factor      canonical.Decimal
	backordered canonical.Decimal
	shipped     canonical.Decimal
	cancelled   canonical.Decimal
	res         []*reservation
}

func (l *foLine) allocated(c *calc) canonical.Decimal {
	var s canonical.Decimal
	for _, r := range l.res {
		s = c.add(s, r.allocated)
	}
	return s
}

func (l *foLine) picked(c *calc) canonical.Decimal {
	var s canonical.Decimal
	for _, r := range l.res {
		s = c.add(s, r.picked)
	}
	return s
}

type fulfillment struct {
	// doc is the fulfilment order as Release returned it; version counts
	// its changes since (cancellations).
	doc        canonical.FulfillmentOrder
	version    int64
	lines      []*foLine
	started    bool // allocated at least once
	pickedOnce bool
	updates    int64
	shipments  int
}

type cancelRecord struct {
	req    connector.CancelRequest
	result connector.CancelResult
}

type rma struct {
	// authorized is the return as AuthorizeReturn returned it; doc is its
	// current state.
	authorized, doc canonical.Return
}

// calc does Decimal arithmetic and remembers the first error. The
// simulator bounds every quantity it accepts (see checkAmount), so an
// error here is a bug and is reported as CodeInternal.
type calc struct{ err error }

func (c *calc) add(a, b canonical.Decimal) canonical.Decimal {
	r, err := a.Add(b)
	if err != nil && c.err == nil {
		c.err = err
	}
	return r
}

func (c *calc) mul(a, b canonical.Decimal) canonical.Decimal {
	if b == one {
		return a
	}
	r, err := a.Mul(b)
	if err != nil && c.err == nil {
		c.err = err
	}
	return r
}

func (c *calc) sub(a, b canonical.Decimal) canonical.Decimal {
	r, err := a.Sub(b)
	if err != nil && c.err == nil {
		c.err = err
	}
	return r
}

func newWorld(cfg Config) *world {
	w := &world{
		name: cmp.Or(cfg.Name, "sim"), strategy: cfg.Strategy,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		prefix:   cmp.Or(cfg.CompanyPrefix, "0614141"),
		carrier:  cfg.Carrier,
		capacity: cfg.PackageCapacity,
		now:      cfg.Start,
		tick:     cmp.Or(cfg.Tick, time.Minute),
		whIndex:  map[string]int{}, items: map[string]canonical.Item{},
		stock: map[stockKey]*lot{}, lots: map[whSKU][]*lot{},
		foByID: map[string]*fulfillment{}, cancels: map[string]cancelRecord{}, releaseChanges: map[string]releaseChangeRecord{},
		returns: map[string]*rma{}, adjustments: map[uint64]adjustmentRecord{},
		subjSeq: map[string]uint64{}, grew: make(chan struct{}),
	}
	w.source = "wms://" + w.name
	if w.carrier == (canonical.Carrier{}) {
		w.carrier = canonical.Carrier{SCAC: "UPSN", Name: "UPS"}
	}
	if w.capacity.IsZero() {
		w.capacity = canonical.DecimalFromInt(10)
	}
	if w.now.IsZero() {
		w.now = DemoEpoch()
	}
	whs, items, stock := cfg.Warehouses, cfg.Items, cfg.Stock
	if whs == nil && items == nil && stock == nil {
		stock = DemoStock()
	}
	if whs == nil {
		whs = DemoWarehouses()
	}
	if items == nil {
		items = DemoItems()
	}
	w.warehouses = make([]canonical.Location, len(whs))
	for i, l := range whs {
		w.warehouses[i] = cloneLocation(l)
		w.whIndex[l.ID] = i
	}
	for _, it := range items {
		w.items[it.SKU] = cloneItem(it)
	}
	var c calc
	for _, s := range stock {
		l := w.lot(stockKey{wh: s.Warehouse, sku: s.SKU, lot: s.Lot, status: cmp.Or(s.Status, canonical.InventoryAvailable)}, s.ExpiresAt)
		l.onHand = c.add(l.onHand, s.Quantity)
	}
	return w
}

// lot returns the stock of k, creating it (with the given expiry) when it
// does not exist.
func (w *world) lot(k stockKey, expires time.Time) *lot {
	if l, ok := w.stock[k]; ok {
		return l
	}
	l := &lot{key: k, expires: expires}
	w.stock[k] = l
	ws := whSKU{k.wh, k.sku}
	w.lots[ws] = append(w.lots[ws], l)
	slices.SortStableFunc(w.lots[ws], func(a, b *lot) int {
		switch {
		case a.expires.IsZero() != b.expires.IsZero():
			if a.expires.IsZero() {
				return 1
			}
			return -1
		case !a.expires.Equal(b.expires):
			return a.expires.Compare(b.expires)
		}
		return cmp.Compare(a.key.lot, b.key.lot)
	})
	return l
}

// available returns the allocatable quantity of sku in wh.
func (w *world) available(wh, sku string, c *calc) canonical.Decimal {
	var s canonical.Decimal
	for _, l := range w.lots[whSKU{wh, sku}] {
		if l.key.status == canonical.InventoryAvailable {
			s = c.add(s, c.sub(l.onHand, l.allocated))
		}
	}
	return s
}
