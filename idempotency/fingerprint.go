package idempotency

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Fingerprint is the SHA-256 digest of a request or payload, stored with a
// key so that the key reused for a different request is detected
// ([Mismatch], [ErrMismatch]).
//
// The zero Fingerprint is a valid value: callers that have no payload to
// compare (event deduplication) use it for every claim. A Fingerprint is a
// comparable value and safe for concurrent use.
type Fingerprint [sha256.Size]byte

// FingerprintBytes returns the fingerprint of a raw payload, such as an HTTP
// request body.
func FingerprintBytes(payload []byte) Fingerprint {
	return sha256.Sum256(payload)
}

// FingerprintJSON returns the fingerprint of v's canonical JSON encoding: v
// is marshalled with [encoding/json], decoded again with numbers kept as
// written and re-marshalled, so object keys are sorted and insignificant
// whitespace is gone. Two values that marshal to the same JSON document,
// whatever their Go types or map iteration order, get the same fingerprint.
// A value that cannot be marshalled returns an error.
func FingerprintJSON(v any) (Fingerprint, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("idempotency: fingerprint: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return Fingerprint{}, fmt.Errorf("idempotency: fingerprint: %w", err)
	}
	canon, err := json.Marshal(generic)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("idempotency: fingerprint: %w", err)
	}
	return sha256.Sum256(canon), nil
}

// IsZero reports whether f is the zero Fingerprint.
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// String returns the fingerprint as 64 lowercase hexadecimal digits.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// MarshalText implements [encoding.TextMarshaler]: 64 lowercase hex digits.
func (f Fingerprint) MarshalText() ([]byte, error) {
	return hex.AppendEncode(nil, f[:]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts exactly
// 64 hexadecimal digits, in either case.
func (f *Fingerprint) UnmarshalText(text []byte) error {
	if len(text) != 2*len(f) {
		return fmt.Errorf("idempotency: fingerprint %.80q: want %d hex digits, got %d bytes", text, 2*len(f), len(text))
	}
	var out Fingerprint
	if _, err := hex.Decode(out[:], text); err != nil {
		return fmt.Errorf("idempotency: fingerprint %q: %w", text, err)
	}
	*f = out
	return nil
}
