package erp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// order is the ERP's record of one accepted (or held) order.
type order struct {
	doc      canonical.Order
	number   string
	customer string
	lines    []lineState // parallel to doc.Lines
	hasRate  bool
	rate     TaxRate
	charged  bool               // the order's charges are on an invoice
	open     canonical.Decimal  // value not invoiced yet, for the credit check
	invoices []string           // invoice numbers, posting order
	ack      canonical.OrderAck // the ack that recorded this version
}

// lineState is what the ERP keeps of one order line besides the line.
type lineState struct {
	sku      string
	factor   canonical.Decimal // base units per line unit
	rejected bool
}

// acceptRecord is the result of an AcceptOrder call, kept by key.
type acceptRecord struct {
	fp  [32]byte
	ack canonical.OrderAck
}

// verdict is the ERP's judgement of an order. It is a scratch value of
// judge's callers, taken from verdicts and given back (putVerdict) once
// what they keep of it is copied out (cloneAck, keepTaxes): a verdict
// referenced from a kept ack would keep its 1 KB alive with the order.
type verdict struct {
	ack      canonical.OrderAck
	lines    []lineVerdict
	customer *Account
	hasRate  bool
	rate     TaxRate
	total    canonical.Decimal
	taxes    []canonical.Tax
	totals   canonical.Totals
	// Storage the ack and taxes point to, to save allocations.
	ackTotals canonical.Totals
	taxRate   canonical.Decimal
	taxable   canonical.Money
	tax       [1]canonical.Tax
	// The lines of an order of a few lines.
	fewLines [2]lineVerdict
	fewAcks  [2]canonical.AckLine
}

// lineVerdict is the judgement of one line.
type lineVerdict struct {
	rejected    bool
	factor      canonical.Decimal
	base        canonical.Decimal // quantity in base units
	price       canonical.Money   // ERP price per line unit
	backordered canonical.Decimal // in the line unit
}

// verdicts holds the verdicts judge fills.
var verdicts = sync.Pool{New: func() any { return new(verdict) }}

// putVerdict gives v back to verdicts, cleared so that the pool keeps no
// order's values alive. The caller no longer uses v nor anything that
// points into it.
func putVerdict(v *verdict) {
	*v = verdict{}
	verdicts.Put(v)
}

// keepTaxes returns a copy of ts sharing no memory with ts (nor with the
// verdict its rates and taxable amounts point into), in one allocation for
// the one tax judge computes.
func keepTaxes(ts []canonical.Tax) []canonical.Tax {
	if len(ts) != 1 {
		out := slices.Clone(ts)
		for i := range out {
			t := &out[i]
			if t.Rate != nil {
				r := *t.Rate
				t.Rate = &r
			}
			if t.Taxable != nil {
				m := *t.Taxable
				t.Taxable = &m
			}
		}
		return out
	}
	k := &struct {
		tax     [1]canonical.Tax
		rate    canonical.Decimal
		taxable canonical.Money
	}{tax: [1]canonical.Tax{ts[0]}}
	if t := &k.tax[0]; t.Rate != nil {
		k.rate, t.Rate = *t.Rate, &k.rate
	}
	if t := &k.tax[0]; t.Taxable != nil {
		k.taxable, t.Taxable = *t.Taxable, &k.taxable
	}
	return k.tax[:]
}

var one = canonical.DecimalFromInt(1)

// pct is 0.01, to turn a percent rate into a factor.
var pct = canonical.MustParseDecimal("0.01")

