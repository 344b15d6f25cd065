// Command webhooks shows the signed webhook intake: a vendor-shaped WMS
// pushes shipment confirmations, signed with the Standard Webhooks scheme,
// to a webhook.Handler over loopback. The sender retries on any non-2xx
// answer (signing each attempt anew), sometimes sends a message twice at
// once, sometimes delivers one late (its first attempt signed more than
// five minutes ago), and an attacker sends forged messages and replays
// captured ones verbatim. The event log also fails now and then.
//
// The program prints what the intake accepted, acknowledged as a replay,
// refused (bad signature, too old, unavailable) and appended, and exits 1
// when a genuine message is missing from the log or recorded twice.
//
//	go run ./examples/webhooks [-n 200] [-seed 1] [-faults 0.05]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/webhook"
)

const source = "urn:distsync:wms:shipbob"

// The WMS's signing secret, as its console shows it.
const vendorSecret = "whsec_ZXhhbXBsZS1zaGlwYm9iLXNpZ25pbmcta2V5"

type config struct {
	n      int     // messages the WMS sends
	seed   uint64  // randomness of the sender and the faults
	faults float64 // probability that an append fails
}

func main() {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	var cfg config
	fs.IntVar(&cfg.n, "n", 200, "shipment webhooks to send")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed")
	fs.Float64Var(&cfg.faults, "faults", 0.05, "probability that an append to the log fails")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if _, err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "webhooks:", err)
		os.Exit(1)
	}
}

// shipped is the vendor's payload (ShipBob-shaped, abridged).
type shipped struct {
	Topic       string `json:"topic"`
	ShipmentID  string `json:"shipment_id"`
	OrderID     string `json:"order_id"`
	Fulfillment string `json:"fulfillment_order_id"`
	Warehouse   string `json:"warehouse"`
	Carrier     string `json:"carrier_scac"`
	Tracking    string `json:"tracking_number"`
	ShippedAt   string `json:"shipped_at"`
	Lines       []struct {
		ID       string `json:"id"`
		OrderRef string `json:"order_line_id"`
		FulRef   string `json:"fulfillment_line_id"`
		SKU      string `json:"sku"`
		Quantity string `json:"quantity"`
	} `json:"lines"`
}

// mapShipment is the connector's Mapper: vendor payload to a canonical
// shipment-confirmed event.
func mapShipment(_ context.Context, d webhook.Delivery) ([]canonical.Event, error) {
	var p shipped
	if err := json.Unmarshal(d.Body, &p); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if p.Topic != "order.shipped" {
		return nil, nil // other topics are not ours: acknowledged, not recorded
	}
	at, err := time.Parse(time.RFC3339, p.ShippedAt)
	if err != nil {
		return nil, fmt.Errorf("body.shipped_at: %w", err)
	}
	s := canonical.Shipment{ID: p.ShipmentID, OrderID: p.OrderID, FulfillmentOrderID: p.Fulfillment,
		Warehouse: p.Warehouse, Carrier: canonical.Carrier{SCAC: p.Carrier}, ShippedAt: at}
	if p.Tracking != "" {
		s.TrackingNumbers = []string{p.Tracking}
	}
	for i, l := range p.Lines {
		q, err := canonical.ParseQuantity(l.Quantity, "EA")
		if err != nil {
			return nil, fmt.Errorf("body.lines[%d].quantity: %w", i, err)
		}
		s.Lines = append(s.Lines, canonical.ShipmentLine{ID: l.ID, OrderLineID: l.OrderRef, FulfillmentLineID: l.FulRef,
			Item: canonical.ItemRef{SKU: l.SKU}, Quantity: q})
	}
	ev, err := canonical.NewEvent(canonical.EventShipmentConfirmed, s)
	if err != nil {
		return nil, err
	}
	ev.Subject = p.OrderID
	ev.Time = at
	return []canonical.Event{ev}, nil
}

// clock is the simulated time the WMS and the intake share.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// flakyLog fails appends with a probability.
type flakyLog struct {
	eventlog.Log
	mu     sync.Mutex
	rnd    *rand.Rand
	p      float64
	failed atomic.Int64
}

