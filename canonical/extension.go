package canonical

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distsync/distsync/internal/jsonfast"
)

// Limits of extension attributes, checked by [Extensions.Validate] (and so
// by the Validate method of every document that carries extensions).
const (
	// MaxExtensions is the most extension attributes one document (or one
	// line) may carry.
	MaxExtensions = 50
	// MaxExtensionName is the longest extension name, in bytes, namespace
	// and colon included.
	MaxExtensionName = 80
	// MaxExtensionNamespace is the longest namespace, in bytes.
	MaxExtensionNamespace = 32
	// MaxExtensionValue is the longest extension value, in bytes of its
	// text form.
	MaxExtensionValue = 1024
)

// ExtensionType is the type of an extension attribute's value, from a
// closed set. It is a comparable value, safe for concurrent use. The zero
// value is not a valid type.
type ExtensionType string

// Extension types. Every value travels as text; the type says how the
// text reads.
const (
	// ExtString is free text (valid UTF-8).
	ExtString ExtensionType = "string"
	// ExtDecimal is an exact decimal such as "12.50" (the scale is kept).
	ExtDecimal ExtensionType = "decimal"
	// ExtInteger is a base-10 64-bit integer such as "-42", without a
	// sign for positive numbers or leading zeros.
	ExtInteger ExtensionType = "integer"
	// ExtBool is "true" or "false".
	ExtBool ExtensionType = "bool"
	// ExtDate is a calendar date "2026-12-24", without a time zone.
	ExtDate ExtensionType = "date"
	// ExtTimestamp is an RFC 3339 instant "2026-12-24T08:00:00Z".
	ExtTimestamp ExtensionType = "timestamp"
)

// Valid reports whether t is one of the ExtensionType constants.
func (t ExtensionType) Valid() bool {
	switch t {
	case ExtString, ExtDecimal, ExtInteger, ExtBool, ExtDate, ExtTimestamp:
		return true
	}
	return false
}

// Extension is one extension attribute: a custom field a system carries
// beyond the canonical model (a Salesforce __c field, an SAP extension
// field), such as a cost centre or a promotion code.
//
// Name is namespaced by the system that owns the field:
// "namespace:field", such as "crm:costCentre" or
// "salesforce:Cost_Centre__c". The namespace is a lowercase letter
// followed by lowercase letters, digits and '-' (at most
// [MaxExtensionNamespace] bytes); the field is letters, digits, '_', '.'
// and '-'; the whole name is at most [MaxExtensionName] bytes.
//
// Value is the value's text form, as [ExtensionType] describes for Type.
// Build extensions with [NewExtension] or [NewDateExtension], which
// format the value, and read them with [Ext].
//
// An Extension is a plain value, safe for concurrent reads. The zero
// value is not valid.
type Extension struct {
	Name  string
	Type  ExtensionType
	Value string
}

// Validate checks the name, the type and that the value reads as its
// type within [MaxExtensionValue] bytes. It returns a [*ValidationError]
// whose fields are "name", "type" and "value".
func (e Extension) Validate() error {
	v := violations{kind: "extension"}
	e.check(&v, "")
	return v.err()
}

// check records the violations of e under prefix (which ends with '.'
// when not empty).
func (e *Extension) check(v *violations, prefix string) {
	if msg := extensionNameProblem(e.Name); msg != "" {
		v.add(prefix+"name", msg)
	}
	if !e.Type.Valid() {
		v.add(prefix+"type", "must be one of string, decimal, integer, bool, date, timestamp, is "+quoteShort(string(e.Type)))
		return
	}
	if msg := extensionValueProblem(e.Type, e.Value); msg != "" {
		v.add(prefix+"value", msg)
	}
}

// extensionNameProblem returns what is wrong with name, or "".
func extensionNameProblem(name string) string {
	if name == "" {
		return "is required"
	}
	if len(name) > MaxExtensionName {
		return "must be at most " + strconv.Itoa(MaxExtensionName) + " bytes, is " + strconv.Itoa(len(name))
	}
	ns, field, ok := strings.Cut(name, ":")
	if !ok {
		return "must be namespace:field, such as \"crm:costCentre\", is " + quoteShort(name)
	}
	if ns == "" || len(ns) > MaxExtensionNamespace || ns[0] < 'a' || ns[0] > 'z' {
		return "namespace must be 1 to " + strconv.Itoa(MaxExtensionNamespace) + " bytes starting with a lowercase letter, is " + quoteShort(ns)
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return "namespace may hold only a-z, 0-9 and '-', has " + strconv.QuoteRune(rune(c)) + " in " + quoteShort(name)
		}
	}
	if field == "" {
		return "field after the namespace is required"
	}
	for i := 0; i < len(field); i++ {
		c := field[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '.' && c != '-' {
			return "field may hold only letters, digits, '_', '.' and '-', is " + quoteShort(name)
		}
	}
	return ""
}

