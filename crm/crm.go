package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/feedevent"
)

// System is the system name the CRM uses in its refs ("crm") and errors.
const System = "crm"

// Source is the CloudEvents source of the events on the CRM's order feed.
const Source = "urn:distsync:crm:memory"

// Ref types of the CRM's own identifiers in [canonical.Refs].
const (
	// RefAccount is the ref type of a CRM account ID.
	RefAccount = "account"
	// RefOpportunity is the ref type of an opportunity ID ("OPP-000001").
	RefOpportunity = "opportunity"
	// RefOrder is the ref type of the CRM's order number ("00000101").
	RefOrder = "order"
)

// maxPageSize caps the events of one page of the order feed.
const maxPageSize = 1000

// ErrInvalidConfig is matched by the error [New] and [Config.Validate] return for
// a configuration that breaks a rule; the error names the entry.
var ErrInvalidConfig = errors.New("crm: invalid configuration")

// Account is a customer account in the CRM. It is a plain value. The zero
// value is an empty account. It is safe for concurrent reads.
type Account struct {
	// ID is the CRM's account ID.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// CustomerID is the canonical ID of the customer in the ERP, used as
	// the sold-to party of the account's orders.
	CustomerID string `json:"customerId"`
	// Currency is the currency of the account's opportunities.
	Currency canonical.Currency `json:"currency"`
	// ShipTo is where the account's orders ship by default.
	ShipTo canonical.PartyRef `json:"shipTo"`
}

// OpportunityLine is one product line of an opportunity. The zero value is
// an empty line. It is a plain value, safe for concurrent reads.
type OpportunityLine struct {
	SKU      string
	Quantity canonical.Quantity
	// UnitPrice is the price the rep quoted; the ERP may change it.
	UnitPrice canonical.Money
	// Extensions are the line's custom fields; they become the order
	// line's extensions.
	Extensions canonical.Extensions
}

// Opportunity is a sales opportunity of an account. It is a plain value.
// The zero value is an empty opportunity. It is safe for concurrent reads.
type Opportunity struct {
	// ID is assigned by [Memory.OpenOpportunity] ("OPP-000001").
	ID        string
	AccountID string
	Name      string
	// CustomerPO is the customer's purchase order number, if any.
	CustomerPO string
	// ShipTo overrides the account's ship-to party when its ID is set.
	ShipTo canonical.PartyRef
	// RequestedDeliveryDate is the customer's wish, if any.
	RequestedDeliveryDate time.Time
	Lines                 []OpportunityLine
	// Extensions are the opportunity's custom fields (a cost centre, a
	// promotion code); they become the order's extensions.
	Extensions canonical.Extensions
	// OrderID is the canonical ID of the order it was converted into,
	// empty while it is open.
	OrderID string
}

// Config configures a [Memory]. Its zero value is the demo world. In JSON
// (a fixture, see [ParseConfig]) it is {"accounts": [...]}; Clock is not
// encoded. New reads it once; a Config is a plain value, safe for
// concurrent reads, and its Clock must be safe for concurrent use.
type Config struct {
	// Accounts are the CRM's accounts; nil (absent in JSON) means
	// [DemoAccounts], an empty non-nil slice none.
	Accounts []Account `json:"accounts,omitzero"`
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time `json:"-"`
}

// ParseConfig decodes a JSON fixture {"accounts": [...]} strictly (an
// unknown member or a second JSON value is an error) and validates it.
// Errors match [ErrInvalidConfig].
func ParseConfig(data []byte) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: fixture: %w", ErrInvalidConfig, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: fixture: data after the JSON object", ErrInvalidConfig)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks the configuration: every account has a unique ID, a
// customer ID, a valid currency and a ship-to party ID. The error matches
// [ErrInvalidConfig] and names the account.
func (c Config) Validate() error {
	_, err := newState(c.Accounts)
	return err
}

