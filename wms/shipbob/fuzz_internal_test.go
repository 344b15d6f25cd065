package shipbob

import (
	"testing"
	"time"

	"github.com/distsync/distsync/connector"
)

// FuzzCursor checks that any text either is refused or reads back as the
// cursor its String gives, and that cursors built from positions round-trip.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "v1|-|-", "v1|1783000000000000:100000001:2|-", "v1|-|5:6:0", "v1|1:2|-", "v2|-|-", "v1|+1:2:3|-", "v1|a:b:c|-"} {
		f.Add(s, int64(1783000000000000), int64(100000001), 3)
	}
	f.Fuzz(func(t *testing.T, s string, us, id int64, n int) {
		if c, err := parseCursor(connector.Cursor(s)); err == nil {
			again, err := parseCursor(connector.Cursor(c.String()))
			if err != nil || !again.orders.at.Equal(c.orders.at) || again.orders.id != c.orders.id || again.orders.n != c.orders.n ||
				!again.returns.at.Equal(c.returns.at) || again.returns.id != c.returns.id || again.returns.n != c.returns.n {
				t.Fatalf("cursor %q read as %+v, written as %q, read back as %+v (%v)", s, c, c.String(), again, err)
			}
		}
		if us == 0 || n < 0 {
			return
		}
		p := position{at: time.UnixMicro(us).UTC(), id: id, n: n}
		c := feedCursor{orders: p, returns: p}
		got, err := parseCursor(connector.Cursor(c.String()))
		if err != nil || !got.orders.at.Equal(p.at) || got.orders.id != id || got.orders.n != n || !got.returns.at.Equal(p.at) {
			t.Fatalf("cursor of %+v, %q, read back as %+v (%v)", p, c.String(), got, err)
		}
	})
}
