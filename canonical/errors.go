package canonical

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every error this package returns
// for a value or document that breaks a rule: a bad code, a failed check
// digit, a missing field, an illegal status transition.
var ErrInvalid = errors.New("canonical: invalid")

// FieldError is one violation: the JSON path of the offending field and
// what is wrong with it. The zero value names no field. It is a plain
// value, safe for concurrent reads.
type FieldError struct {
	// Field is the path in JSON naming, such as "lines[2].quantity.value".
	// It is empty for a violation of the document as a whole.
	Field string `json:"field"`
	// Message says what is wrong, such as "must be > 0".
	Message string `json:"message"`
}

// String returns "field: message", or the message alone when Field is empty.
func (e FieldError) String() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// MaxViolations is the most violations a [ValidationError] built by this
// package lists. Validation goes on past it, counting the further
// violations in [ValidationError.Omitted] without keeping them, so a
// document with a violation on every one of thousands of lines yields an
// error of bounded size.
const MaxViolations = 100

// ValidationError lists the violations found in one value or document, at
// most [MaxViolations] of them, and counts the rest. It matches
// [ErrInvalid] with errors.Is. Its zero value lists no violation; Validate
// methods fill it in. It is not modified after it is returned and is safe
// for concurrent use.
type ValidationError struct {
	// Kind names what was validated, such as "order" or "event".
	Kind string
	// Errors holds the violations in the order they were found, the first
	// MaxViolations of them when this package built the error.
	Errors []FieldError
	// Omitted is the number of further violations found but not listed in
	// Errors.
	Omitted int
}

// Error returns "canonical: invalid KIND: f1: m1; f2: m2". At most
// [MaxViolations] violations are spelled out; the rest are summed up as
// "; ... and 10,900 more".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("canonical: invalid ")
	if e.Kind != "" {
		b.WriteString(e.Kind)
	} else {
		b.WriteString("value")
	}
	list := e.Errors
	if len(list) > MaxViolations {
		list = list[:MaxViolations]
	}
	for i, fe := range list {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(fe.String())
	}
	if more := e.Omitted + len(e.Errors) - len(list); more > 0 {
		if len(list) == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString("... and ")
		b.WriteString(groupThousands(more))
		b.WriteString(" more")
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Has reports whether the error lists a violation of field. A violation
// counted in Omitted is not listed.
func (e *ValidationError) Has(field string) bool {
	for _, fe := range e.Errors {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// Count returns the number of violations found: those listed and those
// omitted.
func (e *ValidationError) Count() int { return len(e.Errors) + e.Omitted }

// groupThousands formats n ≥ 0 with a comma between groups of three digits:
// 10900 is "10,900".
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(s[:head])
	for i := head; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// violations collects FieldErrors while a document is validated: the
// first MaxViolations of them, and the count of the rest.
type violations struct {
	kind    string
	list    []FieldError
	omitted int
}

func (v *violations) add(field, msg string) {
	if len(v.list) >= MaxViolations {
		v.omitted++
		return
	}
	v.list = append(v.list, FieldError{Field: field, Message: msg})
}

// addAt records msg at list[i].field (list[i] when field is empty),
// building the path only when the violation is kept.
func (v *violations) addAt(list string, i int, field, msg string) {
	if v.full() {
		v.omitted++
		return
	}
	v.add(indexPath(list, i, field), msg)
}

// full reports whether the next violation would only be counted; a caller
// on a hot path may then call skip instead of building the field path
// and message that add would drop.
func (v *violations) full() bool { return len(v.list) >= MaxViolations }

// skip counts n violations without listing them. It is for callers that
// found v full.
func (v *violations) skip(n int) { v.omitted += n }

// addErr records err under field. A *ValidationError is flattened, its
// fields prefixed with field and its omitted violations counted.
func (v *violations) addErr(field string, err error) {
	if err == nil {
		return
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			if v.full() {
				v.omitted++
				continue
			}
			v.add(joinPath(field, fe.Field), fe.Message)
		}
		v.omitted += ve.Omitted
		return
	}
	v.add(field, errorMessage(err))
}

// err returns nil when nothing was recorded.
func (v *violations) err() error {
	if len(v.list) == 0 && v.omitted == 0 {
		return nil
	}
	return &ValidationError{Kind: v.kind, Errors: v.list, Omitted: v.omitted}
}

// joinPath joins a parent path and a child path: "lines[2]" + "quantity" is
// "lines[2].quantity"; a child starting with "[" is appended as is.
func joinPath(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case child[0] == '[':
		return parent + child
	default:
		return parent + "." + child
	}
}

// errorMessage strips the "canonical: " prefix our errors carry so a message
// embedded under a field path reads naturally.
func errorMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "canonical: ")
}
