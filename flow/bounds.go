package flow

import (
	"cmp"
	"fmt"
)

// This file owns the bounds on what one event may carry
// (Config.MaxEventSize, Config.MaxLines), with a scan of the event's JSON
// data that finds its longest list without decoding it.

// checkBounds returns an ErrEventTooLarge error when data (with extra
// bytes of binary data) is larger than Config.MaxEventSize or holds a
// list longer than Config.MaxLines.
func (f *Flow) checkBounds(data []byte, extra int) error {
	if n := len(data) + extra; n > f.maxSize {
		return fmt.Errorf("%w: %d bytes of data, more than the %d accepted (Config.MaxEventSize)", ErrEventTooLarge, n, f.maxSize)
	}
	// Each element of a list takes at least 2 bytes ("1,"): smaller data
	// cannot hold too many, and larger data is scanned before it is
	// decoded.
	if len(data) > 2*f.maxLines {
		if name, n := longestList(data); n > f.maxLines {
			return fmt.Errorf("%w: %d %.64s, more than the %d accepted (Config.MaxLines)",
				ErrEventTooLarge, n, cmp.Or(name, "elements"), f.maxLines)
		}
	}
	return nil
}

// longestList returns the longest array of the JSON document data, at any
// depth, as the number of its elements and the name of the member that
// holds it ("lines", "packages", "trackingNumbers"; the name of the
// nearest named member for an array in an array, "" for a top-level
// array). It does not check that data is valid JSON: on invalid data the
// counts are those of a lenient reading, and decoding the data reports the
// error. It allocates nothing but its stack of open arrays and objects.
func longestList(data []byte) (name string, n int) {
	var at [2]int
	type frame struct {
		array bool
		n     int    // elements of an array
		want  bool   // an array expects an element
		key   [2]int // an object's last member name; an array's name (data[key[0]:key[1]])
	}
	var stack []frame
	// value counts a value that starts at the current position.
	value := func() {
		if len(stack) > 0 {
			if top := &stack[len(stack)-1]; top.array && top.want {
				top.n++
				top.want = false
			}
		}
	}
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ':':
		case ',':
			if len(stack) > 0 && stack[len(stack)-1].array {
				stack[len(stack)-1].want = true
			}
		case '"':
			value()
			j := i + 1
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++
				}
				j++
			}
			start := i
			i = j
			k := i + 1
			for k < len(data) && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r') {
				k++
			}
			if k < len(data) && data[k] == ':' && len(stack) > 0 && !stack[len(stack)-1].array {
				stack[len(stack)-1].key = [2]int{min(start+1, len(data)), min(j, len(data))}
			}
		case '[', '{':
			value()
			var key [2]int
			if len(stack) > 0 {
				key = stack[len(stack)-1].key
			}
			if c == '{' {
				key = [2]int{}
			}
			stack = append(stack, frame{array: c == '[', want: true, key: key})
		case ']', '}':
			if len(stack) == 0 {
				return string(data[at[0]:at[1]]), n
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.array && top.n > n {
				at, n = top.key, top.n
			}
		default: // a number or a literal
			value()
			for i+1 < len(data) && !isDelim(data[i+1]) {
				i++
			}
		}
	}
	for _, f := range stack { // unterminated
		if f.array && f.n > n {
			at, n = f.key, f.n
		}
	}
	return string(data[at[0]:at[1]]), n
}

// isDelim reports whether c ends a JSON number or literal.
func isDelim(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\n', '\r', ':', '"', '[', '{':
		return true
	}
	return false
}
