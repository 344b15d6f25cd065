package canonical

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// DecodeError is a failure to decode a document from JSON: malformed JSON,
// a value of the wrong JSON type, or a value its Go type rejects (an
// unknown currency, a malformed decimal). It names the field in JSON path
// form. It matches [ErrInvalid] and unwraps to the underlying error (such
// as a *json.SyntaxError). It is not modified after it is returned and is
// safe for concurrent use. Its zero value names no field; the decoders fill
// it in.
type DecodeError struct {
	// Kind is the document kind being decoded, such as "order".
	Kind string
	// Field is the JSON path of the offending value ("lines[2].unitPrice.
	// currency"); empty when the JSON is malformed or the document itself
	// is not an object.
	Field string
	// Line and Column locate malformed JSON (1-based); zero otherwise.
	Line, Column int
	// Err is the underlying error.
	Err error
}

// Error returns "canonical: decode KIND: FIELD: problem".
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("canonical: decode ")
	b.WriteString(e.Kind)
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		b.WriteString("malformed JSON at line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(", column ")
		b.WriteString(strconv.Itoa(e.Column))
		b.WriteString(": ")
	}
	b.WriteString(decodeMessage(e.Err))
	return b.String()
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInvalid].
func (e *DecodeError) Is(target error) bool { return target == ErrInvalid }

// DecodeOrder decodes an order from JSON. Malformed input never panics; the
// error is a [*DecodeError] naming the offending field. Unknown fields are
// ignored, so newer producers can add fields. DecodeOrder does not validate
// the order; call [Order.Validate] for that.
func DecodeOrder(data []byte) (Order, error) {
	var o Order
	if decodeOrderFast(data, &o) {
		return o, nil
	}
	o = Order{}
	if err := decodeDocument(KindOrder, data, &o); err != nil {
		return Order{}, err
	}
	return o, nil
}

// Decode decodes a document of type T from JSON, like [DecodeOrder] does
// for orders: malformed input never panics and the error is a
// [*DecodeError] naming the offending field. It does not validate the
// document.
func Decode[T Document](data []byte) (T, error) {
	var doc T
	kind := "document"
	if k := reflect.TypeFor[T](); k.Kind() != reflect.Interface && k.Kind() != reflect.Pointer {
		kind = doc.DocumentKind()
	}
	if err := decodeDocument(kind, data, &doc); err != nil {
		var zero T
		return zero, err
	}
	return doc, nil
}

// decodeDocument unmarshals data into out (a pointer) and, on failure,
// finds the JSON path of the offending value.
func decodeDocument(kind string, data []byte, out any) error {
	err := json.Unmarshal(data, out)
	if err == nil {
		return nil
	}
	de := &DecodeError{Kind: kind, Err: err}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		de.Line, de.Column = lineColumn(data, se.Offset)
		return de
	}
	if path, leafErr, found := locate(data, reflect.TypeOf(out).Elem(), ""); found {
		de.Field, de.Err = path, leafErr
	}
	return de
}

// decodeMessage turns a decoding error into a message for people.
func decodeMessage(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return "must be a JSON " + jsonKind(te.Type) + ", got " + te.Value
	}
	return errorMessage(err)
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.String()
}

func lineColumn(data []byte, offset int64) (line, col int) {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	orderLineType       = reflect.TypeFor[OrderLine]()
)

// locate re-decodes data piece by piece along type t and returns the path
// of the first value that fails, in the order encoding/json visits them.
// It only runs after a failed decode, so its cost does not matter.
func locate(data []byte, t reflect.Type, path string) (string, error, bool) {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		return "", nil, false
	}
	pt := reflect.PointerTo(t)
	// OrderLine's UnmarshalJSON is a fast path over the struct: descend.
	if t.Kind() != reflect.Pointer && t != orderLineType && (pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)) {
		return leaf(data, t, path)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return locate(data, t.Elem(), path)
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return path, err, true
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			// encoding/json prefers an exact key, then a case-insensitive one.
			key, ok := "", false
			if _, exact := obj[name]; exact {
				key, ok = name, true
			} else if j := slices.IndexFunc(keys, func(k string) bool { return strings.EqualFold(k, name) }); j >= 0 {
				key, ok = keys[j], true
			}
			if !ok {
				continue
			}
			if p, err, found := locate(obj[key], f.Type, joinPath(path, name)); found {
				return p, err, true
			}
		}
		return "", nil, false
	case reflect.Slice, reflect.Array:
		var arr []json.RawMessage
		if err := json.Unmarshal(data, &arr); err != nil {
			return path, err, true
		}
		for i, el := range arr {
			if p, err, found := locate(el, t.Elem(), path+"["+strconv.Itoa(i)+"]"); found {
				return p, err, true
			}
		}
		return "", nil, false
	case reflect.Map:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return path, err, true
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, err, found := locate(obj[k], t.Elem(), joinPath(path, k)); found {
				return p, err, true
			}
		}
		return "", nil, false
	}
	return leaf(data, t, path)
}

func leaf(data []byte, t reflect.Type, path string) (string, error, bool) {
	if err := json.Unmarshal(data, reflect.New(t).Interface()); err != nil {
		return path, err, true
	}
	return "", nil, false
}
