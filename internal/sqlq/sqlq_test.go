package sqlq_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/internal/sqlq"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		q        string
		postgres bool
		want     string
	}{
		{q: "SELECT a FROM t WHERE k = ? AND v > ?", want: "SELECT a FROM t WHERE k = ? AND v > ?"},
		{q: "SELECT a FROM t WHERE k = ? AND v > ?", postgres: true, want: "SELECT a FROM t WHERE k = $1 AND v > $2"},
		{q: "SELECT 1", postgres: true, want: "SELECT 1"},
		{q: "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)", postgres: true, want: "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"},
		{q: "SELECT 'é' WHERE x = ?", postgres: true, want: "SELECT 'é' WHERE x = $1"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sqlq.Rebind(tt.postgres, tt.q), "Rebind(%v, %q)", tt.postgres, tt.q)
	}
}
