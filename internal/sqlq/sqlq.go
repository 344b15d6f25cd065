// Package sqlq holds what the SQL stores share to write one query for
// SQLite and PostgreSQL.
package sqlq

import (
	"strconv"
	"strings"
)

// Rebind returns q with its ? placeholders numbered $1, $2, ... when
// postgres is set, and q itself otherwise. Queries must not hold a ? of
// their own (in a string literal, say).
func Rebind(postgres bool, q string) string {
	if !postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
