package d365_test

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
	"github.com/distsync/distsync/erp/d365"
)

// loser is an http.RoundTripper that lets the server handle the first
// request whose method and path match, then loses its answer.
type loser struct {
	method, path string
	done         atomic.Bool
}

func (l *loser) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.Method == l.method && strings.Contains(req.URL.Path, l.path) && l.done.CompareAndSwap(false, true) {
		resp.Body.Close()
		return nil, errors.New("connection reset after the request was handled")
	}
	return resp, err
}

// TestLostAnswers checks that a write whose answer was lost after the
// effect is found by the retry with the same key (the read before write):
// one order, one invoice.
func TestLostAnswers(t *testing.T) {
	for _, lose := range []struct{ method, path string }{{"POST", "$batch"}, {"GET", "SalesInvoiceHeadersV2"}} {
		t.Run(lose.method+" "+lose.path, func(t *testing.T) {
			emu, srv := emulator(t, nil)
			cfg := config(srv.URL)
			cfg.Transport = &loser{method: lose.method, path: lose.path}
			c, err := d365.New(cfg)
			require.NoError(t, err)
			o := kitOrder(1)
			ack, err := c.AcceptOrder(t.Context(), "accept", &o)
			if lose.path == "$batch" {
				require.Error(t, err, "the lost answer")
				assert.True(t, mayHaveApplied(err), "a lost answer may have applied: %v", err)
				ack, err = c.AcceptOrder(t.Context(), "accept", &o)
			}
			require.NoError(t, err)
			assert.Equal(t, 1, emu.ERP().Counts().Orders, "one order")
			again, err := c.AcceptOrder(t.Context(), "accept", &o)
			require.NoError(t, err)
			assert.Equal(t, ack, again, "a replay returns the same ack")

			s := connectortest.ShipAll(o, 1)
			inv, err := c.PostShipment(t.Context(), "ship", s)
			if lose.path != "$batch" {
				require.Error(t, err, "the lost answer")
				inv, err = c.PostShipment(t.Context(), "ship", s)
			}
			require.NoError(t, err)
			assert.Equal(t, 1, emu.ERP().Counts().Invoices, "one invoice")
			again2, err := c.PostShipment(t.Context(), "ship", s)
			require.NoError(t, err)
			assert.Equal(t, inv, again2, "a replay returns the same invoice")
		})
	}
}

func mayHaveApplied(err error) bool {
	var ce *connector.Error
	return errors.As(err, &ce) && ce.MayHaveApplied()
}
