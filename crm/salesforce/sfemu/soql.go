package sfemu

// This file owns the SOQL subset the emulator understands: a tokenizer,
// a recursive-descent parser and the evaluation of a parsed query over
// records.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// query is a parsed SOQL query of the subset.
type query struct {
	fields   []string // selected fields, dotted for a parent's field
	child    *subquery
	object   string
	where    cond // nil: every record
	orderBy  []orderKey
	limit    int // 0: none
	hasLimit bool
}

// subquery is the parent-to-child relationship query in the field list.
type subquery struct {
	fields   []string
	relation string
}

type orderKey struct {
	field string
	desc  bool
}

// cond is a WHERE condition.
type cond interface {
	eval(get func(string) any) bool
}

type andCond []cond
type orCond []cond

type cmpCond struct {
	field string
	op    string
	value any // string, bool, nil, float64 or time.Time
}

func (c andCond) eval(get func(string) any) bool {
	for _, x := range c {
		if !x.eval(get) {
			return false
		}
	}
	return true
}

func (c orCond) eval(get func(string) any) bool {
	for _, x := range c {
		if x.eval(get) {
			return true
		}
	}
	return false
}

func (c *cmpCond) eval(get func(string) any) bool {
	n, ok := compare(get(c.field), c.value)
	switch c.op {
	case "=":
		return ok && n == 0
	case "!=":
		return !ok || n != 0
	case "<":
		return ok && n < 0
	case "<=":
		return ok && n <= 0
	case ">":
		return ok && n > 0
	case ">=":
		return ok && n >= 0
	}
	return false
}

// compare compares a field value with a literal; ok is false when they
// cannot be compared (a null on either side, or different kinds).
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case time.Time:
		y, ok := b.(time.Time)
		return x.Compare(y), ok
	case json.Number:
		xf, err := x.Float64()
		y, ok := b.(float64)
		if err != nil || !ok {
			return 0, false
		}
		switch {
		case xf < y:
			return -1, true
		case xf > y:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// soqlError is a query the emulator refuses: errorCode is MALFORMED_QUERY
// for syntax outside the subset, INVALID_TYPE or INVALID_FIELD for names
// it does not know.
type soqlError struct {
	code, msg string
}

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

func malformed(format string, args ...any) error {
	return &soqlError{"MALFORMED_QUERY", fmt.Sprintf(format, args...)}
}

// token kinds.
const (
	tkIdent = iota
	tkString
	tkNumber // a number or a datetime literal
	tkPunct
	tkEOF
)

type token struct {
	kind int
	text string
	pos  int
}

// lex splits a query into tokens.
func lex(s string) ([]token, error) {
	var ts []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isLetter(c):
			j := i
			for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || s[j] == '.') {
				j++
			}
			ts = append(ts, token{tkIdent, s[i:j], i})
			i = j
		case isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])):
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || strings.IndexByte(".:-+TZ", s[j]) >= 0) {
				j++
			}
			ts = append(ts, token{tkNumber, s[i:j], i})
			i = j
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, malformed("unterminated string at position %d", i)
				}
				if s[j] == '\\' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if s[j] == '\'' {
					break
				}
				b.WriteByte(s[j])
				j++
			}
			ts = append(ts, token{tkString, b.String(), i})
			i = j + 1
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				ts = append(ts, token{tkPunct, s[i : i+2], i})
				i += 2
			} else if c == '!' {
				return nil, malformed("unexpected '!' at position %d", i)
			} else {
				ts = append(ts, token{tkPunct, s[i : i+1], i})
				i++
			}
		case c == ',' || c == '(' || c == ')' || c == '=':
			ts = append(ts, token{tkPunct, s[i : i+1], i})
			i++
		default:
			return nil, malformed("unexpected character %q at position %d", c, i)
		}
	}
	return append(ts, token{tkEOF, "", len(s)}), nil
}

