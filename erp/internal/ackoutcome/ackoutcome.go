// Package ackoutcome sums up an ERP connector's per-line judgement of an
// order into the outcome of its acknowledgement, the one rule the vendor
// connectors (erp/sap, erp/d365) share.
package ackoutcome

import "github.com/distsync/distsync/canonical"

// Of returns the outcome of an acknowledgement of lines lines of which
// rejected were rejected and changed were accepted with a change (another
// price, a backorder): rejected when the ERP rejected the whole document
// (docRejected) or every line, else on hold when held, else accepted with
// changes when a line was changed or rejected, else accepted. It is pure
// and safe for concurrent use.
func Of(docRejected bool, lines, rejected, changed int, held bool) canonical.AckOutcome {
	switch {
	case docRejected || (rejected > 0 && rejected == lines):
		return canonical.AckRejected
	case held:
		return canonical.AckOnHold
	case changed+rejected > 0:
		return canonical.AckAcceptedWithChanges
	}
	return canonical.AckAccepted
}
