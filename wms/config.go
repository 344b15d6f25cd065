package wms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
)

// System is the system name the simulator uses in the refs it adds
// ([canonical.ExternalRef.System]) and in its errors
// ([connector.Error.System]).
const System = "wms"

// DefaultMaxPageSize is the largest page PollEvents returns when
// [Config.MaxPageSize] is zero.
const DefaultMaxPageSize = 500

// DemoEpoch is where the simulated clock starts when [Config.Start] is
// zero: 2026-01-05 08:00 UTC, the start of the demo world shared with the
// erp package.
func DemoEpoch() time.Time { return time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC) }

// ErrInvalidConfig is matched (with errors.Is) by the errors New and
// Config.Validate return for an invalid [Config].
var ErrInvalidConfig = errors.New("wms: invalid configuration")

// Strategy decides how [Memory.Plan] sources an order from the
// warehouses. The zero value is StrategyNearest. A Strategy is a plain
// value, safe for concurrent use.
type Strategy uint8

// Sourcing strategies. Warehouses are ranked by proximity to the order's
// ship-to address: same country and region first, then same country, then
// the others, ties in configuration order.
const (
	// StrategyNearest takes each line from the nearest warehouse and lets
	// what it lacks spill over to the next nearest, so a line may be split.
	StrategyNearest Strategy = iota
	// StrategyFillFromOne never splits a line: it gives every line it can
	// to the warehouse that can fill the most lines in full (the nearest on
	// a tie), then repeats with the lines left.
	StrategyFillFromOne
	// StrategySplit takes each line from the warehouses with the most
	// available stock first, splitting lines freely to avoid backorders.
	StrategySplit
)

var strategyNames = [...]string{"nearest", "fill_from_one", "split"}

// MarshalText returns the strategy's name; an unknown strategy is an
// error.
func (s Strategy) MarshalText() ([]byte, error) {
	if int(s) < len(strategyNames) {
		return []byte(strategyNames[s]), nil
	}
	return nil, fmt.Errorf("%w: unknown strategy %d", ErrInvalidConfig, int(s))
}

