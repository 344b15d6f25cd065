package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestEventSequenceExtensions: distsync's per-subject sequence travels as
// subjectseq; the standard CloudEvents sequence extension (any string,
// ordered per source) is an ordinary extension; an event written before
// the rename (Sequence as a 20-digit "sequence" with a subject) still
// reads with its Sequence. Each decoded event encodes to JSON that decodes
// back to the same event.
func TestEventSequenceExtensions(t *testing.T) {
	t.Parallel()
	const head = `"specversion":"1.0","id":"1","source":"/s","type":"t"`
	tests := []struct {
		name  string
		input string
		seq   uint64
		ext   map[string]any
		wire  string // the encoding of the decoded event
	}{
		{"subjectseq", `{` + head + `,"subject":"s","subjectseq":"00000000000000000042"}`, 42, nil,
			`{` + head + `,"subject":"s","subjectseq":"00000000000000000042"}`},
		{"standard sequence, any string", `{` + head + `,"subject":"s","sequence":"2026-11-27/000017"}`, 0,
			map[string]any{"sequence": "2026-11-27/000017"}, `{` + head + `,"subject":"s","sequence":"2026-11-27/000017"}`},
		{"standard sequence, short digits", `{` + head + `,"subject":"s","sequence":"7"}`, 0,
			map[string]any{"sequence": "7"}, `{` + head + `,"subject":"s","sequence":"7"}`},
		{"standard sequence without subject", `{` + head + `,"sequence":"00000000000000000009"}`, 0,
			map[string]any{"sequence": "00000000000000000009"}, `{` + head + `,"sequence":"00000000000000000009"}`},
		{"standard sequence beside subjectseq", `{` + head + `,"subject":"s","sequence":"00000000000000000009","subjectseq":"00000000000000000003"}`, 3,
			map[string]any{"sequence": "00000000000000000009"},
			`{` + head + `,"subject":"s","subjectseq":"00000000000000000003","sequence":"00000000000000000009"}`},
		{"standard sequence of zeros", `{` + head + `,"subject":"s","sequence":"00000000000000000000"}`, 0,
			map[string]any{"sequence": "00000000000000000000"}, `{` + head + `,"subject":"s","sequence":"00000000000000000000"}`},
		{"standard sequence beyond uint64", `{` + head + `,"subject":"s","sequence":"99999999999999999999"}`, 0,
			map[string]any{"sequence": "99999999999999999999"}, `{` + head + `,"subject":"s","sequence":"99999999999999999999"}`},
		{"sequence as an integer", `{` + head + `,"subject":"s","sequence":17}`, 0,
			map[string]any{"sequence": int32(17)}, `{` + head + `,"subject":"s","sequence":17}`},
		{"legacy distsync sequence", `{` + head + `,"subject":"s","sequence":"00000000000000000042"}`, 42,
			map[string]any{"sequence": "00000000000000000042"},
			`{` + head + `,"subject":"s","subjectseq":"00000000000000000042","sequence":"00000000000000000042"}`},
		{"legacy, as the encoder wrote it before the rename", `{"specversion":"1.0","id":"evt-7","source":"urn:distsync:erp",` +
			`"type":"distsync.order.accepted.v1","subject":"SO-1001","time":"2026-11-27T21:07:00Z","datacontenttype":"application/json",` +
			`"correlationid":"corr-SO-1001","sequence":"00000000000000000003","data":{"id":"SO-1001","customer":"C-42"}}`, 3,
			map[string]any{"sequence": "00000000000000000003"},
			`{"specversion":"1.0","id":"evt-7","source":"urn:distsync:erp",` +
				`"type":"distsync.order.accepted.v1","subject":"SO-1001","time":"2026-11-27T21:07:00Z","datacontenttype":"application/json",` +
				`"correlationid":"corr-SO-1001","subjectseq":"00000000000000000003","sequence":"00000000000000000003","data":{"id":"SO-1001","customer":"C-42"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e canonical.Event
			require.NoError(t, json.Unmarshal([]byte(tt.input), &e), "decode %s", tt.input)
			assert.Equal(t, tt.seq, e.Sequence, "Sequence of %s", tt.input)
			assert.Equal(t, tt.ext, e.Extensions, "extensions of %s", tt.input)
			wire, err := json.Marshal(e)
			require.NoError(t, err)
			assert.Equal(t, tt.wire, string(wire), "encoding of %s", tt.input)
			var again canonical.Event
			require.NoError(t, json.Unmarshal(wire, &again), "decode %s", wire)
			assert.Equal(t, e, again, "round trip of %s", wire)
		})
	}
}

// TestEventSubjectSequenceName: Sequence is written under
// SubjectSequenceExtension, a valid CloudEvents attribute name, and that
// name cannot be used as an ordinary extension.
func TestEventSubjectSequenceName(t *testing.T) {
	t.Parallel()
	name := canonical.SubjectSequenceExtension
	assert.Regexp(t, `^[a-z0-9]{1,20}$`, name, "CloudEvents attribute naming")
	e := canonical.Event{ID: "1", Source: "/s", SpecVersion: "1.0", Type: "t", Subject: "s", Sequence: 5}
	wire, err := json.Marshal(e)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(wire, &m))
	assert.Equal(t, "00000000000000000005", m[name])
	assert.NotContains(t, m, "sequence", "the standard name is left to the standard extension")

	e.Extensions = map[string]any{name: "x"}
	var ve *canonical.ValidationError
	require.ErrorAs(t, e.Validate(), &ve)
	assert.True(t, ve.Has(name))
	e.Extensions = map[string]any{"sequence": "any lexically ordered string"}
	assert.NoError(t, e.Validate(), "the standard sequence extension is an ordinary extension")
}
