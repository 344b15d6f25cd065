// This file owns paging: iterators over the items of paged JSON answers,
// for the three shapes vendors use (a next link, a cursor, page numbers).

package httpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/distsync/distsync/connector"
)

// DefaultMaxPages bounds the pages one iteration reads when
// Paging.MaxPages is zero.
const DefaultMaxPages = 1000

// ErrTooManyPages is matched (with errors.Is) by the error an iteration
// yields when the remote offers more than Paging.MaxPages pages.
var ErrTooManyPages = errors.New("httpkit: too many pages")

// ErrPaging is matched (with errors.Is) by the error an iteration yields
// for a page it cannot follow: no items where Paging.Items points, a next
// link or cursor that is not a string, a link to another host, or a link
// or cursor repeating the previous one (a loop).
var ErrPaging = errors.New("httpkit: bad page")

// Paging says where the items and the continuation are in a page's JSON
// body, as JSON Pointers (RFC 6901):
//
//	Salesforce query   Items "/records"    Next "/nextRecordsUrl"
//	OData v4           Items "/value"      Next "/@odata.nextLink"
//	OData v2           Items "/d/results"  Next "/d/__next"
//
// The zero value is not usable: Items is required. It is a plain value:
// safe for concurrent use when not modified.
type Paging struct {
	// Items points to the array of items; "" is the whole body. Required
	// unless the body is itself the array.
	Items string
	// Next points to the next link (PagesByLink) or cursor
	// (PagesByCursor); a missing, null or empty value ends the iteration.
	// PagesByNumber does not use it.
	Next string
	// MaxPages bounds the pages read; past it the iteration yields
	// ErrTooManyPages. Zero means DefaultMaxPages.
	MaxPages int
}

func (p Paging) maxPages() int {
	if p.MaxPages > 0 {
		return p.MaxPages
	}
	return DefaultMaxPages
}

// PagesByLink yields the items of the page at first (resolved against
// Config.BaseURL) and of each page its next link leads to, decoded into
// T. A next link is resolved against the URL of the page holding it and
// must stay on the same scheme and host, so credentials never go to
// another site. The iteration stops at the first error, which it yields
// (with a zero T), and when the consumer stops. Each page is one Do call
// for op; the iteration is not safe for concurrent use.
func PagesByLink[T any](ctx context.Context, c *Client, op, first string, p Paging) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		req, err := c.NewRequest(op, http.MethodGet, first, nil)
		if err != nil {
			yield(zero, err)
			return
		}
		origin := req.URL
		seen := ""
		for page := 1; ; page++ {
			if page > p.maxPages() {
				yield(zero, c.pageError(op, page, fmt.Errorf("%w: more than %d", ErrTooManyPages, p.maxPages())))
				return
			}
			items, next, err := fetchPage[T](ctx, c, op, req, p, page)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			ref, err := url.Parse(next)
			if err != nil {
				yield(zero, c.pageError(op, page, fmt.Errorf("%w: next link %q: %v", ErrPaging, next, err)))
				return
			}
			u := req.URL.ResolveReference(ref)
			if u.Scheme != origin.Scheme || u.Host != origin.Host {
				yield(zero, c.pageError(op, page, fmt.Errorf("%w: next link %q leaves %s://%s", ErrPaging, next, origin.Scheme, origin.Host)))
				return
			}
			if u.String() == seen || u.String() == req.URL.String() {
				yield(zero, c.pageError(op, page, fmt.Errorf("%w: next link %q repeats", ErrPaging, next)))
				return
			}
			seen = req.URL.String()
			req, err = c.NewRequest(op, http.MethodGet, u.String(), nil)
			if err != nil {
				yield(zero, err)
				return
			}
		}
	}
}

