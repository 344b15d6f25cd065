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

	"github.com/distsync/distsync/internal/jsonfast"
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

// The fast decoders of the documents are generated (codec_gen.go, by go
// generate): each reads the form canonical's encoders write and reports
// false on anything else, and the caller then decodes with encoding/json,
// which decides the result and the errors. The functions below read the
// values that unmarshal themselves, as their UnmarshalJSON or
// UnmarshalText would.

// readDecimal reads a decimal written as a string.
func readDecimal(r *jsonfast.Reader, d *Decimal) bool {
	tok, ok := r.Raw()
	if !ok {
		return false
	}
	v, err := ParseDecimal(string(tok[1 : len(tok)-1]))
	*d = v
	return err == nil
}

// readCode reads a code that is valid: a currency or a unit.
func readCode[T interface {
	~string
	Validate() error
}](r *jsonfast.Reader, v *T) bool {
	x, ok := r.Str()
	if !ok || T(x).Validate() != nil {
		return false
	}
	*v = T(x)
	return true
}

func readCurrency(r *jsonfast.Reader, c *Currency) bool { return readCode(r, c) }

func readUnit(r *jsonfast.Reader, u *Unit) bool { return readCode(r, u) }

// readGTIN reads a GTIN that is empty or valid.
func readGTIN(r *jsonfast.Reader, g *GTIN) bool {
	x, ok := r.Str()
	if !ok || (x != "" && GTIN(x).Validate() != nil) {
		return false
	}
	*g = GTIN(x)
	return true
}

// readSSCC reads an SSCC as UnmarshalText does: empty is the zero one.
func readSSCC(r *jsonfast.Reader, c *SSCC) bool {
	x, ok := r.Str()
	if !ok {
		return false
	}
	if x == "" {
		return true
	}
	v, err := ParseSSCC(x) // x shares the document's string
	*c = v
	return err == nil
}

// readQuantityKind reads "delta" or "snapshot".
func readQuantityKind(r *jsonfast.Reader, k *QuantityEventKind) bool {
	x, ok := r.Str()
	switch {
	case !ok:
		return false
	case x == "delta":
		*k = QuantityDelta
	case x == "snapshot":
		*k = QuantitySnapshot
	default:
		return false
	}
	return true
}

// readBuckets reads the buckets by name, each once.
func readBuckets(r *jsonfast.Reader, bs *Buckets) bool {
	if !r.Open() {
		return false
	}
	var out Buckets
	var seen uint64
	for r.Next() {
		b := bucketByName(r.Key())
		if b == 0 || !jsonfast.Once(&seen, 1<<b) || !readDecimal(r, &out.v[b-1]) {
			return false
		}
	}
	*bs = out
	return r.Ok()
}

// bucketByName returns the bucket named name, or 0.
func bucketByName(name []byte) Bucket {
	for b := BucketOrdered; b <= BucketReturned; b++ {
		if string(name) == bucketNames[b] {
			return b
		}
	}
	return 0
}
