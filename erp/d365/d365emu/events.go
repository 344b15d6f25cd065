package d365emu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// eventPageMax caps an event page.
const eventPageMax = 100

// getEvents serves DSyncSalesOrderEvents: the events after $skiptoken (an
// opaque feed position), at most $top of them, each with the position
// after it; @odata.nextLink is set when more are available, and $select
// keeps the named properties.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	top := connector.DefaultPageSize
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			badRequest(w, "$top "+strconv.Quote(t)+" is not a positive integer.")
			return
		}
		top = n
	}
	top = min(top, eventPageMax)
	cursor := connector.Cursor(q.Get("$skiptoken"))
	out := odata.Collection[odata.Event]{Context: DataRoot + "$metadata#DSyncSalesOrderEvents", Value: []odata.Event{}}
	for len(out.Value) < top {
		p, err := s.m.PollEvents(r.Context(), cursor, 1)
		if err != nil {
			status, e := connectorError("DSyncSalesOrderEventEntity", err)
			writeError(w, status, e)
			return
		}
		if len(p.Events) == 0 {
			break
		}
		data, err := json.Marshal(p.Events[0])
		if err != nil {
			writeError(w, http.StatusInternalServerError, odata.NewError(err.Error(), "", ""))
			return
		}
		cursor = p.Next
		out.Value = append(out.Value, odata.Event{EventID: p.Events[0].ID, EventType: string(p.Events[0].Type), Cursor: string(cursor), Payload: string(data)})
		if !p.More {
			break
		}
	}
	if len(out.Value) == top {
		if p, err := s.m.PollEvents(r.Context(), cursor, 1); err == nil && len(p.Events) > 0 {
			nq := r.URL.Query()
			nq.Set("$skiptoken", string(cursor))
			u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: nq.Encode()}
			out.NextLink = u.String()
		}
	}
	var selected []string
	if sel := q.Get("$select"); sel != "" {
		selected = strings.Split(sel, ",")
	}
	page := odata.Collection[json.RawMessage]{Context: out.Context, NextLink: out.NextLink, Value: []json.RawMessage{}}
	for _, e := range out.Value {
		b, err := selectJSON(e, selected)
		if err != nil {
			writeError(w, http.StatusInternalServerError, odata.NewError(err.Error(), "", ""))
			return
		}
		page.Value = append(page.Value, b)
	}
	writeJSON(w, http.StatusOK, page)
}