// PagesByCursor yields the items of the pages that request builds, decoded
// into T: request("") asks for the first page, and request(cursor) for the
// page after the one whose body held cursor at Paging.Next. A cursor equal
// to the previous one is an error (a loop). The iteration stops at the
// first error, which it yields, and when the consumer stops; it is not
// safe for concurrent use.
func PagesByCursor[T any](ctx context.Context, c *Client, op string, p Paging, request func(cursor string) (*http.Request, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cursor := ""
		for page := 1; ; page++ {
			if page > p.maxPages() {
				yield(zero, c.pageError(op, page, fmt.Errorf("%w: more than %d", ErrTooManyPages, p.maxPages())))
				return
			}
			req, err := request(cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			items, next, err := fetchPage[T](ctx, c, op, req, p, page)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if next == cursor {
				yield(zero, c.pageError(op, page, fmt.Errorf("%w: cursor %q repeats", ErrPaging, next)))
				return
			}
			cursor = next
		}
	}
}

// PagesByNumber yields the items of the pages that request builds for the
// page numbers first, first+1, ..., decoded into T, until a page holds no
// items. The iteration stops at the first error, which it yields, and when
// the consumer stops; it is not safe for concurrent use.
func PagesByNumber[T any](ctx context.Context, c *Client, op string, p Paging, first int, request func(page int) (*http.Request, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		p.Next = ""
		for n := 0; ; n++ {
			if n >= p.maxPages() {
				yield(zero, c.pageError(op, n+1, fmt.Errorf("%w: more than %d", ErrTooManyPages, p.maxPages())))
				return
			}
			req, err := request(first + n)
			if err != nil {
				yield(zero, err)
				return
			}
			items, _, err := fetchPage[T](ctx, c, op, req, p, n+1)
			if err != nil {
				yield(zero, err)
				return
			}
			if len(items) == 0 {
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

func (c *Client) pageError(op string, page int, err error) error {
	return connector.NewError(connector.CodeInternal, c.cfg.System, op, fmt.Errorf("page %d: %w", page, err))
}

func fetchPage[T any](ctx context.Context, c *Client, op string, req *http.Request, p Paging, page int) ([]T, string, error) {
	resp, err := c.Do(ctx, op, req)
	if err != nil {
		return nil, "", err
	}
	raw, next, err := splitPage(resp.Body, p)
	if err != nil {
		return nil, "", c.pageError(op, page, err)
	}
	items := make([]T, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &items[i]); err != nil {
			return nil, "", c.pageError(op, page, fmt.Errorf("%w: item %d at %s: %v", ErrPaging, i, p.Items, err))
		}
	}
	return items, next, nil
}

// splitPage finds the items and the continuation of a page body. The
// body is scanned once to validate it; the items are slices of it.
func splitPage(body []byte, p Paging) ([]json.RawMessage, string, error) {
	if !json.Valid(body) {
		return nil, "", errNotJSON
	}
	raw, found, err := lookup(body, p.Items)
	if err != nil {
		return nil, "", err
	}
	var items []json.RawMessage
	if found && !isNull(raw) {
		if bytes.TrimSpace(raw)[0] != '[' {
			return nil, "", fmt.Errorf("%w: %q is not an array", ErrPaging, p.Items)
		}
		items = elements(raw)
	} else if !found {
		return nil, "", fmt.Errorf("%w: no items at %q", ErrPaging, p.Items)
	}
	if p.Next == "" {
		return items, "", nil
	}
	raw, found, err = lookup(body, p.Next)
	if err != nil || !found || isNull(raw) {
		return items, "", err
	}
	var next string
	if err := json.Unmarshal(raw, &next); err != nil {
		// A numeric token is taken as its text.
		if _, nerr := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64); nerr != nil {
			return nil, "", fmt.Errorf("%w: %q is not a string", ErrPaging, p.Next)
		}
		next = string(bytes.TrimSpace(raw))
	}
	return items, next, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

var errNotJSON = fmt.Errorf("%w: the body is not valid JSON", ErrPaging)

// pointer returns the JSON value ptr points to in doc (RFC 6901), and
// whether it exists. A body that is not a JSON document is an error.
func pointer(doc []byte, ptr string) (json.RawMessage, bool, error) {
	if !json.Valid(doc) {
		return nil, false, errNotJSON
	}
	return lookup(doc, ptr)
}

// lookup is pointer for a doc known to be valid JSON. It walks the
// document without decoding it: the value returned is a slice of doc.
// As encoding/json does, it takes the last of duplicate object keys.
func lookup(doc []byte, ptr string) (json.RawMessage, bool, error) {
	if ptr == "" {
		return doc, true, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false, fmt.Errorf("%w: JSON pointer %q does not start with /", ErrPaging, ptr)
	}
	cur := doc
	for tok := range strings.SplitSeq(ptr[1:], "/") {
		if strings.Contains(tok, "~") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		}
		i := skipSpace(cur, 0)
		if i == len(cur) {
			return nil, false, nil
		}
		switch cur[i] {
		case '{':
			v, ok := member(cur, i, tok)
			if !ok {
				return nil, false, nil
			}
			cur = v
		case '[':
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || (len(tok) > 1 && tok[0] == '0') {
				return nil, false, nil
			}
			el := elements(cur[i:])
			if n >= len(el) {
				return nil, false, nil
			}
			cur = el[n]
		default:
			return nil, false, nil
		}
	}
	return cur, true, nil
}

// member returns the value of the last member named name of the valid
// JSON object starting at b[i].
func member(b []byte, i int, name string) ([]byte, bool) {
	var found []byte
	ok := false
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kend := stringEnd(b, i)
		key := b[i+1 : kend-1]
		match := string(key) == name
		if !match && needsUnquote(key) {
			var k string
			match = json.Unmarshal(b[i:kend], &k) == nil && k == name
		}
		i = skipSpace(b, kend)
		i = skipSpace(b, i+1) // the colon
		vend := valueEnd(b, i)
		if match {
			found, ok = b[i:vend], true
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return found, ok
}

// elements returns the elements of the valid JSON array a, as slices of it.
func elements(a []byte) []json.RawMessage {
	i := skipSpace(a, 0)
	i = skipSpace(a, i+1)
	var out []json.RawMessage
	for i < len(a) && a[i] != ']' {
		end := valueEnd(a, i)
		out = append(out, a[i:end:end])
		i = skipSpace(a, end)
		if i < len(a) && a[i] == ',' {
			i = skipSpace(a, i+1)
		}
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	return out
}

// needsUnquote reports whether a raw key may differ from its decoded
// text: it holds an escape or a byte outside ASCII (invalid UTF-8 decodes
// to U+FFFD).
func needsUnquote(key []byte) bool {
	for _, c := range key {
		if c == '\\' || c >= 0x80 {
			return true
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index past the valid JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default:
		for i < len(b) && !strings.ContainsRune(" \t\n\r,]}", rune(b[i])) {
			i++
		}
		return i
	}
}
