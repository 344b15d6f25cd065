// Package canonical is the business model distsync speaks: the values,
// documents and events that every CRM, ERP and WMS connector maps to and from.
//
// # Values
//
// [Money] and [Quantity] are exact decimals ([Decimal], never float64) tagged
// with an ISO 4217 [Currency] or a UN/ECE Recommendation 20 [Unit]. Arithmetic
// that mixes currencies or units returns an error instead of a wrong number.
// Amounts travel in JSON as strings ("12.50") so no precision is lost on the
// way.
//
// # Validation
//
// Every document has a Validate method. It returns nil or one
// [*ValidationError] listing every violation with its field path in JSON
// naming (lines[2].quantity.value: must be > 0). Match it with
// errors.Is(err, [ErrInvalid]) and inspect it with errors.As.
package canonical