// DemoAccounts returns the demo accounts, new on every call: "ACC-0001" to
// "ACC-0003" for the erp demo customers "C-1" to "C-3", in USD, each
// shipping to its "C-n-DC" party.
func DemoAccounts() []Account {
	mk := func(n int, name, line, city, region, postal string) Account {
		id := fmt.Sprintf("C-%d", n)
		addr := &canonical.Address{Name: name, Lines: []string{line}, City: city, Region: region, PostalCode: postal, Country: "US"}
		return Account{ID: fmt.Sprintf("ACC-%04d", n), Name: name, CustomerID: id, Currency: "USD",
			ShipTo: canonical.PartyRef{ID: id + "-DC", Name: name, Address: addr}}
	}
	return []Account{
		mk(1, "Acme Hardware", "1 Dock Road", "Springfield", "IL", "62701"),
		mk(2, "Borealis Supply", "900 NW Front Ave", "Portland", "OR", "97209"),
		mk(3, "Cobalt Tools", "12 Congress Ave", "Austin", "TX", "78701"),
	}
}

// Counts counts the effects a CRM has had since its state was created. It
// is a plain value. The zero value counts nothing. It is safe for
// concurrent reads.
type Counts struct {
	// Opportunities opened and Orders converted from them.
	Opportunities, Orders int
	// StatusUpdates is how many published statuses changed what the CRM
	// shows; ignored older or repeated ones do not count.
	StatusUpdates int
	// AvailabilityUpdates is the same for availabilities.
	AvailabilityUpdates int
	// Returns is how many returns were authorized with AuthorizeReturn.
	Returns int
}

// availKey identifies an availability shown.
type availKey struct{ sku, location string }

// state is what survives a restart of a handle.
type state struct {
	mu       sync.RWMutex
	accounts map[string]Account
	opps     map[string]*Opportunity
	orders   map[string]*canonical.Order
	feed     eventFeed
	wake     chan struct{} // closed and replaced when the feed grows and waited reports a waiter
	// waited is set by a subscriber that took wake to wait on (it holds
	// mu for reading): an append nobody waits for replaces no channel.
	waited   atomic.Bool
	statuses map[string]connector.OrderStatus
	avail    map[availKey]connector.Availability
	counts   Counts
	nextOpp  int
	nextOrd  int
	// Cancellation requests (crm/cancel.go).
	seq     map[string]uint64 // cancellation requests per order
	nextCR  int
	returns map[string]*canonical.Return // authorized by AuthorizeReturn, by ID
	nextRet int
}

func newState(accounts []Account) (*state, error) {
	if accounts == nil {
		accounts = DemoAccounts()
	}
	st := &state{
		accounts: make(map[string]Account, len(accounts)),
		opps:     make(map[string]*Opportunity),
		orders:   make(map[string]*canonical.Order),
		statuses: make(map[string]connector.OrderStatus),
		avail:    make(map[availKey]connector.Availability),
		wake:     make(chan struct{}),
		seq:      make(map[string]uint64),
	}
	for i, a := range accounts {
		switch {
		case a.ID == "":
			return nil, fmt.Errorf("%w: accounts[%d]: no ID", ErrInvalidConfig, i)
		case a.CustomerID == "":
			return nil, fmt.Errorf("%w: accounts[%d]: no customer ID", ErrInvalidConfig, i)
		case a.Currency.Validate() != nil:
			return nil, fmt.Errorf("%w: accounts[%d]: invalid currency %q", ErrInvalidConfig, i, a.Currency)
		case a.ShipTo.ID == "":
			return nil, fmt.Errorf("%w: accounts[%d]: no ship-to party ID", ErrInvalidConfig, i)
		}
		if err := a.ShipTo.Validate(); err != nil {
			return nil, fmt.Errorf("%w: accounts[%d]: %w", ErrInvalidConfig, i, err)
		}
		if _, dup := st.accounts[a.ID]; dup {
			return nil, fmt.Errorf("%w: accounts[%d]: duplicate account ID %q", ErrInvalidConfig, i, a.ID)
		}
		st.accounts[a.ID] = a
	}
	return st, nil
}

