package canonical_test

import (
	"encoding/json"
	"fmt"

	"github.com/distsync/distsync/canonical"
)

// A CRM's custom fields travel on the order as typed extensions and are
// read back with the Go type the code wants.
func ExampleExt() {
	var o canonical.Order
	if err := canonical.SetExt(&o.Extensions, "crm:costCentre", "CC-12"); err != nil {
		fmt.Println(err)
	}
	if err := canonical.SetExt(&o.Extensions, "crm:discount", canonical.MustParseDecimal("2.50")); err != nil {
		fmt.Println(err)
	}
	b, _ := json.Marshal(o.Extensions)
	fmt.Println(string(b))

	disc, ok, err := canonical.Ext[canonical.Decimal](o.Extensions, "crm:discount")
	fmt.Println(disc, ok, err)
	_, _, err = canonical.Ext[int64](o.Extensions, "crm:costCentre")
	fmt.Println(err)
	fmt.Println(canonical.SetExt(&o.Extensions, "costCentre", "x"))
	// Output:
	// {"crm:costCentre":{"type":"string","value":"CC-12"},"crm:discount":{"type":"decimal","value":"2.50"}}
	// 2.50 true <nil>
	// canonical: invalid extension type: "crm:costCentre" is "string", not integer
	// canonical: invalid extension: name: must be namespace:field, such as "crm:costCentre", is "costCentre"
}
