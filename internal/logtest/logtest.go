// Package logtest records what code logs through log/slog, for the tests
// that check what is logged (a warning logged once, or not at all).
package logtest

import (
	"context"
	"log/slog"
	"sync"
)

// Recorder is a [slog.Handler] that keeps the records at Level and above,
// in the order they were handled. Its attributes added with WithAttrs and
// its groups are not kept: WithAttrs and WithGroup return the Recorder
// itself. The zero value keeps the records at Info and above. A Recorder
// is safe for concurrent use; do not copy one after first use.
type Recorder struct {
	// Level is the lowest level kept.
	Level slog.Level

	mu      sync.Mutex
	records []slog.Record
}

var _ slog.Handler = (*Recorder)(nil)

// Enabled reports whether l is at Level or above.
func (r *Recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.Level }

// Handle keeps a copy of rec when its level is enabled.
func (r *Recorder) Handle(ctx context.Context, rec slog.Record) error {
	if r.Enabled(ctx, rec.Level) {
		r.mu.Lock()
		r.records = append(r.records, rec.Clone())
		r.mu.Unlock()
	}
	return nil
}

// WithAttrs returns r: the attributes are not kept.
func (r *Recorder) WithAttrs([]slog.Attr) slog.Handler { return r }

// WithGroup returns r: the group is not kept.
func (r *Recorder) WithGroup(string) slog.Handler { return r }

// Records returns the records kept so far.
func (r *Recorder) Records() []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]slog.Record, len(r.records))
	for i := range r.records {
		out[i] = r.records[i].Clone()
	}
	return out
}

// Lines returns each record kept so far as its message followed by its
// attributes, each as " key=value" ([slog.Attr.String]).
func (r *Recorder) Lines() []string {
	recs := r.Records()
	out := make([]string, len(recs))
	for i, rec := range recs {
		line := rec.Message
		rec.Attrs(func(a slog.Attr) bool {
			line += " " + a.String()
			return true
		})
		out[i] = line
	}
	return out
}