// checkOrder checks what the ERP needs of an order before it can judge it:
// ID, currency, sold-to, and per line an ID (unique), a SKU, a positive
// quantity in a valid unit and a unit price in the order currency.
func checkOrder(o *canonical.Order) []canonical.FieldError {
	var fes []canonical.FieldError
	add := func(field, msg string) { fes = append(fes, canonical.FieldError{Field: field, Message: msg}) }
	if o.ID == "" {
		add("id", "required")
	}
	if err := o.Currency.Validate(); err != nil {
		add("currency", "invalid currency "+strconv.Quote(string(o.Currency)))
	}
	if o.SoldTo.ID == "" {
		add("soldTo.id", "required")
	}
	if len(o.Lines) == 0 {
		add("lines", "at least one line is required")
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.ID == "" {
			add(at(i, ".id"), "required")
		} else {
			for j := range i {
				if o.Lines[j].ID == l.ID {
					add(at(i, ".id"), fmt.Sprintf("duplicate line ID %q (also at lines[%d])", l.ID, j))
					break
				}
			}
		}
		if l.Item.SKU == "" {
			add(at(i, ".item.sku"), "required")
		}
		if !l.Quantity.Value.IsPos() {
			add(at(i, ".quantity.value"), "must be > 0")
		}
		if err := l.Quantity.Unit.Validate(); err != nil {
			add(at(i, ".quantity.unit"), "invalid unit "+strconv.Quote(string(l.Quantity.Unit)))
		}
		if l.UnitPrice.Currency != o.Currency && (l.UnitPrice.Currency != "" || !l.UnitPrice.IsZero()) {
			add(at(i, ".unitPrice.currency"), fmt.Sprintf("must be the document currency %s, is %s", o.Currency, l.UnitPrice.Currency))
		}
		if l.UnitPrice.Sign() < 0 {
			add(at(i, ".unitPrice.amount"), "must not be negative")
		}
	}
	return fes
}

// at returns the path of a field of line i: at(2, ".id") is "lines[2].id".
func at(i int, field string) string {
	return "lines[" + strconv.Itoa(i) + "]" + field
}

// avail is the available-to-promise quantity of one SKU while an order is
// judged.
type avail struct {
	sku string
	qty canonical.Decimal
}

// ValidateOrder returns the ERP's verdict on order without any side
// effect; see the package documentation for the rules. A rejection or a
// hold is an ack; the error is CodeInvalid (wrapping a
// *canonical.ValidationError naming the fields) only when the order lacks
// what the ERP needs to judge it. ValidateOrder checks the fields it uses;
// [Memory.AcceptOrder], which stores the order, validates it in full.
func (m *Memory) ValidateOrder(ctx context.Context, o *canonical.Order) (canonical.OrderAck, error) {
	const op = "ValidateOrder"
	if err := ctxErr(ctx); err != nil {
		return canonical.OrderAck{}, err
	}
	if o == nil {
		return canonical.OrderAck{}, invalid(op, canonical.KindOrder, canonical.FieldError{Message: "order is nil"})
	}
	if fes := checkOrder(o); fes != nil {
		return canonical.OrderAck{}, invalid(op, canonical.KindOrder, fes...)
	}
	m.mu.RLock()
	v, err := m.judge(o, m.now())
	m.mu.RUnlock()
	if err != nil {
		return canonical.OrderAck{}, err
	}
	ack := cloneAck(v.ack)
	putVerdict(v)
	return ack, nil
}