// UnmarshalText parses a strategy name ("nearest", "fill_from_one",
// "split").
func (s *Strategy) UnmarshalText(text []byte) error {
	for i, n := range strategyNames {
		if string(text) == n {
			*s = Strategy(i)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown strategy %q", ErrInvalidConfig, text)
}

// String returns the strategy's name, such as "fill_from_one".
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// Stock is an initial stock quantity of one item in one warehouse, lot and
// status. It is a plain value, safe for concurrent reads. The zero value is
// an empty quantity.
type Stock struct {
	Warehouse string `json:"warehouse"`
	SKU       string `json:"sku"`
	// Lot is the lot (batch); empty for items not tracked by lot.
	Lot string `json:"lot,omitempty"`
	// ExpiresAt is the lot's expiry, if any. Allocation takes the lot that
	// expires first (FEFO), then lots without expiry, by lot name.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Status defaults to available. Only available stock is allocated.
	Status canonical.InventoryStatus `json:"status,omitempty"`
	// Quantity is in the item's base unit; it must be positive.
	Quantity canonical.Decimal `json:"quantity"`
}

// Config configures a [Memory] simulator. Its zero value is the demo world:
// see [DemoWarehouses], [DemoItems] and [DemoStock]. New reads it once; it
// is a plain value, safe for concurrent reads, and its Clock must be safe
// for concurrent use.
type Config struct {
	// Name names the instance in its event source, "wms://NAME": lower-case
	// letters, digits and '-'. Default "sim".
	Name string `json:"name,omitempty"`
	// Warehouses are the warehouses (kind warehouse), in the order that
	// breaks proximity ties. Default: DemoWarehouses.
	Warehouses []canonical.Location `json:"warehouses,omitempty"`
	// Items is the item master. Stock and adjustments are in an item's
	// base unit; fulfilment and return lines may also be in a unit the
	// item converts to it (a case, XCS), and are then allocated in whole
	// units from one lot. Default: DemoItems.
	Items []canonical.Item `json:"items,omitempty"`
	// Stock is the initial stock. Default: DemoStock, used only when
	// Warehouses and Items are also defaulted; empty otherwise.
	Stock []Stock `json:"stock,omitempty"`
	// Strategy is the sourcing strategy of Plan.
	Strategy Strategy `json:"strategy,omitzero"`
	// Seed seeds the random source of tracking numbers.
	Seed uint64 `json:"seed,omitempty"`
	// CompanyPrefix is the GS1 company prefix of the SSCCs of packages: 6
	// to 12 digits. Default "0614141" (the GS1 example prefix).
	CompanyPrefix string `json:"companyPrefix,omitempty"`
	// Carrier ships the packages. Default UPS ground ("UPSN").
	Carrier canonical.Carrier `json:"carrier,omitzero"`
	// PackageCapacity is how many base units fit into one package.
	// Default 10.
	PackageCapacity canonical.Decimal `json:"packageCapacity,omitzero"`
	// Start is the simulated time before the first Step when Clock is nil.
	// Default DemoEpoch.
	Start time.Time `json:"start,omitzero"`
	// Tick is how far each Step moves the simulated time. Default one
	// minute.
	Tick time.Duration `json:"-"`
	// Clock, when set, replaces the simulated time; Step still counts
	// ticks but the times on documents and events come from Clock. It is
	// called once per call, before the simulator takes its lock.
	Clock func() time.Time `json:"-"`
	// MaxPageSize caps the page size of PollEvents. Default
	// DefaultMaxPageSize.
	MaxPageSize int `json:"-"`
	// State, when set, opens the simulator over an existing state (see
	// [Memory.State]) instead of building a new world: it resumes where the
	// state is, and cursors of its feed stay valid. The world fields (Name,
	// Warehouses, Items, Stock, Strategy, Seed, CompanyPrefix, Carrier,
	// PackageCapacity, Start, Tick) must then be zero.
	State *State `json:"-"`
}

// maxQuantity bounds every quantity the simulator takes, so that its sums
// cannot overflow a Decimal.
var maxQuantity = canonical.MustParseDecimal("1000000000000")

const maxScale = 6

// checkAmount reports a quantity the simulator refuses to hold.
func checkAmount(d canonical.Decimal) string {
	if d.Abs().Cmp(maxQuantity) >= 0 {
		return "must be below " + maxQuantity.String() + " in magnitude, is " + d.String()
	}
	if d.Trim().Scale() > maxScale {
		return fmt.Sprintf("must have at most %d decimal places, is %s", maxScale, d.String())
	}
	return ""
}

// ParseConfig decodes the world of a simulator from a JSON fixture: the
// fields of [Config] that have JSON names (name, warehouses, items, stock,
// strategy, seed, companyPrefix, carrier, packageCapacity, start), with
// stock quantities as strings. Unknown members are an error, so a typo
// does not silently give the demo world. It validates the result; every
// error matches ErrInvalidConfig and names the member or problem. Encoding a
// Config with encoding/json gives a fixture ParseConfig reads back.
func ParseConfig(data []byte) (Config, error) {
	// The lists are decoded element by element so that an error names
	// the element ("stock[2]: ...").
	var top struct {
		Config
		Warehouses []json.RawMessage `json:"warehouses"`
		Items      []json.RawMessage `json:"items"`
		Stock      []json.RawMessage `json:"stock"`
	}
	if err := decodeStrict(data, &top); err != nil {
		return Config{}, fmt.Errorf("%w: fixture: %w", ErrInvalidConfig, err)
	}
	c := top.Config
	var err error
	if c.Warehouses, err = decodeList[canonical.Location]("warehouses", top.Warehouses); err != nil {
		return Config{}, err
	}
	if c.Items, err = decodeList[canonical.Item]("items", top.Items); err != nil {
		return Config{}, err
	}
	if c.Stock, err = decodeList[Stock]("stock", top.Stock); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown members and
// trailing data.
func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// decodeList decodes the elements of a fixture list; nil stays nil.
func decodeList[T any](name string, raws []json.RawMessage) ([]T, error) {
	if raws == nil {
		return nil, nil
	}
	out := make([]T, len(raws))
	for i, r := range raws {
		if err := decodeStrict(r, &out[i]); err != nil {
			return nil, fmt.Errorf("%w: fixture: %s[%d]: %w", ErrInvalidConfig, name, i, err)
		}
	}
	return out, nil
}

// Validate checks the configuration and returns an error matching
// ErrInvalidConfig that names every problem.
func (c Config) Validate() error {
	var errs []string
	add := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	if c.State != nil {
		if c.Name != "" || c.Warehouses != nil || c.Items != nil || c.Stock != nil || c.Strategy != 0 || c.Seed != 0 ||
			c.CompanyPrefix != "" || c.Carrier != (canonical.Carrier{}) || !c.PackageCapacity.IsZero() || !c.Start.IsZero() || c.Tick != 0 {
			add("State: the world fields must be zero when State is set")
		}
		if c.State.w == nil {
			add("State: not a state returned by Memory.State")
		}
	}
	if c.Name != "" && !validName(c.Name) {
		add("Name %q: must be lower-case letters, digits and '-'", c.Name)
	}
	if c.Strategy > StrategySplit {
		add("Strategy: unknown strategy %d", int(c.Strategy))
	}
	if p := c.CompanyPrefix; p != "" && (len(p) < 6 || len(p) > 12 || strings.Trim(p, "0123456789") != "") {
		add("CompanyPrefix %q: must be 6 to 12 digits", p)
	}
	if c.Carrier != (canonical.Carrier{}) && !validSCAC(c.Carrier.SCAC) {
		add("Carrier.SCAC %q: must be 2 to 4 upper-case letters", c.Carrier.SCAC)
	}
	if c.PackageCapacity.IsNeg() || checkAmount(c.PackageCapacity) != "" {
		add("PackageCapacity %s: must be positive, below %s, with at most %d decimal places", c.PackageCapacity, maxQuantity, maxScale)
	}
	if c.Tick < 0 {
		add("Tick %s: must not be negative", c.Tick)
	}
	if c.MaxPageSize < 0 {
		add("MaxPageSize %d: must not be negative", c.MaxPageSize)
	}
	if c.Warehouses != nil && len(c.Warehouses) == 0 {
		add("Warehouses: must not be empty when set")
	}
	whs := make(map[string]bool, len(c.Warehouses))
	for i, l := range c.Warehouses {
		if err := l.Validate(); err != nil {
			add("Warehouses[%d]: %v", i, err)
		}
		if l.Kind != canonical.LocationWarehouse {
			add("Warehouses[%d] %q: kind must be warehouse, is %q", i, l.ID, l.Kind)
		}
		if whs[l.ID] {
			add("Warehouses[%d]: duplicate ID %q", i, l.ID)
		}
		whs[l.ID] = true
	}
	items := make(map[string]canonical.Unit, len(c.Items))
	for i, it := range c.Items {
		if err := it.Validate(); err != nil {
			add("Items[%d]: %v", i, err)
		}
		if _, dup := items[it.SKU]; dup {
			add("Items[%d]: duplicate SKU %q", i, it.SKU)
		}
		items[it.SKU] = it.BaseUnit
	}
	if c.Stock != nil && (c.Warehouses == nil || c.Items == nil) {
		add("Stock: needs Warehouses and Items to be set too")
	}
	for i, s := range c.Stock {
		if !whs[s.Warehouse] {
			add("Stock[%d]: unknown warehouse %q", i, s.Warehouse)
		}
		if _, ok := items[s.SKU]; !ok {
			add("Stock[%d]: unknown SKU %q", i, s.SKU)
		}
		switch s.Status {
		case "", canonical.InventoryAvailable, canonical.InventoryQualityHold, canonical.InventoryDamaged, canonical.InventoryExpired:
		default:
			add("Stock[%d]: unknown status %q", i, s.Status)
		}
		if !s.Quantity.IsPos() {
			add("Stock[%d]: quantity must be positive, is %s", i, s.Quantity)
		} else if m := checkAmount(s.Quantity); m != "" {
			add("Stock[%d]: quantity %s", i, m)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(errs, "; "))
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validSCAC(s string) bool {
	if len(s) < 2 || len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func address(name, line, city, region, postal string) canonical.Address {
	return canonical.Address{Name: name, Lines: []string{line}, City: city, Region: region, PostalCode: postal, Country: "US"}
}

// DemoWarehouses returns the three warehouses of the demo world, new on
// every call, as in the erp package's demo world: "WH-EAST" (Columbus,
// OH), "WH-SOUTH" (Dallas, TX) and "WH-WEST" (Reno, NV).
func DemoWarehouses() []canonical.Location {
	mk := func(id, name, line, city, region, postal, tz string) canonical.Location {
		return canonical.Location{ID: id, Version: 1, Name: name, Kind: canonical.LocationWarehouse, TimeZone: tz,
			Address: address(name, line, city, region, postal),
			Refs:    canonical.Refs{{System: System, Type: "site", Value: "S" + id[3:]}}}
	}
	return []canonical.Location{
		mk("WH-EAST", "East DC", "4400 Logistics Pkwy", "Columbus", "OH", "43217", "America/New_York"),
		mk("WH-SOUTH", "South DC", "2100 Freight Ln", "Dallas", "TX", "75241", "America/Chicago"),
		mk("WH-WEST", "West DC", "75 Desert Way", "Reno", "NV", "89502", "America/Los_Angeles"),
	}
}

// DemoItems returns the items of the demo world, new on every call, as in
// the erp package: "SKU-100" to "SKU-105", stocked in EA; SKU-102 and
// SKU-104 are also shipped in cases (XCS) of 24 and 12.
func DemoItems() []canonical.Item {
	mk := func(sku, gtin, desc string, conv ...canonical.UnitConversion) canonical.Item {
		return canonical.Item{SKU: sku, Version: 1, GTIN: canonical.GTIN(gtin), Description: desc, BaseUnit: "EA", Conversions: conv}
	}
	return []canonical.Item{
		mk("SKU-100", "0614141001002", "Claw hammer 16 oz"),
		mk("SKU-101", "0614141001019", "Tape measure 25 ft"),
		mk("SKU-102", "0614141001026", "Wood screws, box of 100", canonical.UnitConversion{Unit: "XCS", Factor: canonical.DecimalFromInt(24)}),
		mk("SKU-103", "0614141001033", "Cordless drill 18 V"),
		mk("SKU-104", "0614141001040", "Safety glasses", canonical.UnitConversion{Unit: "XCS", Factor: canonical.DecimalFromInt(12)}),
		mk("SKU-105", "0614141001057", "Work gloves, pair"),
	}
}

// DemoStock returns the demo stock, new on every call, with the totals of
// the erp package's demo world (all available):
//
//	          WH-EAST  WH-SOUTH  WH-WEST
//	SKU-100       120        40       60
//	SKU-101        80         0       30
//	SKU-102       480       240        0
//	SKU-103        10         5        5
//	SKU-104       300       120      120
//	SKU-105         0         0        0   (always backordered)
//
// SKU-104 in WH-EAST is held in two lots: "L2601" (100, expiring
// 2026-06-30) and "L2602" (200, expiring 2026-12-31).
func DemoStock() []Stock {
	table := []struct {
		sku string
		qty [3]int64
	}{
		{"SKU-100", [3]int64{120, 40, 60}},
		{"SKU-101", [3]int64{80, 0, 30}},
		{"SKU-102", [3]int64{480, 240, 0}},
		{"SKU-103", [3]int64{10, 5, 5}},
		{"SKU-104", [3]int64{300, 120, 120}},
	}
	whs := [3]string{"WH-EAST", "WH-SOUTH", "WH-WEST"}
	var out []Stock
	for _, row := range table {
		for i, wh := range whs {
			if row.qty[i] == 0 {
				continue
			}
			if row.sku == "SKU-104" && wh == "WH-EAST" {
				out = append(out,
					Stock{Warehouse: wh, SKU: row.sku, Lot: "L2601", ExpiresAt: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), Quantity: canonical.DecimalFromInt(100)},
					Stock{Warehouse: wh, SKU: row.sku, Lot: "L2602", ExpiresAt: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Quantity: canonical.DecimalFromInt(200)})
				continue
			}
			out = append(out, Stock{Warehouse: wh, SKU: row.sku, Quantity: canonical.DecimalFromInt(row.qty[i])})
		}
	}
	return out
}
