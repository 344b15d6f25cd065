package connector_test

import (
	"context"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// ReportAmendment gives scriptedERP the optional AmendmentReporter role: it
// answers the report's order.
func (s *scriptedERP) ReportAmendment(ctx context.Context, _ string, r connector.AmendmentReport) (canonical.Order, error) {
	if err := s.before(ctx, "ReportAmendment"); err != nil {
		return canonical.Order{}, err
	}
	return canonical.Order{ID: r.OrderID}, nil
}
