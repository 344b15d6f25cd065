package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
)

// TestUnhandled appends another team's event next to a good order: with no
// Config.Unhandled it is dead-lettered with ErrUnhandledEvent; with one,
// the hook gets it (and no event of the flow's own types), and its result
// decides: nil leaves no dead letter, a permanent error is dead-lettered
// with the hook's error.
func TestUnhandled(t *testing.T) {
	tests := []struct {
		name    string
		hook    bool
		hookErr error
		want    string // a dead letter's error contains it; "" means no dead letter
	}{
		{name: "nil hook dead-letters", want: flow.ErrUnhandledEvent.Error()},
		{name: "hook handles", hook: true},
		{name: "hook refuses", hook: true, hookErr: retry.Permanent(errors.New("loyalty: unknown member")), want: "loyalty: unknown member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var (
					mu   sync.Mutex
					seen []string
				)
				cfg := flow.Config{Log: eventlog.NewMemory(eventlog.MemoryConfig{})}
				if tt.hook {
					cfg.Unhandled = func(_ context.Context, ev canonical.Event) error {
						mu.Lock()
						defer mu.Unlock()
						seen = append(seen, string(ev.Type)+" "+ev.ID)
						return tt.hookErr
					}
				}
				w := newSystems(t)
				w.log = cfg.Log
				w.connect(t, nil, cfg)
				ctx := context.Background()
				// Another source and a type of its own: the flow's source
				// checks do not apply to it.
				ev := canonical.Event{ID: "pts-1", Source: "urn:acme:loyalty", SpecVersion: canonical.EventSpecVersion,
					Type: "com.acme.loyalty.points_earned.v1", Subject: "MEM-7", PartitionKey: "MEM-7", CorrelationID: "corr-team",
					Data: json.RawMessage(`{"member":"MEM-7","points":40}`)}
				require.NoError(t, w.log.Append(ctx, ev), "Append the team's event")
				id := w.submit(t, "ACC-0002", "SKU-100:3")
				w.settle(t)
				v := w.agree(t, id)
				assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "good order next to the team's event")
				dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-team"})
				require.NoError(t, err, "DeadLetters")
				if tt.want == "" {
					assert.Empty(t, dls, "dead letters of the team's event")
				} else {
					require.Len(t, dls, 1, "dead letters of the team's event")
					assert.Contains(t, dls[0].Error, tt.want, "dead letter's error")
				}
				mu.Lock()
				defer mu.Unlock()
				if tt.hook {
					assert.Equal(t, []string{"com.acme.loyalty.points_earned.v1 pts-1"}, seen, "events the hook got")
				}
			})
		})
	}
}
