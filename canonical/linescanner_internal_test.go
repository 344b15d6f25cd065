package canonical

import "github.com/distsync/distsync/internal/jsonfast"

// lineScanner drives the generated order line reader over b, as the fast
// path tests of OrderLine use it.
type lineScanner struct {
	b []byte
	r *jsonfast.Reader
}

func (s *lineScanner) reader() *jsonfast.Reader {
	if s.r == nil {
		r := jsonfast.NewReader(s.b)
		s.r = &r
	}
	return s.r
}

func (s *lineScanner) line(l *OrderLine) bool { return readOrderLine(s.reader(), l) }

func (s *lineScanner) end() bool { return s.reader().End() }
