package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/wms"
)

// Example_ownConsumerGroup runs a loyalty team's consumer group beside the
// flow on the same log. The team appends its own event type; its group
// handles those and skips the rest, and the flow's Config.Unhandled skips
// the team's events (which the flow would otherwise dead-letter with
// ErrUnhandledEvent) while refusing any other type it does not know.
func Example_ownConsumerGroup() {
	ctx := context.Background()
	const pointsEarned canonical.EventType = "com.acme.loyalty.points_earned.v1"
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	e, _ := erp.New(erp.Config{})
	w, _ := wms.New(wms.Config{})
	c, _ := crm.New(crm.Config{})
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: log, PollInterval: time.Millisecond,
		Unhandled: func(_ context.Context, ev canonical.Event) error {
			if strings.HasPrefix(string(ev.Type), "com.acme.loyalty.") {
				return nil // the loyalty group's
			}
			return retry.Permanent(fmt.Errorf("%w: %s", flow.ErrUnhandledEvent, ev.Type))
		}})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The loyalty team's group: its own cursor on the same log.
	points := map[string]int{}
	loyalty, err := eventlog.NewConsumer(log, eventlog.ConsumerConfig{Group: "loyalty", PollInterval: time.Millisecond,
		Handler: func(_ context.Context, ev canonical.Event) error {
			if ev.Type != pointsEarned {
				return nil // the flow's
			}
			var d struct{ Points int }
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				return retry.Permanent(err)
			}
			points[ev.Subject] += d.Points // one partition per member: one handler at a time
			return nil
		}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, p := range []int{40, 25} {
		err := log.Append(ctx, canonical.Event{ID: fmt.Sprint("pts-", i+1), Source: "urn:acme:loyalty",
			SpecVersion: canonical.EventSpecVersion, Type: pointsEarned, Subject: "ACC-0002", PartitionKey: "ACC-0002",
			Time: time.Now(), Data: json.RawMessage(fmt.Sprintf(`{"points":%d}`, p))})
		if err != nil {
			fmt.Println(err)
			return
		}
	}

	opp, _ := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
		SKU: "SKU-101", Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
	order, _ := c.ConvertOpportunity(ctx, opp.ID)
	if err := f.Drain(ctx); err != nil {
		fmt.Println(err)
		return
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- loyalty.Run(runCtx) }()
	err = loyalty.WaitIdle(ctx)
	stop()
	<-done
	if err != nil {
		fmt.Println(err)
		return
	}

	v, _ := f.Where(ctx, order.ID)
	dls, _ := f.DeadLetters(ctx, eventlog.Filter{})
	fmt.Println("flow:", v.Status, "dead letters:", len(dls))
	fmt.Println("loyalty: ACC-0002 has", points["ACC-0002"], "points")
	// Output:
	// flow: accepted/unfulfilled/not_invoiced dead letters: 0
	// loyalty: ACC-0002 has 65 points
}
