package salesforce

// This file owns the mapping of custom fields to canonical extension
// attributes, both ways.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// ExtensionField maps one field of the Order or OrderItem sObject, usually
// a custom field such as Cost_Centre__c, to a canonical extension
// attribute (see [canonical.Extension]). The feed reads the field into
// the extension of the order or of the line; [CRM.PublishStatus] writes
// the order's extension back into the field when WriteBack is set. It is
// a plain value, safe for concurrent reads. The zero value is not valid.
type ExtensionField struct {
	// Object is "Order" or "OrderItem".
	Object string
	// Field is the field's API name, such as "Cost_Centre__c". It must
	// not be a field the connector already selects.
	Field string
	// Name is the extension's name, such as "salesforce:Cost_Centre__c"
	// or "crm:costCentre".
	Name string
	// Type is the extension's type. The field's Salesforce type must fit
	// it: text, picklist, e-mail or phone for string; number, currency
	// or percent for decimal and integer (an integer may arrive as 5.0);
	// checkbox for bool; date for date; datetime for timestamp (kept in
	// UTC).
	Type canonical.ExtensionType
	// WriteBack, on an Order field, has PublishStatus write the
	// extension named Name of the status ([connector.OrderStatus]
	// Extensions) into the field, with the status fields, when the
	// status carries it. A status without it leaves the field as is.
	WriteBack bool
}

// validate checks f; i is its index in Config.Extensions.
func (f ExtensionField) validate(i int, seen map[string]bool) error {
	at := fmt.Sprintf("Extensions[%d]", i)
	switch {
	case f.Object != "Order" && f.Object != "OrderItem":
		return fmt.Errorf("%w: %s.Object %q must be Order or OrderItem", ErrInvalidConfig, at, f.Object)
	case !apiName(f.Field):
		return fmt.Errorf("%w: %s.Field %q is not a field API name", ErrInvalidConfig, at, f.Field)
	case selected(f.Object, f.Field):
		return fmt.Errorf("%w: %s.Field %s.%s is a field the connector maps itself", ErrInvalidConfig, at, f.Object, f.Field)
	case seen[f.Object+"."+strings.ToLower(f.Field)]:
		return fmt.Errorf("%w: %s.Field %s.%s is mapped twice", ErrInvalidConfig, at, f.Object, f.Field)
	case !f.Type.Valid():
		return fmt.Errorf("%w: %s.Type %q is not an extension type", ErrInvalidConfig, at, f.Type)
	case f.WriteBack && f.Object != "Order":
		return fmt.Errorf("%w: %s.WriteBack is only for Order fields", ErrInvalidConfig, at)
	}
	if _, err := canonical.NewExtension(f.Name, ""); err != nil {
		return fmt.Errorf("%w: %s.Name: %v", ErrInvalidConfig, at, err)
	}
	seen[f.Object+"."+strings.ToLower(f.Field)] = true
	return nil
}

// apiName reports whether s is a plain field API name: a letter, then
// letters, digits and underscores.
func apiName(s string) bool {
	if s == "" || len(s) > 80 || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
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

// selected reports whether the feed's query selects field of object.
func selected(object, field string) bool {
	list := orderFields
	if object == "OrderItem" {
		list = itemFields
	}
	for f := range strings.SplitSeq(list, ", ") {
		if strings.EqualFold(f, field) || strings.EqualFold(strings.SplitN(f, ".", 2)[0], field) {
			return true
		}
	}
	return false
}

// extraFields returns ", F1, F2" for the mapped fields of object.
func (c *CRM) extraFields(object string) string {
	var b strings.Builder
	for _, f := range c.cfg.Extensions {
		if f.Object == object {
			b.WriteString(", " + f.Field)
		}
	}
	return b.String()
}

// readExtensions sets the extensions of o and its lines from the mapped
// fields of the record raw (the Order record with its OrderItems, in the
// order of o's lines).
func (c *CRM) readExtensions(id string, raw json.RawMessage, o *canonical.Order) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return recordError(id, "record", "%v", err)
	}
	var items struct {
		Records []map[string]json.RawMessage `json:"records"`
	}
	if v := top["OrderItems"]; len(v) > 0 {
		if err := json.Unmarshal(v, &items); err != nil {
			return recordError(id, "OrderItems", "%v", err)
		}
	}
	for _, f := range c.cfg.Extensions {
		if f.Object == "Order" {
			if err := setExtension(&o.Extensions, f, top[f.Field], id, f.Field); err != nil {
				return err
			}
			continue
		}
		for i := range o.Lines {
			if i >= len(items.Records) {
				break
			}
			if err := setExtension(&o.Lines[i].Extensions, f, items.Records[i][f.Field], id, fmt.Sprintf("OrderItems[%d].%s", i, f.Field)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setExtension sets the extension f maps from the field value raw; null
// or absent sets nothing.
func setExtension(x *canonical.Extensions, f ExtensionField, raw json.RawMessage, id, field string) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return recordError(id, field, "%v", err)
	}
	text, ok := "", false
	switch f.Type {
	case canonical.ExtString, canonical.ExtDate:
		text, ok = v.(string)
	case canonical.ExtDecimal:
		var n json.Number
		n, ok = v.(json.Number)
		text = n.String()
	case canonical.ExtInteger:
		var n json.Number
		n, ok = v.(json.Number)
		text = n.String()
		if whole, frac, cut := strings.Cut(text, "."); ok && cut && strings.Trim(frac, "0") == "" {
			text = whole // 5.0, as Salesforce sends a number field
		}
	case canonical.ExtBool:
		var b bool
		b, ok = v.(bool)
		text = strconv.FormatBool(b)
	case canonical.ExtTimestamp:
		var s string
		if s, ok = v.(string); ok {
			t, err := time.Parse(sfTime, s)
			if err != nil {
				t, err = time.Parse(time.RFC3339Nano, s)
			}
			ok = err == nil
			text = t.UTC().Format(time.RFC3339Nano)
		}
	}
	if !ok {
		return recordError(id, field, "%s is not a %s for extension %s", short(raw), f.Type, f.Name)
	}
	if err := x.Set(canonical.Extension{Name: f.Name, Type: f.Type, Value: text}); err != nil {
		return recordError(id, field, "extension %s: %v", f.Name, err)
	}
	return nil
}

func short(raw json.RawMessage) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}

// writeExtensions adds to body the write-back fields of the extensions s
// carries. A value that does not read as its type is CodeInvalid.
func (c *CRM) writeExtensions(op string, s *connector.OrderStatus, body map[string]any) error {
	for _, f := range c.cfg.Extensions {
		if !f.WriteBack {
			continue
		}
		e, ok := s.Extensions.Get(f.Name)
		if !ok {
			continue
		}
		if e.Type != f.Type {
			return connector.NewError(connector.CodeInvalid, System, op, fmt.Errorf("salesforce: order %s: extension %s is %s, the field %s takes %s", s.OrderID, f.Name, e.Type, f.Field, f.Type))
		}
		if err := e.Validate(); err != nil {
			return connector.NewError(connector.CodeInvalid, System, op, fmt.Errorf("salesforce: order %s: %w", s.OrderID, err))
		}
		switch e.Type {
		case canonical.ExtDecimal, canonical.ExtInteger:
			body[f.Field] = json.Number(e.Value)
		case canonical.ExtBool:
			body[f.Field] = e.Value == "true"
		default:
			body[f.Field] = e.Value
		}
	}
	return nil
}
