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
// # Documents
//
// An [Order] is what a customer ordered; it is split structurally, never by
// copying: one [FulfillmentOrder] per warehouse, one or more [Shipment]s per
// fulfilment order, [Package]s (with an [SSCC] and a tracking number) in a
// shipment, and lines at every level that point back to the order line.
// The ERP answers with an [OrderAck] and bills with an [Invoice] (or a
// credit memo); warehouses report [AllocationUpdate]s,
// [InventoryPosition]s and [InventoryAdjustment]s; a [Return] carries an RMA
// from authorization to receipt. Every entity carries [Refs], the IDs each
// system knows it by, beside its stable canonical ID.
//
// # Extension attributes
//
// Custom fields the canonical model has no place for (a Salesforce __c
// field, an SAP extension field: a cost centre, a delivery instruction, a
// promotion code) travel as [Extensions] on the order and its lines, the
// fulfilment order and its lines, the shipment, the invoice and its lines,
// the return, the customer and the item. Each [Extension] has a name
// namespaced by the system that owns it ("crm:costCentre",
// "salesforce:Cost_Centre__c"), an [ExtensionType] (string, decimal,
// integer, bool, date, timestamp) and its value as text. Read one with the
// Go type you want, [Ext]; write one with [SetExt], which validates:
//
//	cc, ok, err := canonical.Ext[string](o.Extensions, "crm:costCentre")
//	err = canonical.SetExt(&o.Lines[0].Extensions, "crm:discount", canonical.MustParseDecimal("2.50"))
//
// The value is text, as amounts are, so that a decimal keeps its scale and
// nothing is lost through JSON; the type says how it reads. Extensions are a
// slice sorted by name rather than a map so that their order is
// deterministic and a document has one encoding, and the JSON is an object
// keyed by name ("extensions":{"crm:promo":{"type":"string","value":"X"}}),
// omitted when empty, so documents without extensions encode as before.
// The limits ([MaxExtensions] per document or line, [MaxExtensionName],
// [MaxExtensionNamespace], [MaxExtensionValue]) keep documents and events
// small; each document's Validate names a bad extension by its path,
// lines[2].extensions["crm:promo"].value. Extensions are facts about the
// document, not quantities: the [Ledger] does not carry them.
//
// # Quantities and status
//
// Quantities are the truth and status is derived. Each order line has
// [Buckets] (ordered, confirmed, rejected, cancelled, allocated,
// backordered, picked, shipped, delivered, invoiced, returned) that a
// [Ledger] folds from [QuantityEvent]s, each tagged with its source message
// ID, so that a redelivered or reordered event changes nothing.
// [Order.Status] derives the commercial, fulfilment and billing axes from
// the buckets and the order's commercial facts; [CheckTransition] refuses
// an illegal change, naming both states.
//
// # Events
//
// [Event] is a CloudEvents 1.0 envelope with distsync's extensions
// (correlationid, causationid, traceparent, the per-subject sequence
// subjectseq, partitionkey); the standard CloudEvents sequence extension,
// which orders a source's events, is an ordinary extension. Build one with [NewEvent] and read its document with
// [DecodeData]; [Event.Key] (source + id) deduplicates and
// [Event.Partition] shards.
//
// # Validation
//
// Every document has a Validate method. It returns nil or one
// [*ValidationError] listing the violations with their field paths in JSON
// naming (lines[2].quantity.value: must be > 0), up to [MaxViolations] of
// them; the rest are counted ("... and 10,900 more"). Validation takes time
// linear in the size of the document. Match the error with
// errors.Is(err, [ErrInvalid]) and inspect it with errors.As.
//
// What Validate requires is said in words in each field's doc and in the
// Validate method's doc. The validate struct tags on document fields are
// the package's own machinery, not part of the API: do not rely on them.
package canonical