// Memory is the in-memory CRM. Create it with [New]. It is safe for
// concurrent use; handles returned by [Memory.Reopen] share its state and
// are safe for concurrent use with it. The zero value is not usable.
type Memory struct {
	clock func() time.Time
	st    *state
}

var (
	_ connector.CRM                  = (*Memory)(nil)
	_ connector.StatusBatchPublisher = (*Memory)(nil)
	_ connector.HealthChecker        = (*Memory)(nil)
	_ connector.Subscriber           = (*Memory)(nil)
)

// New returns a CRM configured by cfg; see [Config] for the defaults. It
// returns an error matching [ErrInvalidConfig] for an invalid configuration.
func New(cfg Config) (*Memory, error) {
	st, err := newState(cfg.Accounts)
	if err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Memory{clock: clock, st: st}, nil
}

// Reopen returns a new handle over the same state, as a client restarted
// against the same CRM: what was converted and shown is there, and the
// cursors of m's feed are valid on it.
func (m *Memory) Reopen() *Memory { return &Memory{clock: m.clock, st: m.st} }

func (m *Memory) now() time.Time { return m.clock().UTC() }

// errorf returns a connector error of the CRM.
func errorf(code connector.Code, op, format string, args ...any) *connector.Error {
	return connector.NewError(code, System, op, fmt.Errorf(format, args...))
}

// invalid returns a CodeInvalid error wrapping a validation error of kind.
func invalid(op, kind string, fes ...canonical.FieldError) *connector.Error {
	return connector.NewError(connector.CodeInvalid, System, op, &canonical.ValidationError{Kind: kind, Errors: fes})
}

// ctxErr returns the cause of ctx's cancellation, or nil.
func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// Health reports that the CRM is reachable: nil, or the context's error.
func (m *Memory) Health(ctx context.Context) error { return ctxErr(ctx) }

// OpenOpportunity records a new opportunity for an account and returns it
// with its ID ("OPP-000001"); opp.ID and opp.OrderID are ignored.
// CodeNotFound for an unknown account; CodeInvalid, naming the fields, for
// an opportunity without lines or with a line lacking a SKU, a positive
// quantity in a valid unit or a price in the account's currency.
func (m *Memory) OpenOpportunity(ctx context.Context, opp Opportunity) (Opportunity, error) {
	const op = "OpenOpportunity"
	if err := ctxErr(ctx); err != nil {
		return Opportunity{}, err
	}
	st := m.st
	st.mu.Lock()
	defer st.mu.Unlock()
	acct, ok := st.accounts[opp.AccountID]
	if !ok {
		return Opportunity{}, errorf(connector.CodeNotFound, op, "account %q", opp.AccountID)
	}
	var fes []canonical.FieldError
	add := func(field, msg string) { fes = append(fes, canonical.FieldError{Field: field, Message: msg}) }
	if len(opp.Lines) == 0 {
		add("lines", "at least one line is required")
	}
	for i, l := range opp.Lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		if l.SKU == "" {
			add(p+".sku", "required")
		}
		if !l.Quantity.Value.IsPos() {
			add(p+".quantity.value", "must be > 0")
		}
		if l.Quantity.Unit.Validate() != nil {
			add(p+".quantity.unit", "invalid unit "+strconv.Quote(string(l.Quantity.Unit)))
		}
		if l.UnitPrice.Currency != acct.Currency {
			add(p+".unitPrice.currency", "must be the account currency "+string(acct.Currency))
		}
		if l.UnitPrice.Sign() < 0 {
			add(p+".unitPrice.amount", "must not be negative")
		}
		addExtensionErrors(add, p+".extensions", l.Extensions)
	}
	addExtensionErrors(add, "extensions", opp.Extensions)
	if opp.ShipTo.ID != "" {
		if err := opp.ShipTo.Validate(); err != nil {
			add("shipTo", err.Error())
		}
	}
	if fes != nil {
		return Opportunity{}, invalid(op, "opportunity", fes...)
	}
	st.nextOpp++
	o := opp
	o.ID = padded("OPP-", st.nextOpp, 6)
	o.OrderID = ""
	o.Lines = slices.Clone(opp.Lines)
	o.Extensions = opp.Extensions.Clone()
	for i := range o.Lines {
		o.Lines[i].Extensions = o.Lines[i].Extensions.Clone()
	}
	st.opps[o.ID] = &o
	st.counts.Opportunities++
	return cloneOpp(&o), nil
}

