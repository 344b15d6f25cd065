package connectortest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/wms"
)

// brokenChangerEnv names, in a child test process, the broken changer to
// run the kit against.
const brokenChangerEnv = "CONNECTORTEST_BROKEN_CHANGER"

// The change checks must fail for changers that break their contract: the
// simulators with one flaw each, run in a child process.
func TestKitCatchesBrokenChangers(t *testing.T) {
	if name := os.Getenv(brokenChangerEnv); name != "" {
		runBrokenChanger(t, name)
		return
	}
	tests := []struct {
		name string
		want string
	}{
		{"erp-change-no-dedupe", "replayed returned another ack"},
		{"erp-change-ignores-cancel", "ChangeOrder with a cancelled context"},
		{"erp-change-unknown-order-ok", "ChangeOrder of an unknown order: no error, want not_found"},
		{"wms-change-no-dedupe", "two keys (one replayed, one sent 8 times at once)"},
		{"wms-change-refuses-all", "right after the release: taking 1 off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestKitCatchesBrokenChangers$", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenChangerEnv+"="+tt.name)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the kit passed the broken changer %s:\n%s", tt.name, out)
			assert.Contains(t, string(out), tt.want, "the kit's report on %s", tt.name)
			assert.Contains(t, string(out), "contract \"", "the kit's report on %s quotes the contract broken", tt.name)
		})
	}
}

func runBrokenChanger(t *testing.T, name string) {
	switch name {
	case "erp-change-no-dedupe", "erp-change-ignores-cancel", "erp-change-unknown-order-ok":
		connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
			m, err := erp.New(erp.Config{})
			require.NoError(t, err)
			return connectortest.ERPHarness{
				ERP: &brokenChangerERP{Memory: m, flaw: name}, Order: simOrder, Positions: simPositions,
				Effects: func() connectortest.ERPEffects {
					c := m.Counts()
					return connectortest.ERPEffects{Orders: c.Orders, Invoices: c.Invoices, CreditMemos: c.CreditMemos,
						InventoryApplications: c.InventoryApplications, Changes: c.Changes}
				},
				Capabilities: connectortest.Capabilities{Change: true},
			}
		})
	case "wms-change-no-dedupe", "wms-change-refuses-all":
		connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
			m, err := wms.New(wms.Config{})
			require.NoError(t, err)
			return connectortest.WMSHarness{
				WMS: &brokenChangerWMS{Memory: m, flaw: name},
				Reopen: func(t *testing.T) connector.WMS {
					r, err := wms.New(wms.Config{State: m.State()})
					require.NoError(t, err)
					return &brokenChangerWMS{Memory: r, flaw: name}
				},
				FulfillmentOrder: simFO, Return: simReturn,
				Advance: func(ctx context.Context) error { _, err := m.Step(ctx); return err },
				Effects: func() connectortest.WMSEffects {
					c := m.Counts()
					return connectortest.WMSEffects{Releases: c.Releases, Cancellations: c.Cancellations, ReturnAuthorizations: c.ReturnAuthorizations, Changes: c.Changes}
				},
				Capabilities: connectortest.Capabilities{ReleaseChange: true},
			}
		})
	default:
		t.Fatalf("no broken changer %q", name)
	}
}

// brokenChangerERP breaks one contract of the ERP simulator's ChangeOrder.
type brokenChangerERP struct {
	*erp.Memory
	flaw string
	mu   sync.Mutex
	n    int
}

func (b *brokenChangerERP) ChangeOrder(ctx context.Context, key string, c canonical.OrderChange) (canonical.ChangeAck, error) {
	switch b.flaw {
	case "erp-change-no-dedupe":
		b.mu.Lock()
		b.n++
		key += "#" + strconv.Itoa(b.n)
		b.mu.Unlock()
	case "erp-change-ignores-cancel":
		ctx = context.WithoutCancel(ctx)
	}
	a, err := b.Memory.ChangeOrder(ctx, key, c)
	if b.flaw == "erp-change-unknown-order-ok" && connector.CodeOf(err) == connector.CodeNotFound {
		return canonical.ChangeAck{OrderID: c.OrderID, FromVersion: c.FromVersion, ToVersion: c.ToVersion, Outcome: canonical.ChangeApplied, AckedAt: time.Now()}, nil
	}
	return a, err
}

