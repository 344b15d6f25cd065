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
	return string(tok[1 : len(tok)-1]), true
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

// once marks bit in seen and reports whether it was not set yet.
func once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
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
	if s.peek('n') {
		return false
	}
	out := make(Refs, 0, 2)
	ok := s.array(func() bool {
		var r ExternalRef
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "system":
				r.System, ok = s.str()
				return ok && once(&seen, 1)
			case "type":
				r.Type, ok = s.str()
				return ok && once(&seen, 2)
			case "value":
				r.Value, ok = s.str()
				return ok && once(&seen, 4)
			case "version":
				r.Version, ok = s.str()
				return ok && once(&seen, 8)
			}
			return false
		})
		out = append(out, r)
		return ok
	})
	*rs = out
	return ok
}

func (s *lineScanner) line(l *OrderLine) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "id":
			l.ID, ok = s.str()
			return ok && once(&seen, 1<<0)
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
		}
		return false
	})
}

func (s *lineScanner) item(it *ItemRef) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "sku":
			var ok bool
			it.SKU, ok = s.str()
			return ok && once(&seen, 1)
		case "gtin":
			g, ok := s.str()
			if !ok || (g != "" && GTIN(g).Validate() != nil) {
				return false
			}
			it.GTIN = GTIN(g)
			return once(&seen, 2)
		case "description":
			var ok bool
			it.Description, ok = s.str()
			return ok && once(&seen, 4)
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
			u, ok := s.str()
			if !ok || Unit(u).Validate() != nil {
				return false
			}
			q.Unit = Unit(u)
			return once(&seen, 2)
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
			c, ok := s.str()
			if !ok || Currency(c).Validate() != nil {
				return false
			}
			m.Currency = Currency(c)
			return once(&seen, 2)
		}
		return false
	})
}

func (s *lineScanner) notes(ns *[]Note) bool {
	if s.peek('n') {
		return false
	}
	out := make([]Note, 0, 1)
	ok := s.array(func() bool {
		var n Note
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "type":
				n.Type, ok = s.str()
				return ok && once(&seen, 1)
			case "text":
				n.Text, ok = s.str()
				return ok && once(&seen, 2)
			}
			return false
		})
		out = append(out, n)
		return ok
	})
	*ns = out
	return ok
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
