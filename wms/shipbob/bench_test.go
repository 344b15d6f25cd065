package shipbob_test

import (
	"fmt"
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/wms"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// BenchmarkRelease measures the connector's main write path over
// loopback: one Release (a ShipBob order created through the emulator and
// released in the simulator), reporting the HTTP calls per release.
func BenchmarkRelease(b *testing.B) {
	// Stock enough for every release of the run.
	var stock []wms.Stock
	for _, sku := range []string{"SKU-100", "SKU-104"} {
		stock = append(stock, wms.Stock{Warehouse: "WH-EAST", SKU: sku, Quantity: canonical.MustParseDecimal("100000000")})
	}
	mem, err := wms.New(wms.Config{Warehouses: wms.DemoWarehouses(), Items: wms.DemoItems(), Stock: stock})
	if err != nil {
		b.Fatal(err)
	}
	w := newWorldB(b, shipbobemu.Config{RateLimit: -1, WMS: mem})
	c := w.clientB(b)
	ctx := b.Context()
	if err := c.Health(ctx); err != nil {
		b.Fatal(err)
	}
	before := w.emu.Counts().Requests
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		fo := kitFO(n)
		fo.ID = fmt.Sprintf("bench-%d", n)
		for i := range fo.Lines {
			fo.Lines[i].ID = fmt.Sprintf("%s:%d", fo.ID, i+1)
		}
		if _, err := c.Release(ctx, fo); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.emu.Counts().Requests-before)/float64(n), "calls/op")
}
