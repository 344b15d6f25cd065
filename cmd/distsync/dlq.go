package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/distsync/distsync/eventlog"
)

// This file holds the dlq commands.

func filterFlags(fs *flag.FlagSet) *eventlog.Filter {
	f := &eventlog.Filter{}
	fs.StringVar(&f.Consumer, "group", "", "select one consumer group")
	fs.StringVar((*string)(&f.Reason), "reason-code", "", "select one reason: permanent, exhausted, undecodable, retry-after")
	fs.StringVar(&f.CorrelationID, "correlation", "", "select one correlation ID")
	return f
}

func dlqList(fs *flag.FlagSet) func(*env, []string) int {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: distsync dlq list [-group G] [-state dead|replaying|resolved|discarded|all] [-reason-code R] [-limit N]\n\nLists dead letters, oldest first. Exit 1 when any listed is dead (waiting for an operator).")
		fs.PrintDefaults()
	}
	f := filterFlags(fs)
	state := fs.String("state", "dead", "select one state, or all")
	limit := fs.Int("limit", 100, "list at most N (0: all)")
	return func(e *env, args []string) int {
		if len(args) > 0 {
			fmt.Fprintf(e.errw, "distsync dlq list: unexpected argument %q\n", args[0])
			return exitUsage
		}
		switch eventlog.State(*state) {
		case eventlog.StateDead, eventlog.StateReplaying, eventlog.StateResolved, eventlog.StateDiscarded:
			f.State = eventlog.State(*state)
		case "all":
		default:
			fmt.Fprintf(e.errw, "distsync dlq list: -state %q is not dead, replaying, resolved, discarded or all\n", *state)
			return exitUsage
		}
		if *limit < 0 {
			fmt.Fprintf(e.errw, "distsync dlq list: -limit %d is negative\n", *limit)
			return exitUsage
		}
		f.Limit = *limit
		dls, err := e.log.List(e.ctx, *f)
		if err != nil {
			return e.fail(err)
		}
		if e.json {
			if dls == nil {
				dls = []eventlog.DeadLetter{}
			}
			e.printJSON(dls)
		} else {
			rows := make([][]string, 0, len(dls))
			for _, d := range dls {
				rows = append(rows, []string{strconv.FormatInt(d.ID, 10), d.Consumer, string(d.State), string(d.Reason),
					strconv.Itoa(d.Attempts), ts(d.LastFailure), shortType(string(d.Event.Type)), d.Event.Subject, trunc(d.Error, 60)})
			}
			e.table("ID\tGROUP\tSTATE\tREASON\tATTEMPTS\tLAST FAILURE\tTYPE\tSUBJECT\tERROR", rows)
		}
		for _, d := range dls {
			if d.State == eventlog.StateDead {
				return exitFindings
			}
		}
		return exitOK
	}
}

func shortType(t string) string {
	const p = "distsync."
	if len(t) > len(p) && t[:len(p)] == p {
		return t[len(p):]
	}
	return t
}

