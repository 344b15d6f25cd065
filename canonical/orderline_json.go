package canonical

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// orderLineJSON is OrderLine without its UnmarshalJSON method: the general
// decoding path.
type orderLineJSON OrderLine

// UnmarshalJSON decodes an order line. Lines in the form distsync encodes
// them (known keys once each, strings without escapes, amounts as strings)
// take a fast path; anything else, including every malformed input, is
// decoded by encoding/json exactly as if the method did not exist, so the
// result and the errors are the same either way.
func (l *OrderLine) UnmarshalJSON(data []byte) error {
	var fast OrderLine
	s := lineScanner{b: data}
	if s.line(&fast) && s.end() {
		*l = fast
		return nil
	}
	return json.Unmarshal(data, (*orderLineJSON)(l))
}

// lineScanner reads the common shape of an order line. Every method
// reports false on anything outside that shape; the caller then falls back
// to encoding/json.
type lineScanner struct {
	b []byte
	i int
	// src is b as a string, made on the first str: the strings a scan
	// returns share it, one allocation per document instead of one per
	// string.
	src string
}

func (s *lineScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *lineScanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// next consumes c after white space.
func (s *lineScanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// peek reports whether the next non-space byte is c, without consuming it.
func (s *lineScanner) peek(c byte) bool {
	s.ws()
	return s.i < len(s.b) && s.b[s.i] == c
}

// raw returns a string token with its quotes, when it has no escapes,
// control characters or invalid UTF-8 (which encoding/json would rewrite).
func (s *lineScanner) raw() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i - 1
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			tok := s.b[start:s.i]
			if !ascii && !utf8.Valid(tok) {
				return nil, false
			}
			return tok, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	return nil, false
}

func (s *lineScanner) str() (string, bool) {
	tok, ok := s.raw()
	if !ok {
		return "", false
	}
	if len(tok) == 2 {
		return "", true
	}
	if s.src == "" {
		s.src = string(s.b)
	}
	end := s.i - 1 // the closing quote
	return s.src[end-(len(tok)-2) : end], true
}

// object calls field for each key of an object. field returns false for a
// key it does not know or has seen before, which ends the fast path.
func (s *lineScanner) object(field func(key []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.raw()
		if !ok || !s.next(':') || !field(key[1:len(key)-1]) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// array calls elem for each element of an array.
func (s *lineScanner) array(elem func() bool) bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.next(']') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// once marks bit in seen and reports whether it was not set yet.
func once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// scanList decodes an array (not null, which encoding/json decodes
// differently) into *out, starting with capacity n. elem decodes each
// element in place, in the list's own memory, so that no element is
// copied or allocated on its own.
func scanList[S ~[]E, E any](s *lineScanner, out *S, n int, elem func(*E) bool) bool {
	if s.peek('n') {
		return false
	}
	list := make(S, 0, n)
	var zero E
	ok := s.array(func() bool {
		list = append(list, zero)
		return elem(&list[len(list)-1])
	})
	*out = list
	return ok
}

// scanStr reads a string into *v.
func scanStr[T ~string](s *lineScanner, v *T) bool {
	x, ok := s.str()
	*v = T(x)
	return ok
}

// scanValid reads a string into *v when it is valid: a unit or a currency.
func scanValid[T interface {
	~string
	Validate() error
}](s *lineScanner, v *T) bool {
	x, ok := s.str()
	if !ok || T(x).Validate() != nil {
		return false
	}
	*v = T(x)
	return true
}

// scanPtr decodes a member into a new T, set in *p, as encoding/json does
// for a nil pointer; null is left to encoding/json.
func scanPtr[T any](s *lineScanner, p **T, decode func(*T) bool) bool {
	if s.peek('n') {
		return false
	}
	var v T
	if !decode(&v) {
		return false
	}
	*p = &v
	return true
}

func (s *lineScanner) decimal(d *Decimal) bool {
	tok, ok := s.raw()
	if !ok {
		return false
	}
	v, err := ParseDecimal(string(tok[1 : len(tok)-1]))
	*d = v
	return err == nil
}

func (s *lineScanner) time(t *time.Time) bool {
	tok, ok := s.raw()
	return ok && t.UnmarshalJSON(tok) == nil
}

func (s *lineScanner) refs(rs *Refs) bool {
	return scanList(s, rs, 2, func(r *ExternalRef) bool {
		var seen uint32
		return s.object(func(k []byte) bool {
			switch string(k) {
			case "system":
				return scanStr(s, &r.System) && once(&seen, 1)
			case "type":
				return scanStr(s, &r.Type) && once(&seen, 2)
			case "value":
				return scanStr(s, &r.Value) && once(&seen, 4)
			case "version":
				return scanStr(s, &r.Version) && once(&seen, 8)
			}
			return false
		})
	})
}

func (s *lineScanner) line(l *OrderLine) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return scanStr(s, &l.ID) && once(&seen, 1<<0)
		case "refs":
			return s.refs(&l.Refs) && once(&seen, 1<<1)
		case "item":
			return s.item(&l.Item) && once(&seen, 1<<2)
		case "quantity":
			return s.quantity(&l.Quantity) && once(&seen, 1<<3)
		case "unitPrice":
			return s.money(&l.UnitPrice) && once(&seen, 1<<4)
		case "requestedDate":
			return s.time(&l.RequestedDate) && once(&seen, 1<<5)
		case "promisedDate":
			return s.time(&l.PromisedDate) && once(&seen, 1<<6)
		case "notes":
			return s.notes(&l.Notes) && once(&seen, 1<<7)
		case "buckets":
			return s.buckets(&l.Buckets) && once(&seen, 1<<8)
		case "extensions":
			return s.extensions(&l.Extensions) && once(&seen, 1<<9)
		}
		return false
	})
}

func (s *lineScanner) item(it *ItemRef) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "sku":
			return scanStr(s, &it.SKU) && once(&seen, 1)
		case "gtin":
			g, ok := s.str()
			if !ok || (g != "" && GTIN(g).Validate() != nil) {
				return false
			}
			it.GTIN = GTIN(g)
			return once(&seen, 2)
		case "description":
			return scanStr(s, &it.Description) && once(&seen, 4)
		case "refs":
			return s.refs(&it.Refs) && once(&seen, 8)
		}
		return false
	})
}

func (s *lineScanner) quantity(q *Quantity) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "value":
			return s.decimal(&q.Value) && once(&seen, 1)
		case "unit":
			return scanValid(s, &q.Unit) && once(&seen, 2)
		}
		return false
	})
}

func (s *lineScanner) money(m *Money) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "amount":
			return s.decimal(&m.Amount) && once(&seen, 1)
		case "currency":
			return scanValid(s, &m.Currency) && once(&seen, 2)
		}
		return false
	})
}

func (s *lineScanner) notes(ns *[]Note) bool {
	return scanList(s, ns, 1, func(n *Note) bool {
		var seen uint32
		return s.object(func(k []byte) bool {
			switch string(k) {
			case "type":
				return scanStr(s, &n.Type) && once(&seen, 1)
			case "text":
				return scanStr(s, &n.Text) && once(&seen, 2)
			}
			return false
		})
	})
}

func (s *lineScanner) buckets(bs *Buckets) bool {
	var out Buckets
	var seen uint32
	ok := s.object(func(k []byte) bool {
		for b := BucketOrdered; b <= BucketReturned; b++ {
			if string(k) == bucketNames[b] {
				return s.decimal(&out.v[b-1]) && once(&seen, 1<<b)
			}
		}
		return false
	})
	*bs = out
	return ok
}