// extensionValueProblem returns what is wrong with value as a t, or "".
func extensionValueProblem(t ExtensionType, value string) string {
	if len(value) > MaxExtensionValue {
		return "must be at most " + strconv.Itoa(MaxExtensionValue) + " bytes, is " + strconv.Itoa(len(value))
	}
	if _, err := parseExtension(t, value); err != nil {
		return err.Error()
	}
	return ""
}

// parseExtension reads value as a t: a string, Decimal, int64, bool or
// time.Time.
func parseExtension(t ExtensionType, value string) (any, error) {
	switch t {
	case ExtString:
		if !utf8.ValidString(value) {
			return nil, errors.New("must be valid UTF-8")
		}
		return value, nil
	case ExtDecimal:
		d, err := ParseDecimal(value)
		if err != nil {
			return nil, errors.New("must be a decimal such as \"12.50\", is " + quoteShort(value))
		}
		return d, nil
	case ExtInteger:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != value {
			return nil, errors.New("must be a 64-bit integer such as \"42\", is " + quoteShort(value))
		}
		return n, nil
	case ExtBool:
		switch value {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errors.New("must be \"true\" or \"false\", is " + quoteShort(value))
	case ExtDate:
		d, err := time.Parse(time.DateOnly, value)
		if err != nil || d.Format(time.DateOnly) != value {
			return nil, errors.New("must be a date such as \"2026-12-24\", is " + quoteShort(value))
		}
		return d, nil
	case ExtTimestamp:
		ts, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			return nil, errors.New("must be an RFC 3339 timestamp such as \"2026-12-24T08:00:00Z\", is " + quoteShort(value))
		}
		return ts, nil
	}
	return nil, errors.New("unknown type " + quoteShort(string(t)))
}

// quoteShort quotes s for a message, cut to 40 bytes.
func quoteShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "..."
	}
	return strconv.Quote(s)
}

// ExtensionValue is the set of Go types an extension value reads as and
// is built from: string ([ExtString], or the text of any type), [Decimal]
// ([ExtDecimal] or [ExtInteger]), int64 ([ExtInteger]), bool ([ExtBool])
// and time.Time ([ExtDate] or [ExtTimestamp]).
type ExtensionValue interface {
	string | Decimal | int64 | bool | time.Time
}

// NewExtension returns the extension named name holding v, typed by v's
// Go type: string is [ExtString], Decimal [ExtDecimal], int64
// [ExtInteger], bool [ExtBool] and time.Time [ExtTimestamp] (see
// [NewDateExtension] for a date). It returns a [*ValidationError] when the
// name or the value breaks the rules of [Extension].
func NewExtension[T ExtensionValue](name string, v T) (Extension, error) {
	e := Extension{Name: name}
	switch x := any(v).(type) {
	case string:
		e.Type, e.Value = ExtString, x
	case Decimal:
		e.Type, e.Value = ExtDecimal, x.String()
	case int64:
		e.Type, e.Value = ExtInteger, strconv.FormatInt(x, 10)
	case bool:
		e.Type, e.Value = ExtBool, strconv.FormatBool(x)
	case time.Time:
		e.Type, e.Value = ExtTimestamp, x.Format(time.RFC3339Nano)
	}
	return e, e.Validate()
}

// NewDateExtension returns the [ExtDate] extension named name holding the
// calendar date of t (in t's location).
func NewDateExtension(name string, t time.Time) (Extension, error) {
	e := Extension{Name: name, Type: ExtDate, Value: t.Format(time.DateOnly)}
	return e, e.Validate()
}

// ErrExtensionType is matched (with errors.Is) by the error [Ext] returns
// when an extension exists but its type does not read as the Go type
// asked for. It also matches [ErrInvalid].
var ErrExtensionType = fmt.Errorf("%w extension type", ErrInvalid)

