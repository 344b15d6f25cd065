package connector

// Unwrapper is implemented by decorators (such as those returned by
// [WrapERP] and the fault injectors of package connector/faults) that wrap
// another implementation. Unwrap returns the wrapped implementation.
type Unwrapper interface {
	Unwrap() any
}

// maxUnwrap bounds the walk of [As], so that a decorator that (wrongly)
// unwraps to itself cannot loop forever.
const maxUnwrap = 64

// As finds an optional capability of a possibly decorated implementation:
// it returns c as a T when c implements T, else the first implementation
// down c's chain of [Unwrapper]s that does, and false when none does.
//
// Decorators add retry, timeouts and tracing to the methods of the
// contract only; an optional capability found through As is the wrapped
// implementation's own and is called without them:
//
//	if h, ok := connector.As[connector.HealthChecker](erp); ok {
//		err := h.Health(ctx)
//	}
func As[T any](c any) (T, bool) {
	for range maxUnwrap {
		if t, ok := c.(T); ok {
			return t, true
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
