// Command distsync is the operator's command line: it lists, shows,
// replays and discards dead letters, shows where an order is, the consumer
// groups' lag, and reconciles, working on the SQLite file, PostgreSQL
// database or NATS JetStream server that a flow keeps its event log and
// state in.
//
// Usage:
//
//	distsync -db FILE|URL [-json] COMMAND [flags] [args]
//
// On JetStream (-db nats://host:port) it opens the stream and buckets the
// flow made and neither creates them nor changes their configuration.
//
// Run "distsync -help" or "distsync COMMAND -help" for each command.
//
// Exit codes: 0 success; 1 findings (dead letters listed, drift or
// exceptions found, an unknown order); 2 usage error; 3 the store is
// unreachable (cannot open, connect or read it).
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/sqlite"
)

// Exit codes.
const (
	exitOK          = 0
	exitFindings    = 1
	exitUsage       = 2
	exitUnreachable = 3
)

const usage = `usage: distsync -db FILE|URL [-json] COMMAND [flags] [args]

distsync reads and repairs what a flow keeps in its store: a SQLite file
(-db events.db), a PostgreSQL URL (-db postgres://...) or a NATS server with
JetStream (-db nats://host:4222; eventlog/jetstream's Backend and FlowState).
-db defaults to $DISTSYNC_DB. Output is a table for people; -json prints JSON for scripts.

Commands:
  dlq list      list dead letters (flags: -group, -state, -reason, -limit)
  dlq show ID   show one dead letter: event, error, audit trail
  dlq replay    replay dead letters (-id N, or -all with -group/-reason);
                -by (default $USER) and -reason are written to the audit trail
  dlq discard   discard one dead letter (-id N, -reason required, -by)
  where ORDER   the order as the flow's state holds it, and its dead letters
  lag           per consumer group: cursor, events behind, oldest unhandled age
  reconcile     what the stores alone can tell (see "distsync reconcile -help")

Global flags:
  -db FILE|URL   the store (required, or $DISTSYNC_DB)
  -json          JSON output
  -log-prefix P  the event log's table prefix (default eventlog_)
  -state-prefix P the flow state's table prefix (default flow_)
  -stream S      JetStream: the event stream (default DISTSYNC_EVENTS)
  -kv-prefix P   JetStream: the prefix of the groups and dead letters
                 buckets (default distsync)
  -flow-bucket B JetStream: the flow state's bucket (default distsync_flow)

Exit codes: 0 ok; 1 findings (dead letters listed, exceptions or drift found,
unknown order); 2 usage error; 3 store unreachable.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// env holds what every command needs.
type env struct {
	ctx     context.Context
	out     io.Writer
	errw    io.Writer
	json    bool
	log     eventlog.Backend
	state   flow.StateStore
	closers []func() error // in the order opened
	defUser string
}

// run runs the command line args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("distsync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	dbFlag := fs.String("db", os.Getenv("DISTSYNC_DB"), "")
	jsonOut := fs.Bool("json", false, "")
	logPrefix := fs.String("log-prefix", "", "")
	statePrefix := fs.String("state-prefix", "", "")
	var names jsNames
	fs.StringVar(&names.stream, "stream", jetstream.DefaultStream, "")
	fs.StringVar(&names.kvPrefix, "kv-prefix", jetstream.DefaultBucketPrefix, "")
	fs.StringVar(&names.flowBucket, "flow-bucket", jetstream.DefaultFlowBucket, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if rest[0] == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	name := rest[0]
	if name == "dlq" {
		if len(rest) < 2 {
			fmt.Fprintln(stderr, "distsync: dlq needs a subcommand: list, show, replay or discard")
			return exitUsage
		}
		name, rest = "dlq "+rest[1], rest[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "distsync: unknown command %q\n", rest[0])
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	// Parse the command's flags before opening anything, so that -help
	// and usage errors need no store.
	cfs := flag.NewFlagSet("distsync "+name, flag.ContinueOnError)
	cfs.SetOutput(stderr)
	do := cmd(cfs)
	if err := cfs.Parse(rest[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *dbFlag == "" {
		fmt.Fprintln(stderr, "distsync: -db is required (a SQLite file, a postgres:// URL or a nats:// URL)")
		return exitUsage
	}
	ctx := context.Background()
	e := &env{ctx: ctx, out: stdout, errw: stderr, json: *jsonOut, defUser: os.Getenv("USER")}
	defer e.close()
	var err error
	if isNATS(*dbFlag) {
		err = e.openJetStream(*dbFlag, names)
	} else {
		err = e.open(*dbFlag, *logPrefix, *statePrefix)
	}
	if err != nil {
		fmt.Fprintf(stderr, "distsync: %v\n", err)
		return exitUnreachable
	}
	return do(e, cfs.Args())
}

// close closes what open or openJetStream opened, last first.
func (e *env) close() {
	for _, c := range slices.Backward(e.closers) {
		_ = c()
	}
}

// open opens the store read-write (replay and discard write) without
// creating or migrating anything.
func (e *env) open(dsn, logPrefix, statePrefix string) error {
	var dialect idempotency.Dialect
	var db *sql.DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dialect = idempotency.Postgres
		db, err = sql.Open("pgx", dsn)
		if err != nil {
			return fmt.Errorf("open %s: %w", redact(dsn), err)
		}
	} else {
		dialect = idempotency.SQLite
		if _, err := os.Stat(dsn); err != nil {
			return fmt.Errorf("open %s: %w", dsn, err)
		}
		if db, err = sqlite.Open(e.ctx, dsn); err != nil {
			return err
		}
	}
	e.closers = append(e.closers, db.Close)
	if err := db.PingContext(e.ctx); err != nil {
		return fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	if e.log, err = eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: dialect, Prefix: logPrefix}); err != nil {
		return err
	}
	if e.state, err = flow.NewSQLState(db, flow.SQLStateConfig{Dialect: dialect, Prefix: statePrefix}); err != nil {
		return err
	}
	return nil
}

// redact drops the password of a URL for messages.
func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i > 0 {
		if j := strings.Index(dsn, "://"); j > 0 && j < i {
			return dsn[:j+3] + "…" + dsn[i:]
		}
	}
	return dsn
}

// command declares its flags on fs and returns what runs it.
type command func(fs *flag.FlagSet) func(e *env, args []string) int

var commands map[string]command

func init() {
	commands = map[string]command{"dlq list": dlqList, "dlq show": dlqShow, "dlq replay": dlqReplay, "dlq discard": dlqDiscard,
		"where": whereCmd, "lag": lagCmd, "reconcile": reconcileCmd}
}

// fail reports an error reading or writing the store.
func (e *env) fail(err error) int {
	fmt.Fprintf(e.errw, "distsync: %v\n", err)
	return exitUnreachable
}

func (e *env) printJSON(v any) {
	enc := json.NewEncoder(e.out)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (e *env) table(header string, rows [][]string) {
	tw := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func trunc(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

func atoi64(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a dead letter ID (a positive integer)", s)
	}
	return n, nil
}
