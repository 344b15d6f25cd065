package d365

// This file owns the mapping of custom fields of the sales order header
// and lines to canonical extension attributes, both ways.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/d365/internal/odata"
	"github.com/distsync/distsync/erp/internal/extcode"
)

// ExtensionField maps one custom field of SalesOrderHeadersV2 or
// SalesOrderLines, a field added by a table and entity extension and
// named with an underscore before the publisher's suffix, such as
// CostCentre_Custom, to a canonical extension attribute (see
// [canonical.Extension]) of the order or of its lines. AcceptOrder and
// ValidateOrder write the extension into the field; GetOrder and Orders
// read the field back into the extension. It is a plain value, safe for
// concurrent reads. The zero value is not valid.
type ExtensionField struct {
	// Entity is "SalesOrderHeadersV2" or "SalesOrderLines".
	Entity string
	// Property is the custom field's name on the data entity: a letter,
	// then letters and digits, an underscore, then the publisher's suffix
	// (letters, digits, underscores), at most 60 characters. Names that
	// begin with DSync are the distsync integration's own fields.
	Property string
	// Name is the extension's name, such as "d365:costCentre".
	Name string
	// Type is the extension's type. On the wire a string is a JSON
	// string, a decimal or an integer a JSON number (read from a string
	// too), a bool the NoYes string "Yes" or "No" (read from a JSON
	// boolean too), a date an Edm.DateTimeOffset at midnight UTC and a
	// timestamp an Edm.DateTimeOffset in UTC; F&O's empty date
	// (1900-01-01) reads as no extension.
	Type canonical.ExtensionType
}

// Entity names of ExtensionField.
const (
	EntitySalesOrderHeader = headerSet
	EntitySalesOrderLine   = linesNav
)

// validate checks f; i is its index in Config.Extensions.
func (f ExtensionField) validate(i int, seen map[string]bool) error {
	at := fmt.Sprintf("Extensions[%d]", i)
	key := f.Entity + "." + strings.ToLower(f.Property) // F&O field names are case-insensitive
	switch {
	case f.Entity != EntitySalesOrderHeader && f.Entity != EntitySalesOrderLine:
		return fmt.Errorf("%w: %s.Entity %q must be %s or %s", ErrInvalidConfig, at, f.Entity, EntitySalesOrderHeader, EntitySalesOrderLine)
	case !customName(f.Property):
		return fmt.Errorf("%w: %s.Property %q is not a custom field name (a letter, letters and digits, _, then the publisher's suffix)", ErrInvalidConfig, at, f.Property)
	case strings.HasPrefix(strings.ToLower(f.Property), "dsync"):
		return fmt.Errorf("%w: %s.Property %s.%s: DSync fields are the connector's own", ErrInvalidConfig, at, f.Entity, f.Property)
	case seen[key]:
		return fmt.Errorf("%w: %s.Property %s.%s is mapped twice", ErrInvalidConfig, at, f.Entity, f.Property)
	case !f.Type.Valid():
		return fmt.Errorf("%w: %s.Type %q is not an extension type", ErrInvalidConfig, at, f.Type)
	}
	if _, err := canonical.NewExtension(f.Name, ""); err != nil {
		return fmt.Errorf("%w: %s.Name: %v", ErrInvalidConfig, at, err)
	}
	seen[key] = true
	return nil
}

// customName reports whether s is a custom field name ExtensionField
// takes, one odata.IsCustom recognises.
func customName(s string) bool {
	if len(s) > 60 || !odata.IsCustom(s) || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// codec is the OData v4 coding of F&O custom field values.
var codec = extcode.Codec{NoYes: true,
	FormatDate: func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	FormatTime: func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	ParseTime: func(s string) (time.Time, error) {
		var d odata.Date
		if err := d.UnmarshalJSON(strconv.AppendQuote(nil, s)); err != nil {
			return time.Time{}, err
		}
		return d.Time, nil
	}}

// writeExtensions sets the mapped custom fields of h and lines (o's
// lines, in order) from the extensions of o and its lines. An extension
// whose type is not the field's, or whose value is not of its type, is
// CodeInvalid.
func (c *Client) writeExtensions(op string, o *canonical.Order, h *odata.SalesOrderHeader, lines []odata.SalesOrderLine) error {
	for _, f := range c.ext {
		if f.Entity == EntitySalesOrderHeader {
			if err := c.setCustom(op, &h.Custom, f, o.Extensions, "extensions"); err != nil {
				return err
			}
			continue
		}
		for i := range min(len(o.Lines), len(lines)) {
			if err := c.setCustom(op, &lines[i].Custom, f, o.Lines[i].Extensions, fmt.Sprintf("lines[%d].extensions", i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setCustom writes the extension f maps, when x has it, into custom.
func (c *Client) setCustom(op string, custom *map[string]json.RawMessage, f ExtensionField, x canonical.Extensions, path string) error {
	ext, ok := x.Get(f.Name)
	if !ok {
		return nil
	}
	if ext.Type != f.Type {
		return c.invalid(op, fmt.Errorf("d365: %s: extension %s is %s, the field %s takes %s", path, f.Name, ext.Type, f.Property, f.Type))
	}
	raw, err := codec.Encode(ext)
	if err != nil {
		return c.invalid(op, fmt.Errorf("d365: %s: field %s: %w", path, f.Property, err))
	}
	if *custom == nil {
		*custom = map[string]json.RawMessage{}
	}
	(*custom)[f.Property] = raw
	return nil
}

// readExtensions sets the extensions of o and its lines from the mapped
// custom fields of h (whose lines are o's lines, in order). A field that
// does not read as its type is CodeInternal, naming the sales order and
// the field; null, absent or F&O's empty date sets nothing.
func (c *Client) readExtensions(op string, h *odata.SalesOrderHeader, o *canonical.Order) error {
	for _, f := range c.ext {
		if f.Entity == EntitySalesOrderHeader {
			if err := c.getCustom(op, h.Custom[f.Property], f, &o.Extensions, h, f.Property); err != nil {
				return err
			}
			continue
		}
		for i := range min(len(o.Lines), len(h.Lines)) {
			l := &h.Lines[i]
			if err := c.getCustom(op, l.Custom[f.Property], f, &o.Lines[i].Extensions, h, linesNav+"["+strconv.Itoa(i)+"]."+f.Property); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Client) getCustom(op string, raw json.RawMessage, f ExtensionField, x *canonical.Extensions, h *odata.SalesOrderHeader, field string) error {
	text, ok, err := codec.Decode(f.Type, raw)
	if err == nil && ok {
		err = x.Set(canonical.Extension{Name: f.Name, Type: f.Type, Value: text})
	}
	if err != nil {
		return connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("d365: sales order %s/%s: %s: extension %s: %w", h.DataAreaID, h.SalesOrderNumber, field, f.Name, err))
	}
	return nil
}
