// Package tracectx lets a package of this module carry package tracing's
// correlation and causation IDs in a context node of its own, so that a
// consumer makes one context per handled event where a node of its own
// and one of tracing's would take two allocations.
//
// A context node answers Value([Key]{}) with an [*IDs]; package tracing
// reads it as tracing.WithIDs(ids.Parent, ids.Correlation, ids.Causation)
// would have set it: the two IDs (an empty one absent), every other value,
// such as the span, from Parent.
package tracectx

import "context"

// Key is the context key under which package tracing keeps its values.
type Key struct{}

// IDs is a correlation and a causation ID set on Parent, as
// tracing.WithIDs sets them. It is a plain value, safe for concurrent use
// when not modified.
type IDs struct {
	Correlation, Causation string
	// Parent is the context the IDs were set on: the other tracing values
	// come from it.
	Parent context.Context
}
