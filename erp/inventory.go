package erp

import (
	"context"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// stockKey identifies one ledger position.
type stockKey struct {
	sku, location, lot string
	status             canonical.InventoryStatus
}

// position is one ledger position, in the item's base unit.
type position struct {
	seq    int64
	asOf   time.Time
	onHand canonical.Decimal
}

// ApplyInventory applies warehouse positions to the ERP's inventory ledger,
// which is kept per item, location, lot and status in the item's base unit.
// A snapshot replaces the position's on-hand quantity; a delta adds to it.
// A position not newer than the one held (by Sequence, then AsOf) is
// ignored, so stale and repeated positions change nothing. Available-to-
// promise is the on-hand quantity of status available, less the open
// quantity of the orders the ERP holds.
//
// ApplyInventory is idempotent by key; the same key with other positions
// is CodeConflict. A position that breaks
// [canonical.InventoryPosition.Validate], or names an unknown item or a
// unit the item is not kept in, is CodeInvalid naming positions[i]; then
// nothing is applied.
func (m *Memory) ApplyInventory(ctx context.Context, key string, positions []canonical.InventoryPosition) error {
	const op = "ApplyInventory"
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if key == "" {
		return invalid(op, "request", canonical.FieldError{Field: "key", Message: "required"})
	}
	fp, err := positionsFingerprint(positions)
	if err != nil {
		return asInvalid(op, err)
	}
	k := invKeyOf(key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.invKeys[k]; ok {
		if prev != fp {
			return errorf(connector.CodeConflict, op, "key %q was used for other positions", key)
		}
		return nil
	}
	changed, err := m.applyPositions(positions, "positions")
	if err != nil {
		return asInvalid(op, err)
	}
	if changed {
		m.counts.InventoryApplications++
	}
	m.invKeys[k] = fp
	return nil
}

// invKey stands for an ApplyInventory key in Memory.invKeys: a 128-bit
// hash of it, two maphash sums under seeds of the process, equal for two
// different keys as rarely as two random UUIDs are. The map then holds
// no strings: the collector has nothing in it to scan, and growing it
// rehashes 16 bytes per key instead of reading every key again.
type invKey [2]uint64

// invKeySeeds are the seeds of the two halves of an invKey.
var invKeySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// invKeyOf returns the invKey of key.
func invKeyOf(key string) invKey {
	return invKey{maphash.String(invKeySeeds[0], key), maphash.String(invKeySeeds[1], key)}
}

// positionsFingerprint returns a 128-bit hash of ps encoded as json.Marshal
// does (encoded in a pooled buffer): two maphash sums under seeds of the
// process. It only tells whether a key comes back with other positions;
// the keys and their fingerprints live in this process's memory, and two
// fingerprints of different positions are equal as rarely as two random
// UUIDs are. Unlike a SHA-256 (fingerprint), it costs little next to the
// rest of ApplyInventory, which makes one per push of the flow.
func positionsFingerprint(ps []canonical.InventoryPosition) (positionsFP, error) {
	if ps == nil {
		return fingerprintBytes([]byte("null")), nil
	}
	bp := positionBuffers.Get().(*[]byte)
	b, err := appendPositions((*bp)[:0], ps)
	var fp positionsFP
	if err == nil {
		fp = fingerprintBytes(b)
		if cap(b) <= maxPooledPositions {
			*bp = b
		}
	}
	positionBuffers.Put(bp)
	return fp, err
}

// positionsFP is the fingerprint of the positions of an ApplyInventory.
type positionsFP [2]uint64

// positionSeeds are the seeds of the two halves of a positionsFP.
var positionSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// fingerprintBytes returns the positionsFP of the encoding b.
func fingerprintBytes(b []byte) positionsFP {
	return positionsFP{maphash.Bytes(positionSeeds[0], b), maphash.Bytes(positionSeeds[1], b)}
}

// positionBuffers holds the buffers positionsFingerprint encodes in
// (*[]byte).
var positionBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 2048)
	return &b
}}

// maxPooledPositions is the largest buffer positionsFingerprint keeps.
const maxPooledPositions = 64 << 10