func isLetter(c byte) bool { return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

type parser struct {
	ts []token
	i  int
}

func (p *parser) peek() token { return p.ts[p.i] }
func (p *parser) next() token {
	t := p.ts[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

// keyword reports whether the next token is the keyword kw, and takes it.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tkIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) punct(s string) bool {
	t := p.peek()
	if t.kind == tkPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(what string, ok bool) error {
	if ok {
		return nil
	}
	t := p.peek()
	if t.kind == tkEOF {
		return malformed("expected %s at the end of the query", what)
	}
	return malformed("expected %s at position %d, found %q", what, t.pos, t.text)
}

var reserved = map[string]bool{"select": true, "from": true, "where": true, "and": true, "or": true, "order": true, "by": true, "limit": true, "asc": true, "desc": true, "null": true, "true": true, "false": true}

// name takes an object name, which may be a keyword (FROM Order).
func (p *parser) name(what string) (string, error) {
	t := p.peek()
	if t.kind != tkIdent {
		return "", p.expect(what, false)
	}
	p.i++
	return t.text, nil
}

func (p *parser) ident(what string) (string, error) {
	t := p.peek()
	if t.kind != tkIdent || reserved[strings.ToLower(t.text)] {
		return "", p.expect(what, false)
	}
	p.i++
	return t.text, nil
}

// parseSOQL parses a query of the subset documented in the package doc.
func parseSOQL(s string) (*query, error) {
	ts, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{ts: ts}
	q := &query{}
	if err := p.expect("SELECT", p.keyword("select")); err != nil {
		return nil, err
	}
	for {
		if p.punct("(") {
			if q.child != nil {
				return nil, malformed("only one subquery is supported")
			}
			sq, err := p.subquery()
			if err != nil {
				return nil, err
			}
			q.child = sq
		} else {
			f, err := p.ident("a field name")
			if err != nil {
				return nil, err
			}
			q.fields = append(q.fields, f)
		}
		if !p.punct(",") {
			break
		}
	}
	if err := p.expect("FROM", p.keyword("from")); err != nil {
		return nil, err
	}
	if q.object, err = p.name("an object name"); err != nil {
		return nil, err
	}
	if p.keyword("where") {
		if q.where, err = p.or(); err != nil {
			return nil, err
		}
	}
	if p.keyword("order") {
		if err := p.expect("BY", p.keyword("by")); err != nil {
			return nil, err
		}
		for {
			f, err := p.ident("a field name")
			if err != nil {
				return nil, err
			}
			k := orderKey{field: f}
			if p.keyword("desc") {
				k.desc = true
			} else {
				p.keyword("asc")
			}
			q.orderBy = append(q.orderBy, k)
			if !p.punct(",") {
				break
			}
		}
	}
	if p.keyword("limit") {
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tkNumber || err != nil || n < 0 {
			return nil, malformed("LIMIT needs a non-negative integer, found %q", t.text)
		}
		q.limit, q.hasLimit = n, true
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, malformed("unexpected %q at position %d", t.text, t.pos)
	}
	if len(q.fields) == 0 {
		return nil, malformed("no fields selected")
	}
	return q, nil
}

func (p *parser) subquery() (*subquery, error) {
	sq := &subquery{}
	if err := p.expect("SELECT", p.keyword("select")); err != nil {
		return nil, err
	}
	for {
		f, err := p.ident("a field name")
		if err != nil {
			return nil, err
		}
		sq.fields = append(sq.fields, f)
		if !p.punct(",") {
			break
		}
	}
	if err := p.expect("FROM", p.keyword("from")); err != nil {
		return nil, err
	}
	var err error
	if sq.relation, err = p.ident("a relationship name"); err != nil {
		return nil, err
	}
	if err := p.expect("')'", p.punct(")")); err != nil {
		return nil, err
	}
	return sq, nil
}

func (p *parser) or() (cond, error) {
	var cs orCond
	for {
		c, err := p.and()
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
		if !p.keyword("or") {
			break
		}
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return cs, nil
}

func (p *parser) and() (cond, error) {
	var cs andCond
	for {
		c, err := p.atom()
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
		if !p.keyword("and") {
			break
		}
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return cs, nil
}

func (p *parser) atom() (cond, error) {
	if p.punct("(") {
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		return c, p.expect("')'", p.punct(")"))
	}
	f, err := p.ident("a field name")
	if err != nil {
		return nil, err
	}
	op := p.next()
	switch op.text {
	case "=", "!=", "<", "<=", ">", ">=":
	default:
		return nil, malformed("expected a comparison operator after %s at position %d, found %q", f, op.pos, op.text)
	}
	if op.kind != tkPunct {
		return nil, malformed("expected a comparison operator after %s at position %d, found %q", f, op.pos, op.text)
	}
	v, err := p.literal()
	if err != nil {
		return nil, err
	}
	return &cmpCond{field: f, op: op.text, value: v}, nil
}

func (p *parser) literal() (any, error) {
	t := p.next()
	switch t.kind {
	case tkString:
		return t.text, nil
	case tkIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	case tkNumber:
		if strings.ContainsRune(t.text, 'T') {
			for _, layout := range []string{"2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05Z07:00"} {
				if tm, err := time.Parse(layout, t.text); err == nil {
					return tm, nil
				}
			}
			return nil, malformed("invalid datetime literal %q at position %d", t.text, t.pos)
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, malformed("invalid number %q at position %d", t.text, t.pos)
		}
		return f, nil
	}
	if t.kind == tkEOF {
		return nil, malformed("expected a value at the end of the query")
	}
	return nil, malformed("expected a value at position %d, found %q", t.pos, t.text)
}
