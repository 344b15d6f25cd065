package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHelp checks that -h starts with one line saying what the program
// does.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	usage(&out)
	first, rest, _ := strings.Cut(out.String(), "\n")
	assert.Equal(t, summary, first, "first line of -h")
	assert.True(t, strings.HasPrefix(first, "customconnector shows "), "first line of -h says what the program does: %q", first)
	assert.Contains(t, rest, "usage: go run ./examples/customconnector", "-h says how to run it")
}
