// Package extcode holds what the ERP connectors share to map canonical
// extension attributes to custom fields of OData entities: the coding of
// an extension's value as a JSON property value and back, where the
// protocols differ only in a few switches, and the keeping of an entity's
// unknown custom properties when it is decoded.
package extcode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
)

// Codec is the JSON coding of extension values of one protocol. It is a
// plain value, safe for concurrent use; every func field is required.
type Codec struct {
	// DecimalString writes a decimal as a JSON string (OData v2's
	// Edm.Decimal); false writes a JSON number (OData v4). Either is
	// read.
	DecimalString bool
	// NoYes writes a bool as the F&O enumeration strings "Yes" and "No";
	// false writes a JSON boolean. Both are read when NoYes is set.
	NoYes bool
	// FormatDate writes a date (midnight UTC of the day) and FormatTime a
	// timestamp (in UTC) as the protocol's date string.
	FormatDate, FormatTime func(time.Time) string
	// ParseTime reads a date string of the protocol. It returns the zero
	// time for the protocol's empty date, which reads as no value.
	ParseTime func(string) (time.Time, error)
}

// Encode returns the JSON property value of e, which must be valid.
func (c Codec) Encode(e canonical.Extension) (json.RawMessage, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var v any = e.Value
	switch e.Type {
	case canonical.ExtInteger:
		v = json.Number(e.Value)
	case canonical.ExtDecimal:
		d, err := canonical.ParseDecimal(e.Value)
		if err != nil {
			return nil, fmt.Errorf("extension %s: %w", e.Name, err)
		}
		v = d.String() // "00" is a decimal, not a JSON number
		if !c.DecimalString {
			v = json.Number(d.String())
		}
	case canonical.ExtBool:
		v = e.Value == "true"
		if c.NoYes {
			v = map[bool]string{true: "Yes", false: "No"}[e.Value == "true"]
		}
	case canonical.ExtDate:
		t, err := time.Parse(time.DateOnly, e.Value)
		if err != nil {
			return nil, fmt.Errorf("extension %s: %w", e.Name, err)
		}
		v = c.FormatDate(t)
	case canonical.ExtTimestamp:
		t, err := time.Parse(time.RFC3339Nano, e.Value)
		if err != nil {
			return nil, fmt.Errorf("extension %s: %w", e.Name, err)
		}
		v = c.FormatTime(t.UTC())
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("extension %s: %w", e.Name, err)
	}
	return raw, nil
}

// Decode returns the canonical text of the property value raw read as an
// extension of type t; ok is false for null, an absent value (raw empty)
// or the protocol's empty date. The error says what raw is not.
func (c Codec) Decode(t canonical.ExtensionType, raw json.RawMessage) (value string, ok bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	switch t {
	case canonical.ExtBool:
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			return strconv.FormatBool(b), true, nil
		}
		var s string
		if c.NoYes && json.Unmarshal(raw, &s) == nil && (s == "Yes" || s == "No") {
			return strconv.FormatBool(s == "Yes"), true, nil
		}
		return "", false, fmt.Errorf("%s is not a bool", raw)
	case canonical.ExtInteger, canonical.ExtDecimal:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false, fmt.Errorf("%s is not a number", raw)
			}
			n = json.Number(s)
		}
		if t == canonical.ExtDecimal {
			d, err := canonical.ParseDecimal(n.String())
			if err != nil {
				return "", false, fmt.Errorf("%s is not a decimal", raw)
			}
			return d.String(), true, nil
		}
		return n.String(), true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("%s is not a string", raw)
	}
	switch t {
	case canonical.ExtDate, canonical.ExtTimestamp:
		tm, err := c.ParseTime(s)
		if err != nil {
			return "", false, err
		}
		if tm.IsZero() {
			return "", false, nil
		}
		if t == canonical.ExtDate {
			return tm.UTC().Format(time.DateOnly), true, nil
		}
		return tm.UTC().Format(time.RFC3339Nano), true, nil
	}
	return s, true, nil
}

// Marshal encodes v, a struct whose encoding is a JSON object, with the
// custom properties added after its own, in name order.
func Marshal(v any, custom map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(custom) == 0 {
		return b, err
	}
	extra, err := json.Marshal(custom) // sorted by name
	if err != nil {
		return nil, err
	}
	if bytes.Equal(b, []byte("{}")) {
		return extra, nil
	}
	return append(append(b[:len(b)-1], ','), extra[1:]...), nil
}

// Unknown returns the properties of the JSON object data that no field of
// the struct type t names and whose name custom accepts, or nil. marker
// is a byte string every such name contains: data without it is not
// decoded again.
func Unknown(data []byte, t reflect.Type, marker string, custom func(name string) bool) (map[string]json.RawMessage, error) {
	if !bytes.Contains(data, []byte(marker)) {
		return nil, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	var out map[string]json.RawMessage
	for k, v := range all {
		if !custom(k) || known(t, k) {
			continue
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		out[k] = v
	}
	return out, nil
}

// known reports whether a field of the struct type t has the JSON name.
func known(t reflect.Type, name string) bool {
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n == name {
			return true
		}
	}
	return false
}
