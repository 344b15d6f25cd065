package canonical

import (
	"time"
)

// InvoiceKind says whether an [Invoice] bills or credits, from a closed
// set. It is a comparable value, safe for concurrent use. The zero value is
// not a valid kind.
type InvoiceKind string

// Invoice kinds.
const (
	// InvoiceStandard is an invoice: the customer owes its total.
	InvoiceStandard InvoiceKind = "invoice"
	// InvoiceCreditMemo credits the customer its total, for a return or a
	// price correction; it points to the invoice it credits.
	InvoiceCreditMemo InvoiceKind = "credit_memo"
)

// InvoiceLine is one line of an [Invoice]. It is a plain value, safe for
// concurrent reads. The zero value is an empty line.
type InvoiceLine struct {
	ID string `json:"id" validate:"required"`
	// OrderLineID and ShipmentLineID point to what is billed, when known.
	OrderLineID    string   `json:"orderLineId,omitempty" validate:"-"`
	ShipmentLineID string   `json:"shipmentLineId,omitempty" validate:"-"`
	Item           ItemRef  `json:"item" validate:"-"`
	Quantity       Quantity `json:"quantity" validate:"-"`
	UnitPrice      Money    `json:"unitPrice" validate:"-"`
	// Amount is the line amount as the ERP computed it.
	Amount Money `json:"amount" validate:"-"`
	// Extensions are copied from the order line when known.
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
}

// Invoice is an invoice or a credit memo posted by the ERP. Amounts are
// never negative: Kind says whether they are owed or credited. Totals are
// the ERP's numbers, not recomputed. An Invoice is a plain value, safe for
// concurrent reads. The zero value is not valid ([Invoice.Validate] reports
// the missing fields).
type Invoice struct {
	ID      string      `json:"id" validate:"required"`
	Version int64       `json:"version" validate:"gte=0"`
	Refs    Refs        `json:"refs,omitempty" validate:"-"`
	Kind    InvoiceKind `json:"kind" validate:"oneof=invoice credit_memo"`
	// Number is the ERP's invoice number, as printed.
	Number  string `json:"number" validate:"required"`
	OrderID string `json:"orderId,omitempty" validate:"-"`
	// CreditsInvoiceID is the invoice a credit memo credits; required for
	// credit memos, empty for invoices.
	CreditsInvoiceID string `json:"creditsInvoiceId,omitempty" validate:"-"`
	// ReturnID is the return a credit memo is for, if any.
	ReturnID     string        `json:"returnId,omitempty" validate:"-"`
	BillTo       PartyRef      `json:"billTo" validate:"-"`
	Currency     Currency      `json:"currency" validate:"iso4217"`
	PaymentTerms string        `json:"paymentTerms,omitempty" validate:"-"`
	InvoiceDate  time.Time     `json:"invoiceDate" validate:"required"`
	DueDate      time.Time     `json:"dueDate,omitzero" validate:"-"`
	Lines        []InvoiceLine `json:"lines" validate:"required,min=1,dive"`
	Charges      []Charge      `json:"charges,omitempty" validate:"dive"`
	Taxes        []Tax         `json:"taxes,omitempty" validate:"dive"`
	Totals       Totals        `json:"totals" validate:"-"`
	// Extensions are copied from the order when known.
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
}

// DocumentKind returns [KindInvoice].
func (in Invoice) DocumentKind() string { return KindInvoice }

// Validate checks the invoice: fields and kind, the bill-to party, unique
// line IDs, positive quantities, that every amount is in the invoice
// currency and not negative (charges may be negative allowances), that a
// credit memo names the invoice it credits and an invoice does not, and
// that the due date is not before the invoice date.
func (in Invoice) Validate() error {
	v := violations{kind: "invoice"}
	if !invoiceRulesOK(&in) {
		slowRules(&v, in)
	}
	v.addErr("refs", in.Refs.Validate())
	v.addErr("billTo", in.BillTo.Validate())
	switch {
	case in.Kind == InvoiceCreditMemo && in.CreditsInvoiceID == "":
		v.add("creditsInvoiceId", "is required for a credit memo")
	case in.Kind == InvoiceStandard && in.CreditsInvoiceID != "":
		v.add("creditsInvoiceId", "must be empty for an invoice")
	}
	if !in.DueDate.IsZero() && in.DueDate.Before(in.InvoiceDate) {
		v.add("dueDate", "must not be before invoiceDate")
	}
	checkUnique(&v, "lines", in.Lines, "id", func(l *InvoiceLine) string { return l.ID })
	for i := range in.Lines {
		l := &in.Lines[i]
		if err := l.Item.Validate(); err != nil {
			v.addErr(indexPath("lines", i, "item"), err)
		}
		checkQuantity(&v, "lines", i, "quantity", l.Quantity, true)
		checkMoneyAt(&v, "lines", i, "unitPrice", l.UnitPrice, in.Currency, false)
		checkMoneyAt(&v, "lines", i, "amount", l.Amount, in.Currency, false)
	}
	for i := range in.Charges {
		checkMoneyAt(&v, "charges", i, "amount", in.Charges[i].Amount, in.Currency, true)
	}
	for i := range in.Taxes {
		t := &in.Taxes[i]
		checkMoneyAt(&v, "taxes", i, "amount", t.Amount, in.Currency, false)
		if t.Taxable != nil {
			checkMoneyAt(&v, "taxes", i, "taxable", *t.Taxable, in.Currency, false)
		}
		if t.Rate != nil && t.Rate.IsNeg() {
			v.add(indexPath("taxes", i, "rate"), "must not be negative")
		}
	}
	checkTotals(&v, "totals", &in.Totals, in.Currency)
	if in.Totals.Total.Sign() < 0 {
		v.add("totals.total.amount", "must not be negative; a credit is a credit_memo")
	}
	checkExtensions(&v, "extensions", in.Extensions)
	checkLineExtensions(&v, in.Lines, func(l *InvoiceLine) Extensions { return l.Extensions })
	return v.err()
}
