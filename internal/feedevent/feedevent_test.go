package feedevent_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/internal/feedevent"
)

func TestKeep(t *testing.T) {
	// As canonical.NewEvent makes an event.
	base := canonical.Event{SpecVersion: canonical.EventSpecVersion, Type: canonical.EventOrderSubmitted,
		DataContentType: "application/json", Data: json.RawMessage(`{"id":"ORD-1"}`)}
	base.ID, base.Source, base.Subject, base.CorrelationID = "EV-1", "urn:test", "ORD-1", "ORD-1"
	base.Time, base.Sequence, base.PartitionKey = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)), 7, "P"

	fe, err := feedevent.Keep(base, "urn:test")
	require.NoError(t, err, "Keep")
	assert.Equal(t, base, fe.Event("urn:test"), "the event kept")

	for _, tc := range []struct {
		name string
		set  func(*canonical.Event)
	}{
		{"source", func(e *canonical.Event) { e.Source = "urn:other" }},
		{"specversion", func(e *canonical.Event) { e.SpecVersion = "0.3" }},
		{"datacontenttype", func(e *canonical.Event) { e.DataContentType = "text/plain" }},
		{"binary data", func(e *canonical.Event) { e.BinaryData = []byte{1} }},
		{"dataschema", func(e *canonical.Event) { e.DataSchema = "urn:schema" }},
		{"causationid", func(e *canonical.Event) { e.CausationID = "EV-0" }},
		{"traceparent", func(e *canonical.Event) { e.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }},
		{"extensions", func(e *canonical.Event) { e.Extensions = map[string]any{"x": 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			tc.set(&e)
			_, err := feedevent.Keep(e, "urn:test")
			require.Error(t, err, "an attribute the feed would lose")
			assert.Contains(t, err.Error(), tc.name, "the error names it")
		})
	}
}
