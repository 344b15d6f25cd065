package erp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// System is the system name the ERP uses in its refs ("erp") and in the
// errors it returns.
const System = "erp"

// Ref types of the ERP's own identifiers in [canonical.Refs].
const (
	// RefSalesOrder is the ref type of the ERP's sales order number
	// ("SO-000001").
	RefSalesOrder = "salesOrder"
	// RefInvoice is the ref type of an invoice or credit memo number.
	RefInvoice = "invoice"
	// RefReturn is the ref type of a return the ERP authorized
	// ("ERET-000001").
	RefReturn = "return"
)

// ErrInvalidConfig is matched by the error [New] and [Config.Validate] return for
// a configuration that breaks a rule; the error names the entry.
var ErrInvalidConfig = errors.New("erp: invalid configuration")

// Account is a customer as the ERP holds it: the customer master data and
// its open balance. It is a plain value. The zero value is an empty
// account. It is safe for concurrent reads.
type Account struct {
	// Customer is the master data: ID, currency, payment terms, credit
	// limit (nil for none) and Blocked, which makes the ERP reject every
	// new order of the customer.
	Customer canonical.Customer `json:"customer"`
	// OpenBalance is what the customer owes on posted invoices, in the
	// customer's currency. Posting an invoice raises it, a credit memo
	// lowers it.
	OpenBalance canonical.Decimal `json:"openBalance"`
}

// Price is one entry of the price list: the price of one base unit of an
// item from a quantity on. It is a plain value. The zero value is an empty
// entry. It is safe for concurrent reads.
type Price struct {
	SKU string `json:"sku"`
	// CustomerID makes the entry a customer-specific price; empty is the
	// list price. A customer's own entry takes precedence over the list
	// price whenever its quantity break applies.
	CustomerID string `json:"customerId,omitempty"`
	// MinQuantity is the quantity break, in the item's base unit: the
	// entry applies to lines of at least this quantity. Zero applies from
	// the first unit.
	MinQuantity canonical.Decimal `json:"minQuantity"`
	// UnitPrice is the price of one base unit.
	UnitPrice canonical.Money `json:"unitPrice"`
}

// TaxRate is the sales-tax rate of a ship-to country and region. It is a
// plain value. The zero value is an empty rate. It is safe for concurrent
// reads.
type TaxRate struct {
	// Country is an ISO 3166-1 alpha-2 code.
	Country string `json:"country"`
	// Region is the region code as on addresses ("IL"); empty is the rate
	// of the whole country, used when no region rate matches.
	Region string `json:"region,omitempty"`
	// Rate is in percent: 6.25 for 6.25 %.
	Rate canonical.Decimal `json:"rate"`
}

// jurisdiction returns "US-IL" or "US".
func (r TaxRate) jurisdiction() string {
	if r.Region == "" {
		return r.Country
	}
	return r.Country + "-" + r.Region
}

// Config configures a [Memory]. Its zero value is the demo world; a nil
// slice means the demo data, an empty non-nil slice means none.
//
// A Config can be kept as a JSON fixture: see [Config.MarshalJSON] and
// [ParseConfig]. New reads it once; a Config is a plain value, safe for
// concurrent reads, and its Clock must be safe for concurrent use.
type Config struct {
	// Accounts are the customers; nil means [DemoAccounts].
	Accounts []Account
	// Items are the items the ERP sells; nil means [DemoItems].
	Items []canonical.Item
	// Prices is the price list; nil means [DemoPrices]. An item without a
	// price is rejected on orders like an unknown one.
	Prices []Price
	// TaxRates are the sales-tax rates; nil means [DemoTaxRates]. An order
	// shipped to a place without a rate is put on a tax hold.
	TaxRates []TaxRate
	// Stock is the initial inventory ledger; nil means [DemoStock].
	Stock []canonical.InventoryPosition
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// LeadTime is the time from acceptance to the promised date of a line
	// in stock; zero means 48 hours.
	LeadTime time.Duration
	// BackorderLeadTime is the same for a backordered line; zero means 14
	// days.
	BackorderLeadTime time.Duration
}

// Validate checks the configuration: unique customer IDs and SKUs, valid
// customers and items, prices and positions of known items in valid
// currencies, and non-negative rates and lead times. The error matches
// [ErrInvalidConfig] and names the offending entry.
func (c Config) Validate() error {
	_, err := build(c)
	return err
}

// Memory is the in-memory ERP. Create it with [New]. It is safe for
// concurrent use: every method takes one lock, and no method calls out
// while holding it. Handles returned by [Memory.Reopen] share its state and
// are safe for concurrent use with it. The zero value is not usable.
type Memory struct {
	*core
}

// Reopen returns a new handle over the same state, as a client restarted
// against the same ERP: orders, invoices, the ledger and the idempotency
// keys of earlier calls are there.
func (m *Memory) Reopen() *Memory { return &Memory{core: m.core} }

