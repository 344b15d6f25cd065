package connector

// Unwrapper is implemented by decorators (such as those returned by
// [WrapERP] and the fault injectors of package connector/faults) that wrap
// another implementation. Unwrap returns the wrapped implementation.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: As calls Unwrap from whichever goroutine asks for a
// role.
type Unwrapper interface {
	Unwrap() any
}

// RoleForwarder is implemented by decorators that have the methods of
// optional roles whatever they wrap, and forward them to the
// implementation they wrap, as [WrapERP], [WrapWMS], [WrapCRM] and the
// fault injectors of package connector/faults do. [As] asks it before it
// reports such a role on the decorator.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: As calls HasRole from whichever goroutine asks for a
// role.
type RoleForwarder interface {
	// HasRole reports whether the decorator serves the role whose
	// interface type is given as a nil pointer to it, such as
	// (*connector.OrderCanceller)(nil): false when the decorator has the
	// role's methods only to forward them and the implementation it wraps
	// lacks the role (the methods then return an error matching
	// errors.ErrUnsupported). It reports true for any type it does not
	// forward.
	HasRole(role any) bool
}

// maxUnwrap bounds the walk of [As], so that a decorator that (wrongly)
// unwraps to itself cannot loop forever.
const maxUnwrap = 64

// As finds an optional role of a possibly decorated implementation: it
// returns c as a T when c implements T (and, when c is a [RoleForwarder],
// its HasRole reports the role), else the first layer down c's chain of
// [Unwrapper]s that does, and false when none does. On a decorated
// connector As therefore answers truthfully: the role is found exactly
// when the implementation under the decorators has it.
//
// The decorators of [WrapERP], [WrapWMS] and [WrapCRM] and of package
// connector/faults forward the optional roles of their system (an ERP's
// [EventFeed], [OrderCanceller] and [OrderChanger], a WMS's
// [ReleaseChanger], a CRM's [StatusBatchPublisher], the
// [HealthChecker] of each), so a role found through them is called with
// their retry, breaker, timeouts, timeline, metrics or faults:
//
//	if h, ok := connector.As[connector.HealthChecker](erp); ok {
//		err := h.Health(ctx) // retried, timed, on the timeline
//	}
//
// A role the decorators do not forward ([Subscriber], or a role of the
// implementation's own) is found on the layer that has it, the bare
// implementation, and called without them.
func As[T any](c any) (T, bool) {
	for range maxUnwrap {
		if t, ok := c.(T); ok {
			if f, ok := c.(RoleForwarder); !ok || f.HasRole((*T)(nil)) {
				return t, true
			}
		}
		u, ok := c.(Unwrapper)
		if !ok {
			break
		}
		c = u.Unwrap()
	}
	var zero T
	return zero, false
}
