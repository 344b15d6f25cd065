package erp_test

import (
	"encoding/json"
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
)

// FuzzValidateOrder decodes arbitrary JSON as an order and judges it. The
// ERP never panics; it answers CodeInvalid or a valid ack with one line
// per order line, in order; and AcceptOrder of an order that passes
// canonical validation comes to the same verdict and, when it records the
// order, GetOrder returns it with the ERP's prices.
func FuzzValidateOrder(f *testing.F) {
	for _, o := range []canonical.Order{
		tenLines(),
		newOrder("o", "C-3", line{"SKU-103", "12", "EA", "89.00"}),
		newOrder("o", "C-404", line{"SKU-100", "1", "EA", "1"}),
		newOrder("o", "C-2", line{"NOPE", "1", "EA", "1"}, line{"SKU-102", "1.5", "XCS", "0"}),
		newOrder("o", "C-1", line{"SKU-100", "1", "KGM", "1"}),
	} {
		b, err := json.Marshal(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x","currency":"USD","soldTo":{"id":"C-1"},"lines":[{"id":"a","item":{"sku":"SKU-100"},"quantity":{"value":"99999999999999999","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := canonical.DecodeOrder(data)
		if err != nil {
			return
		}
		m := newERP(t, erp.Config{})
		ack, err := m.ValidateOrder(t.Context(), &o)
		if err != nil {
			if connector.CodeOf(err) != connector.CodeInvalid {
				t.Fatalf("ValidateOrder: %v, want an ack or invalid", err)
			}
			return
		}
		if err := ack.Validate(); err != nil {
			t.Fatalf("ValidateOrder returned an invalid ack: %v\n%+v", err, ack)
		}
		if len(ack.Lines) != len(o.Lines) {
			t.Fatalf("ack has %d lines for %d", len(ack.Lines), len(o.Lines))
		}
		for i := range o.Lines {
			if ack.Lines[i].LineID != o.Lines[i].ID {
				t.Fatalf("ack line %d is %q, want %q", i, ack.Lines[i].LineID, o.Lines[i].ID)
			}
		}
		if o.Validate() != nil {
			return
		}
		acc, err := m.AcceptOrder(t.Context(), "k", &o)
		if err != nil {
			t.Fatalf("AcceptOrder of an order ValidateOrder judged: %v", err)
		}
		if acc.Outcome != ack.Outcome || len(acc.Lines) != len(ack.Lines) {
			t.Fatalf("AcceptOrder says %s, ValidateOrder said %s", acc.Outcome, ack.Outcome)
		}
		if acc.Outcome == canonical.AckRejected {
			return
		}
		got, err := m.GetOrder(t.Context(), o.ID)
		if err != nil {
			t.Fatalf("GetOrder after AcceptOrder (%s): %v", acc.Outcome, err)
		}
		for i, al := range acc.Lines {
			if al.UnitPrice != nil && !got.Lines[i].UnitPrice.Equal(*al.UnitPrice) {
				t.Fatalf("line %d: the ERP's view has price %s, the ack %s", i, got.Lines[i].UnitPrice, al.UnitPrice)
			}
		}
	})
}