func cloneOpp(o *Opportunity) Opportunity {
	c := *o
	c.Lines = slices.Clone(o.Lines)
	c.Extensions = o.Extensions.Clone()
	for i := range c.Lines {
		c.Lines[i].Extensions = c.Lines[i].Extensions.Clone()
	}
	return c
}

// addExtensionErrors reports the violations of x under path.
func addExtensionErrors(add func(field, msg string), path string, x canonical.Extensions) {
	err := x.Validate()
	if err == nil {
		return
	}
	// Declared here: errors.As moves ve to the heap, for every call were
	// it declared before the check.
	var ve *canonical.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			add(path+fe.Field, fe.Message)
		}
	}
}

// Opportunity returns the opportunity with the given ID.
func (m *Memory) Opportunity(id string) (Opportunity, bool) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	o, ok := m.st.opps[id]
	if !ok {
		return Opportunity{}, false
	}
	return cloneOpp(o), true
}

// ConvertOpportunity converts an open opportunity into a submitted order
// and appends an [canonical.EventOrderSubmitted] event carrying it to the
// order feed. The order gets the canonical ID "ORD-000001" (the CRM is
// where orders start), lines "L1", "L2", ... and the refs of the account,
// the opportunity and the CRM's order number. Converting an opportunity
// again returns the same order and appends nothing. CodeNotFound for an
// unknown opportunity.
func (m *Memory) ConvertOpportunity(ctx context.Context, oppID string) (canonical.Order, error) {
	const op = "ConvertOpportunity"
	if err := ctxErr(ctx); err != nil {
		return canonical.Order{}, err
	}
	st := m.st
	st.mu.Lock()
	defer st.mu.Unlock()
	opp, ok := st.opps[oppID]
	if !ok {
		return canonical.Order{}, errorf(connector.CodeNotFound, op, "opportunity %q", oppID)
	}
	if opp.OrderID != "" {
		return cloneOrder(st.orders[opp.OrderID]), nil
	}
	acct := st.accounts[opp.AccountID]
	now := m.now()
	n := st.nextOrd + 1
	o := canonical.Order{
		ID:      padded("ORD-", n, 6),
		Version: 1,
		Refs: canonical.Refs{
			{System: System, Type: RefOpportunity, Value: opp.ID},
			{System: System, Type: RefOrder, Value: padded("", 100+n, 8)},
		},
		CustomerPO:            opp.CustomerPO,
		SoldTo:                canonical.PartyRef{ID: acct.CustomerID, Name: acct.Name, Refs: canonical.Refs{{System: System, Type: RefAccount, Value: acct.ID}}},
		ShipTo:                acct.ShipTo,
		Currency:              acct.Currency,
		OrderedAt:             now,
		RequestedDeliveryDate: opp.RequestedDeliveryDate,
		SubmittedAt:           now,
		Extensions:            opp.Extensions.Clone(),
	}
	if opp.ShipTo.ID != "" {
		o.ShipTo = opp.ShipTo
	}
	for i, l := range opp.Lines {
		o.Lines = append(o.Lines, canonical.OrderLine{
			ID: "L" + strconv.Itoa(i+1), Item: canonical.ItemRef{SKU: l.SKU}, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			Extensions: l.Extensions.Clone(),
		})
	}
	e, err := canonical.NewEvent(canonical.EventOrderSubmitted, &o)
	if err != nil { // the opportunity was checked when it was opened
		return canonical.Order{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	e.Subject = o.ID
	e.Time = now
	e.Sequence = 1
	e.CorrelationID = o.ID
	if err := st.appendLocked(op, e); err != nil {
		return canonical.Order{}, err
	}
	st.nextOrd = n
	st.orders[o.ID] = &o
	opp.OrderID = o.ID
	st.counts.Orders++
	return cloneOrder(&o), nil
}

// appendLocked gives e the feed's next event ID and the CRM's source,
// appends it to the order feed and wakes the subscribers. The caller holds
// st.mu for writing. It fails, appending nothing, only when e has an
// attribute the feed does not keep (feedevent.Keep): the CRM sets none.
func (st *state) appendLocked(op string, e canonical.Event) error {
	e.ID = padded("crm-evt-", st.feed.len()+1, 6)
	e.Source = Source
	fe, err := feedevent.Keep(e, Source)
	if err != nil {
		return connector.NewError(connector.CodeInternal, System, op, err)
	}
	st.feed.append(fe)
	if st.waited.Swap(false) {
		close(st.wake)
		st.wake = make(chan struct{})
	}
	return nil
}

func cloneOrder(o *canonical.Order) canonical.Order {
	c := *o
	c.Lines = slices.Clone(o.Lines)
	c.Refs = slices.Clone(o.Refs)
	c.Extensions = o.Extensions.Clone()
	for i := range c.Lines {
		c.Lines[i].Extensions = c.Lines[i].Extensions.Clone()
	}
	return c
}

// Order returns the order the CRM converted with the given canonical ID,
// as it was converted or last revised ([Memory.ReviseOrder]).
func (m *Memory) Order(orderID string) (canonical.Order, bool) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	o, ok := m.st.orders[orderID]
	if !ok {
		return canonical.Order{}, false
	}
	return cloneOrder(o), true
}

// PollOrders returns the order events after cursor, oldest first, at most
// limit of them ([connector.DefaultPageSize] when limit ≤ 0, capped at
// 1000). The cursor is the position in the feed; cursors stay valid
// across [Memory.Reopen]. An unknown cursor is CodeInvalid.
func (m *Memory) PollOrders(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollOrders"
	if err := ctxErr(ctx); err != nil {
		return connector.Page{}, err
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	limit = min(limit, maxPageSize)
	st := m.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	pos, err := st.position(op, cursor)
	if err != nil {
		return connector.Page{}, err
	}
	end := min(pos+limit, st.feed.len())
	p := connector.Page{Next: cursor, More: end < st.feed.len()}
	if end > pos {
		p.Events = st.feed.copy(pos, end)
		p.Next = connector.Cursor(strconv.Itoa(end))
	}
	return p, nil
}

// position returns the feed position of a cursor; the caller holds mu.
func (st *state) position(op string, cursor connector.Cursor) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(string(cursor))
	if err != nil || n < 0 || n > st.feed.len() || strconv.Itoa(n) != string(cursor) {
		return 0, invalid(op, "request", canonical.FieldError{Field: "cursor", Message: "unknown cursor " + strconv.Quote(string(cursor))})
	}
	return n, nil
}

// Subscribe calls fn for each order event after cursor, in feed order,
// with the cursor after that event, and then for each order converted
// later, as it is converted; it runs in the caller's goroutine until ctx is
// done (returning its cause) or fn returns an error, which it returns. fn
// is never called with a lock held, so it may call the CRM. An unknown
// cursor is CodeInvalid.
func (m *Memory) Subscribe(ctx context.Context, cursor connector.Cursor, fn func(ctx context.Context, e canonical.Event, next connector.Cursor) error) error {
	st := m.st
	st.mu.RLock()
	pos, err := st.position("Subscribe", cursor)
	st.mu.RUnlock()
	if err != nil {
		return err
	}
	for {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		st.mu.RLock()
		events := st.feed.copy(pos, st.feed.len())
		wake := st.wake
		if len(events) == 0 {
			st.waited.Store(true)
		}
		st.mu.RUnlock()
		for _, e := range events {
			pos++
			if err := fn(ctx, e, connector.Cursor(strconv.Itoa(pos))); err != nil {
				return err
			}
		}
		if len(events) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-wake:
		}
	}
}

