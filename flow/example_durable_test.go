package flow_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/wms"
)

// ExampleSQLState keeps the flow's state in a SQLite file: the event log,
// the dedupe keys, the order states and the feed cursors. A flow is
// stopped half way through an order, dropped, and a new one opened from
// the file completes it, with one release and one invoice.
func ExampleSQLState() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "flow")
	defer os.RemoveAll(dir)
	// open opens the file and a new flow over it, as a starting process.
	open := func(e *erp.Memory, w *wms.Memory, c *crm.Memory) (*flow.Flow, *sql.DB, error) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "flow.db")+
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err != nil {
			return nil, nil, err
		}
		log, _ := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
		dedup, _ := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
		state, _ := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
		for _, m := range []interface{ Migrate(context.Context) error }{log, dedup, state} {
			if err := m.Migrate(ctx); err != nil {
				return nil, db, err
			}
		}
		f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: log, Dedupe: dedup, State: state, Cursors: state,
			PollInterval: time.Millisecond})
		return f, db, err
	}
	// The systems are the world outside the process: they outlive it.
	e, _ := erp.New(erp.Config{})
	w, _ := wms.New(wms.Config{})
	c, _ := crm.New(crm.Config{})
	opp, _ := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
		SKU: "SKU-100", Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	order, _ := c.ConvertOpportunity(ctx, opp.ID)

	f, db, err := open(e, w, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = f.Drain(ctx) // accepted and released
	v, _ := f.Where(ctx, order.ID)
	fmt.Println("first process:", v.Status)
	_ = db.Close() // the process stops; its objects are dropped

	_, _ = w.Step(ctx) // meanwhile the warehouse ships
	f, db, err = open(e, w, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	for {
		_ = f.Drain(ctx)
		if n, _ := w.Step(ctx); n == 0 {
			break
		}
	}
	v, _ = f.Where(ctx, order.ID)
	fmt.Println("second process:", v.Status)
	fmt.Println("releases:", w.Counts().Releases, "invoices:", e.InvoiceCount(order.ID))
	// Output:
	// first process: accepted/unfulfilled/not_invoiced
	// second process: accepted/shipped/invoiced
	// releases: 1 invoices: 1
}
