package eventlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"sync"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
)

// compactBufs reuses the buffers JSON data with whitespace is compacted
// in across events.
var compactBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

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
	var in [fingerprintStack]byte
	return sha256.Sum256(appendFingerprintInput(in[:0], ev))
}

// fingerprintStack is the size of the buffer on the stack a fingerprint's
// input is assembled in: an event whose input is larger takes one
// allocation.
const fingerprintStack = 512

// processSeeds key [processFingerprint]. They are drawn once per process
// and never change.
var processSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// processFingerprint fingerprints the same content as [contentFingerprint],
// for a store whose records live no longer than the process (an
// [idempotency.MemoryStore]): two 64-bit [maphash] sums of the same input
// under two seeds drawn at random once per process, and a tag byte so that
// it is never the zero Fingerprint (which means "content unknown").
//
// Collision resistance is needed here only between the contents delivered
// under one source and id within one process, and only against content
// chosen without knowledge of the seeds, which never leave the process:
// what an attacker could aim for with SHA-256's published function, it
// cannot aim for here, and an accidental collision of two 128-bit keyed
// sums is beyond any workload. A SHA-256 of the input costs several times
// as much. Values differ between processes, so they must never be
// stored where another process, or a later one, compares them: a durable
// store gets [contentFingerprint].
func processFingerprint(ev *canonical.Event) idempotency.Fingerprint {
	var in [fingerprintStack]byte
	b := appendFingerprintInput(in[:0], ev)
	var fp idempotency.Fingerprint
	binary.BigEndian.PutUint64(fp[0:], maphash.Bytes(processSeeds[0], b))
	binary.BigEndian.PutUint64(fp[8:], maphash.Bytes(processSeeds[1], b))
	fp[len(fp)-1] = 'p' // never zero; tells it apart from a SHA-256 at a glance
	return fp
}

// appendFingerprintInput appends the input of a content fingerprint to b.
func appendFingerprintInput(b []byte, ev *canonical.Event) []byte {
	b = appendField(b, string(ev.Type))
	b = appendField(b, ev.Subject)
	b = appendField(b, ev.DataContentType)
	b = appendField(b, ev.DataSchema)
	b = binary.BigEndian.AppendUint64(b, ev.Sequence)
	// JSON data is compacted, so that an event redelivered with other
	// whitespace is the same on every backend (the SQL backend stores it
	// compacted; Memory keeps it as given). Data that is not valid JSON
	// is taken as it is. Data without any whitespace byte is its own
	// compact form (and, when it is not valid JSON, taken as it is all
	// the same): the common case of data encoded by a program skips the
	// scan.
	data := []byte(ev.Data)
	if hasSpace(data) {
		buf := compactBufs.Get().(*bytes.Buffer)
		buf.Reset()
		if json.Compact(buf, data) == nil {
			data = buf.Bytes()
		}
		b = appendField(b, data)
		if buf.Cap() <= 64<<10 {
			compactBufs.Put(buf)
		}
	} else {
		b = appendField(b, data)
	}
	return appendField(b, ev.BinaryData)
}

// appendField appends s prefixed by its length, 8 bytes big-endian.
func appendField[S string | []byte](b []byte, s S) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
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
