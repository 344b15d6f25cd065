package canonical_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestExtensionValidate(t *testing.T) {
	long := strings.Repeat("x", canonical.MaxExtensionValue+1)
	for _, c := range []struct {
		ext   canonical.Extension
		field string // "" when valid
		msg   string
	}{
		{canonical.Extension{Name: "crm:costCentre", Type: canonical.ExtString, Value: "CC-12"}, "", ""},
		{canonical.Extension{Name: "salesforce:Cost_Centre__c", Type: canonical.ExtString, Value: ""}, "", ""},
		{canonical.Extension{Name: "sap-s4:ZZ1_PROMO.x", Type: canonical.ExtDecimal, Value: "12.50"}, "", ""},
		{canonical.Extension{Name: "crm:n", Type: canonical.ExtInteger, Value: "-42"}, "", ""},
		{canonical.Extension{Name: "crm:b", Type: canonical.ExtBool, Value: "false"}, "", ""},
		{canonical.Extension{Name: "crm:d", Type: canonical.ExtDate, Value: "2026-12-24"}, "", ""},
		{canonical.Extension{Name: "crm:t", Type: canonical.ExtTimestamp, Value: "2026-12-24T08:00:00.5+01:00"}, "", ""},
		{canonical.Extension{Type: canonical.ExtString}, "name", "is required"},
		{canonical.Extension{Name: "costCentre", Type: canonical.ExtString}, "name", "must be namespace:field"},
		{canonical.Extension{Name: "CRM:x", Type: canonical.ExtString}, "name", "namespace must be"},
		{canonical.Extension{Name: "c_rm:x", Type: canonical.ExtString}, "name", "namespace may hold only"},
		{canonical.Extension{Name: "crm:", Type: canonical.ExtString}, "name", "field after the namespace is required"},
		{canonical.Extension{Name: "crm:a b", Type: canonical.ExtString}, "name", "field may hold only"},
		{canonical.Extension{Name: "crm:" + strings.Repeat("a", canonical.MaxExtensionName), Type: canonical.ExtString}, "name", "must be at most 80 bytes"},
		{canonical.Extension{Name: "crm:x", Type: "text"}, "type", "must be one of string, decimal"},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtString, Value: long}, "value", "must be at most 1024 bytes"},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtString, Value: "\xff"}, "value", "valid UTF-8"},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtDecimal, Value: "1,5"}, "value", "must be a decimal"},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtInteger, Value: "007"}, "value", "64-bit integer"},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtInteger, Value: "9223372036854775808"}, "value", "64-bit integer"},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtBool, Value: "yes"}, "value", `"true" or "false"`},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtDate, Value: "2026-2-1"}, "value", "must be a date"},
		{canonical.Extension{Name: "crm:x", Type: canonical.ExtTimestamp, Value: "2026-12-24"}, "value", "RFC 3339"},
	} {
		err := c.ext.Validate()
		if c.field == "" {
			assert.NoError(t, err, "%+v", c.ext)
			continue
		}
		var ve *canonical.ValidationError
		if assert.ErrorAs(t, err, &ve, "%+v", c.ext) {
			require.Len(t, ve.Errors, 1, "%+v: %v", c.ext, err)
			assert.Equal(t, c.field, ve.Errors[0].Field, "%+v", c.ext)
			assert.Contains(t, ve.Errors[0].Message, c.msg, "%+v", c.ext)
		}
		assert.ErrorIs(t, err, canonical.ErrInvalid)
	}
}

