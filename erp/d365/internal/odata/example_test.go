package odata_test

import (
	"fmt"

	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// ExampleParseNumber decodes JSON numbers exactly: no float64 rounding,
// and the scale the server wrote is kept.
func ExampleParseNumber() {
	for _, s := range []string{"64821.858", "0.30000000000000004", "12.50", "1.5E-3"} {
		d, _ := odata.ParseNumber(s)
		fmt.Println(d)
	}
	// Output:
	// 64821.858
	// 0.30000000000000004
	// 12.50
	// 0.0015
}
