package crm_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

// FuzzPollOrdersCursor feeds arbitrary cursors and limits to PollOrders:
// it never panics, rejects what it did not hand out with CodeInvalid, and
// a cursor it accepts round-trips: reading on from the page's Next cursor
// gives the events after the page, with no event skipped or repeated.
func FuzzPollOrdersCursor(f *testing.F) {
	for _, c := range []string{"", "0", "3", "5", "6", "-1", "03", "+1", "1e1", "9223372036854775808", "x"} {
		f.Add(c, 2)
	}
	m := newCRM(f)
	ctx := f.Context()
	for range 5 {
		o, err := m.OpenOpportunity(ctx, opp("ACC-0001"))
		if err != nil {
			f.Fatal(err)
		}
		if _, err := m.ConvertOpportunity(ctx, o.ID); err != nil {
			f.Fatal(err)
		}
	}
	all, err := m.PollOrders(ctx, "", 0)
	if err != nil || len(all.Events) != 5 {
		f.Fatalf("reading the feed: %d events, %v", len(all.Events), err)
	}
	f.Fuzz(func(t *testing.T, cursor string, limit int) {
		p, err := m.PollOrders(t.Context(), connector.Cursor(cursor), limit)
		if err != nil {
			if connector.CodeOf(err) != connector.CodeInvalid {
				t.Fatalf("cursor %q limit %d: error %v, want invalid", cursor, limit, err)
			}
			return
		}
		start := 5 - len(p.Events)
		if p.More {
			// The page ended before the feed: find where it started.
			start = -1
			for i, e := range all.Events {
				if len(p.Events) > 0 && e.Key() == p.Events[0].Key() {
					start = i
				}
			}
			if start < 0 {
				t.Fatalf("cursor %q: page starts with an unknown event", cursor)
			}
		}
		for i, e := range p.Events {
			if e.Key() != all.Events[start+i].Key() {
				t.Fatalf("cursor %q: event %d is %v, want %v", cursor, i, e.Key(), all.Events[start+i].Key())
			}
		}
		rest, err := m.PollOrders(t.Context(), p.Next, 0)
		if err != nil {
			t.Fatalf("cursor %q: Next cursor %q rejected: %v", cursor, p.Next, err)
		}
		if got := start + len(p.Events) + len(rest.Events); got != 5 {
			t.Fatalf("cursor %q limit %d: %d before, %d on the page, %d after: want 5 in all", cursor, limit, start, len(p.Events), len(rest.Events))
		}
	})
}

// FuzzParseConfig decodes arbitrary fixtures: ParseConfig never panics,
// and a fixture it accepts encodes to one it accepts with the same
// encoding.
func FuzzParseConfig(f *testing.F) {
	demo, err := json.Marshal(crm.Config{Accounts: crm.DemoAccounts()})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{demo, []byte(`{}`), []byte(`{"accounts":[]}`), []byte(`{"accounts":[{"id":"A"}]}`), []byte(`[`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := crm.ParseConfig(data)
		if err != nil {
			return
		}
		enc, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("encoding an accepted fixture: %v", err)
		}
		c2, err := crm.ParseConfig(enc)
		if err != nil {
			t.Fatalf("the encoding %s of an accepted fixture is rejected: %v", enc, err)
		}
		enc2, err := json.Marshal(c2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the fixture (%v):\n%s\n%s", err, enc, enc2)
		}
	})
}
