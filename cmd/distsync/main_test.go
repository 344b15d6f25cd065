package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
	"github.com/distsync/distsync/sqlite"
	"github.com/distsync/distsync/wms"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// populate runs a real flow over db: two orders shipped and invoiced, one
// backordered, and one foreign event the flow dead-letters. It returns the
// IDs of the shipped orders.
func populate(t *testing.T, db *sql.DB, dialect idempotency.Dialect, logPrefix, statePrefix string) []string {
	t.Helper()
	ctx := context.Background()
	log, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: dialect, Prefix: logPrefix})
	require.NoError(t, err)
	state, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: dialect, Prefix: statePrefix})
	require.NoError(t, err)
	require.NoError(t, log.Migrate(ctx))
	require.NoError(t, state.Migrate(ctx))
	t.Cleanup(func() { _ = log.Close(); _ = state.Close() })
	return runFlow(t, log, state)
}

// runFlow runs the flow of populate over log and state.
func runFlow(t *testing.T, log eventlog.Backend, state interface {
	flow.StateStore
	flow.CursorStore
}) []string {
	t.Helper()
	ctx := context.Background()
	e, err := erp.New(erp.Config{})
	require.NoError(t, err)
	w, err := wms.New(wms.Config{})
	require.NoError(t, err)
	c, err := crm.New(crm.Config{})
	require.NoError(t, err)
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: log, State: state, Cursors: state, PollInterval: time.Millisecond})
	require.NoError(t, err)
	var ids []string
	for _, l := range []struct{ sku, qty string }{{"SKU-100", "3"}, {"SKU-101", "2"}, {"SKU-105", "4"}} {
		opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
			SKU: l.sku, Quantity: canonical.MustParseQuantity(l.qty, "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
		require.NoError(t, err)
		o, err := c.ConvertOpportunity(ctx, opp.ID)
		require.NoError(t, err)
		ids = append(ids, o.ID)
	}
	// A submission from a source the flow does not accept: dead-lettered.
	bad := canonical.Event{ID: "intruder-1", Source: "urn:test:intruder", SpecVersion: canonical.EventSpecVersion,
		Type: canonical.EventOrderSubmitted, Subject: "ORD-X", Time: time.Now(), DataContentType: "application/json",
		Data: []byte(`{"id":"ORD-X"}`), PartitionKey: "ORD-X"}
	require.NoError(t, log.Append(ctx, bad))
	for range 50 {
		require.NoError(t, f.Drain(ctx))
		n, err := w.Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	require.NoError(t, f.Drain(ctx))
	return ids[:2]
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestCLISQLite runs the commands against a SQLite file a real flow wrote.
func TestCLISQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	populate(t, db, idempotency.SQLite, "", "")
	require.NoError(t, db.Close())
	testCLI(t, []string{"-db", path})
}

// TestCLIPostgres runs the same against PostgreSQL, in tables of their own.
func TestCLIPostgres(t *testing.T) {
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	p := fmt.Sprintf("cli%d_", time.Now().UnixNano()%1e9)
	populate(t, db, idempotency.Postgres, p+"log_", p+"state_")
	t.Cleanup(func() {
		ctx := context.Background()
		if l, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: idempotency.Postgres, Prefix: p + "log_"}); err == nil {
			_ = l.Drop(ctx)
		}
		if s, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.Postgres, Prefix: p + "state_"}); err == nil {
			_ = s.Drop(ctx)
		}
	})
	testCLI(t, []string{"-db", url, "-log-prefix", p + "log_", "-state-prefix", p + "state_"})
}

