package connectortest_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/internal/memfake"
)

// brokenEnv names, in a child test process, the broken system to run the
// kit against.
const brokenEnv = "CONNECTORTEST_BROKEN"

// The kit must fail for systems that break a contract. Each case runs the
// kit over a broken system in a child process (a failing kit fails its
// test) and checks that it failed saying why.
func TestKitCatchesBrokenSystems(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		runBroken(t, name)
		return
	}
	tests := []struct {
		name string
		want string
	}{
		{"erp-no-dedupe", "created 2 orders, want 1"},
		{"erp-ignores-cancel", "want one matching context.Canceled"},
		{"erp-invalid-as-internal", "error code = internal, want invalid"},
		{"wms-skips-events", "was skipped"},
		{"wms-repeats-events", "repeated"},
		{"wms-moves-cursor-on-empty", "an empty page moved the cursor"},
		{"wms-says-no-more", "a page said no more events were available"},
		{"wms-subscribe-skips", "Subscribe: event"},
		{"wms-shipment-carries-order", "the data is not the shipment document its type declares"},
		{"wms-data-bare-id", "the data is not the fulfillment_order document its type declares"},
		{"crm-older-status-wins", "an older status replaced a newer one"},
		{"crm-unknown-order-ok", "want not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestKitCatchesBrokenSystems$", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+tt.name)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the kit passed the broken system %s:\n%s", tt.name, out)
			assert.Contains(t, string(out), tt.want, "the kit's report on %s", tt.name)
			assert.Contains(t, string(out), "contract \"", "the kit's report on %s quotes the contract broken", tt.name)
		})
	}
}

func runBroken(t *testing.T, name string) {
	switch name {
	case "erp-no-dedupe", "erp-ignores-cancel", "erp-invalid-as-internal":
		connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
			m := memfake.NewERP()
			return connectortest.ERPHarness{ERP: &brokenERP{ERP: m, flaw: name}, Order: memfake.SampleOrder, Positions: memfake.SamplePositions, Effects: m.Effects}
		})
	case "wms-skips-events", "wms-repeats-events", "wms-moves-cursor-on-empty", "wms-says-no-more", "wms-subscribe-skips",
		"wms-shipment-carries-order", "wms-data-bare-id":
		connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
			m := memfake.NewWMS()
			return connectortest.WMSHarness{
				WMS:              &brokenWMS{WMS: m, flaw: name},
				Reopen:           func(*testing.T) connector.WMS { return &brokenWMS{WMS: m.Reopen(), flaw: name} },
				FulfillmentOrder: memfake.SampleFulfillmentOrder, Return: memfake.SampleReturn,
				Advance: m.Advance, Effects: m.Effects,
				Capabilities: connectortest.Capabilities{Subscribe: true},
			}
		})
	case "crm-older-status-wins", "crm-unknown-order-ok":
		connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
			m := memfake.NewCRM()
			b := &brokenCRM{CRM: m, flaw: name, shown: map[string]connector.OrderStatus{}}
			shown := m.Shown
			if name == "crm-older-status-wins" {
				shown = b.lastShown
			}
			return connectortest.CRMHarness{
				CRM: b, Reopen: func(*testing.T) connector.CRM { return m.Reopen() },
				AddOrders: m.AddOrders, Shown: shown, Effects: m.Effects,
			}
		})
	default:
		t.Fatalf("unknown broken system %q", name)
	}
}

// brokenERP breaks one contract of the in-memory ERP.
type brokenERP struct {
	*memfake.ERP
	flaw string
	mu   sync.Mutex
	n    int
}

func (b *brokenERP) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	switch b.flaw {
	case "erp-no-dedupe":
		b.mu.Lock()
		b.n++
		key += "#" + strconv.Itoa(b.n)
		b.mu.Unlock()
	case "erp-ignores-cancel":
		ctx = context.WithoutCancel(ctx)
	}
	ack, err := b.ERP.AcceptOrder(ctx, key, o)
	if b.flaw == "erp-invalid-as-internal" && connector.CodeOf(err) == connector.CodeInvalid {
		err = connector.NewError(connector.CodeInternal, "broken", "AcceptOrder", errors.New("something failed"))
	}
	return ack, err
}

// brokenWMS breaks the paging of the in-memory WMS's feed.
type brokenWMS struct {
	*memfake.WMS
	flaw string
}

func (b *brokenWMS) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	p, err := b.WMS.PollEvents(ctx, cursor, limit)
	if err != nil {
		return p, err
	}
	switch {
	case b.flaw == "wms-skips-events" && len(p.Events) >= 2:
		p.Events = p.Events[:len(p.Events)-1]
	case b.flaw == "wms-repeats-events" && len(p.Events) >= 2:
		end, _ := strconv.Atoi(string(p.Next))
		p.Next = connector.Cursor(strconv.Itoa(end - 1))
	case b.flaw == "wms-moves-cursor-on-empty" && len(p.Events) == 0:
		p.Next = "0"
	case b.flaw == "wms-says-no-more":
		p.More = false
	case b.flaw == "wms-shipment-carries-order", b.flaw == "wms-data-bare-id":
		p.Events = slices.Clone(p.Events) // the fake's own events stay intact
		for i, e := range p.Events {
			p.Events[i].Data = b.wrongData(e)
		}
	}
	return p, nil
}

