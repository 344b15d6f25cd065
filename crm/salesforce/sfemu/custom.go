package sfemu

// This file owns the org's custom fields beyond the DistSync ones: how
// they are declared, filled from the simulator's extensions and written.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
)

// CustomField declares a custom field of the Order or OrderItem sObject
// in the emulated org, such as a cost centre a sales rep types on the
// order. Queries may select it and a PATCH of the Order may write an
// Order field. It is a plain value, safe for concurrent reads. The zero
// value is not valid.
type CustomField struct {
	// Object is "Order" or "OrderItem".
	Object string
	// Name is the field's API name, ending in "__c", such as
	// "Cost_Centre__c".
	Name string
	// Extension names the crm simulator's extension attribute whose value
	// the field holds on the records made from a simulator order (the
	// order's extension for an Order field, the line's for an OrderItem
	// field), as if the rep had typed it in Salesforce. "" leaves the
	// field null until it is written. Its type gives the field's: text
	// for string, a number for decimal and integer, a checkbox for bool,
	// a date for date and a datetime for timestamp.
	Extension string
}

func (f CustomField) validate(known map[string]string) error {
	switch {
	case f.Object != "Order" && f.Object != "OrderItem":
		return fmt.Errorf("%w: CustomFields: Object %q must be Order or OrderItem", ErrInvalidConfig, f.Object)
	case !strings.HasSuffix(f.Name, "__c") || len(f.Name) <= 3 || strings.ContainsAny(f.Name, " .,()'\""):
		return fmt.Errorf("%w: CustomFields: Name %q must be an API name ending in __c", ErrInvalidConfig, f.Name)
	}
	if _, dup := known[strings.ToLower(f.Name)]; dup {
		return fmt.Errorf("%w: CustomFields: %s.%s is declared twice or is a standard field", ErrInvalidConfig, f.Object, f.Name)
	}
	return nil
}

// fieldIndexes returns the field indexes of Order and OrderItem with the
// custom fields added.
func fieldIndexes(custom []CustomField) (order, item map[string]string, err error) {
	order, item = fieldIndex(orderFieldNames), fieldIndex(itemFieldNames)
	for _, f := range custom {
		idx := order
		if f.Object == "OrderItem" {
			idx = item
		}
		if err := f.validate(idx); err != nil {
			return nil, nil, err
		}
		idx[strings.ToLower(f.Name)] = f.Name
	}
	return order, item, nil
}

// fillCustom sets the object's custom fields of m from x: null when x has
// no extension for a field.
func (s *Server) fillCustom(object string, m map[string]any, x canonical.Extensions) {
	for _, f := range s.cfg.CustomFields {
		if f.Object != object {
			continue
		}
		m[f.Name] = nil
		e, ok := x.Get(f.Extension)
		if f.Extension == "" || !ok {
			continue
		}
		switch e.Type {
		case canonical.ExtDecimal, canonical.ExtInteger:
			m[f.Name] = json.Number(e.Value)
		case canonical.ExtBool:
			m[f.Name] = e.Value == "true"
		case canonical.ExtTimestamp:
			if t, err := time.Parse(time.RFC3339Nano, e.Value); err == nil {
				m[f.Name] = t
			}
		default: // string, date
			m[f.Name] = e.Value
		}
	}
}

// customNames returns the API names of the object's custom fields.
func (s *Server) customNames(object string) []string {
	var out []string
	for _, f := range s.cfg.CustomFields {
		if f.Object == object {
			out = append(out, f.Name)
		}
	}
	return out
}

// customValue decodes a written field value: a string, a number, a
// boolean or null.
func customValue(raw json.RawMessage) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	switch v.(type) {
	case nil, string, json.Number, bool:
		return v, true
	}
	return nil, false
}

// Field returns the value the Order or OrderItem with the given ID holds
// in field (a standard or custom field, as a query would answer it), and
// whether there is such a record.
func (s *Server) Field(id, field string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.byID[id]; ok {
		return wire(r.get(field)), true
	}
	for _, r := range s.records {
		for _, it := range r.items {
			if it["Id"] == id {
				return wire(lookup(it, field)), true
			}
		}
	}
	return nil, false
}
