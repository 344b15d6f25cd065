package canonical_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

const h = time.Hour

func oneLine(qty string) []canonical.OrderLine {
	return []canonical.OrderLine{{ID: "L1", Quantity: canonical.MustParseQuantity(qty, "EA")}}
}

func TestLedgerFoldRules(t *testing.T) {
	S, D := canonical.BucketShipped, canonical.BucketOrdered
	tests := []struct {
		name   string
		events []canonical.QuantityEvent
		bucket canonical.Bucket
		want   string
	}{
		{"no events: ordered is the line quantity", nil, D, "10"},
		{"no events: other buckets zero", nil, S, "0"},
		{"deltas add", []canonical.QuantityEvent{delta("L1", S, "3", h, "a"), delta("L1", S, "4", 2*h, "b")}, S, "7"},
		{"negative delta corrects", []canonical.QuantityEvent{delta("L1", S, "3", h, "a"), delta("L1", S, "-1", 2*h, "b")}, S, "2"},
		{"duplicate delta counts once", []canonical.QuantityEvent{delta("L1", S, "3", h, "a"), delta("L1", S, "3", h, "a")}, S, "3"},
		{"same message, other bucket is not a duplicate", []canonical.QuantityEvent{delta("L1", S, "3", h, "a"), delta("L1", canonical.BucketPicked, "3", h, "a")}, S, "3"},
		{"snapshot sets the value", []canonical.QuantityEvent{snap("L1", S, "5", h, "a")}, S, "5"},
		{"latest snapshot wins", []canonical.QuantityEvent{snap("L1", S, "5", 2*h, "a"), snap("L1", S, "3", h, "b")}, S, "5"},
		{"stale snapshot after newer does not overwrite", []canonical.QuantityEvent{snap("L1", S, "3", h, "b"), snap("L1", S, "5", 2*h, "a")}, S, "5"},
		{"snapshot tie broken by greater source ID", []canonical.QuantityEvent{snap("L1", S, "5", h, "b"), snap("L1", S, "3", h, "a")}, S, "5"},
		{"delta after snapshot adds", []canonical.QuantityEvent{snap("L1", S, "5", h, "a"), delta("L1", S, "2", 2*h, "b")}, S, "7"},
		{"delta before snapshot is included in it", []canonical.QuantityEvent{delta("L1", S, "2", h, "b"), snap("L1", S, "5", 2*h, "a")}, S, "5"},
		{"delta at the snapshot time is included in it", []canonical.QuantityEvent{delta("L1", S, "2", h, "b"), snap("L1", S, "5", h, "a")}, S, "5"},
		{"ordered delta adds to the line quantity", []canonical.QuantityEvent{delta("L1", D, "2", h, "a")}, D, "12"},
		{"ordered snapshot replaces the line quantity", []canonical.QuantityEvent{snap("L1", D, "4", h, "a")}, D, "4"},
		{"snapshot then delta before it then delta after", []canonical.QuantityEvent{delta("L1", S, "9", h, "x"), snap("L1", S, "1", 2*h, "y"), delta("L1", S, "2", 3*h, "z")}, S, "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines := oneLine("10")
			var l canonical.Ledger
			require.NoError(t, l.Fold(lines, tc.events), "fold %v", tc.events)
			got := lines[0].Buckets.Get(tc.bucket)
			assert.True(t, got.Equal(canonical.MustParseDecimal(tc.want)), "%s: bucket %s = %s, want %s", tc.name, tc.bucket, got, tc.want)
		})
	}
}

func TestLedgerFoldIsOrderIndependentAndIdempotent(t *testing.T) {
	events := append(fiftyEvents(),
		snap("L1", canonical.BucketShipped, "2", 3*h, "wms/inv-count"),
		delta("L1", canonical.BucketShipped, "1", 5*h, "wms/ship-late"),
		snap("L2", canonical.BucketAllocated, "7", time.Hour/2, "wms/stale-alloc"),
		snap("L3", canonical.BucketCancelled, "1", 6*h, "erp/chg-1"),
		snap("L3", canonical.BucketCancelled, "2", 6*h, "erp/chg-2"),
	)
	ref := sampleOrder(10)
	var l canonical.Ledger
	require.NoError(t, l.Fold(ref.Lines, events))
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		perm := append([]canonical.QuantityEvent(nil), events...)
		// Redeliver a random subset, then shuffle.
		for range rng.IntN(10) {
			perm = append(perm, events[rng.IntN(len(events))])
		}
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		o := sampleOrder(10)
		require.NoError(t, l.Fold(o.Lines, perm), "round %d", round)
		for i := range o.Lines {
			assert.True(t, ref.Lines[i].Buckets.Equal(o.Lines[i].Buckets), "round %d line %s: %v != %v", round, o.Lines[i].ID, o.Lines[i].Buckets, ref.Lines[i].Buckets)
		}
		assert.Equal(t, ref.Status(), o.Status(), "round %d", round)
	}
	l1 := ref.Lines[0].Buckets
	assert.Equal(t, "9", l1.Get(canonical.BucketShipped).String(), "L1 shipped: snapshot 2 at 3h + delta 6 at 4h + delta 1 at 5h")
	assert.Equal(t, "10", ref.Lines[1].Buckets.Get(canonical.BucketAllocated).String(), "L2 allocated: the stale snapshot of 7 at 0.5h loses to 10 at 2h")
	assert.Equal(t, "2", ref.Lines[2].Buckets.Get(canonical.BucketCancelled).String(), "L3 cancelled: equal as-of, greater source ID erp/chg-2 wins")
}

