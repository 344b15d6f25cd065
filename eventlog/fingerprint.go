package eventlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"sync"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
)

// fingerprintBufs reuses the buffers a fingerprint's input is assembled
// in across events.
var fingerprintBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// contentFingerprint returns the fingerprint of what an event says, as
// opposed to how it travelled: its type, subject, data content type, data
// schema, per-subject sequence and data (JSON without insignificant
// whitespace, as the SQL backend stores it, or binary). The
// correlation and causation IDs, the traceparent, the time and other
// extensions are left out, so a redelivery of the same event through
// another path, or a dead letter replayed by an operator, has the same
// fingerprint, while an event that reuses a seen source and id for other
// content does not.
//
// The fields are assembled in one buffer, each prefixed by its length as
// 8 bytes big-endian (the sequence as 8 bytes alone), and hashed at once
// with SHA-256. Stores keep these fingerprints: the layout must not change.
func contentFingerprint(ev *canonical.Event) idempotency.Fingerprint {
	buf := fingerprintBufs.Get().(*bytes.Buffer)
	buf.Reset()
	u64 := func(n uint64) { buf.Write(binary.BigEndian.AppendUint64(buf.AvailableBuffer(), n)) }
	field := func(s string) {
		u64(uint64(len(s)))
		buf.WriteString(s)
	}
	field(string(ev.Type))
	field(ev.Subject)
	field(ev.DataContentType)
	field(ev.DataSchema)
	u64(ev.Sequence)
	// JSON data is compacted, so that an event redelivered with other
	// whitespace is the same on every backend (the SQL backend stores it
	// compacted; Memory keeps it as given). Data that is not valid JSON
	// is taken as it is. Its length prefix is filled in once compacted.
	// Data without any whitespace byte is its own compact form (and,
	// when it is not valid JSON, taken as it is all the same): the
	// common case of data encoded by a program skips the scan.
	at := buf.Len()
	u64(0)
	if !hasSpace(ev.Data) || json.Compact(buf, ev.Data) != nil {
		buf.Truncate(at + 8) // Compact leaves the buffer as it was on error
		buf.Write(ev.Data)
	}
	binary.BigEndian.PutUint64(buf.Bytes()[at:], uint64(buf.Len()-at-8))
	u64(uint64(len(ev.BinaryData)))
	buf.Write(ev.BinaryData)
	fp := idempotency.Fingerprint(sha256.Sum256(buf.Bytes()))
	if buf.Cap() <= 64<<10 {
		fingerprintBufs.Put(buf)
	}
	return fp
}

// hasSpace reports whether b holds a JSON whitespace byte.
func hasSpace(b []byte) bool {
	for _, c := range b {
		if c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			return true
		}
	}
	return false
}
