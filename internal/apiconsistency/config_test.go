package apiconsistency_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/ops"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/webhook"
	"github.com/distsync/distsync/wms"
)

// TestInvalidConfigSentinels checks that every package with a configuration
// spells its configuration error ErrInvalidConfig, with its own package
// prefix and the same words in the text.
func TestInvalidConfigSentinels(t *testing.T) {
	tests := []struct {
		pkg string
		err error
	}{
		{"connector", connector.ErrInvalidConfig},
		{"crm", crm.ErrInvalidConfig},
		{"erp", erp.ErrInvalidConfig},
		{"eventlog", eventlog.ErrInvalidConfig},
		{"faults", faults.ErrInvalidConfig},
		{"flow", flow.ErrInvalidConfig},
		{"httpkit", httpkit.ErrInvalidConfig},
		{"idempotency", idempotency.ErrInvalidConfig},
		{"retry", retry.ErrInvalidConfig},
		{"tracing", tracing.ErrInvalidConfig},
		{"webhook", webhook.ErrInvalidConfig},
		{"wms", wms.ErrInvalidConfig},
		{"ops", ops.ErrInvalidConfig},
	}
	for _, tt := range tests {
		assert.EqualError(t, tt.err, tt.pkg+": invalid configuration", "%s.ErrInvalidConfig", tt.pkg)
	}
}