func (l *flakyLog) Append(ctx context.Context, evs ...canonical.Event) error {
	l.mu.Lock()
	fail := l.rnd.Float64() < l.p
	l.mu.Unlock()
	if fail {
		l.failed.Add(1)
		return errors.New("log unavailable")
	}
	return l.Log.Append(ctx, evs...)
}

// tally counts the answers the senders saw.
type tally struct {
	mu                                                                 sync.Mutex
	accepted, replayed, badSignature, tooOld, unavailable, busy, other int
}

// report is what run found.
type report struct {
	tally
	genuine, appended, missing, duplicated int
}

func run(ctx context.Context, out io.Writer, cfg config) (*report, error) {
	if cfg.n <= 0 || cfg.faults < 0 || cfg.faults >= 1 {
		return nil, fmt.Errorf("need n > 0 and 0 <= faults < 1, have n %d faults %v", cfg.n, cfg.faults)
	}
	rnd := rand.New(rand.NewPCG(cfg.seed, 42))
	clk := &clock{}
	clk.ns.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixNano())

	secret := webhook.MustParseSecret(vendorSecret)
	mem := eventlog.NewMemory(eventlog.MemoryConfig{})
	logw := &flakyLog{Log: mem, rnd: rand.New(rand.NewPCG(cfg.seed, 7)), p: cfg.faults}
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Now: clk.Now})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	h, err := webhook.NewHandler(webhook.Config{
		Source:   source,
		Verifier: &webhook.Standard{Secrets: []webhook.Secret{secret}},
		Map:      mapShipment,
		Log:      logw,
		Dedupe:   store,
		Now:      clk.Now,
	})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()

	rep := &report{}
	// send posts one attempt and counts its answer; it reports whether the
	// message was acknowledged, and whether the intake answered that the
	// same message is being recorded by another attempt right now.
	send := func(id string, ts time.Time, body []byte, key webhook.Secret) (ok, busy bool, err error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
		if err != nil {
			return false, false, err
		}
		req.Header.Set("Content-Type", "application/json")
		webhook.SetHeaders(req.Header, id, ts, body, key)
		resp, err := client.Do(req)
		if err != nil {
			return false, false, err
		}
		var p struct{ Type string }
		_ = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		t := &rep.tally
		t.mu.Lock()
		defer t.mu.Unlock()
		switch {
		case resp.StatusCode/100 == 2 && resp.Header.Get(idempotency.ReplayedHeader) == "true":
			t.replayed++
		case resp.StatusCode/100 == 2:
			t.accepted++
		case p.Type == webhook.ProblemSignature:
			t.badSignature++
		case p.Type == webhook.ProblemTimestamp:
			t.tooOld++
		case p.Type == webhook.ProblemUnavailable:
			t.unavailable++
		case p.Type == webhook.ProblemInProgress:
			t.busy++
		default:
			t.other++
		}
		return resp.StatusCode/100 == 2, p.Type == webhook.ProblemInProgress, nil
	}
	// deliver is the vendor's delivery loop: the first attempt signed at
	// first (maybe long ago), every retry signed now.
	deliver := func(id string, first time.Time, body []byte) error {
		ts := first
		for attempt := 1; ; attempt++ {
			ok, busy, err := send(id, ts, body, secret)
			if err != nil || ok {
				return err
			}
			if attempt == 10 {
				return fmt.Errorf("message %s: not acknowledged after %d attempts", id, attempt)
			}
			if busy {
				// Another attempt of this message is being recorded: the
				// answer depends on it finishing, which takes real time,
				// so this backoff is real (1 ms doubling, about 0.5 s in
				// all), not simulated.
				time.Sleep(time.Millisecond << (attempt - 1))
			}
			clk.add(time.Second) // the vendor's backoff, in simulated time
			ts = clk.Now()
		}
	}

	type captured struct {
		id   string
		ts   time.Time
		body []byte
	}
	var genuine []string
	var replays []captured
	var forged, late, twice int
	for i := 1; i <= cfg.n; i++ {
		clk.add(time.Second)
		id := fmt.Sprintf("msg_%04d", i)
		body := shipmentBody(i)
		switch r := rnd.Float64(); {
		case r < 0.08: // an attacker's message, signed with a guessed key
			forged++
			if _, _, err := send(id+"-forged", clk.Now(), body, webhook.Secret("guessed")); err != nil {
				return nil, err
			}
			continue
		case r < 0.16: // delivered late: signed six minutes before it arrives
			late++
			genuine = append(genuine, id)
			if err := deliver(id, clk.Now().Add(-6*time.Minute), body); err != nil {
				return nil, err
			}
		case r < 0.26: // sent twice at once
			twice++
			genuine = append(genuine, id)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for k := range 2 {
				wg.Go(func() { errs[k] = deliver(id, clk.Now(), body) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return nil, err
			}
		default:
			genuine = append(genuine, id)
			if err := deliver(id, clk.Now(), body); err != nil {
				return nil, err
			}
		}
		if rnd.Float64() < 0.05 {
			replays = append(replays, captured{id, clk.Now(), body})
		}
	}
	// The attacker replays captured requests verbatim, ten minutes later.
	clk.add(10 * time.Minute)
	for _, c := range replays {
		if _, _, err := send(c.id, c.ts, c.body, secret); err != nil {
			return nil, err
		}
	}
	// And one captured request within the tolerance: acknowledged, not
	// recorded again.
	if len(genuine) > 0 {
		id := genuine[len(genuine)-1]
		n := 0
		fmt.Sscanf(id, "msg_%d", &n)
		if _, _, err := send(id, clk.Now(), shipmentBody(n), secret); err != nil {
			return nil, err
		}
	}

	entries, err := mem.Read(ctx, 0, 1<<20)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Event.ID]++
	}
	rep.genuine, rep.appended = len(genuine), len(entries)
	for _, id := range genuine {
		switch seen[id] {
		case 0:
			rep.missing++
			fmt.Fprintln(out, "MISSING from the log:", id)
		case 1:
		default:
			rep.duplicated++
			fmt.Fprintln(out, "RECORDED TWICE:", id)
		}
	}
	t := &rep.tally
	fmt.Fprintf(out, "sent %d shipment webhooks (seed %d): %d genuine, %d sent twice, %d late, %d forged, %d captured and replayed later\n",
		cfg.n, cfg.seed, len(genuine), twice, late, forged, len(replays))
	fmt.Fprintf(out, "accepted:                   %d\n", t.accepted)
	fmt.Fprintf(out, "acknowledged as replayed:   %d\n", t.replayed)
	fmt.Fprintf(out, "refused, bad signature:     %d\n", t.badSignature)
	fmt.Fprintf(out, "refused, too old:           %d\n", t.tooOld)
	fmt.Fprintf(out, "refused, log unavailable:   %d (%d appends failed; the sender retried)\n", t.unavailable, logw.failed.Load())
	fmt.Fprintf(out, "told to retry, in progress: %d\n", t.busy)
	if t.other > 0 {
		fmt.Fprintf(out, "other answers:              %d\n", t.other)
	}
	fmt.Fprintf(out, "appended to the log:        %d events\n", rep.appended)
	if rep.missing > 0 || rep.duplicated > 0 || t.other > 0 {
		return rep, fmt.Errorf("%d genuine messages missing from the log, %d recorded twice, %d unexpected answers",
			rep.missing, rep.duplicated, t.other)
	}
	fmt.Fprintf(out, "every genuine message is in the log, once\n")
	return rep, nil
}

// shipmentBody is message i's payload. Its content depends on i only, so a
// resend is byte for byte the same message.
func shipmentBody(i int) []byte {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	b, _ := json.Marshal(map[string]any{
		"topic": "order.shipped", "shipment_id": fmt.Sprintf("SH-%d", i), "order_id": fmt.Sprintf("SO-%d", 1000+i),
		"fulfillment_order_id": fmt.Sprintf("FO-%d", i), "warehouse": "WH-EAST", "carrier_scac": "UPSN",
		"tracking_number": fmt.Sprintf("1Z%016d", i), "shipped_at": at.Format(time.RFC3339),
		"lines": []map[string]string{{"id": "1", "order_line_id": "1", "fulfillment_line_id": "1", "sku": "SKU-100", "quantity": "2"}},
	})
	return b
}
