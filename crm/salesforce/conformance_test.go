package salesforce_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
	"github.com/distsync/distsync/retry"
)

func TestConformance(t *testing.T) {
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		// A batch of 3 records makes every longer read follow nextRecordsUrl.
		o := newOrg(t, sfemu.Config{BatchSize: 3}, nil)
		return o.harness(t, salesforce.Config{}, func(_ *testing.T, c *salesforce.CRM) connector.CRM { return c })
	})
}

func TestConformanceWrapped(t *testing.T) {
	opts := connector.Options{Backoff: retry.Backoff{InitialInterval: time.Microsecond, MaxInterval: time.Millisecond}}
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		o := newOrg(t, sfemu.Config{}, nil)
		return o.harness(t, salesforce.Config{}, func(t *testing.T, c *salesforce.CRM) connector.CRM {
			w, err := connector.WrapCRM(c, opts)
			require.NoError(t, err)
			return w
		})
	})
}