// TestDocumentExtensionPaths checks that each document's Validate names
// every bad extension by its path.
func TestDocumentExtensionPaths(t *testing.T) {
	bad := canonical.Extensions{{Name: "crm:promo", Type: canonical.ExtInteger, Value: "x"}, {Name: "bad", Type: canonical.ExtString}}
	o := sampleOrder(3)
	o.Extensions = bad
	o.Lines[2].Extensions = bad
	requireFields(t, o.Validate(), `extensions["crm:promo"].value`, `extensions[1].name`,
		`lines[2].extensions["crm:promo"].value`, `lines[2].extensions[1].name`)

	dup := canonical.Extensions{{Name: "crm:a", Type: canonical.ExtString}, {Name: "crm:a", Type: canonical.ExtString}}
	o = sampleOrder(1)
	o.Lines[0].Extensions = dup
	requireFields(t, o.Validate(), `lines[0].extensions["crm:a"]`)

	many := make(canonical.Extensions, canonical.MaxExtensions+1)
	for i := range many {
		many[i] = canonical.Extension{Name: "crm:f" + strings.Repeat("x", i), Type: canonical.ExtBool, Value: "true"}
	}
	o = sampleOrder(1)
	o.Extensions = many
	requireFields(t, o.Validate(), `extensions`)

	for _, doc := range []interface{ Validate() error }{
		canonical.FulfillmentOrder{Extensions: bad, Lines: []canonical.FulfillmentLine{{Extensions: bad}}},
		canonical.Invoice{Extensions: bad, Lines: []canonical.InvoiceLine{{Extensions: bad}}},
		canonical.Shipment{Extensions: bad},
		canonical.Return{Extensions: bad},
		canonical.Customer{Extensions: bad},
		canonical.Item{Extensions: bad},
	} {
		err := doc.Validate()
		var ve *canonical.ValidationError
		require.ErrorAs(t, err, &ve, "%T", doc)
		var fields []string
		for _, fe := range ve.Errors {
			fields = append(fields, fe.Field)
		}
		assert.Contains(t, fields, `extensions["crm:promo"].value`, "%T", doc)
		assert.Contains(t, fields, `extensions[1].name`, "%T", doc)
	}
}

func requireFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	var got []string
	for _, fe := range ve.Errors {
		got = append(got, fe.Field)
	}
	require.Equal(t, fields, got, "%v", err)
}

