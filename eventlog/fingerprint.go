package eventlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"sync"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
)

// hashes reuses SHA-256 states across events.
var hashes = sync.Pool{New: func() any { return sha256.New() }}

// compacted reuses the buffers of compacted JSON data across events.
var compacted = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// contentFingerprint returns the fingerprint of what an event says, as
// opposed to how it travelled: its type, subject, data content type, data
// schema, per-subject sequence and data (JSON without insignificant
// whitespace, as the SQL backend stores it, or binary). The
// correlation and causation IDs, the traceparent, the time and other
// extensions are left out, so a redelivery of the same event through
// another path, or a dead letter replayed by an operator, has the same
// fingerprint, while an event that reuses a seen source and id for other
// content does not.
func contentFingerprint(ev *canonical.Event) idempotency.Fingerprint {
	h := hashes.Get().(hash.Hash)
	h.Reset()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	str := func(s string) { field([]byte(s)) }
	str(string(ev.Type))
	str(ev.Subject)
	str(ev.DataContentType)
	str(ev.DataSchema)
	binary.BigEndian.PutUint64(n[:], ev.Sequence)
	h.Write(n[:])
	// JSON data is compacted, so that an event redelivered with other
	// whitespace is the same on every backend (the SQL backend stores it
	// compacted; Memory keeps it as given). Data that is not valid JSON
	// is taken as it is.
	buf := compacted.Get().(*bytes.Buffer)
	buf.Reset()
	if len(ev.Data) > 0 && json.Compact(buf, ev.Data) == nil {
		field(buf.Bytes())
	} else {
		field(ev.Data)
	}
	if buf.Cap() <= 64<<10 {
		compacted.Put(buf)
	}
	field(ev.BinaryData)
	var fp idempotency.Fingerprint
	h.Sum(fp[:0])
	hashes.Put(h)
	return fp
}