// core is the state of an ERP, shared by the handles of [Memory.Reopen].
type core struct {
	clock             func() time.Time
	leadTime          time.Duration
	backorderLeadTime time.Duration
	items             map[string]*canonical.Item
	prices            map[string][]Price // by SKU, sorted by MinQuantity descending
	taxes             map[string]TaxRate // by "US-IL" and "US"

	mu        sync.RWMutex
	accounts  map[string]*Account
	orders    map[string]*order // by canonical order ID
	accepts   map[string]acceptRecord
	shipments map[string]postRecord // by key
	shipByID  map[string]string     // shipment ID → invoice number
	shipKeys  map[string]string     // invoice number → first key
	returns   map[string]postRecord // by key
	retByID   map[string]string     // return ID → credit memo number
	retKeys   map[string]string     // credit memo number → first key
	invoices  map[string]*canonical.Invoice
	invOrder  []string // invoice and credit memo numbers in posting order
	stock     map[stockKey]*position
	onHand    map[string]canonical.Decimal // available on hand per SKU, base unit
	demand    map[string]canonical.Decimal // open accepted demand per SKU, base unit
	openValue map[string]canonical.Decimal // uninvoiced value of open orders per customer
	invKeys   map[invKey]positionsFP       // ApplyInventory key → fingerprint
	nextSO    int
	nextInv   int
	nextCM    int
	counts    Counts
	// Event feed and cancellations (erp/feed.go, erp/cancel.go).
	feed    eventFeed
	cancels map[string]cancelRecord // CancelOrderLines by key
	changes map[string]changeRecord // ChangeOrder by key (erp/change.go)
	nextCR  int
	nextRet int // returns authorized with RequestReturn (erp/returns.go)
	// Amendments (erp/amend.go).
	amendRev  map[string]int64    // last revision per order ID
	amendKeys map[string][32]byte // ReportAmendment by key
	nextAM    int
}

// Counts counts the effects a [Memory] has had since it was created. It is
// a plain value. The zero value counts nothing. It is safe for concurrent
// reads.
type Counts struct {
	// Orders is how many orders AcceptOrder recorded or updated (held
	// orders included, rejected ones not).
	Orders int
	// Invoices is how many invoices PostShipment produced.
	Invoices int
	// CreditMemos is how many credit memos PostReturn produced.
	CreditMemos int
	// InventoryApplications is how many ApplyInventory calls changed the
	// inventory ledger.
	InventoryApplications int
	// Cancellations is how many CancelOrderLines calls cancelled
	// quantities.
	Cancellations int
	// Changes is how many ChangeOrder calls decided a change (stale
	// versions and replays by key do not count).
	Changes int
}

// Counts returns the effects so far.
func (m *Memory) Counts() Counts {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.counts
}

var _ connector.ERP = (*Memory)(nil)

// New returns an ERP configured by cfg; see [Config] for the defaults.
// It returns an error matching [ErrInvalidConfig] for an invalid configuration.
func New(cfg Config) (*Memory, error) {
	return build(cfg)
}