func TestExt(t *testing.T) {
	var x canonical.Extensions
	ts := time.Date(2026, 12, 24, 8, 0, 0, 0, time.UTC)
	for _, err := range []error{
		canonical.SetExt(&x, "crm:s", "CC-12"),
		canonical.SetExt(&x, "crm:d", canonical.MustParseDecimal("2.50")),
		canonical.SetExt(&x, "crm:i", int64(7)),
		canonical.SetExt(&x, "crm:b", true),
		canonical.SetExt(&x, "crm:t", ts),
	} {
		require.NoError(t, err)
	}
	day, err := canonical.NewDateExtension("crm:day", ts)
	require.NoError(t, err)
	require.NoError(t, x.Set(day))
	names := []string{}
	for _, e := range x {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"crm:b", "crm:d", "crm:day", "crm:i", "crm:s", "crm:t"}, names, "kept sorted")

	s, ok, err := canonical.Ext[string](x, "crm:s")
	assert.Equal(t, "CC-12", s)
	assert.True(t, ok)
	assert.NoError(t, err)
	d, _, err := canonical.Ext[canonical.Decimal](x, "crm:d")
	assert.NoError(t, err)
	assert.Equal(t, "2.50", d.String(), "scale kept")
	d, _, err = canonical.Ext[canonical.Decimal](x, "crm:i")
	assert.NoError(t, err)
	assert.Equal(t, "7", d.String(), "an integer reads as a decimal")
	i, _, err := canonical.Ext[int64](x, "crm:i")
	assert.Equal(t, int64(7), i)
	assert.NoError(t, err)
	b, _, err := canonical.Ext[bool](x, "crm:b")
	assert.True(t, b)
	assert.NoError(t, err)
	got, _, err := canonical.Ext[time.Time](x, "crm:t")
	assert.True(t, ts.Equal(got))
	assert.NoError(t, err)
	got, _, err = canonical.Ext[time.Time](x, "crm:day")
	assert.Equal(t, "2026-12-24", got.Format(time.DateOnly))
	assert.NoError(t, err)
	s, _, err = canonical.Ext[string](x, "crm:i")
	assert.Equal(t, "7", s, "a string reads any type's text")
	assert.NoError(t, err)

	_, ok, err = canonical.Ext[int64](x, "crm:missing")
	assert.False(t, ok)
	assert.NoError(t, err)
	_, ok, err = canonical.Ext[int64](x, "crm:s")
	assert.True(t, ok)
	assert.ErrorIs(t, err, canonical.ErrExtensionType)
	assert.ErrorIs(t, err, canonical.ErrInvalid)
	assert.EqualError(t, err, `canonical: invalid extension type: "crm:s" is "string", not integer`)
	_, _, err = canonical.Ext[bool](canonical.Extensions{{Name: "crm:b", Type: canonical.ExtBool, Value: "yes"}}, "crm:b")
	assert.ErrorIs(t, err, canonical.ErrInvalid)
	assert.False(t, errors.Is(err, canonical.ErrExtensionType), "the type fits, the value does not")

	require.NoError(t, canonical.SetExt(&x, "crm:s", "CC-13"))
	s, _, _ = canonical.Ext[string](x, "crm:s")
	assert.Equal(t, "CC-13", s, "Set replaces")
	assert.Len(t, x, 6)
	before := x.Clone()
	assert.Error(t, canonical.SetExt(&x, "bad", "v"))
	assert.Equal(t, before, x, "a bad Set changes nothing")
	x.Delete("crm:s")
	_, ok = x.Get("crm:s")
	assert.False(t, ok)

	m := canonical.Extensions{{Name: "a:x", Type: canonical.ExtString, Value: "1"}, {Name: "c:x", Type: canonical.ExtString, Value: "1"}}.
		Merge(canonical.Extensions{{Name: "b:x", Type: canonical.ExtString, Value: "2"}, {Name: "c:x", Type: canonical.ExtString, Value: "2"}})
	assert.Equal(t, canonical.Extensions{{Name: "a:x", Type: canonical.ExtString, Value: "1"}, {Name: "b:x", Type: canonical.ExtString, Value: "2"}, {Name: "c:x", Type: canonical.ExtString, Value: "2"}}, m)
	assert.Nil(t, canonical.Extensions(nil).Merge(nil))
}

func TestExtensionsLimit(t *testing.T) {
	var x canonical.Extensions
	for i := range canonical.MaxExtensions {
		require.NoError(t, canonical.SetExt(&x, "crm:f"+strings.Repeat("x", i), true))
	}
	err := canonical.SetExt(&x, "crm:one-more", true)
	require.ErrorIs(t, err, canonical.ErrInvalid)
	assert.Len(t, x, canonical.MaxExtensions)
	require.NoError(t, canonical.SetExt(&x, "crm:f", false), "replacing is allowed at the limit")
}