// judge prices, taxes and credit-checks o as of now. The caller holds mu
// (for reading at least) and has checked o with checkOrder. The verdict is
// from verdicts: the caller gives it back with putVerdict when it has
// copied out what it keeps (an error leaves it to the collector).
func (m *Memory) judge(o *canonical.Order, now time.Time) (*verdict, error) {
	v := verdicts.Get().(*verdict)
	ack := &v.ack
	ack.OrderID, ack.OrderVersion, ack.Currency, ack.AckedAt = o.ID, o.Version, o.Currency, now
	if n := len(o.Lines); n <= len(v.fewLines) {
		v.lines, ack.Lines = v.fewLines[:n:n], v.fewAcks[:n:n]
	} else {
		v.lines, ack.Lines = make([]lineVerdict, n), make([]canonical.AckLine, n)
	}

	acct := m.accounts[o.SoldTo.ID]
	rejectAll := ""
	switch {
	case acct == nil:
		rejectAll = fmt.Sprintf("unknown customer %q", o.SoldTo.ID)
	case acct.Customer.Blocked:
		rejectAll = fmt.Sprintf("customer %s is blocked for new orders", acct.Customer.ID)
	}
	if rejectAll != "" {
		ack.Outcome = canonical.AckRejected
		ack.Messages = []canonical.AckMessage{{Code: "CUSTOMER", Severity: canonical.SeverityError, Text: rejectAll, Field: "soldTo.id"}}
		for i := range o.Lines {
			v.lines[i].rejected = true
			ack.Lines[i] = canonical.AckLine{LineID: o.Lines[i].ID, Result: canonical.LineRejected}
		}
		return v, nil
	}
	v.customer = acct

	// Available to promise per SKU, consumed line by line.
	var atpFew [4]avail
	atp := atpFew[:0] // consumed line by line; orders have few SKUs
	minor, ok := o.Currency.MinorUnits()
	if !ok {
		minor = 2 // as Money.Round does for an unknown currency
	}
	own := m.orders[o.ID] // nil when judged for acceptance: AcceptOrder takes it out first
	// extra is made when a line first needs it (a price changed, a
	// backorder).
	var extra []lineExtra
	extraOf := func(i int) *lineExtra {
		if extra == nil {
			extra = make([]lineExtra, len(o.Lines))
		}
		return &extra[i]
	}
	// The messages of every line share one array, made with the first
	// message: a line's messages are added while it is judged and sliced
	// off when the next line starts.
	var msgs []canonical.AckMessage
	room := len(o.Lines) + 2
	mstart := 0
	finish := func(k int) {
		if len(msgs) > mstart {
			ack.Lines[k].Messages = msgs[mstart:len(msgs):len(msgs)]
		}
		mstart = len(msgs)
	}
	subtotal := canonical.Decimal{}
	rejected, changed := 0, 0
	for i := range o.Lines {
		if i > 0 {
			finish(i - 1)
		}
		l := &o.Lines[i]
		lv := &v.lines[i]
		al := &ack.Lines[i]
		al.LineID = l.ID
		al.Result = canonical.LineAccepted
		item := m.items[l.Item.SKU]
		if item == nil {
			msgs = reject(withRoom(msgs, room), lv, al, at(i, ".item.sku"), "ITEM", fmt.Sprintf("unknown item %q", l.Item.SKU))
			rejected++
			continue
		}
		lv.factor = one
		if l.Quantity.Unit != item.BaseUnit {
			b, err := item.ToBase(canonical.NewQuantity(one, l.Quantity.Unit))
			if err != nil || b.Unit != item.BaseUnit {
				msgs = reject(withRoom(msgs, room), lv, al, at(i, ".quantity.unit"), "UOM", fmt.Sprintf("item %s is not sold in %s", item.SKU, l.Quantity.Unit))
				rejected++
				continue
			}
			lv.factor = b.Value
		}
		base, err := l.Quantity.Value.Mul(lv.factor)
		if err != nil {
			msgs = reject(withRoom(msgs, room), lv, al, at(i, ".quantity.value"), "QTY", "quantity too large")
			rejected++
			continue
		}
		lv.base = base
		entry, ok := m.price(item.SKU, acct.Customer.ID, o.Currency, base)
		if !ok {
			msgs = reject(withRoom(msgs, room), lv, al, at(i, ".unitPrice"), "PRICE", fmt.Sprintf("no price for %s in %s", item.SKU, o.Currency))
			rejected++
			continue
		}
		price, err := entry.UnitPrice.Mul(lv.factor)
		if err != nil {
			msgs = reject(withRoom(msgs, room), lv, al, at(i, ".unitPrice"), "PRICE", "price overflow")
			rejected++
			continue
		}
		lv.price = price
		amount, err := price.Mul(l.Quantity.Value)
		if err == nil {
			subtotal, err = subtotal.Add(amount.Amount.Round(minor))
		}
		if err != nil {
			return nil, invalid("ValidateOrder", canonical.KindOrder, canonical.FieldError{Field: at(i, ".quantity.value"), Message: "amount too large"})
		}
		if !l.UnitPrice.Amount.Equal(price.Amount) {
			al.Result = canonical.LinePriceChanged
			extraOf(i).price = price
			al.UnitPrice = &extraOf(i).price
			msgs = append(withRoom(msgs, room), canonical.AckMessage{Code: "PRICE", Severity: canonical.SeverityInfo,
				Text: "price " + price.String() + " replaces " + l.UnitPrice.String(), Field: at(i, ".unitPrice")})
		}
		// Available to promise.
		k := slices.IndexFunc(atp, func(a avail) bool { return a.sku == item.SKU })
		if k < 0 {
			a, _ := m.onHand[item.SKU].Sub(m.demand[item.SKU])
			if own != nil { // a later version replaces the promises of the recorded one
				for j := range own.doc.Lines {
					if own.lines[j].sku == item.SKU {
						a, _ = a.Add(openBase(&own.doc.Lines[j], own.lines[j]))
					}
				}
			}
			atp = append(atp, avail{sku: item.SKU, qty: a})
			k = len(atp) - 1
		}
		avail := atp[k].qty
		al.PromisedDate = promised(now, m.leadTime)
		if avail.Cmp(base) >= 0 {
			avail, _ = avail.Sub(base)
		} else {
			short := shortfall(avail, base, lv.factor, l.Quantity.Value)
			lv.backordered = short
			if al.Result == canonical.LinePriceChanged {
				msgs = append(withRoom(msgs, room), canonical.AckMessage{Code: "PRICE", Severity: canonical.SeverityWarning,
					Text: "backordered line repriced to " + price.String(), Field: at(i, ".unitPrice")})
			}
			al.Result = canonical.LineBackordered
			extraOf(i).back = canonical.NewQuantity(short, l.Quantity.Unit)
			q := extraOf(i).back
			al.Quantity = &extraOf(i).back
			al.PromisedDate = promised(now, m.backorderLeadTime)
			msgs = append(withRoom(msgs, room), canonical.AckMessage{Code: "ATP", Severity: canonical.SeverityWarning,
				Text: q.String() + " backordered", Field: at(i, ".quantity")})
			avail = canonical.Decimal{}
		}
		atp[k].qty = avail
		if al.Result != canonical.LineAccepted {
			changed++
		}
	}
	finish(len(o.Lines) - 1)
	if rejected == len(o.Lines) {
		ack.Outcome = canonical.AckRejected
		ack.Messages = append(ack.Messages, canonical.AckMessage{Code: "LINES", Severity: canonical.SeverityError, Text: "no line can be accepted"})
		return v, nil
	}

	// Charges, tax and totals.
	charges := canonical.Decimal{}
	for i, c := range o.Charges {
		var err error
		if charges, err = charges.Add(c.Amount.Amount); err != nil {
			return nil, invalid("ValidateOrder", canonical.KindOrder, canonical.FieldError{Field: "charges[" + strconv.Itoa(i) + "].amount", Message: "amount too large"})
		}
	}
	tax := canonical.Decimal{}
	var holds []canonical.Hold
	if rate, ok := m.taxRate(o, acct); ok {
		v.hasRate, v.rate = true, rate
		t, err := taxOn(subtotal, rate.Rate, o.Currency)
		if err != nil {
			return nil, invalid("ValidateOrder", canonical.KindOrder, canonical.FieldError{Field: "lines", Message: "tax too large"})
		}
		tax = t
		v.taxRate = rate.Rate
		v.taxable = canonical.NewMoney(subtotal, o.Currency)
		v.tax[0] = canonical.Tax{Type: "sales", Jurisdiction: rate.jurisdiction(), Rate: &v.taxRate, Taxable: &v.taxable, Amount: canonical.NewMoney(tax, o.Currency)}
		v.taxes = v.tax[:]
	} else {
		holds = append(holds, canonical.Hold{Kind: canonical.HoldTax, Code: "TAX", PlacedAt: now,
			Reason: "no sales-tax rate for the ship-to address"})
		ack.Messages = append(ack.Messages, canonical.AckMessage{Code: "TAX", Severity: canonical.SeverityWarning,
			Text: "tax could not be determined: no rate for the ship-to address", Field: "shipTo.address"})
	}
	total, err := subtotal.Add(charges)
	if err == nil {
		total, err = total.Add(tax)
	}
	if err != nil {
		return nil, invalid("ValidateOrder", canonical.KindOrder, canonical.FieldError{Field: "lines", Message: "total too large"})
	}
	v.total = total
	v.totals = canonical.Totals{
		Subtotal: canonical.NewMoney(subtotal, o.Currency).Round(),
		Charges:  canonical.NewMoney(charges, o.Currency).Round(),
		Tax:      canonical.NewMoney(tax, o.Currency).Round(),
		Total:    canonical.NewMoney(total, o.Currency).Round(),
	}
	ack.Totals = &v.ackTotals
	v.ackTotals = v.totals

	// Credit check.
	if lim := acct.Customer.CreditLimit; lim != nil && lim.Currency == o.Currency {
		exposure, err := acct.OpenBalance.Add(total)
		if err == nil {
			exposure, err = exposure.Add(m.openValue[acct.Customer.ID])
		}
		if own := m.orders[o.ID]; own != nil && own.customer == acct.Customer.ID && err == nil {
			exposure, err = exposure.Sub(own.open) // a later version replaces it
		}
		if err != nil || exposure.Cmp(lim.Amount) > 0 {
			text := fmt.Sprintf("credit limit %s exceeded: exposure %s", lim, canonical.NewMoney(exposure, o.Currency).Round())
			holds = append(holds, canonical.Hold{Kind: canonical.HoldCredit, Code: "CREDIT", Reason: text, PlacedAt: now})
			ack.Messages = append(ack.Messages, canonical.AckMessage{Code: "CREDIT", Severity: canonical.SeverityWarning, Text: text, Field: "soldTo.id"})
		}
	}
	switch {
	case len(holds) > 0:
		ack.Outcome = canonical.AckOnHold
		ack.Holds = holds
	case changed > 0 || rejected > 0:
		ack.Outcome = canonical.AckAcceptedWithChanges
	default:
		ack.Outcome = canonical.AckAccepted
	}
	return v, nil
}

