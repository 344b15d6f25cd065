package eventlog_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
)

// A consumer group handles the events of one order in order, with
// consumer dedupe; Run ends when its context is cancelled.
func ExampleConsumer() {
	ctx := context.Background()
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	dedupe, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	defer dedupe.Close()

	done := make(chan struct{})
	c, err := eventlog.NewConsumer(log, eventlog.ConsumerConfig{
		Group:  "crm-status",
		Dedupe: dedupe,
		Handler: func(ctx context.Context, ev canonical.Event) error {
			fmt.Println("handled", ev.ID)
			if ev.ID == "order-42-3" {
				close(done)
			}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	runCtx, stop := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- c.Run(runCtx) }()

	_ = log.Append(ctx, eventlogtest.Event("order-42", 1), eventlogtest.Event("order-42", 2), eventlogtest.Event("order-42", 3))
	<-done
	stop()
	fmt.Println("Run:", <-errc)
	st, _ := log.Group(ctx, "crm-status")
	fmt.Println("cursor:", st.Cursor)
	// Output:
	// handled order-42-1
	// handled order-42-2
	// handled order-42-3
	// Run: context canceled
	// cursor: 3
}

// A handler that fails permanently dead-letters its event; once the cause
// is fixed an operator replays it and the consumer handles it again.
func ExampleDeadLetters_replay() {
	ctx := context.Background()
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	fixed := make(chan struct{})
	handled := make(chan string, 1)
	c, _ := eventlog.NewConsumer(log, eventlog.ConsumerConfig{
		Group:        "erp-invoicing",
		PollInterval: time.Millisecond,
		Handler: func(ctx context.Context, ev canonical.Event) error {
			select {
			case <-fixed:
				handled <- ev.ID
				return nil
			default:
				return retry.Permanent(errors.New("erp: unknown customer terms NET45"))
			}
		},
	})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = c.Run(runCtx) }()

	_ = log.Append(ctx, eventlogtest.Event("order-7", 1))
	var dead []eventlog.DeadLetter
	for len(dead) == 0 { // wait for the dead letter
		dead, _ = log.List(ctx, eventlog.Filter{Consumer: "erp-invoicing", State: eventlog.StateDead})
		time.Sleep(time.Millisecond)
	}
	d := dead[0]
	fmt.Println(d.Event.ID, d.Reason, d.Attempts, d.Error)

	close(fixed) // the terms were added in the ERP
	n, _ := log.Replay(ctx, eventlog.Filter{CorrelationID: "corr-order-7"}, eventlog.Audit{By: "ops@example.com", Why: "terms added"})
	fmt.Println("replaying", n)
	fmt.Println("handled", <-handled)
	// Output:
	// order-7-1 permanent 1 erp: unknown customer terms NET45
	// replaying 1
	// handled order-7-1
}

// The application writes its order and the order's event in one
// transaction; the relay moves committed events into the log.
func ExampleSQL_AppendTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "eventlog-example")
	defer os.RemoveAll(dir)
	db, _ := sql.Open("sqlite", sqliteDSN(filepath.Join(dir, "app.db")))
	defer db.Close()
	s, _ := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	if err := s.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	_, _ = db.ExecContext(ctx, "CREATE TABLE orders (id TEXT PRIMARY KEY)")

	tx, _ := db.BeginTx(ctx, nil)
	_, _ = tx.ExecContext(ctx, "INSERT INTO orders (id) VALUES ('order-9')")
	_ = s.AppendTx(ctx, tx, eventlogtest.Event("order-9", 1))
	_ = tx.Commit()

	n, err := s.RelayOnce(ctx, eventlog.RelayConfig{})
	fmt.Println("relayed", n, err)
	entries, _ := s.Read(ctx, 0, 10)
	for _, e := range entries {
		fmt.Println(e.Offset, e.Event.ID)
	}
	// Output:
	// relayed 1 <nil>
	// 1 order-9-1
}

// Retention, applied periodically by the application: trim the events
// every consumer group has committed, and purge the dead letters settled
// more than 30 days ago.
func ExamplePruner() {
	ctx := context.Background()
	var b eventlog.Backend = eventlog.NewMemory(eventlog.MemoryConfig{})
	_ = b.Append(ctx, eventlogtest.Event("order-42", 1), eventlogtest.Event("order-42", 2), eventlogtest.Event("order-43", 1))
	_ = b.Commit(ctx, "billing", 0, 3)
	_ = b.Commit(ctx, "crm-status", 0, 2)

	p, ok := b.(eventlog.Pruner)
	if !ok {
		return // this backend keeps everything
	}
	through, err := p.TrimEvents(ctx, "billing", "crm-status")
	fmt.Println("trimmed through", through, err)
	_, err = b.Read(ctx, 0, 10)
	fmt.Println("read from the start:", errors.Is(err, eventlog.ErrTrimmed))
	n, err := p.PurgeDeadLetters(ctx, time.Now().AddDate(0, 0, -30))
	fmt.Println("dead letters purged:", n, err)
	// Output:
	// trimmed through 2 <nil>
	// read from the start: true
	// dead letters purged: 0 <nil>
}
