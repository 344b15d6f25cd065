package eventlog_test

import (
	"testing"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

func TestMemoryConformance(t *testing.T) {
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		return func(*testing.T) eventlog.Backend { return m }
	})
}