// checkStatus returns the violations of a status update.
func checkStatus(s *connector.OrderStatus) []canonical.FieldError {
	var fes []canonical.FieldError
	if s.OrderID == "" {
		fes = append(fes, canonical.FieldError{Field: "orderId", Message: "required"})
	}
	if s.Sequence < 0 {
		fes = append(fes, canonical.FieldError{Field: "sequence", Message: "must be ≥ 0"})
	}
	if !s.Status.Commercial.Valid() {
		fes = append(fes, canonical.FieldError{Field: "status.commercial", Message: "invalid status"})
	}
	if !s.Status.Fulfillment.Valid() {
		fes = append(fes, canonical.FieldError{Field: "status.fulfillment", Message: "invalid status"})
	}
	if !s.Status.Billing.Valid() {
		fes = append(fes, canonical.FieldError{Field: "status.billing", Message: "invalid status"})
	}
	return fes
}

// PublishStatus shows s as the status of its order. It is idempotent by
// (OrderID, Sequence): an update with a sequence at or below the one shown
// is ignored without error. CodeNotFound for an order the CRM did not
// convert; CodeInvalid, naming the fields, for an update without an order
// ID, with a negative sequence or an invalid status.
func (m *Memory) PublishStatus(ctx context.Context, s connector.OrderStatus) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	st := m.st
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.publish("PublishStatus", &s)
}

