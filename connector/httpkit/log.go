// This file owns request and response logging through slog, with secrets
// redacted from headers, query parameters and JSON bodies.

package httpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Redacted replaces a secret value in logs.
const Redacted = "[REDACTED]"

const maxLoggedBody = 2 << 10

// redactor decides which names hold secrets.
type redactor struct{ extra map[string]bool }

func newRedactor(names []string) redactor {
	r := redactor{extra: make(map[string]bool, len(names))}
	for _, n := range names {
		r.extra[strings.ToLower(n)] = true
	}
	return r
}

// secret reports whether a header, parameter or field name holds a secret.
func (r redactor) secret(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	n = strings.NewReplacer("-", "", "_", "").Replace(n)
	for _, s := range []string{"token", "secret", "password", "apikey", "signature"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return r.extra[strings.ToLower(name)]
}

func (r redactor) header(h http.Header) slog.Value {
	attrs := make([]slog.Attr, 0, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if r.secret(k) {
			v = Redacted
		}
		attrs = append(attrs, slog.String(k, v))
	}
	return slog.GroupValue(attrs...)
}

func (r redactor) url(u *url.URL) string {
	if u.RawQuery == "" && u.User == nil {
		return u.String()
	}
	c := *u
	if c.User != nil {
		c.User = url.User(Redacted)
	}
	q := c.Query()
	for k, vs := range q {
		if r.secret(k) {
			for i := range vs {
				vs[i] = Redacted
			}
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// body returns up to maxLoggedBody bytes of a JSON body with the secret
// fields redacted; a body that is not JSON is left out.
func (r redactor) body(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "(not JSON, " + strconv.Itoa(len(b)) + " bytes)"
	}
	out, _ := json.Marshal(r.value(v))
	if len(out) > maxLoggedBody {
		return string(out[:maxLoggedBody]) + "…"
	}
	return string(out)
}

func (r redactor) value(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if r.secret(k) {
				t[k] = Redacted
			} else {
				t[k] = r.value(e)
			}
		}
	case []any:
		for i, e := range t {
			t[i] = r.value(e)
		}
	}
	return v
}

func (c *Client) logRequest(ctx context.Context, req *http.Request) {
	l := c.cfg.Logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("system", c.cfg.System),
		slog.String("method", req.Method),
		slog.String("url", c.redact.url(req.URL)),
		{Key: "header", Value: c.redact.header(req.Header)},
	}
	if c.cfg.LogBodies && req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(rc)
			_ = rc.Close()
			attrs = append(attrs, slog.String("body", c.redact.body(buf.Bytes())))
		}
	}
	l.LogAttrs(ctx, slog.LevelDebug, "httpkit: request", attrs...)
}

func (c *Client) logResponse(ctx context.Context, req *http.Request, resp *http.Response, body []byte, took time.Duration) {
	l := c.cfg.Logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("system", c.cfg.System),
		slog.String("method", req.Method),
		slog.String("url", c.redact.url(req.URL)),
		slog.Int("status", resp.StatusCode),
		slog.Duration("took", took),
		{Key: "header", Value: c.redact.header(resp.Header)},
	}
	if c.cfg.LogBodies {
		attrs = append(attrs, slog.String("body", c.redact.body(body)))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "httpkit: response", attrs...)
}