// withRoom returns msgs, or when it is nil an empty slice of capacity n:
// the array the messages of an ack's lines share is made with the first.
func withRoom(msgs []canonical.AckMessage, n int) []canonical.AckMessage {
	if msgs == nil {
		return make([]canonical.AckMessage, 0, n)
	}
	return msgs
}

// reject marks a line rejected and appends its message to msgs.
func reject(msgs []canonical.AckMessage, lv *lineVerdict, al *canonical.AckLine, field, code, text string) []canonical.AckMessage {
	lv.rejected = true
	al.Result = canonical.LineRejected
	return append(msgs, canonical.AckMessage{Code: code, Severity: canonical.SeverityError, Text: text, Field: field})
}

// lineExtra holds the values an ack line points to.
type lineExtra struct {
	price canonical.Money
	back  canonical.Quantity
}

// promised returns the promised date for a lead time: the start of the day
// (UTC) the lead time ends in.
func promised(now time.Time, lead time.Duration) time.Time {
	return now.Add(lead).Truncate(24 * time.Hour)
}

// shortfall returns the quantity, in the line unit, of a line of qty
// (base quantity base, factor base units per line unit) that avail (base
// units, possibly negative) cannot cover. Only whole line units are
// confirmed when the line unit is a package.
func shortfall(avail, base, factor, qty canonical.Decimal) canonical.Decimal {
	if !avail.IsPos() {
		return qty
	}
	if factor.Equal(one) {
		if s, err := base.Sub(avail); err == nil {
			return s
		}
		return qty
	}
	a, okA := avail.Int64()
	q, okQ := qty.Int64()
	f, okF := factor.Int64()
	if !okA || !okQ || !okF || f <= 0 {
		return qty
	}
	return canonical.DecimalFromInt(q - a/f)
}