// wrongData returns data that does not match the type of e, as the flaw
// says: an order where a shipment belongs, or a bare ID for any document.
func (b *brokenWMS) wrongData(e canonical.Event) json.RawMessage {
	switch {
	case b.flaw == "wms-data-bare-id":
		return json.RawMessage(`{"id":"x"}`)
	case e.Type == canonical.EventShipmentConfirmed:
		data, err := canonical.Encode(memfake.SampleOrder(1))
		if err != nil {
			panic(err)
		}
		return data
	}
	return e.Data
}

// Subscribe skips the feed's first event when the flaw says so.
func (b *brokenWMS) Subscribe(ctx context.Context, cursor connector.Cursor, fn func(context.Context, canonical.Event, connector.Cursor) error) error {
	first := true
	return b.WMS.Subscribe(ctx, cursor, func(ctx context.Context, e canonical.Event, next connector.Cursor) error {
		if first && b.flaw == "wms-subscribe-skips" {
			first = false
			return nil
		}
		return fn(ctx, e, next)
	})
}

// brokenCRM breaks the status contract of the in-memory CRM.
type brokenCRM struct {
	*memfake.CRM
	flaw  string
	mu    sync.Mutex
	shown map[string]connector.OrderStatus
}

func (b *brokenCRM) PublishStatus(ctx context.Context, s connector.OrderStatus) error {
	err := b.CRM.PublishStatus(ctx, s)
	if b.flaw == "crm-unknown-order-ok" && connector.CodeOf(err) == connector.CodeNotFound {
		return nil
	}
	if err == nil {
		b.mu.Lock()
		b.shown[s.OrderID] = s // last write wins: the flaw
		b.mu.Unlock()
	}
	return err
}

func (b *brokenCRM) lastShown(id string) (connector.OrderStatus, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.shown[id]
	return s, ok
}

// The Check functions report what the kit's tests report, outside a test.
func TestCheckCatchesBrokenSystems(t *testing.T) {
	tests := []struct {
		name  string
		check func() error
		want  string
	}{
		{"erp-no-dedupe", func() error {
			return connectortest.CheckERP(func() (connectortest.ERPHarness, error) {
				m := memfake.NewERP()
				return connectortest.ERPHarness{ERP: &brokenERP{ERP: m, flaw: "erp-no-dedupe"}, Order: memfake.SampleOrder, Positions: memfake.SamplePositions, Effects: m.Effects}, nil
			})
		}, "AcceptOrder: contract \"AcceptOrder returns a valid result pointing back at the order; the same key replays it with one effect, and the same key with another order is a CodeConflict.\" broken: "},
		{"wms-data-bare-id", func() error {
			return connectortest.CheckWMS(func() (connectortest.WMSHarness, error) {
				m := memfake.NewWMS()
				b := &brokenWMS{WMS: m, flaw: "wms-data-bare-id"}
				return connectortest.WMSHarness{
					WMS: b, Reopen: func(*testing.T) connector.WMS { return b },
					FulfillmentOrder: memfake.SampleFulfillmentOrder, Return: memfake.SampleReturn,
					Advance: m.Advance, Effects: m.Effects,
				}, nil
			})
		}, "Feed: contract \"The feed pages, keeps its cursor on an empty page, never skips or (unless declared) repeats an event, resumes on a reopened instance, and its events are valid canonical events.\" broken: PollEvents: "},
		{"crm-unknown-order-ok", func() error {
			return connectortest.CheckCRM(func() (connectortest.CRMHarness, error) {
				m := memfake.NewCRM()
				b := &brokenCRM{CRM: m, flaw: "crm-unknown-order-ok", shown: map[string]connector.OrderStatus{}}
				return connectortest.CRMHarness{
					CRM: b, Reopen: func(*testing.T) connector.CRM { return m.Reopen() },
					AddOrders: m.AddOrders, Shown: m.Shown, Effects: m.Effects,
				}, nil
			})
		}, "PublishStatus: contract \"PublishStatus shows the newest status by sequence, a repeat or an older sequence changing nothing, and refuses an unknown order with CodeNotFound and malformed input with CodeInvalid.\" broken: PublishStatus of an unknown order: no error, want not_found"},
	}
	for _, tt := range tests {
		err := tt.check()
		require.Error(t, err, "Check passed the broken system %s", tt.name)
		assert.Contains(t, err.Error(), tt.want, "Check's report on %s", tt.name)
	}
}

// The Check functions pass the systems the kit's tests pass.
func TestCheckPassesMemfake(t *testing.T) {
	assert.NoError(t, connectortest.CheckERP(func() (connectortest.ERPHarness, error) {
		m := memfake.NewERP()
		return connectortest.ERPHarness{ERP: m, Order: memfake.SampleOrder, Positions: memfake.SamplePositions, Effects: m.Effects}, nil
	}), "CheckERP of memfake")
	assert.NoError(t, connectortest.CheckCRM(func() (connectortest.CRMHarness, error) {
		m := memfake.NewCRM()
		return connectortest.CRMHarness{
			CRM: m, Reopen: func(*testing.T) connector.CRM { return m.Reopen() },
			AddOrders: m.AddOrders, Shown: m.Shown, Effects: m.Effects,
			Capabilities: connectortest.Capabilities{Health: true, StatusBatch: true},
		}, nil
	}), "CheckCRM of memfake")
}