func TestLedgerFoldErrors(t *testing.T) {
	tests := []struct {
		name   string
		events []canonical.QuantityEvent
		target error
		text   string
	}{
		{"unknown line", []canonical.QuantityEvent{delta("L9", canonical.BucketShipped, "1", h, "a")}, canonical.ErrInvalid, `line "L9" is not in the order`},
		{"invalid bucket", []canonical.QuantityEvent{delta("L1", 0, "1", h, "a")}, canonical.ErrInvalid, "bucket: is required"},
		{"invalid kind", []canonical.QuantityEvent{qe("L1", canonical.BucketShipped, 0, "1", h, "a")}, canonical.ErrInvalid, "kind: must be delta or snapshot"},
		{"missing time", []canonical.QuantityEvent{{LineID: "L1", Bucket: canonical.BucketShipped, Kind: canonical.QuantityDelta, SourceMessageID: "a"}}, canonical.ErrInvalid, "asOf: is required"},
		{"missing source", []canonical.QuantityEvent{delta("L1", canonical.BucketShipped, "1", h, "")}, canonical.ErrInvalid, "sourceMessageId: is required"},
		{"negative snapshot", []canonical.QuantityEvent{snap("L1", canonical.BucketShipped, "-1", h, "a")}, canonical.ErrInvalid, "a snapshot must not be negative"},
		{"conflicting duplicate", []canonical.QuantityEvent{delta("L1", canonical.BucketShipped, "1", h, "a"), delta("L1", canonical.BucketShipped, "2", h, "a")}, canonical.ErrLedgerConflict, `message "a", line "L1", bucket shipped`},
		{"overflow", []canonical.QuantityEvent{delta("L1", canonical.BucketShipped, "9999999999999999999", h, "a"), delta("L1", canonical.BucketShipped, "9999999999999999999", h, "b")}, canonical.ErrOverflow, "bucket shipped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines := oneLine("10")
			lines[0].Buckets.Set(canonical.BucketPicked, canonical.DecimalFromInt(4))
			var l canonical.Ledger
			err := l.Fold(lines, tc.events)
			require.Error(t, err, "events %v", tc.events)
			assert.ErrorIs(t, err, tc.target, "events %v", tc.events)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "events %v", tc.events)
			assert.Contains(t, err.Error(), tc.text, "events %v", tc.events)
			assert.Equal(t, "4", lines[0].Buckets.Get(canonical.BucketPicked).String(), "lines untouched after error %q", tc.name)
		})
	}
}

func TestBucketNames(t *testing.T) {
	for _, b := range canonical.AllBuckets() {
		text, err := b.MarshalText()
		require.NoError(t, err, "bucket %d", b)
		got, err := canonical.ParseBucket(string(text))
		require.NoError(t, err, "bucket %s", text)
		assert.Equal(t, b, got, "round trip of %s", text)
	}
	assert.Len(t, canonical.AllBuckets(), 11)
	_, err := canonical.ParseBucket("packed")
	assert.ErrorIs(t, err, canonical.ErrInvalid, "packed")
	assert.Equal(t, "Bucket(0)", canonical.Bucket(0).String())
	_, err = canonical.Bucket(12).MarshalText()
	assert.ErrorIs(t, err, canonical.ErrInvalid, "bucket 12")
}

func TestBucketsJSON(t *testing.T) {
	var bs canonical.Buckets
	bs.Set(canonical.BucketOrdered, canonical.MustParseDecimal("10"))
	bs.Set(canonical.BucketShipped, canonical.MustParseDecimal("4.50"))
	bs.Set(canonical.BucketPicked, canonical.MustParseDecimal("0.0"))
	data, err := json.Marshal(bs)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ordered":"10","picked":"0.0","shipped":"4.50"}`, string(data))
	var back canonical.Buckets
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, bs, back, "round trip of %s", data)
	assert.True(t, back.Equal(bs), "Equal after round trip")
	assert.False(t, back.IsZero(), "buckets with values")
	assert.True(t, canonical.Buckets{}.IsZero(), "zero buckets")
	back.Set(canonical.BucketShipped, canonical.DecimalFromInt(5))
	assert.False(t, back.Equal(bs), "after a change")
	require.NoError(t, json.Unmarshal([]byte("null"), &back), "null")
	assert.Equal(t, "5", back.Get(canonical.BucketShipped).String(), "null leaves buckets unchanged")
	assert.True(t, back.Get(0).IsZero(), "invalid bucket reads zero")

	for _, bad := range []string{`{"packed":"1"}`, `{"shipped":"x"}`, `{"shipped":true}`, `[1]`} {
		var b canonical.Buckets
		err := json.Unmarshal([]byte(bad), &b)
		assert.ErrorIs(t, err, canonical.ErrInvalid, "input %s", bad)
	}
}