// price returns the price list entry for a quantity (in base units) of sku
// sold to customer in currency cur: the customer's own entry with the
// largest quantity break not above the quantity when there is one, else
// the list price with the largest such break.
func (m *Memory) price(sku, customer string, cur canonical.Currency, base canonical.Decimal) (Price, bool) {
	entries := m.prices[sku] // largest break first
	for _, who := range [2]string{customer, ""} {
		for _, e := range entries {
			if e.CustomerID == who && e.UnitPrice.Currency == cur && e.MinQuantity.Cmp(base) <= 0 {
				return e, true
			}
		}
	}
	return Price{}, false
}

// taxRate returns the rate for the order's ship-to address, or the address
// of the customer's ship-to party of the same ID.
func (m *Memory) taxRate(o *canonical.Order, acct *Account) (TaxRate, bool) {
	addr := o.ShipTo.Address
	if addr == nil {
		for _, st := range acct.Customer.ShipTo {
			if st.ID == o.ShipTo.ID || o.ShipTo.ID == "" {
				addr = st.Address
				break
			}
		}
	}
	if addr == nil {
		return TaxRate{}, false
	}
	if r, ok := m.taxes[addr.Country+"-"+addr.Region]; ok && addr.Region != "" {
		return r, true
	}
	r, ok := m.taxes[addr.Country]
	return r, ok
}

// taxOn returns the tax on amount at rate percent, rounded to the currency.
func taxOn(amount, rate canonical.Decimal, cur canonical.Currency) (canonical.Decimal, error) {
	f, err := rate.Mul(pct)
	if err != nil {
		return canonical.Decimal{}, err
	}
	t, err := canonical.NewMoney(amount, cur).Mul(f)
	if err != nil {
		return canonical.Decimal{}, err
	}
	return t.Round().Amount, nil
}

