package canonical_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical/internal/codec"
)

// TestCodecGenerated fails while codec_gen.go is not what the generator
// writes for the current types: after changing a document, run go
// generate ./canonical.
func TestCodecGenerated(t *testing.T) {
	want, err := codec.Generate()
	require.NoError(t, err, "generate the encoders")
	got, err := os.ReadFile("codec_gen.go")
	require.NoError(t, err, "read codec_gen.go")
	require.Equal(t, string(want), string(got), "codec_gen.go is not current: run go generate ./canonical")
}
