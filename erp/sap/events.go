package sap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

var _ connector.EventFeed = (*Client)(nil)

// eventService is the custom CDS view that serves the ERP's events.
const eventService = ServiceRoot + "YY1_SALESORDEREVENT_CDS/"

// PollEvents reads the events that start in the ERP (such as requests to
// cancel an order's open remainder) after cursor from the custom OData
// service YY1_SALESORDEREVENT_CDS: one GET of YY1_SalesOrderEvent with
// $top and $skiptoken. Each entity carries the canonical event as JSON and
// the feed position after it; More is set when the page has a __next link.
func (c *Client) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollEvents"
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	q := url.Values{"$top": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("$skiptoken", string(cursor))
	}
	var out odata.Collection[odata.Event]
	if err := c.get(ctx, op, eventService+"YY1_SalesOrderEvent?"+q.Encode(), &out); err != nil {
		return connector.Page{}, err
	}
	p := connector.Page{Next: cursor, More: out.D.Next != ""}
	for i, e := range out.D.Results {
		if i >= limit {
			break
		}
		var ev canonical.Event
		if err := json.Unmarshal([]byte(e.Payload), &ev); err != nil {
			return connector.Page{}, connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("sap: event %s: %w", e.EventID, err))
		}
		p.Events = append(p.Events, ev)
		p.Next = connector.Cursor(e.Cursor)
	}
	return p, nil
}
