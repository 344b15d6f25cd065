package sap

// This file owns the mapping of custom fields (key-user extensibility,
// YY1_ properties) to canonical extension attributes, both ways.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/internal/extcode"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// ExtensionField maps one custom field of A_SalesOrder or A_SalesOrderItem,
// a YY1_ property such as YY1_CostCentre_SDH, to a canonical extension
// attribute (see [canonical.Extension]) of the order or of its lines.
// AcceptOrder and ValidateOrder write the extension into the field;
// GetOrder and Orders read the field back into the extension. It is a plain
// value, safe for concurrent reads. The zero value is not valid.
type ExtensionField struct {
	// Entity is "A_SalesOrder" or "A_SalesOrderItem".
	Entity string
	// Property is the custom field's name: "YY1_", then letters, digits
	// and underscores. It must not be a property the connector maps
	// itself.
	Property string
	// Name is the extension's name, such as "sap:costCentre".
	Name string
	// Type is the extension's type. On the wire a string, decimal, date
	// or timestamp is a JSON string (a decimal as OData v2 writes
	// Edm.Decimal, a date or timestamp as "/Date(ms)/"), an integer a
	// JSON number (read from a string too), a bool a JSON boolean.
	Type canonical.ExtensionType
}

// Entity names of ExtensionField.
const (
	EntitySalesOrder     = "A_SalesOrder"
	EntitySalesOrderItem = "A_SalesOrderItem"
)

// validate checks f; i is its index in Config.Extensions.
func (f ExtensionField) validate(i int, seen map[string]bool) error {
	at := fmt.Sprintf("Extensions[%d]", i)
	key := f.Entity + "." + f.Property
	switch {
	case f.Entity != EntitySalesOrder && f.Entity != EntitySalesOrderItem:
		return fmt.Errorf("%w: %s.Entity %q must be %s or %s", ErrInvalidConfig, at, f.Entity, EntitySalesOrder, EntitySalesOrderItem)
	case !customName(f.Property):
		return fmt.Errorf("%w: %s.Property %q is not a custom field name (YY1_ then letters, digits, underscores)", ErrInvalidConfig, at, f.Property)
	case connectorProperty(f.Entity, f.Property):
		return fmt.Errorf("%w: %s.Property %s is a property the connector maps itself", ErrInvalidConfig, at, key)
	case seen[key]:
		return fmt.Errorf("%w: %s.Property %s is mapped twice", ErrInvalidConfig, at, key)
	case !f.Type.Valid():
		return fmt.Errorf("%w: %s.Type %q is not an extension type", ErrInvalidConfig, at, f.Type)
	}
	if _, err := canonical.NewExtension(f.Name, ""); err != nil {
		return fmt.Errorf("%w: %s.Name: %v", ErrInvalidConfig, at, err)
	}
	seen[key] = true
	return nil
}

// customName reports whether s is YY1_ followed by letters, digits and
// underscores, at most 30 characters in all.
func customName(s string) bool {
	rest, ok := strings.CutPrefix(s, "YY1_")
	if !ok || rest == "" || len(s) > 30 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// connectorProperty reports whether the connector maps property of entity
// itself (its YY1_ fields carry canonical IDs and buckets).
func connectorProperty(entity, property string) bool {
	probe := []byte(`{"` + property + `":null}`)
	switch entity {
	case EntitySalesOrder:
		var e odata.SalesOrder
		return json.Unmarshal(probe, &e) == nil && e.Custom == nil
	default:
		var it odata.SalesOrderItem
		return json.Unmarshal(probe, &it) == nil && it.Custom == nil
	}
}

// writeExtensions sets the mapped custom fields of e from the extensions
// of o and its lines. An extension whose type is not the field's is
// CodeInvalid.
func (c *Client) writeExtensions(op string, o *canonical.Order, e *odata.SalesOrder) error {
	for _, f := range c.ext {
		switch f.Entity {
		case EntitySalesOrder:
			if err := c.setCustom(op, &e.Custom, f, o.Extensions, "extensions"); err != nil {
				return err
			}
		default:
			for i := range o.Lines {
				if i >= len(e.Items.Results) {
					break
				}
				if err := c.setCustom(op, &e.Items.Results[i].Custom, f, o.Lines[i].Extensions, fmt.Sprintf("lines[%d].extensions", i)); err != nil {
					return err
				}
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
		return c.invalid(op, fmt.Errorf("sap: %s: extension %s is %s, the field %s takes %s", path, f.Name, ext.Type, f.Property, f.Type))
	}
	raw, err := codec.Encode(ext)
	if err != nil {
		return c.invalid(op, fmt.Errorf("sap: %s: field %s: %w", path, f.Property, err))
	}
	if *custom == nil {
		*custom = map[string]json.RawMessage{}
	}
	(*custom)[f.Property] = raw
	return nil
}

// readExtensions sets the extensions of o and its lines from the mapped
// custom fields of e (whose items are o's lines, in order). A field that
// does not read as its type is CodeInternal, naming the sales order and
// the property; null or absent sets nothing.
func (c *Client) readExtensions(op string, e *odata.SalesOrder, o *canonical.Order) error {
	for _, f := range c.ext {
		if f.Entity == EntitySalesOrder {
			if err := c.getCustom(op, e.Custom[f.Property], f, &o.Extensions, e.SalesOrder, f.Property); err != nil {
				return err
			}
			continue
		}
		if e.Items == nil {
			continue
		}
		for i := range o.Lines {
			if i >= len(e.Items.Results) {
				break
			}
			it := &e.Items.Results[i]
			if err := c.getCustom(op, it.Custom[f.Property], f, &o.Lines[i].Extensions, e.SalesOrder, "to_Item["+strconv.Itoa(i)+"]."+f.Property); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Client) getCustom(op string, raw json.RawMessage, f ExtensionField, x *canonical.Extensions, number, field string) error {
	text, ok, err := codec.Decode(f.Type, raw)
	if err == nil && ok {
		err = x.Set(canonical.Extension{Name: f.Name, Type: f.Type, Value: text})
	}
	if err != nil {
		return connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("sap: sales order %s: %s: extension %s: %w", number, field, f.Name, err))
	}
	return nil
}

// codec is the OData v2 coding of custom field values: decimals as
// strings, bools as JSON booleans, dates and timestamps as "/Date(ms)/".
var codec = extcode.Codec{DecimalString: true, FormatDate: odata.FormatDate, FormatTime: odata.FormatDate, ParseTime: odata.ParseDate}
