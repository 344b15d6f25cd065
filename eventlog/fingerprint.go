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
	buf := fingerprintInput(ev)
	fp := idempotency.Fingerprint(sha256.Sum256(buf.Bytes()))
	putFingerprintBuf(buf)
	return fp
}

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
	buf := fingerprintInput(ev)
	var fp idempotency.Fingerprint
	binary.BigEndian.PutUint64(fp[0:], maphash.Bytes(processSeeds[0], buf.Bytes()))
	binary.BigEndian.PutUint64(fp[8:], maphash.Bytes(processSeeds[1], buf.Bytes()))
	fp[len(fp)-1] = 'p' // never zero; tells it apart from a SHA-256 at a glance
	putFingerprintBuf(buf)
	return fp
}

// fingerprintInput assembles the input of a content fingerprint in a
// pooled buffer; the caller returns it with putFingerprintBuf.
func fingerprintInput(ev *canonical.Event) *bytes.Buffer {
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
	return buf
}

// putFingerprintBuf returns buf to the pool unless it grew large.
func putFingerprintBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		fingerprintBufs.Put(buf)
	}
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
