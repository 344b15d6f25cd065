package erp

import (
	"time"

	"github.com/distsync/distsync/canonical"
)

// DemoEpoch returns the AsOf of the demo stock positions ([DemoStock]):
// the start of the demo world, 2026-01-05 08:00 UTC, as in the wms
// package.
func DemoEpoch() time.Time { return time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC) }

func usd(amount string) canonical.Money { return canonical.MustParseMoney(amount, "USD") }

func dec(s string) canonical.Decimal { return canonical.MustParseDecimal(s) }

func address(name, line, city, region, postal string) *canonical.Address {
	return &canonical.Address{Name: name, Lines: []string{line}, City: city, Region: region, PostalCode: postal, Country: "US"}
}

// DemoAccounts returns the customers of the demo world, new on every call:
//
//	C-1  Acme Hardware    NET30  credit limit 50000 USD   ships to Springfield, IL
//	C-2  Borealis Supply  NET45  credit limit 100000 USD  ships to Portland, OR (no sales tax)
//	C-3  Cobalt Tools     NET15  credit limit 1000 USD    ships to Austin, TX
//
// C-3's low limit puts any order above about 1000 USD on a credit hold.
// Each customer has one ship-to party, "C-n-DC", with its address.
func DemoAccounts() []Account {
	mk := func(id, name, terms, limit string, shipTo *canonical.Address) Account {
		l := usd(limit)
		return Account{Customer: canonical.Customer{
			ID: id, Version: 1, Name: name, Currency: "USD", PaymentTerms: terms,
			CreditLimit: &l,
			Refs:        canonical.Refs{{System: System, Type: "customer", Value: "1000" + id[2:]}},
			BillTo:      shipTo,
			ShipTo:      []canonical.PartyRef{{ID: id + "-DC", Name: shipTo.Name, Address: shipTo}},
		}}
	}
	return []Account{
		mk("C-1", "Acme Hardware", "NET30", "50000.00", address("Acme Hardware DC", "1 Dock Road", "Springfield", "IL", "62701")),
		mk("C-2", "Borealis Supply", "NET45", "100000.00", address("Borealis Supply", "900 NW Front Ave", "Portland", "OR", "97209")),
		mk("C-3", "Cobalt Tools", "NET15", "1000.00", address("Cobalt Tools", "12 Congress Ave", "Austin", "TX", "78701")),
	}
}

// DemoItems returns the items of the demo world, new on every call:
// "SKU-100" to "SKU-105", stocked in EA; SKU-102 and SKU-104 are also sold
// in cases (XCS) of 24 and 12.
func DemoItems() []canonical.Item {
	mk := func(sku, gtin, desc string, conv ...canonical.UnitConversion) canonical.Item {
		return canonical.Item{SKU: sku, Version: 1, GTIN: canonical.GTIN(gtin), Description: desc, BaseUnit: "EA", Conversions: conv,
			Refs: canonical.Refs{{System: System, Type: "material", Value: "MAT-" + sku[4:]}}}
	}
	return []canonical.Item{
		mk("SKU-100", "0614141001002", "Claw hammer 16 oz"),
		mk("SKU-101", "0614141001019", "Tape measure 25 ft"),
		mk("SKU-102", "0614141001026", "Wood screws, box of 100", canonical.UnitConversion{Unit: "XCS", Factor: dec("24")}),
		mk("SKU-103", "0614141001033", "Cordless drill 18 V"),
		mk("SKU-104", "0614141001040", "Safety glasses", canonical.UnitConversion{Unit: "XCS", Factor: dec("12")}),
		mk("SKU-105", "0614141001057", "Work gloves, pair"),
	}
}

