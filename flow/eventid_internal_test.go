package flow

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
)

// TestEventID checks that eventID is uuid.NewSHA1 over the URL namespace
// and the parts joined by NUL, for names that fit its stack buffer and
// names that do not.
func TestEventID(t *testing.T) {
	for _, parts := range [][]string{
		{},
		{""},
		{"decision", "ORD-000001", "1"},
		{"correlation", "wms", "evt-1"},
		{"a", "", "b"},
		{"return.authorized", "RET-1", "2", strings.Repeat(`{"x":"é"}`, 60)},
	} {
		want := uuid.NewSHA1(uuid.NameSpaceURL, []byte(strings.Join(parts, "\x00"))).String()
		assert.Equal(t, want, eventID(parts...), "eventID%q", parts)
	}
}
