package canonical

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
)

// structValidator checks the struct-tag rules of the documents (required
// fields, closed sets, bounds, codes). It is created once, immutable after
// init and safe for concurrent use; it caches the struct metadata of each
// document type. Rules that span fields (unique line IDs, one currency per
// document, bucket arithmetic) and the nested values that have their own
// Validate method (Money, Quantity, Refs, PartyRef, ItemRef) are checked by
// hand in each document's Validate.
var structValidator = newStructValidator()

func newStructValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return f.Name
		}
		return name
	})
	rules := map[string]func(string) error{
		"iso4217": func(s string) error { return Currency(s).Validate() },
		"rec20":   func(s string) error { return Unit(s).Validate() },
		"gtin":    func(s string) error { return GTIN(s).Validate() },
		"sscc":    func(s string) error { return SSCC(s).Validate() },
	}
	for tag, check := range rules {
		err := v.RegisterValidation(tag, func(fl validator.FieldLevel) bool {
			return check(fl.Field().String()) == nil
		})
		if err != nil {
			panic(err) // a programming error in the tag table above
		}
	}
	return v
}

// structRules runs the struct-tag rules on s (a pointer to a document) and
// records each failure under its JSON path.
func structRules(v *violations, s any) {
	err := structValidator.Struct(s)
	if err == nil {
		return
	}
	var fes validator.ValidationErrors
	if !errors.As(err, &fes) {
		v.add("", err.Error())
		return
	}
	for _, fe := range fes {
		v.add(fieldPath(fe.Namespace()), ruleMessage(fe))
	}
}

// fieldPath drops the leading struct name validator puts in a namespace:
// "Order.lines[2].id" is "lines[2].id".
func fieldPath(ns string) string {
	_, p, ok := strings.Cut(ns, ".")
	if !ok {
		return ""
	}
	return p
}

// ruleMessage turns a validator failure into a message for people.
func ruleMessage(fe validator.FieldError) string {
	val := reflect.ValueOf(fe.Value())
	str := ""
	if val.Kind() == reflect.String {
		str = val.String()
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "oneof":
		return "must be one of " + strings.ReplaceAll(fe.Param(), " ", ", ") + ", is " + strconv.Quote(str)
	case "gte", "min":
		if fe.Kind() == reflect.Slice {
			if fe.Param() == "1" {
				return "must have at least one item"
			}
			return "must have at least " + fe.Param() + " items"
		}
		return "must be ≥ " + fe.Param()
	case "gt":
		return "must be > " + fe.Param()
	case "lte", "max":
		return "must be ≤ " + fe.Param()
	case "ltefield":
		return "must not exceed " + fe.Param()
	case "iso4217":
		return errorMessage(Currency(str).Validate())
	case "rec20":
		return errorMessage(Unit(str).Validate())
	case "gtin":
		return errorMessage(GTIN(str).Validate())
	case "sscc":
		return errorMessage(SSCC(str).Validate())
	}
	return "breaks rule " + fe.Tag()
}

// checkUnique records a violation at list[i].field for every item whose
// key (when not empty) repeats an earlier item's key.
func checkUnique[T any](v *violations, list string, items []T, field string, key func(*T) string) {
	d := newDupFinder(items, key)
	for i := range items {
		k := key(&items[i])
		if k == "" {
			continue
		}
		if j, ok := d.first(i, k); ok {
			if v.full() {
				v.skip(1)
				continue
			}
			v.add(indexPath(list, i, field), "duplicate "+strconv.Quote(k)+" (also at "+list+"["+strconv.Itoa(j)+"])")
		}
	}
}

// smallList is the length up to which dupFinder compares an item with the
// earlier ones instead of building a map: cheaper for the short lists
// that are the rule, and without allocation.
const smallList = 32

// dupFinder finds, item by item, the first earlier item of a list with the
// same key, in time linear in the length of the list.
type dupFinder[T any, K comparable] struct {
	items []T
	key   func(*T) K
	seen  map[K]int // nil while the list is short
}

func newDupFinder[T any, K comparable](items []T, key func(*T) K) dupFinder[T, K] {
	d := dupFinder[T, K]{items: items, key: key}
	if len(items) > smallList {
		d.seen = make(map[K]int, len(items))
	}
	return d
}

// first returns the index of the first item before i whose key is k. It
// must be called for each i in increasing order (skipping an i leaves its
// key out of later answers on long lists, so callers skip only keys they
// never look up).
func (d *dupFinder[T, K]) first(i int, k K) (int, bool) {
	if d.seen == nil {
		for j := range i {
			if d.key(&d.items[j]) == k {
				return j, true
			}
		}
		return 0, false
	}
	if j, ok := d.seen[k]; ok {
		return j, true
	}
	d.seen[k] = i
	return 0, false
}

// checkNonNegative records a violation at path.value when q is negative
// and at path.unit when its unit is not a Rec 20 code.
func checkNonNegative(v *violations, path string, q Quantity) {
	checkQuantity(v, "", 0, path, q, false)
}

// checkPositive is like checkNonNegative but also refuses zero.
func checkPositive(v *violations, path string, q Quantity) {
	checkQuantity(v, "", 0, path, q, true)
}

// checkMoney records a violation when m's currency is not cur (or, with
// cur empty, not an ISO 4217 code), and when negative is false and m is
// negative.
func checkMoney(v *violations, path string, m Money, cur Currency, negative bool) {
	if m.Currency != cur || cur == "" {
		if err := m.Currency.Validate(); err != nil {
			v.add(path+".currency", errorMessage(err))
		} else if cur != "" {
			v.add(path+".currency", "must be the document currency "+string(cur)+", is "+string(m.Currency))
		}
	}
	if !negative && m.Amount.IsNeg() {
		v.add(path+".amount", "must not be negative, is "+m.Amount.String())
	}
}

// moneyOK reports whether checkMoney would record nothing.
func moneyOK(m Money, cur Currency, negative bool) bool {
	return m.Currency == cur && cur != "" && (negative || !m.Amount.IsNeg())
}

// checkMoneyAt is checkMoney under list[i].field, a path made only for a
// violation.
func checkMoneyAt(v *violations, list string, i int, field string, m Money, cur Currency, negative bool) {
	if !moneyOK(m, cur, negative) {
		checkMoney(v, indexPath(list, i, field), m, cur, negative)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func quote(s string) string { return strconv.Quote(s) }
