package jsongen

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// The decoders: for each struct type reachable from Config.Decoders, a
// function readT(r *jsonfast.Reader, v *T) bool that reads the form the
// encoders write (every member by its exact name, at most once, strings
// without escapes, no null) and reports false on anything else, so that
// the caller hands the input to encoding/json. What a reader accepts it
// decodes exactly as encoding/json does: the generated code may only
// refuse, never guess.

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// ReaderName returns the name of the generated function that reads a
// value of the struct type t.
func ReaderName(t reflect.Type) string { return "read" + t.Name() }

// decoders generates the entry points and the readers.
func (g *gen) decoders() error {
	roots := make([]reflect.Type, 0, len(g.c.Decoders))
	for t := range g.c.Decoders {
		roots = append(roots, t)
	}
	slices.SortFunc(roots, func(a, b reflect.Type) int { return strings.Compare(a.Name(), b.Name()) })
	var queue []reflect.Type
	for _, t := range roots {
		if t.Kind() != reflect.Struct {
			return fmt.Errorf("jsongen: decoder root %v is not a struct", t)
		}
		name := g.c.Decoders[t]
		g.funcs = append(g.funcs, fn{name, fmt.Sprintf(
			"// %s decodes data into *v, a zero %s, when data has the form\n"+
				"// canonical's encoders write; it reports false otherwise, and the caller\n"+
				"// then decodes data with encoding/json.\n"+
				"func %s(data []byte, v *%s) bool {\n\tr := jsonfast.NewReader(data)\n\treturn %s(&r, v) && r.End()\n}\n\n",
			name, t.Name(), name, t.Name(), ReaderName(t))})
		queue = append(queue, t)
	}
	done := map[reflect.Type]bool{}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if done[t] {
			continue
		}
		done[t] = true
		more, err := g.readStruct(t)
		if err != nil {
			return err
		}
		queue = append(queue, more...)
	}
	return nil
}

// dec holds the state of one reader being generated.
type dec struct {
	g     *gen
	b     strings.Builder
	reach []reflect.Type
	// pre is a failure condition the next check tests first (the member
	// seen twice), or "".
	pre string
}

// fail writes the statement that returns false when cond holds, or pre.
func (d *dec) fail(cond string) {
	if d.pre != "" {
		cond = d.pre + " || " + cond
		d.pre = ""
	}
	fmt.Fprintf(&d.b, "if %s {\nreturn false\n}\n", cond)
}

func (g *gen) readStruct(t reflect.Type) ([]reflect.Type, error) {
	if !g.decodesFields(t) {
		return nil, fmt.Errorf("jsongen: %v unmarshals itself: list it in Config.Readers or Config.Fields", t)
	}
	d := &dec{g: g}
	name := ReaderName(t)
	fmt.Fprintf(&d.b, "// %s reads v in the form the encoders write; false on anything else.\n"+
		"func %s(r *jsonfast.Reader, v *%s) bool {\n\tif !r.Open() {\n\t\treturn false\n\t}\n\tvar seen uint64\n\tfor r.Next() {\n\t\tswitch string(r.Key()) {\n",
		name, name, t.Name())
	n := 0
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous {
			return nil, fmt.Errorf("jsongen: %v.%s: embedded fields are not supported", t, f.Name)
		}
		jname, opts, _ := strings.Cut(tag, ",")
		if !hasTag || jname == "" {
			jname = f.Name
		}
		if strings.ContainsAny(jname, "\"\\") || !isASCII(jname) {
			return nil, fmt.Errorf("jsongen: %v.%s: name %q needs escaping", t, f.Name, jname)
		}
		if strings.Contains(","+opts+",", ",string,") {
			return nil, fmt.Errorf("jsongen: %v.%s: the string option is not supported", t, f.Name)
		}
		if n == 64 {
			return nil, fmt.Errorf("jsongen: %v: more than 64 members", t)
		}
		fmt.Fprintf(&d.b, "case %q:\n", jname)
		d.pre = fmt.Sprintf("!jsonfast.Once(&seen, 1<<%d)", n)
		if err := d.value(f.Type, "v."+f.Name, 1); err != nil {
			return nil, fmt.Errorf("jsongen: %v.%s: %w", t, f.Name, err)
		}
		n++
	}
	d.b.WriteString("default:\nreturn false\n}\n}\nreturn r.Ok()\n}\n\n")
	g.funcs = append(g.funcs, fn{name, d.b.String()})
	return d.reach, nil
}