// fingerprint returns a hash of v's JSON encoding.
func fingerprint(v any) ([32]byte, error) {
	var b []byte
	var err error
	switch d := v.(type) {
	case canonical.Document:
		// json.Marshal's bytes, faster, in a pooled buffer.
		bp := encodeBuffers.Get().(*[]byte)
		b, err = canonical.AppendEncode((*bp)[:0], d)
		return sumEncoded(bp, b, err)
	case []canonical.InventoryPosition:
		b, err = encodePositions(d)
	default:
		b, err = json.Marshal(v)
	}
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// fingerprintOf is fingerprint of the document *d, which it does not keep:
// a document passed by value to fingerprint is copied to the heap.
func fingerprintOf[D canonical.Document](d *D) ([32]byte, error) {
	bp := encodeBuffers.Get().(*[]byte)
	b, err := canonical.AppendEncodeOf((*bp)[:0], d)
	return sumEncoded(bp, b, err)
}

// sumEncoded returns the hash of b, a document encoded in *bp, and puts bp
// back in encodeBuffers, keeping b's array in it unless it grew too large.
func sumEncoded(bp *[]byte, b []byte, err error) ([32]byte, error) {
	var sum [32]byte
	if err == nil {
		sum = sha256.Sum256(b)
		if cap(b) <= maxPooledEncoding {
			*bp = b
		}
	}
	encodeBuffers.Put(bp)
	return sum, err
}

// encodeBuffers holds the buffers fingerprint encodes documents in
// (*[]byte); one grown beyond maxPooledEncoding is left to the collector.
var encodeBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

const maxPooledEncoding = 64 << 10

// encodePositions encodes ps as json.Marshal does (appendPositions).
func encodePositions(ps []canonical.InventoryPosition) ([]byte, error) {
	if ps == nil {
		return []byte("null"), nil
	}
	return appendPositions(make([]byte, 0, 2+448*len(ps)), ps)
}

// AcceptOrder judges the order as [Memory.ValidateOrder] does and, unless
// it is rejected, records it under a new sales order number ("SO-000001",
// in the ack's refs as system "erp", type "salesOrder"), confirming each
// line and backordering what the inventory cannot cover. An order on hold
// is recorded too and accepted when its holds are released
// ([Memory.ReleaseHold]).
//
// AcceptOrder is idempotent by key: the same key returns the first ack and
// records nothing; the same key with another order is CodeConflict. An
// order already recorded is not recorded twice: a call with another key
// and a version not above the recorded one returns the first ack; a later
// version updates the order in place (same number), unless something has
// shipped, which is CodeConflict. An order that breaks
// [canonical.Order.Validate] is CodeInvalid.
func (m *Memory) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	const op = "AcceptOrder"
	if err := ctxErr(ctx); err != nil {
		return canonical.OrderAck{}, err
	}
	if key == "" {
		return canonical.OrderAck{}, invalid(op, "request", canonical.FieldError{Field: "key", Message: "required"})
	}
	if o == nil {
		return canonical.OrderAck{}, invalid(op, canonical.KindOrder, canonical.FieldError{Message: "order is nil"})
	}
	if fes := checkOrder(o); fes != nil {
		return canonical.OrderAck{}, invalid(op, canonical.KindOrder, fes...)
	}
	if err := o.Validate(); err != nil {
		return canonical.OrderAck{}, asInvalid(op, err)
	}
	fp, err := fingerprint(o)
	if err != nil {
		return canonical.OrderAck{}, asInvalid(op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec, ok := m.accepts[key]; ok {
		if rec.fp != fp {
			return canonical.OrderAck{}, errorf(connector.CodeConflict, op, "key %q was used for another order (%s version %d)", key, rec.ack.OrderID, rec.ack.OrderVersion)
		}
		return cloneAck(rec.ack), nil
	}
	prev := m.orders[o.ID]
	if prev != nil && o.Version <= prev.doc.Version {
		m.accepts[key] = acceptRecord{fp: fp, ack: prev.ack}
		return cloneAck(prev.ack), nil
	}
	if prev != nil {
		for i := range prev.doc.Lines {
			if prev.doc.Lines[i].Buckets.Get(canonical.BucketShipped).IsPos() {
				return canonical.OrderAck{}, errorf(connector.CodeConflict, op, "order %s (%s) has shipped: version %d cannot replace it", o.ID, prev.number, o.Version)
			}
		}
		m.removeDemand(prev)
		delete(m.orders, o.ID) // judged without its own exposure
	}
	now := m.now()
	v, err := m.judge(o, now)
	if err != nil {
		if prev != nil {
			m.orders[o.ID] = prev
			m.addDemand(prev)
		}
		return canonical.OrderAck{}, err
	}
	if v.ack.Outcome == canonical.AckRejected {
		if prev != nil { // a later version the ERP rejects leaves the order as it was
			m.orders[o.ID] = prev
			m.addDemand(prev)
		}
		ack := cloneAck(v.ack)
		putVerdict(v)
		m.accepts[key] = acceptRecord{fp: fp, ack: ack}
		return cloneAck(ack), nil
	}
	number := ""
	if prev != nil {
		number = prev.number
	} else {
		m.nextSO++
		number = padded("SO-", int64(m.nextSO), 6)
	}
	rec := m.record(o, v, number, now)
	v.ack.Refs = canonical.Refs{{System: System, Type: RefSalesOrder, Value: number, Version: strconv.FormatInt(o.Version, 10)}}
	ack := cloneAck(v.ack)
	putVerdict(v)
	rec.ack = ack
	m.orders[o.ID] = rec
	m.addDemand(rec)
	m.counts.Orders++
	m.accepts[key] = acceptRecord{fp: fp, ack: ack}
	return cloneAck(ack), nil
}

// record builds the ERP's record of an order it accepts or holds.
func (m *Memory) record(o *canonical.Order, v *verdict, number string, now time.Time) *order {
	rec := &order{number: number, customer: v.customer.Customer.ID, hasRate: v.hasRate, rate: v.rate, open: v.total,
		lines: make([]lineState, len(o.Lines))}
	d := *o
	d.Refs = o.Refs.With(canonical.ExternalRef{System: System, Type: RefSalesOrder, Value: number, Version: strconv.FormatInt(o.Version, 10)})
	if d.PaymentTerms == "" || d.PaymentTerms != v.customer.Customer.PaymentTerms {
		d.PaymentTerms = v.customer.Customer.PaymentTerms
	}
	d.Lines = slices.Clone(o.Lines)
	d.Extensions = o.Extensions.Clone()
	d.Holds = slices.Clone(v.ack.Holds)
	d.Taxes = keepTaxes(v.taxes)
	tot := v.totals
	d.Totals = &tot
	if d.SubmittedAt.IsZero() {
		d.SubmittedAt = now
	}
	d.AcceptedAt, d.RejectedAt, d.CancelledAt, d.ClosedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if len(d.Holds) == 0 {
		d.AcceptedAt = now
	}
	for i := range d.Lines {
		l := &d.Lines[i]
		l.Extensions = l.Extensions.Clone()
		lv := &v.lines[i]
		al := &v.ack.Lines[i]
		rec.lines[i] = lineState{sku: l.Item.SKU, factor: lv.factor, rejected: lv.rejected}
		var bs canonical.Buckets
		bs.Set(canonical.BucketOrdered, l.Quantity.Value)
		if lv.rejected {
			bs.Set(canonical.BucketRejected, l.Quantity.Value)
		} else {
			l.UnitPrice = lv.price
			l.PromisedDate = al.PromisedDate
			bs.Set(canonical.BucketConfirmed, l.Quantity.Value)
			bs.Set(canonical.BucketBackordered, lv.backordered)
		}
		l.Buckets = bs
		if item := m.items[l.Item.SKU]; item != nil && len(item.Refs) > 0 {
			l.Item.Refs = l.Item.Refs.With(item.Refs[0])
		}
	}
	rec.doc = d
	return rec
}

// openBase returns the open, unshipped quantity of a line in base units.
func openBase(l *canonical.OrderLine, st lineState) canonical.Decimal {
	if st.rejected {
		return canonical.Decimal{}
	}
	open, err := l.Buckets.NetOrdered()
	if err == nil {
		open, err = open.Sub(l.Buckets.Get(canonical.BucketShipped))
	}
	if err != nil || !open.IsPos() {
		return canonical.Decimal{}
	}
	b, err := open.Mul(st.factor)
	if err != nil {
		return canonical.Decimal{}
	}
	return b
}

// addDemand adds the open quantities and the uninvoiced value of an order
// to the ERP's totals; removeDemand takes them away.
func (m *Memory) addDemand(rec *order) {
	if v, err := m.openValue[rec.customer].Add(rec.open); err == nil {
		m.openValue[rec.customer] = v
	}
	for i := range rec.doc.Lines {
		st := rec.lines[i]
		if d, err := m.demand[st.sku].Add(openBase(&rec.doc.Lines[i], st)); err == nil {
			m.demand[st.sku] = d
		}
	}
}

func (m *Memory) removeDemand(rec *order) {
	if v, err := m.openValue[rec.customer].Sub(rec.open); err == nil {
		m.openValue[rec.customer] = v
	}
	for i := range rec.doc.Lines {
		st := rec.lines[i]
		if d, err := m.demand[st.sku].Sub(openBase(&rec.doc.Lines[i], st)); err == nil {
			m.demand[st.sku] = d
		}
	}
}

// ReleaseHold releases every active hold of kind on the order with the
// given canonical ID, as a credit controller or an approver would, and
// returns the ERP's view of the order; once no hold is active the order is
// accepted. CodeNotFound for an unknown order, CodeConflict when no hold of
// that kind is active.
func (m *Memory) ReleaseHold(ctx context.Context, orderID string, kind canonical.HoldKind) (canonical.Order, error) {
	const op = "ReleaseHold"
	if err := ctxErr(ctx); err != nil {
		return canonical.Order{}, err
	}
	if !kind.Valid() {
		return canonical.Order{}, invalid(op, "request", canonical.FieldError{Field: "kind", Message: fmt.Sprintf("unknown hold kind %q", kind)})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.orders[orderID]
	if rec == nil {
		return canonical.Order{}, errorf(connector.CodeNotFound, op, "order %q", orderID)
	}
	now := m.now()
	released, active := false, false
	for i := range rec.doc.Holds {
		h := &rec.doc.Holds[i]
		if !h.Active() {
			continue
		}
		if h.Kind == kind {
			h.ReleasedAt = now
			released = true
		} else {
			active = true
		}
	}
	if !released {
		return canonical.Order{}, errorf(connector.CodeConflict, op, "order %s (%s) has no active %s hold", orderID, rec.number, kind)
	}
	if !active && rec.doc.AcceptedAt.IsZero() {
		rec.doc.AcceptedAt = now
	}
	return cloneOrder(&rec.doc), nil
}

// GetOrder returns the ERP's view of the order with the given canonical ID:
// its lines at the ERP's prices with the confirmed, rejected, backordered,
// shipped, invoiced and returned buckets, its holds, taxes, totals and the
// sales order number in its refs. CodeNotFound when the ERP does not know
// it (never accepted, or rejected).
func (m *Memory) GetOrder(ctx context.Context, orderID string) (canonical.Order, error) {
	if err := ctxErr(ctx); err != nil {
		return canonical.Order{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	rec := m.orders[orderID]
	if rec == nil {
		return canonical.Order{}, errorf(connector.CodeNotFound, "GetOrder", "order %q", orderID)
	}
	return cloneOrder(&rec.doc), nil
}

// cloneOrder copies the parts of an order the ERP changes in place.
func cloneOrder(o *canonical.Order) canonical.Order {
	c := *o
	c.Lines = slices.Clone(o.Lines)
	c.Holds = slices.Clone(o.Holds)
	c.Extensions = o.Extensions.Clone()
	for i := range c.Lines {
		c.Lines[i].Extensions = c.Lines[i].Extensions.Clone()
	}
	if o.Totals != nil {
		t := *o.Totals
		c.Totals = &t
	}
	return c
}

// cloneAck copies an ack deeply, so callers cannot change the stored one.
func cloneAck(a canonical.OrderAck) canonical.OrderAck {
	c := a
	c.Lines = slices.Clone(a.Lines)
	for i := range c.Lines {
		l := &c.Lines[i]
		l.Messages = slices.Clone(l.Messages)
		if l.UnitPrice != nil {
			p := *l.UnitPrice
			l.UnitPrice = &p
		}
		if l.Quantity != nil {
			q := *l.Quantity
			l.Quantity = &q
		}
	}
	c.Holds = slices.Clone(a.Holds)
	c.Messages = slices.Clone(a.Messages)
	c.Refs = slices.Clone(a.Refs)
	if a.Totals != nil {
		t := *a.Totals
		c.Totals = &t
	}
	return c
}