func build(cfg Config) (*Memory, error) {
	if cfg.Accounts == nil {
		cfg.Accounts = DemoAccounts()
	}
	if cfg.Items == nil {
		cfg.Items = DemoItems()
	}
	if cfg.Prices == nil {
		cfg.Prices = DemoPrices()
	}
	if cfg.TaxRates == nil {
		cfg.TaxRates = DemoTaxRates()
	}
	if cfg.Stock == nil {
		cfg.Stock = DemoStock()
	}
	m := &Memory{core: &core{
		clock:             cfg.Clock,
		leadTime:          cfg.LeadTime,
		backorderLeadTime: cfg.BackorderLeadTime,
		items:             make(map[string]*canonical.Item, len(cfg.Items)),
		prices:            make(map[string][]Price),
		taxes:             make(map[string]TaxRate, len(cfg.TaxRates)),
		accounts:          make(map[string]*Account, len(cfg.Accounts)),
		orders:            make(map[string]*order),
		accepts:           make(map[string]acceptRecord),
		shipments:         make(map[string]postRecord),
		shipByID:          make(map[string]string),
		shipKeys:          make(map[string]string),
		retKeys:           make(map[string]string),
		returns:           make(map[string]postRecord),
		retByID:           make(map[string]string),
		invoices:          make(map[string]*canonical.Invoice),
		stock:             make(map[stockKey]*position),
		onHand:            make(map[string]canonical.Decimal),
		demand:            make(map[string]canonical.Decimal),
		openValue:         make(map[string]canonical.Decimal),
		invKeys:           make(map[invKey]positionsFP),
		changes:           make(map[string]changeRecord),
	}}
	if m.clock == nil {
		m.clock = time.Now
	}
	if m.leadTime == 0 {
		m.leadTime = 48 * time.Hour
	}
	if m.backorderLeadTime == 0 {
		m.backorderLeadTime = 14 * 24 * time.Hour
	}
	if m.leadTime < 0 || m.backorderLeadTime < 0 {
		return nil, fmt.Errorf("%w: lead times must not be negative", ErrInvalidConfig)
	}
	for i := range cfg.Accounts {
		a := cfg.Accounts[i]
		if err := a.Customer.Validate(); err != nil {
			return nil, fmt.Errorf("%w: accounts[%d]: %w", ErrInvalidConfig, i, err)
		}
		if _, dup := m.accounts[a.Customer.ID]; dup {
			return nil, fmt.Errorf("%w: accounts[%d]: duplicate customer ID %q", ErrInvalidConfig, i, a.Customer.ID)
		}
		m.accounts[a.Customer.ID] = &a
	}
	for i := range cfg.Items {
		it := cfg.Items[i]
		if err := it.Validate(); err != nil {
			return nil, fmt.Errorf("%w: items[%d]: %w", ErrInvalidConfig, i, err)
		}
		if _, dup := m.items[it.SKU]; dup {
			return nil, fmt.Errorf("%w: items[%d]: duplicate SKU %q", ErrInvalidConfig, i, it.SKU)
		}
		m.items[it.SKU] = &it
	}
	for i, p := range cfg.Prices {
		if _, ok := m.items[p.SKU]; !ok {
			return nil, fmt.Errorf("%w: prices[%d]: unknown item %q", ErrInvalidConfig, i, p.SKU)
		}
		if p.CustomerID != "" {
			if _, ok := m.accounts[p.CustomerID]; !ok {
				return nil, fmt.Errorf("%w: prices[%d]: unknown customer %q", ErrInvalidConfig, i, p.CustomerID)
			}
		}
		if err := p.UnitPrice.Validate(); err != nil {
			return nil, fmt.Errorf("%w: prices[%d]: %w", ErrInvalidConfig, i, err)
		}
		if p.UnitPrice.Sign() < 0 || p.MinQuantity.Sign() < 0 {
			return nil, fmt.Errorf("%w: prices[%d]: price and quantity break must not be negative", ErrInvalidConfig, i)
		}
		m.prices[p.SKU] = append(m.prices[p.SKU], p)
	}
	for _, ps := range m.prices {
		sortPrices(ps)
	}
	for i, r := range cfg.TaxRates {
		if !canonical.ValidCountry(r.Country) {
			return nil, fmt.Errorf("%w: taxRates[%d]: invalid country %q", ErrInvalidConfig, i, r.Country)
		}
		if r.Rate.Sign() < 0 {
			return nil, fmt.Errorf("%w: taxRates[%d]: negative rate", ErrInvalidConfig, i)
		}
		m.taxes[r.jurisdiction()] = r
	}
	if _, v := m.applyPositions(cfg.Stock, "stock"); v != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, v)
	}
	return m, nil
}

// sortPrices sorts ps by MinQuantity, largest first (insertion sort: price
// lists per item are short).
func sortPrices(ps []Price) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].MinQuantity.Cmp(ps[j-1].MinQuantity) > 0; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// errorf returns a connector error of the ERP.
func errorf(code connector.Code, op string, format string, args ...any) *connector.Error {
	return connector.NewError(code, System, op, fmt.Errorf(format, args...))
}

// invalid returns a CodeInvalid connector error wrapping a validation error
// of kind listing the given violations.
func invalid(op, kind string, fes ...canonical.FieldError) *connector.Error {
	return connector.NewError(connector.CodeInvalid, System, op, &canonical.ValidationError{Kind: kind, Errors: fes})
}

// asInvalid wraps a document validation error as a CodeInvalid connector
// error.
func asInvalid(op string, err error) *connector.Error {
	return connector.NewError(connector.CodeInvalid, System, op, err)
}

// ctxErr returns the cause of ctx's cancellation, or nil.
func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// now returns the clock's time in UTC.
func (m *Memory) now() time.Time { return m.clock().UTC() }

var _ connector.HealthChecker = (*Memory)(nil)

// Health reports that the ERP is reachable: nil, or the context's error.
func (m *Memory) Health(ctx context.Context) error { return ctxErr(ctx) }

// padded returns prefix and n in decimal, zero-padded to width digits, as
// fmt.Sprintf(prefix+"%0*d", width, n) does for n >= 0, in one allocation.
func padded(prefix string, n int64, width int) string {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	var b strings.Builder
	b.Grow(len(prefix) + max(width, len(d)))
	b.WriteString(prefix)
	for range width - len(d) {
		b.WriteByte('0')
	}
	b.Write(d)
	return b.String()
}