// decodesFields reports whether encoding/json decodes t field by field:
// t does not unmarshal itself, or it is listed in Config.Fields (its own
// UnmarshalJSON is built on its generated reader).
func (g *gen) decodesFields(t reflect.Type) bool {
	if slices.Contains(g.c.Fields, t) {
		return true
	}
	pt := reflect.PointerTo(t)
	return !pt.Implements(unmarshalerType) && !pt.Implements(textUnmarshalerType)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return false
		}
	}
	return true
}

// value writes the statements that read a value of type t into place (an
// addressable expression), returning false on failure; depth numbers the
// variables of nested lists and pointers.
func (d *dec) value(t reflect.Type, place string, depth int) error {
	addr := "&" + place
	if strings.HasPrefix(place, "*") {
		addr = place[1:]
	}
	check := func(call string) { d.fail("!" + call) }
	if m, ok := d.g.c.Readers[t]; ok {
		check(fmt.Sprintf("%s(r, %s)", m, addr))
		return nil
	}
	if t == timeType {
		check(fmt.Sprintf("r.Time(%s)", addr))
		return nil
	}
	if t.Kind() != reflect.Pointer && !d.g.decodesFields(t) {
		return fmt.Errorf("%v unmarshals itself: list it in Config.Readers", t)
	}
	switch t.Kind() {
	case reflect.String:
		check(fmt.Sprintf("jsonfast.ReadString(r, %s)", addr))
		return nil
	case reflect.Bool:
		check(fmt.Sprintf("r.Bool(%s)", addr))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		check(fmt.Sprintf("jsonfast.ReadInt(r, %s)", addr))
		return nil
	case reflect.Struct:
		if t.PkgPath() == "" || t.Name() == "" {
			return fmt.Errorf("anonymous struct %v is not supported", t)
		}
		d.reach = append(d.reach, t)
		check(fmt.Sprintf("%s(r, %s)", ReaderName(t), addr))
		return nil
	case reflect.Pointer:
		elem, err := d.g.typeExpr(t.Elem())
		if err != nil {
			return err
		}
		p := fmt.Sprintf("p%d", depth)
		d.fail("r.Null()")
		fmt.Fprintf(&d.b, "%s := new(%s)\n", p, elem)
		if err := d.value(t.Elem(), "*"+p, depth+1); err != nil {
			return err
		}
		fmt.Fprintf(&d.b, "%s = %s\n", place, p)
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return fmt.Errorf("byte slices are not supported")
		}
		st, err := d.g.typeExpr(t)
		if err != nil {
			return err
		}
		zero, err := d.g.zeroExpr(t.Elem())
		if err != nil {
			return err
		}
		l := fmt.Sprintf("l%d", depth)
		d.fail("r.Null() || !r.OpenArray()")
		fmt.Fprintf(&d.b, "%s := make(%s, 0, r.Len())\nfor r.NextElem() {\n%s = append(%s, %s)\n", l, st, l, l, zero)
		if err := d.value(t.Elem(), fmt.Sprintf("%s[len(%s)-1]", l, l), depth+1); err != nil {
			return err
		}
		fmt.Fprintf(&d.b, "}\nif !r.Ok() {\nreturn false\n}\n%s = %s\n", place, l)
		return nil
	}
	return fmt.Errorf("%v (%v) is not supported", t, t.Kind())
}

// typeExpr returns how the generated code names t.
func (g *gen) typeExpr(t reflect.Type) (string, error) {
	if t.Name() != "" {
		if t.PkgPath() != "" && t.PkgPath() != g.pkgPath() {
			return "", fmt.Errorf("%v is in another package", t)
		}
		return t.Name(), nil
	}
	switch t.Kind() {
	case reflect.Slice:
		e, err := g.typeExpr(t.Elem())
		return "[]" + e, err
	case reflect.Pointer:
		e, err := g.typeExpr(t.Elem())
		return "*" + e, err
	}
	return "", fmt.Errorf("%v has no name", t)
}

// zeroExpr returns the zero value of t in the generated code.
func (g *gen) zeroExpr(t reflect.Type) (string, error) {
	e, err := g.typeExpr(t)
	if err != nil {
		return "", err
	}
	switch t.Kind() {
	case reflect.Struct:
		return e + "{}", nil
	case reflect.String:
		return `""`, nil
	}
	return "*new(" + e + ")", nil
}

// pkgPath returns the import path of the package the roots are in.
func (g *gen) pkgPath() string {
	for _, t := range g.c.Roots {
		return t.PkgPath()
	}
	for t := range g.c.Decoders {
		return t.PkgPath()
	}
	return ""
}
