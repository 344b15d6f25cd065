package idempotency

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
)

// MaxKeyLen is the longest key, in bytes, that [Parse] accepts.
const MaxKeyLen = 255

// derivedPrefix starts every key made by [Derive]; it names the derivation
// scheme so that a future scheme cannot collide with this one.
const derivedPrefix = "v1."

// Key identifies one logical operation: a second call with the same key is the
// same operation and must not repeat its effect.
//
// A Key is a comparable value type: use it as a map key or compare it with ==.
// Its text is 1 to [MaxKeyLen] bytes of printable ASCII (0x20 to 0x7E). The
// zero Key is invalid and is rejected by every [Store]; test it with
// [Key.IsZero]. Keys are immutable and safe for concurrent use.
type Key struct {
	s string
}

// Derive returns the key of an operation from its scope (a tenant or
// principal), the operation (a flow step such as "ordertocash/accept", or an
// HTTP method and route such as "POST /orders") and the business identity of
// what it acts on (typically an entity ID and its version).
//
// The same arguments always yield the same key, in every process and across
// restarts; different arguments yield different keys (the parts are
// length-prefixed, so ("ab", "c") and ("a", "bc") differ). The key is
// "v1." followed by the unpadded base64url SHA-256 of the parts, 46 bytes.
func Derive(scope, operation string, identity ...string) Key {
	var out [derivedLen]byte
	deriveInto(&out, scope, operation, identity...)
	return Key{s: string(out[:])}
}

// derivedLen is the length of a key made by [Derive].
const derivedLen = len(derivedPrefix) + 43

// deriveInto writes the text of the key Derive returns for the same
// arguments to out, so that a caller that needs the key only while it runs
// can keep it on its stack.
func deriveInto(out *[derivedLen]byte, scope, operation string, identity ...string) {
	var buf [256]byte
	b := appendPart(buf[:0], scope)
	b = appendPart(b, operation)
	for _, s := range identity {
		b = appendPart(b, s)
	}
	sum := sha256.Sum256(b)
	copy(out[:], derivedPrefix)
	base64.RawURLEncoding.Encode(out[len(derivedPrefix):], sum[:])
}

// Parse validates s as a key: 1 to [MaxKeyLen] bytes, each printable ASCII
// (0x20 to 0x7E). It is the check applied to client-supplied keys before any
// store lookup. The error matches [ErrInvalidKey] and is a [*KeyError] that
// names the offending byte.
func Parse(s string) (Key, error) {
	if err := checkKey(s); err != nil {
		return Key{}, err
	}
	return Key{s: s}, nil
}

// MustParse is like [Parse] but panics if s is not a valid key. It is meant
// for constants in tests and examples, never for input.
func MustParse(s string) Key {
	k, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return k
}

func appendPart(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func checkKey(s string) error {
	switch {
	case s == "":
		return &KeyError{Input: s, Offset: -1, Reason: "empty"}
	case len(s) > MaxKeyLen:
		return &KeyError{Input: s, Offset: MaxKeyLen, Reason: "longer than " + strconv.Itoa(MaxKeyLen) + " bytes (" + strconv.Itoa(len(s)) + ")"}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return &KeyError{Input: s, Offset: i, Reason: "byte 0x" + strconv.FormatUint(uint64(c), 16) + " is not printable ASCII"}
		}
	}
	return nil
}

// String returns the key's text, or "" for the zero Key.
func (k Key) String() string { return k.s }

// IsZero reports whether k is the zero Key, which is not a valid key.
func (k Key) IsZero() bool { return k.s == "" }

// MarshalText implements [encoding.TextMarshaler]. The zero Key marshals to
// empty text.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.s), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]. Empty text gives the
// zero Key; anything else must be valid for [Parse].
func (k *Key) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*k = Key{}
		return nil
	}
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*k = p
	return nil
}
