package d365emu

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// navigations maps the entity sets a changeset creates to the navigation
// its lines are posted to ($1/SalesOrderLines).
var navigations = map[string]string{
	"SalesOrderHeadersV2":             "SalesOrderLines",
	"SalesPackingSlipHeaders":         "SalesPackingSlipLines",
	"ReturnOrderHeaders":              "ReturnOrderLines",
	"InventoryCountingJournalHeaders": "InventoryCountingJournalEntries",
}

// creator saves a header with its lines (the lines in the header's
// navigation property of body) and returns the header and line entities
// created, or the error status and body.
type creator func(r *http.Request, body []byte) (header any, lines []any, fail *odata.ErrorBody, status int)

// batch serves POST $batch: each changeset is a header POST (Content-ID
// n) followed by POSTs of its lines to $n/<navigation>, saved all or
// nothing; the answer has per-part 201 Created with the entities, or one
// part with the error of a changeset that failed.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	sets, err := odata.ReadBatch(http.MaxBytesReader(w, r.Body, 4<<20), r.Header.Get("Content-Type"))
	if err != nil {
		badRequest(w, "The batch request is not valid: "+err.Error())
		return
	}
	creators := map[string]creator{"SalesOrderHeadersV2": s.createOrder, "SalesPackingSlipHeaders": s.createSlip,
		"ReturnOrderHeaders": s.createReturn, "InventoryCountingJournalHeaders": s.createJournal}
	out := make([][]odata.PartResponse, 0, len(sets))
	for _, set := range sets {
		out = append(out, s.changeset(r, set, creators))
	}
	var buf bytes.Buffer
	ct, err := odata.WriteBatchResponse(&buf, out)
	if err != nil {
		writeError(w, http.StatusInternalServerError, odata.NewError(err.Error(), "", ""))
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func failed(cid string, status int, body odata.ErrorBody) []odata.PartResponse {
	b, _ := json.Marshal(body)
	return []odata.PartResponse{{ContentID: cid, Status: status, Body: b}}
}

func (s *Server) changeset(r *http.Request, parts []odata.Part, creators map[string]creator) []odata.PartResponse {
	head := parts[0]
	nav, ok := navigations[head.Target]
	if head.Method != http.MethodPost || !ok {
		return failed(head.ContentID, http.StatusBadRequest, odata.NewError("The emulator takes changesets of a header POST and its lines, not "+head.Method+" "+head.Target+".", "", ""))
	}
	lines := make([]json.RawMessage, 0, len(parts)-1)
	for _, p := range parts[1:] {
		if p.Method != http.MethodPost || head.ContentID == "" || p.Target != "$"+head.ContentID+"/"+nav {
			return failed(p.ContentID, http.StatusBadRequest, odata.NewError("A line of the changeset must be POST $"+head.ContentID+"/"+nav+", not "+p.Method+" "+p.Target+".", "", ""))
		}
		lines = append(lines, p.Body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(head.Body, &m); err != nil || m == nil {
		return failed(head.ContentID, http.StatusBadRequest, odata.NewError("The request body of "+head.Target+" is not a JSON object.", "", ""))
	}
	m[nav], _ = json.Marshal(lines)
	body, _ := json.Marshal(m)
	header, created, fail, status := creators[head.Target](r, body)
	if fail != nil {
		return failed(head.ContentID, status, *fail)
	}
	out := make([]odata.PartResponse, 0, len(parts))
	hb, _ := json.Marshal(header)
	out = append(out, odata.PartResponse{ContentID: head.ContentID, Status: status, Body: hb})
	for i, l := range created {
		lb, _ := json.Marshal(l)
		cid := ""
		if i+1 < len(parts) {
			cid = parts[i+1].ContentID
		}
		out = append(out, odata.PartResponse{ContentID: cid, Status: status, Body: lb})
	}
	return out
}
