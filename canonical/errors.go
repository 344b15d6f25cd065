package canonical

import (
	"errors"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every error this package returns
// for a value or document that breaks a rule: a bad code, a failed check
// digit, a missing field, an illegal status transition.
var ErrInvalid = errors.New("canonical: invalid")

// FieldError is one violation: the JSON path of the offending field and what
// is wrong with it.
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

// ValidationError lists every violation found in one value or document.
// It matches [ErrInvalid] with errors.Is.
type ValidationError struct {
	// Kind names what was validated, such as "order" or "event".
	Kind string
	// Errors holds the violations in the order they were found.
	Errors []FieldError
}

// Error returns "canonical: invalid KIND: f1: m1; f2: m2".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("canonical: invalid ")
	if e.Kind != "" {
		b.WriteString(e.Kind)
	} else {
		b.WriteString("value")
	}
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(fe.String())
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Has reports whether the error lists a violation of field.
func (e *ValidationError) Has(field string) bool {
	for _, fe := range e.Errors {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// violations collects FieldErrors while a document is validated.
type violations struct {
	kind string
	list []FieldError
}

func (v *violations) add(field, msg string) {
	v.list = append(v.list, FieldError{Field: field, Message: msg})
}

// addErr records err under field. A *ValidationError is flattened, its
// fields prefixed with field.
func (v *violations) addErr(field string, err error) {
	if err == nil {
		return
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			v.add(joinPath(field, fe.Field), fe.Message)
		}
		return
	}
	v.add(field, errorMessage(err))
}

// err returns nil when nothing was recorded.
func (v *violations) err() error {
	if len(v.list) == 0 {
		return nil
	}
	return &ValidationError{Kind: v.kind, Errors: v.list}
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
