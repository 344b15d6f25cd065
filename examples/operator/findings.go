package main

import (
	"strings"

	"github.com/distsync/distsync/ops"
	"github.com/distsync/distsync/reconcile"
)

// This file owns the adapter from a reconciliation report to the operator
// page's findings. It lives in the program that wires both packages: ops
// shows findings of any reconciliation (a service may run its own checks)
// and does not import reconcile, and reconcile knows nothing of pages.

// findings turns a reconciliation report into the overview's findings:
// each difference with its kind, the order (or SKU@WAREHOUSE) it is about,
// the systems compared and what each shows; each business exception as
// kind "exception:RULE"; each failed read as kind "reconcile_error".
func findings(rep reconcile.Report) []ops.Finding {
	fs := make([]ops.Finding, 0, len(rep.Differences)+len(rep.Exceptions)+len(rep.Errors))
	for _, d := range rep.Differences {
		subject := d.OrderID
		if subject == "" {
			subject = d.SKU + "@" + d.Location
		}
		detail := d.Detail
		if d.LineID != "" {
			detail = "line " + d.LineID + " " + d.SKU + ": " + detail
		}
		if d.Repair != "" {
			detail += "; repair: " + d.Repair
		}
		fs = append(fs, ops.Finding{Kind: string(d.Kind), Subject: subject, System: strings.Join(d.Systems, "/"),
			Detail: detail, Since: d.Since})
	}
	for _, e := range rep.Exceptions {
		fs = append(fs, ops.Finding{Kind: "exception:" + string(e.Rule), Subject: e.OrderID, Detail: e.Detail, Since: e.Since})
	}
	for _, msg := range rep.Errors {
		fs = append(fs, ops.Finding{Kind: "reconcile_error", Detail: msg, Since: rep.At})
	}
	return fs
}
