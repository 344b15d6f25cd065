// Package feedevent keeps the events of a simulated system's feed in
// about half the memory of a canonical.Event: the attributes that differ
// between the feed's events, not those every event of one feed shares
// (its source, the spec version, the JSON content type). The simulators
// keep every event they ever emitted, so the saving grows with them.
package feedevent

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
)

// contentType is the data content type canonical.NewEvent gives.
const contentType = "application/json"

// Event is what a feed keeps of one of its events. The zero value is no
// event; make one with [Keep].
type Event struct {
	id, subject, partition, correlation string
	typ                                 canonical.EventType
	time                                time.Time
	seq                                 uint64
	data                                json.RawMessage
}

// Keep returns what an Event keeps of e, an event of the feed of source
// with JSON data, as canonical.NewEvent makes it and the simulator then
// names, times and sequences it. It returns an error naming the attribute
// when e has one an Event would lose (another source, spec version or
// content type, binary data, a data schema, a causation ID, a traceparent,
// extensions), so that no attribute is dropped without a word. e's data is
// kept, not copied: a canonical.Event's data is read-only once emitted.
func Keep(e canonical.Event, source string) (Event, error) {
	var lost string
	switch {
	case e.Source != source:
		lost = "source"
	case e.SpecVersion != canonical.EventSpecVersion:
		lost = "specversion"
	case e.DataContentType != contentType:
		lost = "datacontenttype"
	case e.BinaryData != nil:
		lost = "binary data"
	case e.DataSchema != "":
		lost = "dataschema"
	case e.CausationID != "":
		lost = "causationid"
	case e.TraceParent != "":
		lost = "traceparent"
	case e.Extensions != nil:
		lost = "extensions"
	}
	if lost != "" {
		return Event{}, fmt.Errorf("feedevent: event %s of type %s: a feed of %s does not keep its %s", e.ID, e.Type, source, lost)
	}
	return Event{id: e.ID, subject: e.Subject, partition: e.PartitionKey, correlation: e.CorrelationID,
		typ: e.Type, time: e.Time, seq: e.Sequence, data: e.Data}, nil
}

// Event returns the event fe keeps, of the feed of source. Its data is the
// feed's own: read-only.
func (fe *Event) Event(source string) canonical.Event {
	return canonical.Event{ID: fe.id, Source: source, SpecVersion: canonical.EventSpecVersion, Type: fe.typ,
		Subject: fe.subject, Time: fe.time, DataContentType: contentType, Data: fe.data,
		CorrelationID: fe.correlation, Sequence: fe.seq, PartitionKey: fe.partition}
}