// DemoPrices returns the demo price list, new on every call. Prices are
// per EA:
//
//	SKU-100  12.50, from 50: 11.75, from 200: 10.90
//	SKU-101   9.80
//	SKU-102   4.25, from 48: 3.95
//	SKU-103  89.00; C-2 pays 82.00
//	SKU-104   3.10
//	SKU-105   6.40; C-1 pays 5.90 from 100
func DemoPrices() []Price {
	p := func(sku, customer, minQty, price string) Price {
		return Price{SKU: sku, CustomerID: customer, MinQuantity: dec(minQty), UnitPrice: usd(price)}
	}
	return []Price{
		p("SKU-100", "", "0", "12.50"), p("SKU-100", "", "50", "11.75"), p("SKU-100", "", "200", "10.90"),
		p("SKU-101", "", "0", "9.80"),
		p("SKU-102", "", "0", "4.25"), p("SKU-102", "", "48", "3.95"),
		p("SKU-103", "", "0", "89.00"), p("SKU-103", "C-2", "0", "82.00"),
		p("SKU-104", "", "0", "3.10"),
		p("SKU-105", "", "0", "6.40"), p("SKU-105", "C-1", "100", "5.90"),
	}
}

// DemoTaxRates returns the demo sales-tax rates, new on every call: US
// states IL 6.25 %, TX 6.25 %, CA 7.25 %, NY 4 %, WA 6.5 %, OH 5.75 %,
// NV 6.85 % and OR 0 %.
func DemoTaxRates() []TaxRate {
	r := func(region, rate string) TaxRate {
		return TaxRate{Country: "US", Region: region, Rate: dec(rate)}
	}
	return []TaxRate{
		r("IL", "6.25"), r("TX", "6.25"), r("CA", "7.25"), r("NY", "4"),
		r("WA", "6.5"), r("OH", "5.75"), r("NV", "6.85"), r("OR", "0"),
	}
}

// DemoWarehouses returns the three warehouses of the demo world, new on
// every call: "WH-EAST" (Columbus, OH), "WH-SOUTH" (Dallas, TX) and
// "WH-WEST" (Reno, NV).
func DemoWarehouses() []canonical.Location {
	mk := func(id, name, line, city, region, postal, tz string) canonical.Location {
		return canonical.Location{ID: id, Version: 1, Name: name, Kind: canonical.LocationWarehouse, TimeZone: tz,
			Address: *address(name, line, city, region, postal)}
	}
	return []canonical.Location{
		mk("WH-EAST", "East DC", "4400 Logistics Pkwy", "Columbus", "OH", "43217", "America/New_York"),
		mk("WH-SOUTH", "South DC", "2100 Freight Ln", "Dallas", "TX", "75241", "America/Chicago"),
		mk("WH-WEST", "West DC", "75 Desert Way", "Reno", "NV", "89502", "America/Los_Angeles"),
	}
}

// DemoStock returns the demo stock on hand, new on every call, as
// available snapshots as of [DemoEpoch] with sequence 0, so that any
// position a warehouse sends for them (its sequences start at 1) is newer:
//
//	          WH-EAST  WH-SOUTH  WH-WEST
//	SKU-100       120        40       60
//	SKU-101        80         0       30
//	SKU-102       480       240        0
//	SKU-103        10         5        5
//	SKU-104       300       120      120
//	SKU-105         0         0        0   (always backordered)
func DemoStock() []canonical.InventoryPosition {
	table := []struct {
		sku string
		qty [3]int64
	}{
		{"SKU-100", [3]int64{120, 40, 60}},
		{"SKU-101", [3]int64{80, 0, 30}},
		{"SKU-102", [3]int64{480, 240, 0}},
		{"SKU-103", [3]int64{10, 5, 5}},
		{"SKU-104", [3]int64{300, 120, 120}},
		{"SKU-105", [3]int64{0, 0, 0}},
	}
	whs := [3]string{"WH-EAST", "WH-SOUTH", "WH-WEST"}
	var out []canonical.InventoryPosition
	for _, row := range table {
		for i, wh := range whs {
			q := canonical.NewQuantity(canonical.DecimalFromInt(row.qty[i]), "EA")
			out = append(out, canonical.InventoryPosition{
				Item: canonical.ItemRef{SKU: row.sku}, Location: wh, Status: canonical.InventoryAvailable,
				Kind: canonical.QuantitySnapshot, OnHand: q, Allocated: canonical.NewQuantity(canonical.Decimal{}, "EA"),
				Available: q, Inbound: canonical.NewQuantity(canonical.Decimal{}, "EA"), AsOf: DemoEpoch(), Sequence: 0,
			})
		}
	}
	return out
}