// Ext returns the value of the extension named name in x as a T, and
// whether x has it. The types read as [ExtensionValue] lists; a
// string reads any type's text. It returns an error matching
// [ErrExtensionType] when the extension's type does not read as T, and
// one matching [ErrInvalid] when its value does not read as its type.
//
//	cc, ok, err := canonical.Ext[string](order.Extensions, "crm:costCentre")
//	disc, ok, err := canonical.Ext[canonical.Decimal](line.Extensions, "crm:discount")
func Ext[T ExtensionValue](x Extensions, name string) (T, bool, error) {
	var zero T
	e, ok := x.Get(name)
	if !ok {
		return zero, false, nil
	}
	want := ""
	t := e.Type
	switch any(zero).(type) {
	case string:
		if t.Valid() {
			t = ExtString // the text of any type
		}
	case Decimal:
		want = "decimal"
		if t == ExtInteger {
			t = ExtDecimal
		}
		if t != ExtDecimal {
			t = ""
		}
	case int64:
		want = "integer"
		if t != ExtInteger {
			t = ""
		}
	case bool:
		want = "bool"
		if t != ExtBool {
			t = ""
		}
	case time.Time:
		want = "date or timestamp"
		if t != ExtDate && t != ExtTimestamp {
			t = ""
		}
	}
	if t == "" {
		return zero, true, fmt.Errorf("%w: %s is %s, not %s", ErrExtensionType, strconv.Quote(name), quoteShort(string(e.Type)), want)
	}
	v, err := parseExtension(t, e.Value)
	if err != nil {
		return zero, true, fmt.Errorf("%w: extension %s: %v", ErrInvalid, strconv.Quote(name), err)
	}
	return v.(T), true, nil
}

// Extensions are the extension attributes of a document or a line, kept
// sorted by name with each name once when built by [Extensions.Set] or
// decoded from JSON. A nil Extensions is empty and ready to use.
//
// In JSON they are an object keyed by name, in name order, each value an
// object with the type and the value's text:
//
//	"extensions":{"crm:costCentre":{"type":"string","value":"CC-12"},
//	              "crm:discount":{"type":"decimal","value":"2.50"}}
//
// Documents omit the member when there are none. Decoding rejects a name
// given twice and a member other than type and value; it does not check
// names and values, which [Extensions.Validate] does.
//
// Extensions is a slice: copying a document shares it, as it shares the
// lines. Use [Extensions.Clone] before changing a copy. It is safe for
// concurrent reads.
type Extensions []Extension

// Get returns the extension named name and whether x has it.
func (x Extensions) Get(name string) (Extension, bool) {
	for _, e := range x {
		if e.Name == name {
			return e, true
		}
	}
	return Extension{}, false
}

// Set validates e and adds it to x, replacing the extension of the same
// name, keeping x sorted by name (sorting it first when it was built
// unsorted by hand). It returns a [*ValidationError] and
// leaves x unchanged when e is invalid or x already holds
// [MaxExtensions] others.
func (x *Extensions) Set(e Extension) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if !slices.IsSortedFunc(*x, cmpExtension) { // built by hand
		slices.SortStableFunc(*x, cmpExtension)
	}
	i, found := slices.BinarySearchFunc(*x, e.Name, func(a Extension, n string) int { return strings.Compare(a.Name, n) })
	if found {
		(*x)[i] = e
		return nil
	}
	if len(*x) >= MaxExtensions {
		return &ValidationError{Kind: "extensions", Errors: []FieldError{{Message: "at most " + strconv.Itoa(MaxExtensions) + " extensions, cannot add " + strconv.Quote(e.Name)}}}
	}
	*x = slices.Insert(*x, i, e)
	return nil
}

// Delete removes the extension named name, if x has it.
func (x *Extensions) Delete(name string) {
	*x = slices.DeleteFunc(*x, func(e Extension) bool { return e.Name == name })
}

// Clone returns a copy of x that shares nothing with it (nil for nil).
func (x Extensions) Clone() Extensions { return slices.Clone(x) }

