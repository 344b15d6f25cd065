package httpkit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector/httpkit"
)

type rec struct {
	ID string `json:"id"`
}

func collect[T any](seq func(func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// pagedServer serves three pages of one record each in the shape named by
// the path's first segment.
func pagedServer(t *testing.T) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("p"))
		if page == 0 {
			page = 1
		}
		next := func(format string) string {
			if page >= 3 {
				return "null"
			}
			return fmt.Sprintf(format, page+1)
		}
		item := fmt.Sprintf(`{"id":"R%d"}`, page)
		switch r.URL.Path {
		case "/sf":
			fmt.Fprintf(w, `{"done":%t,"nextRecordsUrl":%s,"records":[%s]}`, page >= 3, next(`"/sf?p=%d"`), item)
		case "/odata4":
			fmt.Fprintf(w, `{"value":[%s],"@odata.nextLink":%s}`, item, next(`"odata4?p=%d"`))
		case "/odata2":
			fmt.Fprintf(w, `{"d":{"results":[%s],"__next":%s}}`, item, next(`"`+"http://"+r.Host+`/odata2?p=%d"`))
		case "/cursor":
			fmt.Fprintf(w, `{"items":[%s],"next_cursor":%s}`, item, next(`"c%d"`))
		case "/number":
			if page > 3 {
				_, _ = io.WriteString(w, `{"items":[]}`)
				return
			}
			fmt.Fprintf(w, `{"items":[%s]}`, item)
		case "/loop":
			_, _ = io.WriteString(w, `{"value":[{"id":"L"}],"@odata.nextLink":"/loop"}`)
		case "/away":
			_, _ = io.WriteString(w, `{"value":[{"id":"A"}],"@odata.nextLink":"http://example.invalid/steal"}`)
		case "/bad":
			_, _ = io.WriteString(w, `{"value":[{"id":"B"}`)
		case "/fail":
			w.WriteHeader(503)
		}
	}))
}

func TestPagesByLink(t *testing.T) {
	srv := pagedServer(t)
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	tests := []struct {
		name  string
		first string
		p     httpkit.Paging
		want  []string
		err   string
	}{
		{"salesforce nextRecordsUrl", "/sf", httpkit.Paging{Items: "/records", Next: "/nextRecordsUrl"}, []string{"R1", "R2", "R3"}, ""},
		{"odata v4 @odata.nextLink, relative", "/odata4", httpkit.Paging{Items: "/value", Next: "/@odata.nextLink"}, []string{"R1", "R2", "R3"}, ""},
		{"odata v2 __next, absolute", "/odata2", httpkit.Paging{Items: "/d/results", Next: "/d/__next"}, []string{"R1", "R2", "R3"}, ""},
		{"bounded pages", "/sf", httpkit.Paging{Items: "/records", Next: "/nextRecordsUrl", MaxPages: 2}, []string{"R1", "R2"}, "too many pages: more than 2"},
		{"a link to itself", "/loop", httpkit.Paging{Items: "/value", Next: "/@odata.nextLink"}, []string{"L"}, "repeats"},
		{"a link to another host", "/away", httpkit.Paging{Items: "/value", Next: "/@odata.nextLink"}, []string{"A"}, "leaves"},
		{"invalid JSON", "/bad", httpkit.Paging{Items: "/value", Next: "/@odata.nextLink"}, nil, "not valid JSON"},
		{"missing items", "/sf", httpkit.Paging{Items: "/value", Next: "/nextRecordsUrl"}, nil, `no items at "/value"`},
		{"server down", "/fail", httpkit.Paging{Items: "/value"}, nil, "unavailable"},
	}
	for _, tt := range tests {
		got, err := collect(httpkit.PagesByLink[rec](context.Background(), c, "ListThings", tt.first, tt.p))
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		assert.Equal(t, tt.want, ids, tt.name)
		if tt.err == "" {
			assert.NoError(t, err, tt.name)
		} else {
			require.Error(t, err, tt.name)
			assert.Contains(t, err.Error(), tt.err, tt.name)
		}
	}
}

func TestPagesByCursorAndNumber(t *testing.T) {
	srv := pagedServer(t)
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	var cursors []string
	got, err := collect(httpkit.PagesByCursor[rec](context.Background(), c, "ListThings", httpkit.Paging{Items: "/items", Next: "/next_cursor"},
		func(cursor string) (*http.Request, error) {
			cursors = append(cursors, cursor)
			p := "1"
			if cursor != "" {
				p = cursor[1:]
			}
			return c.NewRequest("ListThings", http.MethodGet, "/cursor?p="+p, nil)
		}))
	require.NoError(t, err)
	assert.Equal(t, []rec{{"R1"}, {"R2"}, {"R3"}}, got)
	assert.Equal(t, []string{"", "c2", "c3"}, cursors)

	got, err = collect(httpkit.PagesByNumber[rec](context.Background(), c, "ListThings", httpkit.Paging{Items: "/items"}, 1,
		func(page int) (*http.Request, error) {
			return c.NewRequest("ListThings", http.MethodGet, "/number?p="+strconv.Itoa(page), nil)
		}))
	require.NoError(t, err)
	assert.Equal(t, []rec{{"R1"}, {"R2"}, {"R3"}}, got)

	// The consumer stopping early stops the requests.
	var requests int
	for r, err := range httpkit.PagesByNumber[rec](context.Background(), c, "ListThings", httpkit.Paging{Items: "/items"}, 1,
		func(page int) (*http.Request, error) {
			requests++
			return c.NewRequest("ListThings", http.MethodGet, "/number?p="+strconv.Itoa(page), nil)
		}) {
		require.NoError(t, err)
		if r.ID == "R1" {
			break
		}
	}
	assert.Equal(t, 1, requests)
}
