package idempotency_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
)

func TestSQLConfigValidate(t *testing.T) {
	db := openSQLite(t)
	tests := []struct {
		cfg     idempotency.SQLConfig
		wantErr string
	}{
		{cfg: idempotency.SQLConfig{Dialect: idempotency.SQLite}},
		{cfg: idempotency.SQLConfig{Dialect: idempotency.Postgres, Table: "_keys_2"}},
		{cfg: idempotency.SQLConfig{Dialect: idempotency.SQLite, Table: strings.Repeat("t", 63)}},
		{cfg: idempotency.SQLConfig{}, wantErr: "Dialect Dialect(0) is not SQLite or Postgres"},
		{cfg: idempotency.SQLConfig{Dialect: 9}, wantErr: "Dialect Dialect(9)"},
		{cfg: idempotency.SQLConfig{Dialect: idempotency.SQLite, Table: "1keys"}, wantErr: `Table "1keys"`},
		{cfg: idempotency.SQLConfig{Dialect: idempotency.SQLite, Table: "keys; DROP TABLE x"}, wantErr: "not a plain identifier"},
		{cfg: idempotency.SQLConfig{Dialect: idempotency.SQLite, Table: "public.keys"}, wantErr: "not a plain identifier"},
		{cfg: idempotency.SQLConfig{Dialect: idempotency.SQLite, Table: strings.Repeat("t", 64)}, wantErr: "not a plain identifier"},
		{cfg: idempotency.SQLConfig{Dialect: idempotency.SQLite, Retention: -1}, wantErr: "Retention -1ns is negative"},
	}
	for _, tt := range tests {
		_, err := idempotency.NewSQLStore(db, tt.cfg)
		if tt.wantErr == "" {
			assert.NoError(t, err, "NewSQLStore(%+v)", tt.cfg)
			continue
		}
		assert.ErrorIs(t, err, idempotency.ErrInvalidConfig, "NewSQLStore(%+v)", tt.cfg)
		assert.ErrorContains(t, err, tt.wantErr, "NewSQLStore(%+v)", tt.cfg)
	}
	_, err := idempotency.NewSQLStore(nil, idempotency.SQLConfig{Dialect: idempotency.SQLite})
	assert.ErrorIs(t, err, idempotency.ErrInvalidConfig, "NewSQLStore(nil db)")
	assert.Equal(t, "sqlite", idempotency.SQLite.String(), "SQLite.String()")
	assert.Equal(t, "postgres", idempotency.Postgres.String(), "Postgres.String()")
}

func TestSQLStoreDefaultTableAndCorruptRows(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	s, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
	require.NoError(t, err, "NewSQLStore")
	require.NoError(t, s.Migrate(ctx), "Migrate")
	k := idempotency.MustParse("k")
	_, err = s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "Claim")
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM "+idempotency.DefaultTable).Scan(&n), "count rows of %s", idempotency.DefaultTable)
	assert.Equal(t, 1, n, "rows in the default table")

	// Rows damaged outside the store give an error naming the column, not a panic.
	_, err = db.ExecContext(ctx, "UPDATE "+idempotency.DefaultTable+" SET state = 7")
	require.NoError(t, err, "corrupt state")
	_, err = s.Lookup(ctx, k)
	assert.ErrorContains(t, err, "state column holds 7", "Lookup of a row with a bad state")
	_, err = db.ExecContext(ctx, "UPDATE "+idempotency.DefaultTable+" SET state = 2, fingerprint = x'0102'")
	require.NoError(t, err, "corrupt fingerprint")
	_, err = s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	assert.ErrorContains(t, err, "fingerprint column holds 2 bytes", "Claim over a row with a short fingerprint")
}

// TestPostgresTwoProcesses runs two stores on separate connection pools
// over one table, as two processes would: one claim wins, and a takeover
// by one fences the other.
func TestPostgresTwoProcesses(t *testing.T) {
	ctx := context.Background()
	clock := idempotencytest.NewClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	a := newSQLStore(t, openPostgres(t), idempotency.SQLConfig{Dialect: idempotency.Postgres, Now: clock.Now})
	db2 := openPostgres(t)
	b, err := idempotency.NewSQLStore(db2, idempotency.SQLConfig{Dialect: idempotency.Postgres, Now: clock.Now, Table: a.Table()})
	require.NoError(t, err, "second store on the same table")

	k := idempotency.MustParse("two-processes")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[idempotency.Status]int{}
	)
	for i := range 20 {
		s := idempotency.Store(a)
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			c, err := s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
			assert.NoError(t, err, "Claim(%s) #%d", k, i)
			mu.Lock()
			counts[c.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[idempotency.Status]int{idempotency.Claimed: 1, idempotency.InProgress: 19}, counts, "outcomes of 20 claims over two pools")

	clock.Advance(time.Hour)
	taken, err := b.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "takeover through the second store")
	require.Equal(t, idempotency.Claimed, taken.Status, "takeover status")
	rec, err := a.Lookup(ctx, k)
	require.NoError(t, err, "Lookup through the first store")
	assert.Equal(t, taken.Lease.Token, rec.Token, "the first store sees the takeover's token")
}

func TestSQLStoreBeforeMigrateAndAfterClose(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	s, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite, Table: "not_yet"})
	require.NoError(t, err, "NewSQLStore")
	k := idempotency.MustParse("k")
	_, err = s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	require.Error(t, err, "Claim before Migrate")
	assert.ErrorContains(t, err, "has Migrate run?", "Claim before Migrate")
	assert.ErrorContains(t, err, "not_yet", "Claim before Migrate names the table")

	require.NoError(t, s.Migrate(ctx), "Migrate")
	c, err := s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "Claim after Migrate (the failed preparation was not cached)")
	require.NoError(t, s.Close(), "Close")
	require.NoError(t, s.Close(), "second Close")
	require.NoError(t, s.Complete(ctx, c.Lease, idempotency.Result{Data: []byte("v")}), "Complete after Close prepares again")
	require.NoError(t, s.Close(), "Close")
}