// brokenChangerWMS breaks one contract of the WMS simulator's
// ChangeRelease.
type brokenChangerWMS struct {
	*wms.Memory
	flaw string
	mu   sync.Mutex
	n    int
}

func (b *brokenChangerWMS) ChangeRelease(ctx context.Context, key string, req connector.ReleaseChange) (connector.ReleaseChangeResult, error) {
	switch b.flaw {
	case "wms-change-no-dedupe":
		b.mu.Lock()
		b.n++
		key += "#" + strconv.Itoa(b.n)
		b.mu.Unlock()
	case "wms-change-refuses-all":
		r := connector.ReleaseChangeResult{FulfillmentOrderID: req.FulfillmentOrderID}
		for _, l := range req.Lines {
			x, err := canonical.QuantityResult(l.LineID, l.Delta, canonical.NewQuantity(canonical.Decimal{}, l.Delta.Unit), canonical.ChangeReasonPicked, false)
			if err != nil {
				return r, err
			}
			r.Results = append(r.Results, x)
		}
		return r, nil
	}
	return b.Memory.ChangeRelease(ctx, key, req)
}

// simOrder is order n of demo items for the ERP simulator's customer C-1.
func simOrder(n int) canonical.Order {
	o := canonical.Order{ID: fmt.Sprintf("sim-ord-%d", n), Version: 1, SoldTo: canonical.PartyRef{ID: "C-1"}, ShipTo: canonical.PartyRef{ID: "C-1-DC"}, Currency: "USD"}
	o.Lines = []canonical.OrderLine{
		{ID: fmt.Sprintf("sim-%d-L1", n), Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity(strconv.Itoa(1+n%5), "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
		{ID: fmt.Sprintf("sim-%d-L2", n), Item: canonical.ItemRef{SKU: "SKU-104"}, Quantity: canonical.MustParseQuantity("2", "XCS"), UnitPrice: canonical.MustParseMoney("37.20", "USD")},
	}
	return o
}

// simPositions returns snapshots newer than the demo stock and than those
// of smaller n.
func simPositions(n int) []canonical.InventoryPosition {
	ps := erp.DemoStock()[:3]
	for i := range ps {
		q := canonical.NewQuantity(canonical.DecimalFromInt(int64(100+n+i)), "EA")
		ps[i].OnHand, ps[i].Available = q, q
		ps[i].Sequence = int64(1 + n)
		ps[i].AsOf = erp.DemoEpoch().Add(time.Duration(n) * time.Hour)
	}
	return ps
}

// simFO is fulfilment order n of demo items with stock in WH-EAST.
func simFO(n int) canonical.FulfillmentOrder {
	id := fmt.Sprintf("sim-fo-%d", n)
	return canonical.FulfillmentOrder{
		ID: id, Version: 1, OrderID: fmt.Sprintf("sim-order-%d", n), OrderVersion: 1, Warehouse: "WH-EAST",
		Split: canonical.SplitPosition{Group: fmt.Sprintf("sim-order-%d", n), Index: 1, Count: 1}, ShipTo: canonical.PartyRef{ID: "C-1-DC"},
		Lines: []canonical.FulfillmentLine{
			{ID: id + ":1", OrderLineID: "1", Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity("4", "EA")},
		},
	}
}

// simReturn is return n for WH-EAST.
func simReturn(n int) canonical.Return {
	id := fmt.Sprintf("sim-ret-%d", n)
	return canonical.Return{
		ID: id, Version: 1, RMANumber: fmt.Sprintf("RMA-%d", n), OrderID: fmt.Sprintf("sim-order-%d", n),
		Customer: canonical.PartyRef{ID: "C-1"}, Warehouse: "WH-EAST", AuthorizedAt: time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC),
		Lines: []canonical.ReturnLine{{ID: id + ":1", OrderLineID: "1", Item: canonical.ItemRef{SKU: "SKU-100"},
			Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.MustParseQuantity("0", "EA")}},
	}
}
