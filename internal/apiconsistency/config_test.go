package apiconsistency_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365"
	"github.com/distsync/distsync/erp/d365/d365emu"
	"github.com/distsync/distsync/erp/sap"
	"github.com/distsync/distsync/erp/sap/sapemu"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/ops"
	"github.com/distsync/distsync/reconcile"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/webhook"
	"github.com/distsync/distsync/wms"
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
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
		{"d365", d365.ErrInvalidConfig},
		{"d365emu", d365emu.ErrInvalidConfig},
		{"eventlog", eventlog.ErrInvalidConfig},
		{"faults", faults.ErrInvalidConfig},
		{"flow", flow.ErrInvalidConfig},
		{"httpkit", httpkit.ErrInvalidConfig},
		{"idempotency", idempotency.ErrInvalidConfig},
		{"reconcile", reconcile.ErrInvalidConfig},
		{"retry", retry.ErrInvalidConfig},
		{"salesforce", salesforce.ErrInvalidConfig},
		{"sap", sap.ErrInvalidConfig},
		{"sapemu", sapemu.ErrInvalidConfig},
		{"sfemu", sfemu.ErrInvalidConfig},
		{"tracing", tracing.ErrInvalidConfig},
		{"webhook", webhook.ErrInvalidConfig},
		{"wms", wms.ErrInvalidConfig},
		{"ops", ops.ErrInvalidConfig},
		{"shipbob", shipbob.ErrInvalidConfig},
		{"shipbobemu", shipbobemu.ErrInvalidConfig},
	}
	for _, tt := range tests {
		assert.EqualError(t, tt.err, tt.pkg+": invalid configuration", "%s.ErrInvalidConfig", tt.pkg)
	}
}
