package flow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

func TestConsumerOf(t *testing.T) {
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	handler := func(context.Context, canonical.Event) error { return nil }
	boom := errors.New("boom")
	tests := []struct {
		name    string
		mk      func(eventlog.ConsumerConfig) (*eventlog.Consumer, error)
		wantNil bool
		wantErr error
	}{
		{name: "nil constructor", mk: nil, wantNil: true},
		{name: "a consumer", mk: func(cc eventlog.ConsumerConfig) (*eventlog.Consumer, error) {
			return eventlog.NewConsumer(log, cc)
		}},
		{name: "an error gives a nil Consumer, not a typed nil", mk: func(eventlog.ConsumerConfig) (*eventlog.Consumer, error) {
			return nil, boom
		}, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := flow.ConsumerOf(tt.mk)
			if tt.wantNil {
				assert.Nil(t, f)
				return
			}
			require.NotNil(t, f)
			c, err := f(eventlog.ConsumerConfig{Group: "g", Handler: handler})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.True(t, c == nil, "the Consumer of a failed constructor is a nil interface")
				return
			}
			require.NoError(t, err)
			_, ok := c.(*eventlog.Consumer)
			assert.True(t, ok, "the Consumer is the constructor's value")
		})
	}
}
