package sapemu

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// EventService is the custom CDS view exposed as an OData service that
// serves the ERP's own events (an assumption: SAP sends events through
// Event Mesh, which the emulator does not model; see package sap).
const EventService = "YY1_SALESORDEREVENT_CDS"

// eventPageMax caps an event page.
const eventPageMax = 100

// getEvents serves YY1_SalesOrderEvent: the events after $skiptoken (an
// opaque feed position), at most $top of them, each with the position after
// it; __next is set when more are available.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	top := connector.DefaultPageSize
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "$top "+strconv.Quote(t)+" is not a positive integer"))
			return
		}
		top = n
	}
	top = min(top, eventPageMax)
	cursor := connector.Cursor(q.Get("$skiptoken"))
	var out odata.Collection[odata.Event]
	out.D.Results = []odata.Event{}
	for len(out.D.Results) < top {
		p, err := s.m.PollEvents(r.Context(), cursor, 1)
		if err != nil {
			writeConnectorError(w, err, func(p string) string { return p })
			return
		}
		if len(p.Events) == 0 {
			break
		}
		data, err := json.Marshal(p.Events[0])
		if err != nil {
			writeConnectorError(w, err, func(p string) string { return p })
			return
		}
		cursor = p.Next
		out.D.Results = append(out.D.Results, odata.Event{EventID: p.Events[0].ID, EventType: string(p.Events[0].Type), Cursor: string(cursor), Payload: string(data)})
		if !p.More {
			break
		}
	}
	if len(out.D.Results) == top {
		if p, err := s.m.PollEvents(r.Context(), cursor, 1); err == nil && len(p.Events) > 0 {
			nq := r.URL.Query()
			nq.Set("$skiptoken", string(cursor))
			u := *r.URL
			u.RawQuery = nq.Encode()
			out.D.Next = u.String()
		}
	}
	writeJSON(w, http.StatusOK, out)
}