func dlqShow(fs *flag.FlagSet) func(*env, []string) int {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: distsync dlq show ID\n\nShows one dead letter: its event, error and audit trail. Exit 1 when there is no such dead letter.")
	}
	return func(e *env, args []string) int {
		if len(args) != 1 {
			fs.Usage()
			return exitUsage
		}
		id, err := atoi64(args[0])
		if err != nil {
			fmt.Fprintf(e.errw, "distsync dlq show: %v\n", err)
			return exitUsage
		}
		d, err := e.log.Get(e.ctx, id)
		if errors.Is(err, eventlog.ErrNotFound) {
			fmt.Fprintf(e.errw, "distsync dlq show: no dead letter %d\n", id)
			return exitFindings
		}
		if err != nil {
			return e.fail(err)
		}
		if e.json {
			e.printJSON(d)
			return exitOK
		}
		rows := [][]string{
			{"id", strconv.FormatInt(d.ID, 10)}, {"group", d.Consumer}, {"state", string(d.State)},
			{"reason", string(d.Reason)}, {"error class", d.ErrorClass}, {"error", d.Error},
			{"attempts", strconv.Itoa(d.Attempts)}, {"replays", strconv.Itoa(d.Replays)},
			{"first failure", ts(d.FirstFailure)}, {"last failure", ts(d.LastFailure)},
			{"offset", strconv.FormatUint(d.Offset, 10)}, {"correlation", d.CorrelationID},
			{"event", d.Event.Source + " " + d.Event.ID}, {"type", string(d.Event.Type)}, {"subject", d.Event.Subject},
		}
		e.table("FIELD\tVALUE", rows)
		fmt.Fprintln(e.out)
		var audit [][]string
		for _, a := range d.Audit {
			audit = append(audit, []string{ts(a.At), a.Action, a.By, trunc(a.Why, 80)})
		}
		e.table("AT\tACTION\tBY\tWHY", audit)
		fmt.Fprintln(e.out)
		data := d.Event.Data
		if len(data) == 0 {
			data = d.Raw
		}
		fmt.Fprintf(e.out, "data: %s\n", data)
		return exitOK
	}
}

func dlqReplay(fs *flag.FlagSet) func(*env, []string) int {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: distsync dlq replay (-id N | -all [-group G] [-reason-code R] [-correlation C]) -reason WHY [-by WHO]\n\nAsks for dead letters to be handled again; the flow's next Run or Drain\nhandles them. Writes who and why to each one's audit trail. Prints how many.")
		fs.PrintDefaults()
	}
	f := filterFlags(fs)
	id := fs.Int64("id", 0, "replay one dead letter")
	all := fs.Bool("all", false, "replay every dead letter the filter flags select")
	by := fs.String("by", "", "who replays (default $USER)")
	why := fs.String("reason", "", "why (written to the audit trail)")
	return func(e *env, args []string) int {
		if len(args) > 0 || (*id == 0) == !*all || *id < 0 {
			fmt.Fprintln(e.errw, "distsync dlq replay: give either -id N or -all")
			return exitUsage
		}
		f.ID = *id
		who := *by
		if who == "" {
			who = e.defUser
		}
		n, err := e.log.Replay(e.ctx, *f, eventlog.Audit{Action: eventlog.ActionReplay, By: who, Why: *why})
		if err != nil {
			return e.fail(err)
		}
		if e.json {
			e.printJSON(map[string]int{"replayed": n})
		} else {
			fmt.Fprintf(e.out, "replayed %d dead letter(s)\n", n)
		}
		if n == 0 && *id != 0 {
			return exitFindings // not found or not dead
		}
		return exitOK
	}
}

func dlqDiscard(fs *flag.FlagSet) func(*env, []string) int {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: distsync dlq discard -id N -reason WHY [-by WHO]\n\nDiscards one dead letter for good, writing who and why to its audit trail.\nExit 1 when it does not exist or is not dead.")
		fs.PrintDefaults()
	}
	id := fs.Int64("id", 0, "the dead letter to discard (required)")
	by := fs.String("by", "", "who discards (default $USER)")
	why := fs.String("reason", "", "why (required; written to the audit trail)")
	return func(e *env, args []string) int {
		if len(args) > 0 || *id <= 0 || *why == "" {
			fmt.Fprintln(e.errw, "distsync dlq discard: -id N and -reason WHY are required")
			return exitUsage
		}
		who := *by
		if who == "" {
			who = e.defUser
		}
		err := e.log.Discard(e.ctx, *id, eventlog.Audit{Action: eventlog.ActionDiscard, By: who, Why: *why})
		if errors.Is(err, eventlog.ErrNotFound) || errors.Is(err, eventlog.ErrState) {
			fmt.Fprintf(e.errw, "distsync dlq discard: %v\n", err)
			return exitFindings
		}
		if err != nil {
			return e.fail(err)
		}
		if e.json {
			e.printJSON(map[string]int64{"discarded": *id})
		} else {
			fmt.Fprintf(e.out, "discarded dead letter %d\n", *id)
		}
		return exitOK
	}
}
