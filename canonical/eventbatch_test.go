package canonical_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// eventsFirstInvalid is what ValidateEvents must return: Validate of each
// event in turn.
func eventsFirstInvalid(events []canonical.Event) (int, error) {
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// TestValidateEventsMatchesValidate checks that ValidateEvents, which
// checks an attribute equal to the previous valid event's once, gives the
// index and the error (every violation, named) that Validate of each
// event gives, over random batches whose events share or vary their
// source, dataschema, datacontenttype and data, valid or not.
func TestValidateEventsMatchesValidate(t *testing.T) {
	sources := []string{"urn:distsync:erp:d365", "/crm", "", "bad source", "http://[::1", "urn:x\x7f"}
	schemas := []string{"", "https://schemas.distsync.dev/order/v1.json", "relative/schema", "https://x/\x01"}
	types := []string{"", "application/json", "text/plain", "application/cloudevents+json", "notamediatype", "text/"}
	datas := []string{"", `{"a":1}`, `"text"`, `{`, `[1,2]`, `12`}
	ids := []string{"evt-1", "", "evt\x00"}
	rng := rand.New(rand.NewPCG(18, 2))
	invalid := 0
	for range 20000 {
		n := 1 + rng.IntN(6)
		events := make([]canonical.Event, n)
		for i := range events {
			e := eventTestValid()
			if i > 0 && rng.IntN(2) == 0 {
				e = events[i-1] // the same attributes as the previous event
			}
			// Mostly valid values, so that batches reach their later events.
			pick := func(vals []string) string {
				if rng.IntN(4) != 0 {
					return vals[rng.IntN(2)]
				}
				return vals[rng.IntN(len(vals))]
			}
			switch rng.IntN(6) {
			case 0:
				e.Source = pick(sources)
			case 1:
				e.DataSchema = pick(schemas)
			case 2:
				e.DataContentType = pick(types)
			case 3:
				e.Data = json.RawMessage(pick(datas))
			case 4:
				e.ID = pick(ids)
			}
			events[i] = e
		}
		wantI, wantErr := eventsFirstInvalid(events)
		gotI, gotErr := canonical.ValidateEvents(events)
		require.Equal(t, wantI, gotI, "first invalid event of %+v", events)
		if wantErr == nil {
			require.NoError(t, gotErr)
			continue
		}
		invalid++
		require.Error(t, gotErr)
		require.Equal(t, wantErr.Error(), gotErr.Error(), "error of event %d", wantI)
		require.ErrorIs(t, gotErr, canonical.ErrInvalid)
	}
	require.Greater(t, invalid, 1000, "batches with an invalid event")
}
