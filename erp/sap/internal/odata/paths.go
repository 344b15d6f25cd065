package odata

import (
	"strconv"
	"strings"
)

// fields maps canonical field names of an order and its lines to the OData
// properties that carry them, in both directions.
var (
	headerFields = [][2]string{{"id", "PurchaseOrderByCustomer"}, {"soldTo", "SoldToParty"}, {"currency", "TransactionCurrency"},
		{"paymentTerms", "CustomerPaymentTerms"}, {"requestedDeliveryDate", "RequestedDeliveryDate"}, {"shipTo", "to_Partner"},
		{"version", "YY1_OrderVersion_SDH"}}
	lineFields = [][2]string{{"quantity", "RequestedQuantity"}, {"item", "Material"}, {"unitPrice", "to_PricingElement"},
		{"id", "YY1_CanonicalLineID_SDI"}}
)

// PropertyRef returns the propertyref of an error detail for a canonical
// field path such as "lines[2].quantity.value": "to_Item/2/RequestedQuantity".
// A path it does not know is returned as it is.
func PropertyRef(path string) string {
	if rest, ok := strings.CutPrefix(path, "lines["); ok {
		idx, tail, ok := strings.Cut(rest, "]")
		if !ok {
			return path
		}
		tail = strings.TrimPrefix(tail, ".")
		for _, f := range lineFields {
			if tail == f[0] || strings.HasPrefix(tail, f[0]+".") {
				return "to_Item/" + idx + "/" + f[1]
			}
		}
		return path
	}
	for _, f := range headerFields {
		if path == f[0] || strings.HasPrefix(path, f[0]+".") {
			return f[1]
		}
	}
	return path
}

// FieldPath is the inverse of PropertyRef: the canonical field path that a
// propertyref names, such as "lines[2].quantity" for
// "to_Item/2/RequestedQuantity". It also reads SAP's own form with the
// entity set ("A_SalesOrderItem/RequestedQuantity" names a line without its
// index: "lines[].quantity"). ok is false for a propertyref it cannot map.
func FieldPath(ref string) (path string, ok bool) {
	if rest, found := strings.CutPrefix(ref, "to_Item/"); found {
		idx, prop, found := strings.Cut(rest, "/")
		if _, err := strconv.Atoi(idx); !found || err != nil {
			return "", false
		}
		for _, f := range lineFields {
			if prop == f[1] {
				return "lines[" + idx + "]." + f[0], true
			}
		}
		return "", false
	}
	if prop, found := strings.CutPrefix(ref, "A_SalesOrderItem/"); found {
		for _, f := range lineFields {
			if prop == f[1] {
				return "lines[]." + f[0], true
			}
		}
		return "", false
	}
	ref = strings.TrimPrefix(ref, "A_SalesOrder/")
	for _, f := range headerFields {
		if ref == f[1] {
			return f[0], true
		}
	}
	return "", false
}