// publish applies one status update; the caller holds mu.
func (st *state) publish(op string, s *connector.OrderStatus) error {
	if fes := checkStatus(s); fes != nil {
		return invalid(op, "order_status", fes...)
	}
	if _, ok := st.orders[s.OrderID]; !ok {
		return errorf(connector.CodeNotFound, op, "order %q", s.OrderID)
	}
	cur, ok := st.statuses[s.OrderID]
	if ok && s.Sequence <= cur.Sequence {
		return nil
	}
	st.statuses[s.OrderID] = cloneStatus(s, cur.Lines)
	st.counts.StatusUpdates++
	return nil
}

// PublishStatuses publishes several status updates in one call, with the
// contract of [Memory.PublishStatus] for each: the result has one error
// (or nil) per update. The second result is the context's error, in which
// case nothing was published.
func (m *Memory) PublishStatuses(ctx context.Context, updates []connector.OrderStatus) ([]error, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	errs := make([]error, len(updates))
	st := m.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range updates {
		errs[i] = st.publish("PublishStatuses", &updates[i])
	}
	return errs, nil
}

// cloneStatus returns a copy of s that shares no slice with it. Its lines
// are copied into lines (the lines of the status it replaces, which nobody
// else holds: ShownStatus returns copies) when they fit, else into a new
// slice.
func cloneStatus(s *connector.OrderStatus, lines []connector.LineStatus) connector.OrderStatus {
	c := *s
	if lines != nil && s.Lines != nil && len(s.Lines) <= cap(lines) {
		c.Lines = append(lines[:0], s.Lines...)
	} else {
		c.Lines = slices.Clone(s.Lines)
	}
	c.Holds = slices.Clone(s.Holds)
	c.TrackingNumbers = slices.Clone(s.TrackingNumbers)
	c.Messages = slices.Clone(s.Messages)
	c.Returns = slices.Clone(s.Returns)
	for i := range c.Returns {
		c.Returns[i].Lines = slices.Clone(c.Returns[i].Lines)
		c.Returns[i].Credits = slices.Clone(c.Returns[i].Credits)
	}
	c.Changes = slices.Clone(s.Changes)
	for i := range c.Changes {
		r := &c.Changes[i]
		r.Messages = slices.Clone(r.Messages)
		if r.Applied != nil {
			a := *r.Applied
			r.Applied = &a
		}
		if r.Refused != nil {
			f := *r.Refused
			r.Refused = &f
		}
	}
	return c
}

// Source returns [Source], the CloudEvents source of the events on the
// CRM's order feed, so that a consumer such as flow can tell them from
// events of other origins.
func (m *Memory) Source() string { return Source }