func testCLI(t *testing.T, db []string) {
	t.Setenv("USER", "tester")
	with := func(args ...string) []string { return append(append([]string{}, db...), args...) }

	t.Run("dlq list table", func(t *testing.T) {
		code, _, errOut := runCLI(with("dlq", "list", "-state", "deadish")...)
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errOut, `-state "deadish" is not dead, replaying, resolved, discarded or all`)
		code, out, _ := runCLI(with("dlq", "list")...)
		assert.Equal(t, exitFindings, code, "dead letters found")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 2, out)
		assert.Regexp(t, `^ID\s+GROUP\s+STATE\s+REASON\s+ATTEMPTS\s+LAST FAILURE\s+TYPE\s+SUBJECT\s+ERROR$`, lines[0])
		assert.Regexp(t, `^1\s+ordertocash\s+dead\s+permanent\s+1\s+\S+\s+order\.submitted\.v1\s+ORD-X\s+`, lines[1])
	})
	t.Run("dlq list json", func(t *testing.T) {
		code, out, _ := runCLI(with("-json", "dlq", "list")...)
		assert.Equal(t, exitFindings, code)
		var dls []eventlog.DeadLetter
		require.NoError(t, json.Unmarshal([]byte(out), &dls), out)
		require.Len(t, dls, 1)
		assert.Equal(t, "intruder-1", dls[0].Event.ID)
	})
	t.Run("dlq show", func(t *testing.T) {
		code, out, _ := runCLI(with("dlq", "show", "1")...)
		assert.Equal(t, exitOK, code)
		assert.Regexp(t, `(?m)^reason\s+permanent$`, out)
		assert.Regexp(t, `(?m)^\S+\s+dead-lettered\s+`, out)
		code, _, errOut := runCLI(with("dlq", "show", "99")...)
		assert.Equal(t, exitFindings, code, errOut)
		code, _, _ = runCLI(with("dlq", "show", "x")...)
		assert.Equal(t, exitUsage, code)
	})
	t.Run("where", func(t *testing.T) {
		code, out, _ := runCLI(with("where", "ORD-000001")...)
		assert.Equal(t, exitOK, code)
		assert.Contains(t, out, "order ORD-000001  phase released  status accepted/shipped/invoiced")
		assert.Regexp(t, `(?m)^L1\s+SKU-100\s+3\s+\S+\s+\S+\s+3\s+3\s+0$`, out)
		code, out, _ = runCLI(with("-json", "where", "ORD-000001")...)
		assert.Equal(t, exitOK, code)
		var v flow.OrderView
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		assert.Equal(t, "ORD-000001", v.Order.ID)
		assert.Len(t, v.Invoices, 1)
		code, _, _ = runCLI(with("where", "ORD-NOPE")...)
		assert.Equal(t, exitFindings, code)
	})
	t.Run("lag", func(t *testing.T) {
		code, out, _ := runCLI(with("lag")...)
		assert.Equal(t, exitOK, code)
		assert.Regexp(t, `(?m)^GROUP\s+CURSOR\s+BEHIND\s+RETRYING\s+OLDEST AGE$`, out)
		assert.Regexp(t, `(?m)^ordertocash\s+\d+\s+0\s+0\s+-$`, out, "the flow drained its log")
		code, out, _ = runCLI(with("-json", "lag", "-group", "nobody")...)
		assert.Equal(t, exitOK, code)
		var rows []lagRow
		require.NoError(t, json.Unmarshal([]byte(out), &rows), out)
		require.Len(t, rows, 1)
		assert.Zero(t, rows[0].Cursor)
		assert.Positive(t, rows[0].Behind, "a group that read nothing is behind by the whole log")
	})
	t.Run("reconcile", func(t *testing.T) {
		code, out, _ := runCLI(with("-json", "reconcile")...)
		assert.Equal(t, exitFindings, code, "a dead letter is a finding")
		var rep struct {
			Cost        struct{ Orders int }
			DeadLetters []struct{ Subject string }
		}
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		assert.Equal(t, 3, rep.Cost.Orders)
		require.Len(t, rep.DeadLetters, 1)
		assert.Equal(t, "ORD-X", rep.DeadLetters[0].Subject)
	})
	t.Run("replay and discard", func(t *testing.T) {
		code, _, _ := runCLI(with("dlq", "discard", "-id", "1")...)
		assert.Equal(t, exitUsage, code, "discard needs a reason")
		code, _, _ = runCLI(with("dlq", "replay")...)
		assert.Equal(t, exitUsage, code, "replay needs -id or -all")
		code, out, _ := runCLI(with("dlq", "replay", "-id", "1", "-by", "alice", "-reason", "source allowed now")...)
		assert.Equal(t, exitOK, code)
		assert.Equal(t, "replayed 1 dead letter(s)\n", out)
		code, _, _ = runCLI(with("dlq", "discard", "-id", "1", "-reason", "junk")...)
		assert.Equal(t, exitFindings, code, "a replaying dead letter cannot be discarded")
		code, out, _ = runCLI(with("-json", "dlq", "show", "1")...)
		require.Equal(t, exitOK, code)
		var d eventlog.DeadLetter
		require.NoError(t, json.Unmarshal([]byte(out), &d), out)
		require.Len(t, d.Audit, 2)
		assert.Equal(t, eventlog.Audit{At: d.Audit[1].At, Action: "replay", By: "alice", Why: "source allowed now"}, d.Audit[1])
		code, out, _ = runCLI(with("dlq", "list")...)
		assert.Equal(t, exitOK, code, "no dead letter left waiting: %s", out)
	})
}

// TestDiscardAudit discards with the default operator, $USER.
func TestDiscardAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	populate(t, db, idempotency.SQLite, "", "")
	require.NoError(t, db.Close())
	t.Setenv("USER", "bob")
	code, out, _ := runCLI("-db", path, "dlq", "discard", "-id", "1", "-reason", "test order")
	require.Equal(t, exitOK, code)
	assert.Equal(t, "discarded dead letter 1\n", out)
	code, out, _ = runCLI("-db", path, "-json", "dlq", "list", "-state", "all")
	assert.Equal(t, exitOK, code, "a discarded dead letter is no finding")
	var dls []eventlog.DeadLetter
	require.NoError(t, json.Unmarshal([]byte(out), &dls))
	require.Len(t, dls, 1)
	a := dls[0].Audit[len(dls[0].Audit)-1]
	assert.Equal(t, []string{"discard", "bob", "test order"}, []string{a.Action, a.By, a.Why})
}

// TestUsage checks the exit codes that need no store, and one that cannot
// reach it.
func TestUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{"no command", []string{"-db", missing}, exitUsage, "usage: distsync"},
		{"help", []string{"-help"}, exitOK, "Commands:"},
		{"help command", []string{"help"}, exitOK, "reconcile"},
		{"unknown command", []string{"-db", missing, "frob"}, exitUsage, `unknown command "frob"`},
		{"dlq without subcommand", []string{"-db", missing, "dlq"}, exitUsage, "dlq needs a subcommand"},
		{"command help", []string{"reconcile", "-help"}, exitOK, "cannot see drift"},
		{"where help", []string{"where", "-help"}, exitOK, "reads\nthe store only"},
		{"bad flag", []string{"-db", missing, "lag", "-frob"}, exitUsage, "flag provided but not defined"},
		{"no db", []string{"lag"}, exitUsage, "-db is required"},
		{"missing file", []string{"-db", missing, "lag"}, exitUnreachable, "missing.db"},
		{"unreachable postgres", []string{"-db", "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2", "lag"}, exitUnreachable, "postgres://…@127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(tc.args...)
			assert.Equal(t, tc.code, code, "args %q: %s%s", tc.args, out, errOut)
			assert.Contains(t, out+errOut, tc.out, "args %q", tc.args)
			assert.NotContains(t, out+errOut, "secret", "the password is not shown")
		})
	}
}
