package flow_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/logtest"
	"github.com/distsync/distsync/wms"
)

// TestRunWakesOnWMSFeed checks that Run polls a WMS feed that implements
// connector.Subscriber as soon as it has new events, bare, under the
// decorators, or one of several systems (Config.Warehouses), without
// waiting for Config.PollInterval: with an interval of an hour, each
// adjustment is pushed to the ERP while the clock stands.
func TestRunWakesOnWMSFeed(t *testing.T) {
	type site struct {
		m  *wms.Memory
		wh string
	}
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T, w *world) (flow.Config, []site)
	}{
		{"bare", func(t *testing.T, w *world) (flow.Config, []site) {
			return flow.Config{ERP: w.erp, CRM: w.crm, WMS: w.wms}, []site{{w.wms, "WH-EAST"}}
		}},
		{"wrapped", func(t *testing.T, w *world) (flow.Config, []site) {
			wrapped, err := connector.WrapWMS(w.wms, connector.Options{})
			require.NoError(t, err, "WrapWMS")
			return flow.Config{ERP: w.erp, CRM: w.crm, WMS: wrapped}, []site{{w.wms, "WH-EAST"}}
		}},
		{"two systems", func(t *testing.T, w *world) (flow.Config, []site) {
			return flow.Config{ERP: w.erp, CRM: w.crm, Warehouses: []flow.WarehouseSystem{
				{Name: "dc", WMS: w.wms, Locations: []string{"WH-EAST", "WH-SOUTH"}},
				{Name: "3pl", WMS: w.tpl, Locations: []string{"WH-WEST"}},
			}}, []site{{w.wms, "WH-EAST"}, {w.tpl, "WH-WEST"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				cfg, sites := tc.cfg(t, newTwoWMSSystems(t))
				cfg.Log, cfg.PollInterval = eventlog.NewMemory(eventlog.MemoryConfig{}), time.Hour
				f, err := flow.New(cfg)
				require.NoError(t, err, "flow.New")
				rctx, cancel := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- f.Run(rctx) }()
				synctest.Wait()
				start := time.Now()
				for i := range 6 {
					s := sites[i%len(sites)]
					_, err := s.m.Adjust(ctx, canonical.InventoryAdjustment{ID: "A" + string(rune('1'+i)), Item: canonical.ItemRef{SKU: "SKU-100"},
						Location: s.wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1", "EA"),
						Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
					require.NoError(t, err, "Adjust %d at %s", i, s.wh)
					synctest.Wait()
					seq, ok := f.InventorySeq("SKU-100", s.wh)
					assert.True(t, ok, "SKU-100@%s pushed after adjustment %d", s.wh, i)
					assert.Equal(t, int64(i/len(sites)+1), seq, "sequence of SKU-100@%s pushed after adjustment %d", s.wh, i)
				}
				assert.Zero(t, time.Since(start), "time waited for the pushes")
				cancel()
				assert.True(t, errors.Is(<-done, context.Canceled), "Run ends with the cancellation")
			})
		})
	}
}

// failingFeed is a WMS whose feed can be subscribed to but whose polls
// fail: a WMS that pushes while its API for reads is down. After 100
// polls it cancels the Run it serves, so that a Run polling without pause
// ends.
type failingFeed struct {
	*wms.Memory
	polls  atomic.Int64
	cancel context.CancelFunc
}

func (f *failingFeed) PollEvents(context.Context, connector.Cursor, int) (connector.Page, error) {
	if f.polls.Add(1) > 100 {
		f.cancel()
	}
	return connector.Page{}, connector.NewError(connector.CodeUnavailable, "wms", "poll events", errors.New("feed reads are down"))
}

// TestRunWakeWaitsAfterFailedPoll checks that a wake-up of a subscribed
// WMS feed does not make Run poll again at once after a failed poll: the
// subscription sees the events the failed poll could not read, and would
// wake Run at once, again and again; Run polls on its interval until a
// poll succeeds.
func TestRunWakeWaitsAfterFailedPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newTwoWMSSystems(t)
		_, err := w.wms.Adjust(ctx, canonical.InventoryAdjustment{ID: "A1", Item: canonical.ItemRef{SKU: "SKU-100"},
			Location: "WH-EAST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1", "EA"),
			Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
		require.NoError(t, err, "Adjust")
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		feed := &failingFeed{Memory: w.wms, cancel: cancel}
		f, err := flow.New(flow.Config{ERP: w.erp, CRM: w.crm, WMS: feed, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
			PollInterval: time.Minute, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err, "flow.New")
		done := make(chan error, 1)
		go func() { done <- f.Run(rctx) }()
		time.Sleep(10*time.Minute + time.Second)
		cancel()
		<-done
		// One poll at the start and one a minute for ten minutes.
		assert.LessOrEqual(t, feed.polls.Load(), int64(11), "polls of the failing feed in ten minutes")
	})
}

// endingFeed is a WMS whose Subscribe returns err at once, without
// calling fn, and counts its subscriptions and its polls.
type endingFeed struct {
	*wms.Memory
	err         error
	subscribes  atomic.Int64
	pollsOfFeed atomic.Int64
}

func (f *endingFeed) Subscribe(context.Context, connector.Cursor, func(context.Context, canonical.Event, connector.Cursor) error) error {
	f.subscribes.Add(1)
	return f.err
}

func (f *endingFeed) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	f.pollsOfFeed.Add(1)
	return f.Memory.PollEvents(ctx, cursor, limit)
}

// TestRunWMSSubscriptionEnds checks what Run logs of a WMS feed whose
// subscriptions end at once, ten minutes long with a poll a minute: one
// that ends without an error (the feed closed it) is no failure and logs
// no warning; one that fails logs one warning for the whole run of
// failures. Either way the feed is subscribed to again once a poll, not
// in a loop.
func TestRunWMSSubscriptionEnds(t *testing.T) {
	const failed = "flow: subscription to the WMS feed failed; polling on the interval until it works again"
	for _, tc := range []struct {
		name         string
		err          error
		wantWarnings []string
	}{
		{"ends without an error", nil, nil},
		{"fails", connector.NewError(connector.CodeUnavailable, "wms", "subscribe", errors.New("push is down")), []string{failed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTwoWMSSystems(t)
				feed := &endingFeed{Memory: w.wms, err: tc.err}
				logs := &logtest.Recorder{Level: slog.LevelWarn}
				f, err := flow.New(flow.Config{ERP: w.erp, CRM: w.crm, WMS: feed, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
					PollInterval: time.Minute, Logger: slog.New(logs)})
				require.NoError(t, err, "flow.New")
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- f.Run(ctx) }()
				time.Sleep(10*time.Minute + time.Second)
				cancel()
				assert.True(t, errors.Is(<-done, context.Canceled), "Run ends with the cancellation")
				var got []string
				for _, r := range logs.Records() {
					got = append(got, r.Message)
					if r.Message == failed {
						r.Attrs(func(a slog.Attr) bool {
							if a.Key == "err" {
								assert.Equal(t, tc.err, a.Value.Any(), "err of the warning")
							}
							return true
						})
					}
				}
				assert.Equal(t, tc.wantWarnings, got, "warnings logged")
				// One poll at the start and one a minute; one subscription
				// at the start and one after each poll.
				polls := feed.pollsOfFeed.Load()
				assert.Equal(t, int64(11), polls, "polls of the feed in ten minutes")
				assert.LessOrEqual(t, feed.subscribes.Load(), polls+1, "subscriptions in ten minutes")
				assert.GreaterOrEqual(t, feed.subscribes.Load(), polls, "subscriptions in ten minutes")
			})
		})
	}
}
