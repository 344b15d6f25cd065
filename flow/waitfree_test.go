package flow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// rateLimit is the error of a call that a system rate limits, asking for a
// minute: the decorators retry it after that minute.
func rateLimit(system, op string) error {
	return connector.NewError(connector.CodeRateLimited, system, op, errors.New("slow down"), connector.WithRetryAfter(time.Minute))
}

// callLog records when a system was called for what, and whether the
// call failed.
type callLog struct {
	mu    sync.Mutex
	calls []loggedCall
}

type loggedCall struct {
	at     time.Time
	what   string
	failed bool
}

func (c loggedCall) String() string {
	return fmt.Sprintf("%s %s failed=%v", c.at.Format(time.TimeOnly), c.what, c.failed)
}

func (l *callLog) add(what string, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, loggedCall{at: time.Now(), what: what, failed: failed})
}

// failedAt returns the time of the first failed call, and the calls for
// what that succeeded at that time.
func (l *callLog) failedAt(t *testing.T) (time.Time, []loggedCall) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.IndexFunc(l.calls, func(c loggedCall) bool { return c.failed })
	require.GreaterOrEqual(t, i, 0, "a failed call in %v", l.calls)
	f := l.calls[i]
	var same []loggedCall
	for _, c := range l.calls {
		if !c.failed && c.what == f.what && c.at.Equal(f.at) {
			same = append(same, c)
		}
	}
	return f.at, same
}

// limitedInventoryWMS rate limits the first read of the inventory of
// SKU-100, whatever the warehouse, and records the reads of it.
type limitedInventoryWMS struct {
	connector.WMS
	log    callLog
	mu     sync.Mutex
	failed bool
}

func (w *limitedInventoryWMS) Inventory(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	if len(q.SKUs) != 1 || q.SKUs[0] != "SKU-100" || len(q.Locations) != 1 {
		return w.WMS.Inventory(ctx, q)
	}
	w.mu.Lock()
	fail := !w.failed
	w.failed = true
	w.mu.Unlock()
	w.log.add(q.SKUs[0]+"@"+q.Locations[0], fail)
	if fail {
		return nil, rateLimit("wms", "Inventory")
	}
	return w.WMS.Inventory(ctx, q)
}

func (w *limitedInventoryWMS) Unwrap() any { return w.WMS }

// TestInventoryReadWaitsAlone checks that a read of an item's inventory at
// a warehouse that the WMS rate limits does not hold up the other reads of
// the same item and warehouse while the decorators wait to retry it: two
// orders of SKU-100 allocated together refresh its availability at their
// warehouse at the same time, and the WMS asks the first read to wait a
// minute; the second read is made at once, not a minute later.
func TestInventoryReadWaitsAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		wms := &limitedInventoryWMS{WMS: w.wms}
		w.wrapWMS = func(c connector.WMS) connector.WMS {
			if c == connector.WMS(w.wms) {
				return wms
			}
			return c // the 3PL's, which this world has not
		}
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log, Workers: 4})
		ids := []string{w.submit(t, "ACC-0002", "SKU-100:3"), w.submit(t, "ACC-0002", "SKU-100:3")}
		w.settle(t)
		for _, id := range ids {
			v := w.agree(t, id)
			assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
		}
		at, same := wms.log.failedAt(t)
		assert.NotEmpty(t, same, "reads of the rate-limited read's key made while it waited (at %v): %v", at, wms.log.calls)
	})
}

// limitedHoldERP rate limits the first GetOrder of order first and
// records the GetOrder calls.
type limitedHoldERP struct {
	connector.ERP
	first  string
	log    callLog
	mu     sync.Mutex
	failed bool
}

func (e *limitedHoldERP) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	e.mu.Lock()
	fail := id == e.first && !e.failed
	if fail {
		e.failed = true
	}
	e.mu.Unlock()
	e.log.add("GetOrder", fail)
	if fail {
		return canonical.Order{}, rateLimit("erp", "GetOrder")
	}
	return e.ERP.GetOrder(ctx, id)
}

func (e *limitedHoldERP) Unwrap() any { return e.ERP }

// TestHoldCheckWaitsAlone checks that a hold check the ERP rate limits
// gives its place up while the decorators wait to retry it: with one
// reader (Config.Workers 1), the other held orders are read while the
// first one's check waits its minute, and CheckHolds takes that minute,
// not more.
func TestHoldCheckWaitsAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		erp := &limitedHoldERP{}
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log, Workers: 1}, func(e connector.ERP) connector.ERP { erp.ERP = e; return erp })
		var ids []string
		for range 3 {
			ids = append(ids, w.submit(t, "ACC-0003", "SKU-103:15"))
		}
		w.settle(t)
		slices.Sort(ids)
		erp.mu.Lock()
		erp.first = ids[0]
		erp.log.calls = nil
		erp.mu.Unlock()
		_, err := w.erp.ReleaseHold(context.Background(), ids[2], canonical.HoldCredit)
		require.NoError(t, err, "ReleaseHold %s", ids[2])
		start := time.Now()
		n, err := w.flow.CheckHolds(context.Background())
		require.NoError(t, err, "CheckHolds of %v", ids)
		assert.Equal(t, 1, n, "orders resumed")
		assert.Equal(t, time.Minute, time.Since(start), "CheckHolds' time: the rate-limited check's wait")
		at, same := erp.log.failedAt(t)
		assert.Equal(t, start, at, "the rate-limited check's time")
		assert.Len(t, same, len(ids)-1, "checks made while the rate-limited one waited: %v", erp.log.calls)
	})
}
