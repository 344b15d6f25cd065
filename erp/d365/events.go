package d365

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

var _ connector.EventFeed = (*Client)(nil)

// PollEvents reads the events that start in the ERP (such as requests to
// cancel an order's open remainder) after cursor from the extension entity
// DSyncSalesOrderEvents: one GET with $top, $skiptoken and $select. Each
// entity carries the canonical event as JSON and the feed position after
// it; More is set when the page has an @odata.nextLink.
func (c *Client) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollEvents"
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	q := url.Values{"$top": {strconv.Itoa(limit)}, "$select": {"EventId,Cursor,Payload"}}
	if cursor != "" {
		q.Set("$skiptoken", string(cursor))
	}
	var out odata.Collection[odata.Event]
	if err := c.get(ctx, op, "DSyncSalesOrderEvents?"+q.Encode(), &out); err != nil {
		return connector.Page{}, err
	}
	p := connector.Page{Next: cursor, More: out.NextLink != ""}
	for i, e := range out.Value {
		if i >= limit {
			break
		}
		var ev canonical.Event
		if err := json.Unmarshal([]byte(e.Payload), &ev); err != nil {
			return connector.Page{}, connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("d365: event %s: %w", e.EventID, err))
		}
		p.Events = append(p.Events, ev)
		p.Next = connector.Cursor(e.Cursor)
	}
	return p, nil
}