// appendPositions appends the non-nil ps encoded as json.Marshal does,
// with canonical.AppendEncode for each.
func appendPositions(b []byte, ps []canonical.InventoryPosition) ([]byte, error) {
	b = append(b, '[')
	for i := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = canonical.AppendEncode(b, &ps[i]); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// applyPositions checks every position and, when all are valid, applies
// them, reporting whether any changed the ledger. It returns a
// *canonical.ValidationError naming prefix[i].field. The caller holds mu.
func (m *Memory) applyPositions(positions []canonical.InventoryPosition, prefix string) (bool, error) {
	type conv struct {
		key    stockKey
		onHand canonical.Decimal
	}
	var small [4]conv // most pushes are one position per status
	var convs []conv
	if len(positions) > len(small) {
		convs = make([]conv, len(positions))
	} else {
		convs = small[:len(positions)]
	}
	var fes []canonical.FieldError
	for i := range positions {
		p := &positions[i]
		// The path is built for an error only: most positions are valid.
		at := func() string { return prefix + "[" + strconv.Itoa(i) + "]" }
		if err := p.Validate(); err != nil {
			if ve, ok := err.(*canonical.ValidationError); ok {
				for _, fe := range ve.Errors {
					fes = append(fes, canonical.FieldError{Field: strings.TrimSuffix(at()+"."+fe.Field, "."), Message: fe.Message})
				}
			} else {
				fes = append(fes, canonical.FieldError{Field: at(), Message: err.Error()})
			}
			continue
		}
		item := m.items[p.Item.SKU]
		if item == nil {
			fes = append(fes, canonical.FieldError{Field: at() + ".item.sku", Message: "unknown item " + strconv.Quote(p.Item.SKU)})
			continue
		}
		q, err := item.ToBase(p.OnHand)
		if err != nil || q.Unit != item.BaseUnit {
			fes = append(fes, canonical.FieldError{Field: at() + ".onHand.unit", Message: "item " + item.SKU + " is not kept in " + string(p.OnHand.Unit)})
			continue
		}
		convs[i] = conv{key: stockKey{sku: p.Item.SKU, location: p.Location, lot: p.Lot, status: p.Status}, onHand: q.Value}
	}
	if fes != nil {
		return false, &canonical.ValidationError{Kind: canonical.KindInventoryPosition, Errors: fes}
	}
	changed := false
	for i := range positions {
		p := &positions[i]
		c := convs[i]
		cur := m.stock[c.key]
		if cur != nil && (p.Sequence < cur.seq || (p.Sequence == cur.seq && !p.AsOf.After(cur.asOf))) {
			continue // stale or repeated
		}
		old := canonical.Decimal{}
		next := c.onHand
		if cur != nil {
			old = cur.onHand
			if p.Kind == canonical.QuantityDelta {
				var err error
				if next, err = old.Add(c.onHand); err != nil {
					continue
				}
			}
		} else {
			cur = &position{}
			m.stock[c.key] = cur
		}
		cur.seq, cur.asOf, cur.onHand = p.Sequence, p.AsOf, next
		changed = true
		if c.key.status == canonical.InventoryAvailable {
			diff, err := next.Sub(old)
			if err == nil {
				if sum, err := m.onHand[c.key.sku].Add(diff); err == nil {
					m.onHand[c.key.sku] = sum
				}
			}
		}
	}
	return changed, nil
}

// Stock returns the on-hand quantity the ledger holds for sku at location
// (any lot) with status available, in the item's base unit, and whether the
// ledger has such a position.
func (m *Memory) Stock(sku, location string) (canonical.Quantity, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	item := m.items[sku]
	if item == nil {
		return canonical.Quantity{}, false
	}
	sum, found := canonical.Decimal{}, false
	for k, p := range m.stock {
		if k.sku == sku && k.location == location && k.status == canonical.InventoryAvailable {
			found = true
			if s, err := sum.Add(p.onHand); err == nil {
				sum = s
			}
		}
	}
	return canonical.NewQuantity(sum, item.BaseUnit), found
}

// AvailableToPromise returns what the ERP can still promise of sku, in the
// item's base unit: the available on-hand quantity of every location less
// the open quantity of the orders it holds. It is negative when more is
// promised than on hand. The second result is false for an unknown item.
func (m *Memory) AvailableToPromise(sku string) (canonical.Quantity, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	item := m.items[sku]
	if item == nil {
		return canonical.Quantity{}, false
	}
	atp, _ := m.onHand[sku].Sub(m.demand[sku])
	return canonical.NewQuantity(atp, item.BaseUnit), true
}

// Items returns the items the ERP sells, sorted by SKU.
func (m *Memory) Items() []canonical.Item {
	out := make([]canonical.Item, 0, len(m.items))
	for _, it := range m.items {
		out = append(out, *it)
	}
	slices.SortFunc(out, func(a, b canonical.Item) int { return strings.Compare(a.SKU, b.SKU) })
	return out
}
