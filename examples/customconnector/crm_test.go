package main_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/examples/customconnector/tinycrm"
	"github.com/distsync/distsync/retry"
)

// crmHarness adapts a tinycrm to the kit; crm is what the kit calls
// (tinycrm itself or a wrapper around it). tinycrm keeps its state in
// memory, so a "reopened" instance is the same one.
func crmHarness(c *tinycrm.CRM, crm connector.CRM) connectortest.CRMHarness {
	return connectortest.CRMHarness{
		CRM:    crm,
		Reopen: func(*testing.T) connector.CRM { return crm },
		// AddOrders converts n opportunities, numbered after those already
		// converted, as a sales rep would.
		AddOrders: func(ctx context.Context, n int) error {
			first := c.Stats().Orders + 1
			for i := range n {
				if err := c.Convert(ctx, order(first+i)); err != nil {
					return err
				}
			}
			return nil
		},
		Shown: c.Shown,
		Effects: func() connectortest.CRMEffects {
			s := c.Stats()
			return connectortest.CRMEffects{StatusUpdates: s.StatusUpdates, AvailabilityUpdates: s.AvailabilityUpdates}
		},
	}
}

func TestCRMConformance(t *testing.T) {
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		c := tinycrm.New(tinycrm.Config{Now: func() time.Time { return t0 }})
		return crmHarness(c, c)
	})
}

// TestCRMConformanceWithFaults runs the kit over tinycrm behind injected
// faults and the SDK's retry decorator: showing a status or an
// availability is idempotent by its sequence, so the retries are safe.
func TestCRMConformanceWithFaults(t *testing.T) {
	seed := uint64(0)
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		c := tinycrm.New(tinycrm.Config{Now: func() time.Time { return t0 }})
		seed++
		f, err := faults.WrapCRM(c, faults.Config{
			Seed: seed, Unavailable: 0.2, RateLimited: 0.05, RetryAfter: time.Millisecond,
			AmbiguousTimeout: 0.2, Outage: faults.Outage{FromCall: 5, UntilCall: 8},
		})
		require.NoError(t, err)
		wrapped, err := connector.WrapCRM(f, connector.Options{MaxAttempts: 12, NoBreaker: true, Backoff: retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond}})
		require.NoError(t, err)
		h := crmHarness(c, wrapped)
		h.Capabilities.RepeatsEvents = true
		return h
	})
}