// ShownStatus returns the status the CRM shows for an order, and false
// when it shows none.
func (m *Memory) ShownStatus(orderID string) (connector.OrderStatus, bool) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	s, ok := m.st.statuses[orderID]
	if !ok {
		return connector.OrderStatus{}, false
	}
	return cloneStatus(&s, nil), true
}

// PublishAvailability shows the given availabilities. It is idempotent by
// (SKU, Location, Sequence): an availability with a sequence at or below
// the one shown for its SKU and location is ignored. CodeInvalid, naming
// items[i] and the field, when any item lacks a SKU or a location, has a
// negative sequence or an invalid unit; then nothing is shown.
func (m *Memory) PublishAvailability(ctx context.Context, items []connector.Availability) error {
	const op = "PublishAvailability"
	if err := ctxErr(ctx); err != nil {
		return err
	}
	var fes []canonical.FieldError
	for i, a := range items {
		p := "items[" + strconv.Itoa(i) + "]"
		if a.SKU == "" {
			fes = append(fes, canonical.FieldError{Field: p + ".sku", Message: "required"})
		}
		if a.Location == "" {
			fes = append(fes, canonical.FieldError{Field: p + ".location", Message: "required"})
		}
		if a.Sequence < 0 {
			fes = append(fes, canonical.FieldError{Field: p + ".sequence", Message: "must be ≥ 0"})
		}
		if a.Available.Unit.Validate() != nil {
			fes = append(fes, canonical.FieldError{Field: p + ".available.unit", Message: "invalid unit " + strconv.Quote(string(a.Available.Unit))})
		}
	}
	if fes != nil {
		return invalid(op, "availability", fes...)
	}
	st := m.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, a := range items {
		k := availKey{a.SKU, a.Location}
		if cur, ok := st.avail[k]; ok && a.Sequence <= cur.Sequence {
			continue
		}
		st.avail[k] = a
		st.counts.AvailabilityUpdates++
	}
	return nil
}

// ShownAvailability returns the availability the CRM shows for an item at
// a location, and false when it shows none.
func (m *Memory) ShownAvailability(sku, location string) (connector.Availability, bool) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	a, ok := m.st.avail[availKey{sku, location}]
	return a, ok
}

// Counts returns the effects so far.
func (m *Memory) Counts() Counts {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	return m.st.counts
}

// padded returns prefix and n ≥ 0 in decimal, zero-padded to width
// digits, as fmt.Sprintf(prefix+"%0*d", width, n) does, in one
// allocation.
func padded(prefix string, n, width int) string {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	var b strings.Builder
	b.Grow(len(prefix) + max(width, len(d)))
	b.WriteString(prefix)
	for range width - len(d) {
		b.WriteByte('0')
	}
	b.Write(d)
	return b.String()
}

// feedChunk is the number of events per chunk of an [eventFeed].
const feedChunk = 1024

// eventFeed is the append-only order feed, held in chunks of feedChunk
// events so that appending copies no event already held beyond the first
// chunk, which grows as a slice does (a CRM with a few orders keeps no
// full chunk).
type eventFeed struct {
	chunks [][]feedevent.Event
	n      int
}

func (f *eventFeed) len() int { return f.n }

func (f *eventFeed) append(e feedevent.Event) {
	if f.n%feedChunk == 0 {
		var c []feedevent.Event
		if f.n > 0 {
			c = make([]feedevent.Event, 0, feedChunk)
		}
		f.chunks = append(f.chunks, c)
	}
	c := &f.chunks[len(f.chunks)-1]
	*c = append(*c, e)
	f.n++
}

// copy returns a copy of the events from position pos (the number of
// events before it) up to end, nil when there are none.
func (f *eventFeed) copy(pos, end int) []canonical.Event {
	if pos >= end {
		return nil
	}
	out := make([]canonical.Event, 0, end-pos)
	for pos < end {
		c := f.chunks[pos/feedChunk]
		k := pos % feedChunk
		r := c[k:min(len(c), k+end-pos)]
		for i := range r {
			out = append(out, r[i].Event(Source))
		}
		pos += len(r)
	}
	return out
}