func TestBucketsValidate(t *testing.T) {
	mk := func(kv ...string) canonical.Buckets {
		var bs canonical.Buckets
		for i := 0; i < len(kv); i += 2 {
			b, err := canonical.ParseBucket(kv[i])
			if err != nil {
				panic(err)
			}
			bs.Set(b, canonical.MustParseDecimal(kv[i+1]))
		}
		return bs
	}
	tests := []struct {
		name  string
		bs    canonical.Buckets
		field string
	}{
		{"ok", mk("ordered", "10", "cancelled", "2", "shipped", "8"), ""},
		{"negative", mk("ordered", "10", "picked", "-1"), "picked"},
		{"cancelled beyond ordered", mk("ordered", "10", "cancelled", "8", "rejected", "3"), "cancelled"},
		{"shipped beyond open", mk("ordered", "10", "cancelled", "3", "shipped", "8"), "shipped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.bs.Validate()
			if tc.field == "" {
				assert.NoError(t, err, "buckets %v", tc.bs)
				return
			}
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, "buckets %v", tc.bs)
			assert.True(t, ve.Has(tc.field), "%s: want violation of %s in %v", tc.name, tc.field, err)
		})
	}
}

func TestQuantityEventJSON(t *testing.T) {
	e := delta("L1", canonical.BucketShipped, "2.5", h, "wms/ship-1")
	data, err := json.Marshal(e)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"bucket":"shipped","kind":"delta","value":"2.5"`)
	var back canonical.QuantityEvent
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, e.Value, back.Value)
	assert.True(t, e.AsOf.Equal(back.AsOf))
	for _, bad := range []string{`{"kind":"absolute"}`, `{"bucket":"packed"}`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &back), "input %s", bad)
	}
	assert.Equal(t, "QuantityEventKind(9)", canonical.QuantityEventKind(9).String())
	_, err = canonical.QuantityEventKind(0).MarshalText()
	assert.ErrorIs(t, err, canonical.ErrInvalid)
}

func TestLedgerSameMessageConflictError(t *testing.T) {
	var l canonical.Ledger
	err := l.Fold(oneLine("5"), []canonical.QuantityEvent{snap("L1", canonical.BucketShipped, "1", h, "m"), delta("L1", canonical.BucketShipped, "1", h, "m")})
	require.Error(t, err)
	assert.True(t, errors.Is(err, canonical.ErrLedgerConflict), "snapshot and delta under one message ID: %v", err)
}

// TestLedgerFoldSortPaths covers the comparison sort (many lines, few
// events) and long runs of one slot, in random orders.
func TestLedgerFoldSortPaths(t *testing.T) {
	mk := func(n int) canonical.Order {
		o := canonical.Order{ID: "o"}
		for i := range n {
			o.Lines = append(o.Lines, canonical.OrderLine{ID: "L" + strconv.Itoa(i), Quantity: canonical.MustParseQuantity("100", "EA")})
		}
		return o
	}
	var events []canonical.QuantityEvent
	for k := range 30 { // one long run: 30 deltas of 1 on L7 shipped, 3 of them redelivered
		events = append(events, delta("L7", canonical.BucketShipped, "1", time.Duration(k+1)*time.Minute, "ship-"+strconv.Itoa(k)))
	}
	events = append(events, events[3], events[9], events[27],
		snap("L199", canonical.BucketAllocated, "5", h, "alloc-a"),
		snap("L199", canonical.BucketAllocated, "6", 2*h, "alloc-b"),
		delta("L0", canonical.BucketCancelled, "2", h, "cx"))
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		perm := append([]canonical.QuantityEvent(nil), events...)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		o := mk(200)
		var l canonical.Ledger
		require.NoError(t, l.Fold(o.Lines, perm), "round %d", round)
		assert.Equal(t, "30", o.Lines[7].Buckets.Get(canonical.BucketShipped).String(), "round %d: L7 shipped", round)
		assert.Equal(t, "6", o.Lines[199].Buckets.Get(canonical.BucketAllocated).String(), "round %d: L199 allocated", round)
		assert.Equal(t, "2", o.Lines[0].Buckets.Get(canonical.BucketCancelled).String(), "round %d: L0 cancelled", round)
		assert.Equal(t, "100", o.Lines[50].Buckets.Get(canonical.BucketOrdered).String(), "round %d: untouched line keeps its base", round)
	}
}