// TestExtensionsThroughEvents checks that every document kind keeps its
// extensions through an event's data and back.
func TestExtensionsThroughEvents(t *testing.T) {
	x := canonical.Extensions{{Name: "crm:costCentre", Type: canonical.ExtString, Value: "CC-12"}, {Name: "sap:ZZ1_Qty", Type: canonical.ExtInteger, Value: "3"}}
	o := sampleOrder(2)
	o.Extensions, o.Lines[1].Extensions = x, x
	ev, err := canonical.NewEvent(canonical.EventOrderSubmitted, o)
	require.NoError(t, err)
	assert.Contains(t, string(ev.Data), `"extensions":{"crm:costCentre":{"type":"string","value":"CC-12"},"sap:ZZ1_Qty":{"type":"integer","value":"3"}}`)
	got, err := canonical.DecodeData[canonical.Order](ev)
	require.NoError(t, err)
	assert.Equal(t, x, got.Extensions)
	assert.Equal(t, x, got.Lines[1].Extensions)
	assert.Nil(t, got.Lines[0].Extensions)

	check := func(doc canonical.Document, get func(canonical.Document) canonical.Extensions) {
		t.Helper()
		b, err := canonical.Encode(doc)
		require.NoError(t, err)
		var back canonical.Document
		switch doc.(type) {
		case canonical.Return:
			back, err = canonical.Decode[canonical.Return](b)
		case canonical.Customer:
			back, err = canonical.Decode[canonical.Customer](b)
		case canonical.Item:
			back, err = canonical.Decode[canonical.Item](b)
		case canonical.Shipment:
			back, err = canonical.Decode[canonical.Shipment](b)
		case canonical.FulfillmentOrder:
			back, err = canonical.Decode[canonical.FulfillmentOrder](b)
		case canonical.Invoice:
			back, err = canonical.Decode[canonical.Invoice](b)
		}
		require.NoError(t, err, "%T %s", doc, b)
		assert.Equal(t, x, get(back), "%T %s", doc, b)
	}
	check(canonical.Return{ID: "R", Extensions: x}, func(d canonical.Document) canonical.Extensions { return d.(canonical.Return).Extensions })
	check(canonical.Customer{ID: "C", Extensions: x}, func(d canonical.Document) canonical.Extensions { return d.(canonical.Customer).Extensions })
	check(canonical.Item{SKU: "S", Extensions: x}, func(d canonical.Document) canonical.Extensions { return d.(canonical.Item).Extensions })
	check(canonical.Shipment{ID: "S", Extensions: x}, func(d canonical.Document) canonical.Extensions { return d.(canonical.Shipment).Extensions })
	check(canonical.FulfillmentOrder{ID: "F", Lines: []canonical.FulfillmentLine{{ID: "1", Extensions: x}}, Extensions: x},
		func(d canonical.Document) canonical.Extensions {
			return d.(canonical.FulfillmentOrder).Lines[0].Extensions
		})
	check(canonical.Invoice{ID: "I", Lines: []canonical.InvoiceLine{{ID: "1", Extensions: x}}, Extensions: x},
		func(d canonical.Document) canonical.Extensions { return d.(canonical.Invoice).Lines[0].Extensions })

	// A bad extensions member is a DecodeError naming the field.
	_, err = canonical.DecodeOrder([]byte(`{"id":"o","extensions":{"crm:a":{"type":"string","value":1}}}`))
	var de *canonical.DecodeError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, canonical.ErrInvalid)
	assert.Contains(t, err.Error(), "extensions")
}

func TestExtensionsDuplicatesAndUnsorted(t *testing.T) {
	// Long and short lists report a duplicate at its first occurrence.
	for _, n := range []int{3, 20} {
		x := make(canonical.Extensions, n)
		for i := range x {
			x[i] = canonical.Extension{Name: "crm:f" + strings.Repeat("x", i), Type: canonical.ExtBool, Value: "true"}
		}
		x[n-1].Name = x[1].Name
		var ve *canonical.ValidationError
		require.ErrorAs(t, x.Validate(), &ve, "n=%d", n)
		require.Len(t, ve.Errors, 1, "n=%d", n)
		assert.Equal(t, canonical.FieldError{Field: `["crm:fx"]`, Message: "duplicate name (also at [1])"}, ve.Errors[0], "n=%d", n)
	}
	// Set sorts a list built by hand before it inserts.
	x := canonical.Extensions{{Name: "crm:c", Type: canonical.ExtString}, {Name: "crm:a", Type: canonical.ExtString}}
	require.NoError(t, canonical.SetExt(&x, "crm:b", "v"))
	require.NoError(t, canonical.SetExt(&x, "crm:c", "w"))
	assert.Equal(t, canonical.Extensions{{Name: "crm:a", Type: canonical.ExtString}, {Name: "crm:b", Type: canonical.ExtString, Value: "v"}, {Name: "crm:c", Type: canonical.ExtString, Value: "w"}}, x)
}
