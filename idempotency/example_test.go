package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/sqlite"
)

// A payment-like call wrapped in Do: the first attempt fails transiently and
// releases the key, the retry charges once, and a duplicate gets the stored
// receipt without charging again.
func ExampleDo() {
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	guard := idempotency.Guard{Store: store}

	type chargeRequest struct {
		Invoice string `json:"invoice"`
		Amount  string `json:"amount"`
	}
	type receipt struct {
		ChargeID string `json:"charge_id"`
		Amount   string `json:"amount"`
	}
	req := chargeRequest{Invoice: "INV-1001", Amount: "120.00"}
	key := idempotency.Derive("tenant-1", "billing/charge", req.Invoice, "v1")
	fp, err := idempotency.FingerprintJSON(req)
	if err != nil {
		panic(err)
	}

	attempts, charges := 0, 0
	charge := func(ctx context.Context) (receipt, error) {
		attempts++
		if attempts == 1 {
			return receipt{}, errors.New("payment gateway timed out") // transient
		}
		charges++
		return receipt{ChargeID: fmt.Sprintf("ch_%d", charges), Amount: req.Amount}, nil
	}
	for i := range 3 {
		r, err := idempotency.Do(context.Background(), guard, key, fp, charge)
		fmt.Printf("call %d: %+v err=%v\n", i+1, r, err)
	}
	fmt.Println("charges made:", charges)
	// Output:
	// call 1: {ChargeID: Amount:} err=payment gateway timed out
	// call 2: {ChargeID:ch_1 Amount:120.00} err=<nil>
	// call 3: {ChargeID:ch_1 Amount:120.00} err=<nil>
	// charges made: 1
}

// The HTTP middleware in front of an order endpoint: a retried POST gets the
// stored response, and the same key with another body is refused.
func ExampleMiddleware() {
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{
		Store:     store,
		Required:  true,
		Principal: func(r *http.Request) string { return r.Header.Get("X-Account") },
	})
	if err != nil {
		panic(err)
	}
	orders := 0
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orders++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"order":"SO-%d"}`, orders)
	})))
	defer srv.Close()

	post := func(body string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/orders", strings.NewReader(body))
		req.Header.Set("X-Account", "acme")
		req.Header.Set(idempotency.Header, `"5f1c0e2a-order-1"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d replayed=%q %s\n", resp.StatusCode, resp.Header.Get(idempotency.ReplayedHeader), b)
	}
	post(`{"sku":"A-1","qty":2}`)
	post(`{"sku":"A-1","qty":2}`)
	post(`{"sku":"A-1","qty":3}`)
	fmt.Println("orders created:", orders)
	// Output:
	// 201 replayed="" {"order":"SO-1"}
	// 201 replayed="true" {"order":"SO-1"}
	// 422 replayed="" {"type":"https://distsync.dev/problems/idempotency-key-reused","title":"Idempotency-Key is already used for a different request","status":422,"detail":"The key was first used with another method, path, query string or body."}
	// orders created: 1
}

// A consumer deduplicating events by CloudEvents source and id: the
// handler fails on the first delivery, so the redelivery runs it again;
// the next redelivery is a duplicate.
func ExampleGuard_HandleEvent() {
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	guard := idempotency.Guard{Store: store}
	e := canonical.Event{Source: "//wms.example/warehouse/7", ID: "shipment-confirmed-1001", Type: canonical.EventShipmentConfirmed}
	ev := idempotency.EventRef{Source: e.Source, ID: e.ID}

	erpUp := false
	postShipment := func(ctx context.Context) error {
		if !erpUp {
			return errors.New("ERP unavailable")
		}
		fmt.Println("  shipment 1001 posted to the ERP")
		return nil
	}
	for delivery := 1; delivery <= 3; delivery++ {
		fmt.Printf("delivery %d\n", delivery)
		dup, err := guard.HandleEvent(context.Background(), "erp-shipment-posting", ev, postShipment)
		fmt.Printf("  duplicate=%v err=%v\n", dup, err)
		erpUp = true
	}
	// Output:
	// delivery 1
	//   duplicate=false err=ERP unavailable
	// delivery 2
	//   shipment 1001 posted to the ERP
	//   duplicate=false err=<nil>
	// delivery 3
	//   duplicate=true err=<nil>
}

func ExampleDerive() {
	k := idempotency.Derive("tenant-1", "ordertocash/accept", "order-42", "3")
	fmt.Println(k)
	fmt.Println(k == idempotency.Derive("tenant-1", "ordertocash/accept", "order-42", "3"))
	// Output:
	// v1.GYJ89T9rNGiaKm3PHFUpZkVfTNuVpVM-zj8xYToqE6c
	// true
}

func ExampleParseHeader() {
	for _, v := range []string{`"8e03978e-40d5"`, `"8e03978e-40d5";client=7`, `8e03978e-40d5`} {
		strict, err := idempotency.ParseHeader(v, false)
		fmt.Printf("strict %q: %q %v\n", v, strict, err)
	}
	lenient, err := idempotency.ParseHeader(`8e03978e-40d5`, true)
	fmt.Printf("lenient: %q %v\n", lenient, err)
	fmt.Println(idempotency.FormatHeader(idempotency.MustParse(`say "hi"`)))
	// Output:
	// strict "\"8e03978e-40d5\"": "8e03978e-40d5" <nil>
	// strict "\"8e03978e-40d5\";client=7": "8e03978e-40d5" <nil>
	// strict "8e03978e-40d5": "" idempotency: invalid key "8e03978e-40d5": Idempotency-Key header: not a structured-field string: it must be in double quotes (lenient mode accepts a bare key) (at byte 0)
	// lenient: "8e03978e-40d5" <nil>
	// "say \"hi\""
}

// An SQLStore on SQLite: the program opens the database with sqlite.Open,
// which sets what the store needs (WAL, a busy timeout, one connection;
// the store itself never registers drivers), creates the table with
// Migrate and uses the store like any other.
func ExampleSQLStore() {
	dir, err := os.MkdirTemp("", "idempotency-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "keys.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	store, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
	if err != nil {
		panic(err)
	}
	if err := store.Migrate(ctx); err != nil {
		panic(err)
	}
	key := idempotency.Derive("tenant-1", "erp/post-shipment", "shipment-1001", "1")
	for range 2 {
		c, err := store.Claim(ctx, key, idempotency.Fingerprint{}, time.Minute)
		if err != nil {
			panic(err)
		}
		fmt.Println(c.Status)
		if c.Status == idempotency.Claimed {
			if err := store.Complete(ctx, c.Lease, idempotency.Result{Data: []byte(`{"posted":true}`)}); err != nil {
				panic(err)
			}
		} else {
			fmt.Println(string(c.Result.Data))
		}
	}
	// Output:
	// claimed
	// completed
	// {"posted":true}
}
