package sap_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/erp/sap"
)

// loser is an http.RoundTripper that lets the server handle the first
// request whose path contains lose, then loses its answer.
type loser struct {
	method, lose string
	done         atomic.Bool
}

func (l *loser) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.Method == l.method && strings.Contains(req.URL.Path, l.lose) && l.done.CompareAndSwap(false, true) {
		resp.Body.Close()
		return nil, errors.New("connection reset after the request was handled")
	}
	return resp, err
}

// TestPostShipmentResumes checks that a shipment whose first call lost an
// answer after the effect is completed by the retry with the same key:
// one delivery, one goods issue, one invoice.
func TestPostShipmentResumes(t *testing.T) {
	for _, lose := range []struct{ method, lose string }{{"POST", "A_OutbDeliveryHeader"}, {"POST", "PostGoodsIssue"},
		{"GET", "A_BillingDocument"}} {
		t.Run(lose.method+" "+lose.lose, func(t *testing.T) {
			emu, srv := emulator(t, nil)
			c, err := sap.New(sap.Config{BaseURL: srv.URL, User: user, Password: password, Transport: &loser{method: lose.method, lose: lose.lose}})
			require.NoError(t, err)
			o := kitOrder(1)
			_, err = c.AcceptOrder(t.Context(), "accept", &o)
			require.NoError(t, err)
			s := connectortest.ShipAll(o, 1)
			_, err = c.PostShipment(t.Context(), "ship", s)
			require.Error(t, err, "the lost answer")
			var ce *connector.Error
			require.True(t, errors.As(err, &ce), "a connector error: %v", err)
			assert.True(t, ce.MayHaveApplied(), "a lost answer may have applied: %v", err)
			assert.Equal(t, 0, emu.ERP().Counts().Invoices-map[bool]int{true: 1, false: 0}[lose.lose != "A_OutbDeliveryHeader"], "invoices after the lost answer")
			inv, err := c.PostShipment(t.Context(), "ship", s)
			require.NoError(t, err, "the retry with the same key")
			require.NoError(t, inv.Validate())
			assert.Equal(t, 1, emu.ERP().Counts().Invoices, "one invoice")
			again, err := c.PostShipment(t.Context(), "ship", s)
			require.NoError(t, err)
			assert.Equal(t, inv, again, "a replay returns the same invoice")
		})
	}
}