// Merge returns the extensions of x with those of over added, an
// extension of over replacing the one of the same name in x. The result
// is sorted and shares nothing with x or over; it is nil when both are
// empty. Merge does not validate.
func (x Extensions) Merge(over Extensions) Extensions {
	if len(x)+len(over) == 0 {
		return nil
	}
	out := make(Extensions, 0, len(x)+len(over))
	out = append(out, over...)
	for _, e := range x {
		if _, ok := over.Get(e.Name); !ok {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Extension) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Validate checks every extension (see [Extension]), that no name is
// given twice and that there are at most [MaxExtensions]. It returns a
// [*ValidationError] whose fields name each extension by its name,
// `["crm:promo"].value`, or by its position, `[3].name`, when the name
// itself is bad; a document's Validate prefixes them with the path of
// its extensions, `lines[2].extensions["crm:promo"].value`.
func (x Extensions) Validate() error {
	v := violations{kind: "extensions"}
	checkExtensions(&v, "", x)
	return v.err()
}

// checkExtensions records the violations of x under path (such as
// "lines[2].extensions").
func checkExtensions(v *violations, path string, x Extensions) {
	if len(x) == 0 {
		return
	}
	if len(x) > MaxExtensions {
		v.add(path, "must hold at most "+strconv.Itoa(MaxExtensions)+" extensions, holds "+strconv.Itoa(len(x)))
	}
	var first map[string]int // for long lists: validation stays linear
	if len(x) > 8 {
		first = make(map[string]int, len(x))
	}
	for i := range x {
		e := &x[i]
		at := path + "[" + strconv.Itoa(i) + "]"
		if extensionNameProblem(e.Name) == "" {
			at = path + "[" + strconv.Quote(e.Name) + "]"
			j := -1
			if first != nil {
				if k, ok := first[e.Name]; ok {
					j = k
				} else {
					first[e.Name] = i
				}
			} else {
				j = slices.IndexFunc(x[:i], func(o Extension) bool { return o.Name == e.Name })
			}
			if j >= 0 {
				v.add(at, "duplicate name (also at "+path+"["+strconv.Itoa(j)+"])")
			}
		}
		e.check(v, at+".")
	}
}

// MarshalJSON encodes x as an object keyed by name, in name order.
func (x Extensions) MarshalJSON() ([]byte, error) {
	return appendExtensions(nil, x), nil
}

// appendExtensions appends the JSON object of x, as json.Marshal does
// (HTML characters escaped), sorting a copy when x is not sorted.
func appendExtensions(b []byte, x Extensions) []byte {
	if x == nil {
		return append(b, "null"...)
	}
	if !slices.IsSortedFunc(x, cmpExtension) {
		x = slices.Clone(x)
		slices.SortStableFunc(x, cmpExtension)
	}
	b = append(b, '{')
	for i := range x {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonfast.AppendString(b, x[i].Name, true)
		b = append(b, `:{"type":`...)
		b = jsonfast.AppendString(b, string(x[i].Type), true)
		b = append(b, `,"value":`...)
		b = jsonfast.AppendString(b, x[i].Value, true)
		b = append(b, '}')
	}
	return append(b, '}')
}

func cmpExtension(a, b Extension) int { return strings.Compare(a.Name, b.Name) }

// extensionJSON is one member of the JSON object.
type extensionJSON struct {
	Type  *string `json:"type"`
	Value *string `json:"value"`
}

// UnmarshalJSON decodes the object MarshalJSON encodes, in any member
// order; the result is sorted by name. null leaves x nil.
func (x *Extensions) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		*x = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return fmt.Errorf("canonical: extensions: must be a JSON object keyed by name, is %s", jsonKindOf(tok))
	}
	out := Extensions{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var m extensionJSON
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("canonical: extension %s: %w", quoteShort(name), err)
		}
		if m.Type == nil || m.Value == nil {
			return fmt.Errorf("canonical: extension %s: type and value are required", quoteShort(name))
		}
		if _, dup := out.Get(name); dup {
			return fmt.Errorf("canonical: extension %s: name given twice", quoteShort(name))
		}
		out = append(out, Extension{Name: name, Type: ExtensionType(*m.Type), Value: *m.Value})
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	slices.SortStableFunc(out, cmpExtension)
	*x = out
	return nil
}

func jsonKindOf(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case float64, json.Number:
		return "a number"
	}
	return "null"
}

// readExtensions reads the object appendExtensions writes: names without
// escapes, each once, and members type and value once each.
func readExtensions(r *jsonfast.Reader, x *Extensions) bool {
	if !r.Open() {
		return false
	}
	out := Extensions{}
	for r.Next() {
		name := string(r.Key())
		if _, dup := out.Get(name); dup || !r.Open() {
			return false
		}
		e := Extension{Name: name}
		var seen uint64
		for r.Next() {
			switch string(r.Key()) {
			case "type":
				if !jsonfast.Once(&seen, 1) || !jsonfast.ReadString(r, &e.Type) {
					return false
				}
			case "value":
				if !jsonfast.Once(&seen, 2) || !jsonfast.ReadString(r, &e.Value) {
					return false
				}
			default:
				return false
			}
		}
		if !r.Ok() || seen != 3 {
			return false
		}
		out = append(out, e)
	}
	if !r.Ok() {
		return false
	}
	slices.SortStableFunc(out, cmpExtension)
	*x = out
	return true
}

// checkLineExtensions records the violations of the extensions of each
// line under "lines[i].extensions".
func checkLineExtensions[T any](v *violations, lines []T, exts func(*T) Extensions) {
	for i := range lines {
		if x := exts(&lines[i]); len(x) > 0 {
			checkExtensions(v, indexPath("lines", i, "extensions"), x)
		}
	}
}

// SetExt sets the extension named name in x to v, typed as
// [NewExtension] types it, replacing one of the same name. It returns a
// [*ValidationError] and leaves x unchanged when the name or value is bad
// or x is full.
func SetExt[T ExtensionValue](x *Extensions, name string, v T) error {
	e, err := NewExtension(name, v)
	if err != nil {
		return err
	}
	return x.Set(e)
}
