package connector

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/retry"
)

// Code classifies a connector error. The set is closed: connectors map
// every remote failure to one of these codes.
//
// There is no "OK" code, as connect-go's Error has none: a Code only ever
// describes a failure, so an *Error that claims success cannot be built,
// and a stored code (a dead letter, a timeline step) always names what
// went wrong. Success is err == nil; ask that before asking the code.
//
// The zero value is [CodeUnknown]. A Code is safe for concurrent use as a
// value.
type Code uint8

// The codes. The comment of each says whether retrying can help.
const (
	// CodeUnknown is what CodeOf returns for an error that carries no
	// *Error, and for nil. The error policy treats it as permanent.
	CodeUnknown Code = iota
	// CodeInvalid: the request breaks a rule of the remote (a missing
	// field, an unknown item, a bad code). Permanent.
	CodeInvalid
	// CodeNotFound: the entity does not exist in the remote. Permanent.
	CodeNotFound
	// CodeConflict: the request conflicts with the remote's state, such as
	// an idempotency key reused with a different document, or an illegal
	// transition. Permanent.
	CodeConflict
	// CodeUnauthorized: credentials are missing, wrong or lack a right.
	// Permanent until someone fixes the configuration.
	CodeUnauthorized
	// CodeRateLimited: the remote asked to slow down (HTTP 429). Transient;
	// RetryAfter says how long to wait when the remote said so.
	CodeRateLimited
	// CodeUnavailable: the remote is down or overloaded (HTTP 502, 503,
	// connection refused). Transient.
	CodeUnavailable
	// CodeTimeout: no answer in time. Transient, but the remote may have
	// applied the operation: see [Error.MayHaveApplied].
	CodeTimeout
	// CodeInternal: the remote failed in a way it did not explain (HTTP
	// 500), or the connector has a bug. Permanent: retrying an unexplained
	// failure hides bugs; the error policy dead-letters it for a person.
	CodeInternal
)

var codeNames = [...]string{
	CodeUnknown:      "unknown",
	CodeInvalid:      "invalid",
	CodeNotFound:     "not_found",
	CodeConflict:     "conflict",
	CodeUnauthorized: "unauthorized",
	CodeRateLimited:  "rate_limited",
	CodeUnavailable:  "unavailable",
	CodeTimeout:      "timeout",
	CodeInternal:     "internal",
}

// String returns the code's name in snake case, such as "rate_limited".
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}

// ErrUnknownCode is matched (with errors.Is) by the error
// [Code.UnmarshalText] returns for a text that names no code, and by the
// error [Code.MarshalText] returns for a value outside the set.
var ErrUnknownCode = errors.New("connector: unknown code")

// MarshalText returns the code's name, as [Code.String] spells it, so
// timelines and dead letters store "rate_limited" rather than a number.
// A value outside the set fails with an error matching [ErrUnknownCode]:
// "code(200)" could not be read back.
func (c Code) MarshalText() ([]byte, error) {
	if int(c) >= len(codeNames) {
		return nil, fmt.Errorf("%w: %d", ErrUnknownCode, uint8(c))
	}
	return []byte(codeNames[c]), nil
}

// UnmarshalText sets c to the code named by text, the inverse of
// [Code.MarshalText]. A text that names no code fails with an error
// matching [ErrUnknownCode] and naming the text; c is then unchanged.
func (c *Code) UnmarshalText(text []byte) error {
	for i, name := range codeNames {
		if name == string(text) {
			*c = Code(i)
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrUnknownCode, text)
}

// Transient reports whether retrying may help: rate limited, unavailable
// and timeout.
func (c Code) Transient() bool {
	return c == CodeRateLimited || c == CodeUnavailable || c == CodeTimeout
}

// Error is the error every connector returns for a failed call; build it
// with [NewError]. Ask any error's code with [CodeOf], which looks through
// wrapping and is safe on nil; errors.Is matches only the same *Error, not
// another of the same code. An *Error's fields are unexported: each fact
// has one accessor, Code, System, Op, MayHaveApplied and RetryAfter.
//
// Error implements the retry package's classification interfaces:
// RetryAfter() (the server's delay), MayHaveApplied() and Retryable(), so
// the retry package and the flows' error policy treat it correctly. It is
// safe for concurrent use once created. The zero value is usable and reads
// as an error of [CodeUnknown].
type Error struct {
	code           Code
	system         string
	op             string
	mayHaveApplied bool
	retryAfter     time.Duration
	err            error
}

// ErrorOption sets an optional fact of an [Error] built by [NewError].
// The zero value, nil, is not a valid option. The options of this package
// only set the Error they are given and are safe for concurrent use.
type ErrorOption func(*Error)

// WithRetryAfter records the server's Retry-After, d; zero means it gave
// none.
func WithRetryAfter(d time.Duration) ErrorOption {
	return func(e *Error) { e.retryAfter = d }
}

// WithMayHaveApplied records that the remote may have applied the
// operation although the call failed (a timeout after the request was
// sent). A caller may retry such a call only with the same idempotency
// key.
func WithMayHaveApplied(maybe bool) ErrorOption {
	return func(e *Error) { e.mayHaveApplied = maybe }
}

// NewError returns an *Error with the given code, system (such as "erp")
// and operation (such as "AcceptOrder") wrapping err: the error a
// connector implementation returns for a failed call. err may be nil when
// there is no underlying cause to keep, such as a
// *canonical.ValidationError naming the fields the remote rejected.
func NewError(code Code, system, op string, err error, opts ...ErrorOption) *Error {
	e := &Error{code: code, system: system, op: op, err: err}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Error returns "connector: SYSTEM OP: CODE: ERR".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("connector: ")
	if e.system != "" {
		b.WriteString(e.system)
		b.WriteByte(' ')
	}
	if e.op != "" {
		b.WriteString(e.op)
		b.WriteString(": ")
	}
	b.WriteString(e.code.String())
	if e.mayHaveApplied {
		b.WriteString(" (may have been applied)")
	}
	if e.retryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.retryAfter.String())
		b.WriteByte(')')
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, nil when there is none.
func (e *Error) Unwrap() error { return e.err }

// Code classifies the failure. To ask the code of any error, wrapped or
// nil, use [CodeOf].
func (e *Error) Code() Code { return e.code }

// System names the system, such as "erp" or "wms".
func (e *Error) System() string { return e.system }

// Op names the operation, such as "AcceptOrder".
func (e *Error) Op() string { return e.op }

// RetryAfter returns the server's delay, zero when it gave none.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// MayHaveApplied reports whether the remote may have applied the operation
// although the call failed. A caller may retry such a call only with the
// same idempotency key.
func (e *Error) MayHaveApplied() bool { return e.mayHaveApplied }

// Retryable reports whether retrying may help: true for the transient
// codes ([Code.Transient]), false for the others.
func (e *Error) Retryable() bool { return e.code.Transient() }

// CodeOf returns the code of the first *Error in err's chain, and
// CodeUnknown for an error that carries no *Error. It is safe on nil and
// returns CodeUnknown for it too (there is no OK code, see [Code]), so
// check err == nil first when success matters.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return CodeUnknown
}

// Compile-time checks that *Error classifies itself for the retry package.
var (
	_ retry.Retryable      = (*Error)(nil)
	_ retry.RetryAfterer   = (*Error)(nil)
	_ retry.MayHaveApplied = (*Error)(nil)
)
