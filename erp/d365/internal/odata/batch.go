package odata

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Part is one request of a $batch changeset: the Content-ID that later
// requests of the changeset reference as $ID, the method, the target
// relative to the service root (such as "SalesOrderHeadersV2" or
// "$1/SalesOrderLines"), and the JSON body.
type Part struct {
	ContentID string
	Method    string
	Target    string
	Body      []byte
}

// PartResponse is the answer to one request of a $batch: its Content-ID,
// status, header and body. A failed changeset has one PartResponse, the
// error of the request that failed.
type PartResponse struct {
	ContentID string
	Status    int
	Header    http.Header
	Body      []byte
}

// Boundary returns a fresh multipart boundary with the given prefix.
func Boundary(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// WriteBatch writes a $batch request body of one changeset holding parts
// and returns its Content-Type.
func WriteBatch(w io.Writer, parts []Part) (string, error) {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(Boundary("batch")); err != nil {
		return "", err
	}
	var cs bytes.Buffer
	cw := multipart.NewWriter(&cs)
	if err := cw.SetBoundary(Boundary("changeset")); err != nil {
		return "", err
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-Transfer-Encoding": {"binary"}}
		if p.ContentID != "" {
			h.Set("Content-ID", p.ContentID)
		}
		pw, err := cw.CreatePart(h)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(pw, "%s %s HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json\r\n\r\n", p.Method, p.Target)
		if _, err := pw.Write(p.Body); err != nil {
			return "", err
		}
	}
	if err := cw.Close(); err != nil {
		return "", err
	}
	pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/mixed; boundary=" + cw.Boundary()}})
	if err != nil {
		return "", err
	}
	if _, err := pw.Write(cs.Bytes()); err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	return "multipart/mixed; boundary=" + mw.Boundary(), nil
}

// maxParts bounds the requests of one batch.
const maxParts = 1000

// ReadBatch reads a $batch request body: its changesets, each a list of
// parts. A request outside a changeset is a changeset of its own.
func ReadBatch(body io.Reader, contentType string) ([][]Part, error) {
	outer, err := boundaryOf(contentType)
	if err != nil {
		return nil, err
	}
	var sets [][]Part
	mr := multipart.NewReader(body, outer)
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return sets, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: batch: %v", ErrFormat, err)
		}
		ct := p.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "multipart/mixed") {
			inner, err := boundaryOf(ct)
			if err != nil {
				return nil, err
			}
			var set []Part
			cr := multipart.NewReader(p, inner)
			for {
				q, err := cr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, fmt.Errorf("%w: changeset: %v", ErrFormat, err)
				}
				if n++; n > maxParts {
					return nil, fmt.Errorf("%w: batch has more than %d requests", ErrFormat, maxParts)
				}
				part, err := readPart(q)
				if err != nil {
					return nil, err
				}
				set = append(set, part)
			}
			sets = append(sets, set)
			continue
		}
		if n++; n > maxParts {
			return nil, fmt.Errorf("%w: batch has more than %d requests", ErrFormat, maxParts)
		}
		part, err := readPart(p)
		if err != nil {
			return nil, err
		}
		sets = append(sets, []Part{part})
	}
}

func boundaryOf(contentType string) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return "", fmt.Errorf("%w: Content-Type %q is not multipart with a boundary", ErrFormat, contentType)
	}
	return params["boundary"], nil
}

func readPart(p *multipart.Part) (Part, error) {
	if ct := p.Header.Get("Content-Type"); ct != "application/http" {
		return Part{}, fmt.Errorf("%w: batch part has Content-Type %q, want application/http", ErrFormat, ct)
	}
	br := bufio.NewReader(io.LimitReader(p, 1<<20))
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return Part{}, fmt.Errorf("%w: batch part: %v", ErrFormat, err)
	}
	f := strings.Fields(line)
	if len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/") {
		return Part{}, fmt.Errorf("%w: batch part request line %q", ErrFormat, line)
	}
	if _, err := tp.ReadMIMEHeader(); err != nil {
		return Part{}, fmt.Errorf("%w: batch part header: %v", ErrFormat, err)
	}
	body, err := io.ReadAll(br)
	if err != nil {
		return Part{}, fmt.Errorf("%w: batch part body: %v", ErrFormat, err)
	}
	return Part{ContentID: p.Header.Get("Content-ID"), Method: f[0], Target: f[1], Body: bytes.TrimSpace(body)}, nil
}

// WriteBatchResponse writes the answer to a batch: one changeset response
// per entry of sets, and returns its Content-Type.
func WriteBatchResponse(w io.Writer, sets [][]PartResponse) (string, error) {
	mw := multipart.NewWriter(w)
	for _, set := range sets {
		var cs bytes.Buffer
		cw := multipart.NewWriter(&cs)
		for _, r := range set {
			h := textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-Transfer-Encoding": {"binary"}}
			if r.ContentID != "" {
				h.Set("Content-ID", r.ContentID)
			}
			pw, err := cw.CreatePart(h)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(pw, "HTTP/1.1 %d %s\r\n", r.Status, http.StatusText(r.Status))
			hdr := r.Header.Clone()
			if hdr == nil {
				hdr = http.Header{}
			}
			if len(r.Body) > 0 {
				hdr.Set("Content-Type", "application/json; odata.metadata=minimal")
				hdr.Set("Content-Length", strconv.Itoa(len(r.Body)))
			}
			if err := hdr.Write(pw); err != nil {
				return "", err
			}
			fmt.Fprint(pw, "\r\n")
			if _, err := pw.Write(r.Body); err != nil {
				return "", err
			}
		}
		if err := cw.Close(); err != nil {
			return "", err
		}
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/mixed; boundary=" + cw.Boundary()}})
		if err != nil {
			return "", err
		}
		if _, err := pw.Write(cs.Bytes()); err != nil {
			return "", err
		}
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	return "multipart/mixed; boundary=" + mw.Boundary(), nil
}

// ReadBatchResponse reads the answer to a batch: the responses of every
// changeset, in order.
func ReadBatchResponse(body []byte, contentType string) ([]PartResponse, error) {
	outer, err := boundaryOf(contentType)
	if err != nil {
		return nil, err
	}
	var out []PartResponse
	mr := multipart.NewReader(bytes.NewReader(body), outer)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: batch response: %v", ErrFormat, err)
		}
		ct := p.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "multipart/mixed") {
			r, err := readResponse(p)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			continue
		}
		inner, err := boundaryOf(ct)
		if err != nil {
			return nil, err
		}
		cr := multipart.NewReader(p, inner)
		for {
			q, err := cr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%w: changeset response: %v", ErrFormat, err)
			}
			r, err := readResponse(q)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
}

func readResponse(p *multipart.Part) (PartResponse, error) {
	resp, err := http.ReadResponse(bufio.NewReader(p), nil)
	if err != nil {
		return PartResponse{}, fmt.Errorf("%w: batch response part: %v", ErrFormat, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return PartResponse{}, fmt.Errorf("%w: batch response part body: %v", ErrFormat, err)
	}
	return PartResponse{ContentID: p.Header.Get("Content-ID"), Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}
