package flow_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// groupsConsumer is a Consumer over an eventlog.Consumer that reports
// consumer groups of its own, as a partitioned group's member does.
type groupsConsumer struct {
	*eventlog.Consumer
	groups []string
	runs   atomic.Int64
}

func (c *groupsConsumer) Run(ctx context.Context) error {
	c.runs.Add(1)
	return c.Consumer.Run(ctx)
}

func (c *groupsConsumer) ConsumerGroups() []string { return c.groups }

func TestNewConsumerRefused(t *testing.T) {
	tests := []struct {
		name string
		mk   func(eventlog.ConsumerConfig) (flow.Consumer, error)
		want string
	}{
		{"error", func(eventlog.ConsumerConfig) (flow.Consumer, error) { return nil, errors.New("no NATS") }, "no NATS"},
		{"nil consumer", func(eventlog.ConsumerConfig) (flow.Consumer, error) { return nil, nil }, "nil Consumer"},
	}
	for _, tt := range tests {
		w := newSystems(t)
		_, err := flow.New(flow.Config{ERP: w.erp, WMS: w.wms, CRM: w.crm, Log: eventlog.NewMemory(eventlog.MemoryConfig{}), NewConsumer: tt.mk})
		assert.ErrorIs(t, err, flow.ErrInvalidConfig, tt.name)
		assert.ErrorContains(t, err, tt.want, tt.name)
	}
}

// TestNewConsumer runs the flow on a Consumer of Config.NewConsumer: it
// gets the flow's consumer configuration, Drain runs it, and the dead
// letters of the groups it reports are the flow's: listed (with a
// limit), shown by Where and replayed, while another group's are not.
func TestNewConsumer(t *testing.T) {
	ctx := context.Background()
	w := newSystems(t)
	w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
	var got eventlog.ConsumerConfig
	var gc *groupsConsumer
	w.connect(t, nil, flow.Config{Log: w.log, NewConsumer: func(cc eventlog.ConsumerConfig) (flow.Consumer, error) {
		got = cc
		c, err := eventlog.NewConsumer(w.log, cc)
		gc = &groupsConsumer{Consumer: c, groups: []string{flow.DefaultGroup + "/p0", flow.DefaultGroup + "/p1"}}
		return gc, err
	}})
	assert.Equal(t, flow.DefaultGroup, got.Group, "the consumer's group is the flow's")
	assert.NotNil(t, got.Handler, "the consumer gets the flow's handler")
	assert.Equal(t, flow.DefaultDedupeLease, got.Lease, "the dedupe lease")
	assert.NotNil(t, got.OnDeadLetter, "the flow counts dead letters")

	id := w.submit(t, "ACC-0002", "SKU-100:10")
	w.settle(t)
	v, err := w.flow.Where(ctx, id)
	require.NoError(t, err, "Where")
	assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "the order went through on the consumer")
	assert.Positive(t, gc.runs.Load(), "Drain ran the flow's Consumer")

	now := time.Now()
	put := func(group, eventID string) {
		t.Helper()
		_, err := w.log.Put(ctx, eventlog.DeadLetter{Consumer: group, Reason: eventlog.ReasonPermanent, Error: "boom",
			Attempts: 1, FirstFailure: now, LastFailure: now, CorrelationID: v.CorrelationID,
			Event: canonical.Event{ID: eventID, Source: "urn:test", SpecVersion: canonical.EventSpecVersion, Type: "test.thing",
				Subject: id, PartitionKey: id, CorrelationID: v.CorrelationID}})
		require.NoError(t, err, "Put a dead letter of %s", group)
	}
	put(flow.DefaultGroup+"/p1", "e1")
	put(flow.DefaultGroup+"/p0", "e2")
	put("another-team", "e3")
	dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
	require.NoError(t, err, "DeadLetters")
	var groups []string
	for _, d := range dls {
		groups = append(groups, d.Consumer)
	}
	assert.ElementsMatch(t, []string{flow.DefaultGroup + "/p1", flow.DefaultGroup + "/p0"}, groups, "the partition groups' dead letters, not another group's")
	dls, err = w.flow.DeadLetters(ctx, eventlog.Filter{Limit: 1})
	require.NoError(t, err, "DeadLetters with a limit")
	assert.Len(t, dls, 1, "Limit holds across the groups")
	v, err = w.flow.Where(ctx, id)
	require.NoError(t, err, "Where")
	assert.Len(t, v.DeadLetters, 2, "Where shows the partition groups' dead letters of the order")
	n, err := w.flow.Replay(ctx, eventlog.Filter{}, "ops", "fixed")
	require.NoError(t, err, "Replay")
	assert.Equal(t, 2, n, "Replay covers the partition groups, not another group")
}
