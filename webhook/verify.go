// This file owns the signature schemes: secrets, the Verifier contract, the
// Standard Webhooks verifier and signer, and the vendor body-HMAC verifier.

package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
)

// DefaultTolerance is how far a Standard Webhooks timestamp may lie from the
// receiver's clock, in the past or in the future, when Standard.Tolerance is
// zero.
const DefaultTolerance = 5 * time.Minute

// secretPrefix marks a Standard Webhooks secret given as base64.
const secretPrefix = "whsec_"

// Errors a Verifier returns; the Handler answers each with its own problem
// type. They never carry a secret or an expected signature.
var (
	// ErrMissingHeader: a header the scheme requires is absent.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrMalformedHeader: a header is present but cannot be parsed.
	ErrMalformedHeader = errors.New("webhook: malformed header")
	// ErrSignature: no signature in the request matches any active secret.
	ErrSignature = errors.New("webhook: no matching signature")
	// ErrTimestamp: the signed timestamp lies outside the tolerance.
	ErrTimestamp = errors.New("webhook: timestamp outside tolerance")
	// ErrInvalidConfig: a configuration or secret is unusable.
	ErrInvalidConfig = errors.New("webhook: invalid configuration")
)

// Secret is a signing key. Its String, GoString and LogValue methods print
// "[REDACTED]", so a Secret does not leak through fmt or slog. The zero value
// is empty and refused by the verifiers. A Secret is safe for concurrent
// reads.
type Secret []byte

// ParseSecret reads a secret in the Standard Webhooks form, "whsec_"
// followed by standard base64 of the key bytes, or, without that prefix,
// takes the string's bytes as the key (the form vendors such as ShipHero
// hand out). An empty secret, or a "whsec_" one that is not valid base64,
// is an error matching ErrInvalidConfig that does not quote the secret.
func ParseSecret(s string) (Secret, error) {
	if b64, ok := strings.CutPrefix(s, secretPrefix); ok {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%w: secret after %q is not standard base64", ErrInvalidConfig, secretPrefix)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: secret is empty", ErrInvalidConfig)
		}
		return Secret(b), nil
	}
	if s == "" {
		return nil, fmt.Errorf("%w: secret is empty", ErrInvalidConfig)
	}
	return Secret(s), nil
}

// MustParseSecret is ParseSecret that panics on error, for tests and
// examples with constant secrets.
func MustParseSecret(s string) Secret {
	k, err := ParseSecret(s)
	if err != nil {
		panic(err)
	}
	return k
}

// String returns "[REDACTED]", never the key; Encode returns the key's
// text.
func (s Secret) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", so %#v does not print the key.
func (s Secret) GoString() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer: a logged Secret prints "[REDACTED]".
func (s Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Encode returns the secret in the Standard Webhooks form, "whsec_" and
// standard base64; ParseSecret reads it back.
func (s Secret) Encode() string { return secretPrefix + base64.StdEncoding.EncodeToString(s) }

// Verified is what a Verifier learned from a request it accepted.
// It is a plain value, safe for concurrent reads.
type Verified struct {
	// ID identifies the delivery (a message, not an attempt): a redelivery
	// of the same message carries the same ID. Required.
	ID string
	// Timestamp is when the sender says it signed the message; zero when
	// the scheme has none.
	Timestamp time.Time
}

// Verifier checks a request's signature. Verify is given the request headers,
// the complete body and the receiver's clock reading; it returns the
// delivery's identity, or an error matching ErrMissingHeader,
// ErrMalformedHeader, ErrSignature or ErrTimestamp. Its error text must not
// contain a secret or an expected signature. Implementations must be safe for
// concurrent use. Standard and BodyHMAC implement it.
type Verifier interface {
	Verify(h http.Header, body []byte, now time.Time) (Verified, error)
}

var (
	_ Verifier = (*Standard)(nil)
	_ Verifier = (*BodyHMAC)(nil)
)

// Standard verifies the Standard Webhooks scheme: the headers webhook-id,
// webhook-timestamp (Unix seconds) and webhook-signature, which holds one or
// more space-separated "v1,<base64>" signatures, each the standard base64 of
// HMAC-SHA256(secret, id + "." + timestamp + "." + body). A request is
// accepted when any signature matches any secret in Secrets (comparison in
// constant time) and the timestamp lies within Tolerance of the clock.
// Signatures of other versions are skipped.
//
// A Standard is safe for concurrent use once configured; do not change its
// fields while it verifies. The zero value refuses every request (it has no
// secret).
type Standard struct {
	// Secrets are the active secrets. During a rotation list the new and
	// the old one; a signature by either is accepted. At least one is
	// required.
	Secrets []Secret
	// Tolerance is the largest accepted distance between the timestamp and
	// the clock, in the past or the future. Zero means DefaultTolerance.
	Tolerance time.Duration
}

// Validate reports a Standard without secrets, with an empty secret or
// with a negative Tolerance, as an error matching ErrInvalidConfig.
func (s *Standard) Validate() error {
	return validateSecrets(s.Secrets, s.Tolerance)
}

func validateSecrets(secrets []Secret, tolerance time.Duration) error {
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no secret", ErrInvalidConfig)
	}
	for i, k := range secrets {
		if len(k) == 0 {
			return fmt.Errorf("%w: secrets[%d] is empty", ErrInvalidConfig, i)
		}
	}
	if tolerance < 0 {
		return fmt.Errorf("%w: tolerance %v is negative", ErrInvalidConfig, tolerance)
	}
	return nil
}

// Verify implements Verifier for the Standard Webhooks scheme.
func (s *Standard) Verify(h http.Header, body []byte, now time.Time) (Verified, error) {
	id, err := singleHeader(h, HeaderID)
	if err != nil {
		return Verified{}, err
	}
	tsText, err := singleHeader(h, HeaderTimestamp)
	if err != nil {
		return Verified{}, err
	}
	sigs, err := singleHeader(h, HeaderSignature)
	if err != nil {
		return Verified{}, err
	}
	if len(id) > 255 || !printable(id) {
		return Verified{}, fmt.Errorf("%w: %s is longer than 255 bytes or not printable ASCII", ErrMalformedHeader, HeaderID)
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || sec < 0 || len(tsText) > 12 {
		return Verified{}, fmt.Errorf("%w: %s is not Unix seconds", ErrMalformedHeader, HeaderTimestamp)
	}
	ts := time.Unix(sec, 0)
	tol := s.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	if d := now.Sub(ts); d > tol || d < -tol {
		return Verified{}, fmt.Errorf("%w: %s is %v from the receiver's clock, more than %v", ErrTimestamp, HeaderTimestamp, d.Round(time.Second), tol)
	}
	candidates, err := parseSignatures(sigs)
	if err != nil {
		return Verified{}, err
	}
	if len(s.Secrets) == 0 {
		return Verified{}, fmt.Errorf("%w: no secret configured", ErrSignature)
	}
	if len(candidates) == 0 {
		return Verified{}, fmt.Errorf("%w: %s holds no v1 signature", ErrSignature, HeaderSignature)
	}
	var mac [sha256.Size]byte
	for _, k := range s.Secrets {
		if len(k) == 0 {
			continue
		}
		standardMAC(mac[:0], k, id, tsText, body)
		for _, c := range candidates {
			if hmac.Equal(mac[:], c) {
				return Verified{ID: id, Timestamp: ts}, nil
			}
		}
	}
	return Verified{}, fmt.Errorf("%w: %s matches no active secret", ErrSignature, HeaderSignature)
}

// standardMAC appends HMAC-SHA256(k, id "." ts "." body) to dst.
func standardMAC(dst []byte, k Secret, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, k)
	writeString(m, id)
	writeString(m, ".")
	writeString(m, ts)
	writeString(m, ".")
	m.Write(body)
	return m.Sum(dst)
}

func writeString(h hash.Hash, s string) {
	// io.WriteString would check for io.StringWriter, which hmac lacks.
	h.Write([]byte(s))
}

// maxSignatures bounds the work one header can cause.
const maxSignatures = 16

// parseSignatures returns the decoded v1 signatures of a webhook-signature
// header value: space-separated "version,base64" entries. Entries of other
// versions are skipped; an entry without a comma, or a v1 entry whose
// signature is not standard base64 of 32 bytes, is malformed.
func parseSignatures(v string) ([][]byte, error) {
	var out [][]byte
	n := 0
	for entry := range strings.FieldsSeq(v) {
		n++
		if n > maxSignatures {
			return nil, fmt.Errorf("%w: %s holds more than %d signatures", ErrMalformedHeader, HeaderSignature, maxSignatures)
		}
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version == "" {
			return nil, fmt.Errorf("%w: %s entry %d is not version,signature", ErrMalformedHeader, HeaderSignature, n)
		}
		if version != "v1" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("%w: %s entry %d is not base64 of a 32-byte HMAC-SHA256", ErrMalformedHeader, HeaderSignature, n)
		}
		out = append(out, b)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrMissingHeader, HeaderSignature)
	}
	return out, nil
}

// Sign returns the Standard Webhooks signature of a message: "v1," and the
// standard base64 of HMAC-SHA256(secret, id + "." + unix seconds of ts + "."
// + body). A sender sets it as the webhook-signature header, beside
// webhook-id and webhook-timestamp (ts.Unix() in decimal); during a
// rotation it sends several, separated by spaces. Sign is safe for
// concurrent use.
func Sign(secret Secret, id string, ts time.Time, body []byte) string {
	var mac [sha256.Size]byte
	standardMAC(mac[:0], secret, id, strconv.FormatInt(ts.Unix(), 10), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac[:])
}

// SetHeaders sets the three Standard Webhooks headers of a message on h,
// signing it with every secret given (space-separated signatures). It is a
// convenience for senders and tests.
func SetHeaders(h http.Header, id string, ts time.Time, body []byte, secrets ...Secret) {
	sigs := make([]string, len(secrets))
	for i, k := range secrets {
		sigs[i] = Sign(k, id, ts, body)
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
}

// BodyHMAC verifies vendor schemes that sign the body alone: the header
// Header holds the base64 (standard encoding) of HMAC-SHA256(secret, body),
// as ShipHero's X-Shiphero-Hmac-Sha256 does. The delivery's ID is the
// header IDHeader (such as X-Shiphero-Message-ID) when set and present,
// otherwise the hex SHA-256 of the body, so that identical bodies count as
// one delivery. Such schemes carry no timestamp: replays are caught by the
// ID alone, within the idempotency store's retention.
//
// A BodyHMAC is safe for concurrent use once configured. The zero value
// refuses every request.
type BodyHMAC struct {
	// Header is the signature header, such as "X-Shiphero-Hmac-Sha256".
	// Required.
	Header string
	// IDHeader is the header carrying a per-message ID. Empty means the ID
	// is derived from the body.
	IDHeader string
	// Secrets are the active secrets; any one may match. At least one is
	// required.
	Secrets []Secret
}

// Validate reports a BodyHMAC without Header or secrets as an error
// matching ErrInvalidConfig.
func (v *BodyHMAC) Validate() error {
	if v.Header == "" {
		return fmt.Errorf("%w: BodyHMAC.Header is empty", ErrInvalidConfig)
	}
	return validateSecrets(v.Secrets, 0)
}

// Verify implements Verifier for a body HMAC scheme.
func (v *BodyHMAC) Verify(h http.Header, body []byte, _ time.Time) (Verified, error) {
	if v.Header == "" {
		return Verified{}, fmt.Errorf("%w: no signature header configured", ErrSignature)
	}
	sigText, err := singleHeader(h, v.Header)
	if err != nil {
		return Verified{}, err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sigText))
	if err != nil || len(sig) != sha256.Size {
		return Verified{}, fmt.Errorf("%w: %s is not base64 of a 32-byte HMAC-SHA256", ErrMalformedHeader, http.CanonicalHeaderKey(v.Header))
	}
	var id string
	if v.IDHeader != "" && h.Get(v.IDHeader) != "" {
		if id, err = singleHeader(h, v.IDHeader); err != nil {
			return Verified{}, err
		}
		if len(id) > 255 || !printable(id) {
			return Verified{}, fmt.Errorf("%w: %s is longer than 255 bytes or not printable ASCII", ErrMalformedHeader, http.CanonicalHeaderKey(v.IDHeader))
		}
	}
	var mac [sha256.Size]byte
	ok := false
	for _, k := range v.Secrets {
		if len(k) == 0 {
			continue
		}
		m := hmac.New(sha256.New, k)
		m.Write(body)
		if hmac.Equal(m.Sum(mac[:0]), sig) {
			ok = true
			break
		}
	}
	if !ok {
		return Verified{}, fmt.Errorf("%w: %s matches no active secret", ErrSignature, http.CanonicalHeaderKey(v.Header))
	}
	if id == "" {
		sum := sha256.Sum256(body)
		id = "sha256:" + hex.EncodeToString(sum[:])
	}
	return Verified{ID: id}, nil
}

// SignBody returns the base64 HMAC-SHA256 of body under secret, the value of
// a BodyHMAC scheme's signature header.
func SignBody(secret Secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// singleHeader returns the one value of header name, or an error when it is
// absent, empty or repeated.
func singleHeader(h http.Header, name string) (string, error) {
	vs := h.Values(name)
	switch {
	case len(vs) == 0 || (len(vs) == 1 && vs[0] == ""):
		return "", fmt.Errorf("%w: %s", ErrMissingHeader, http.CanonicalHeaderKey(name))
	case len(vs) > 1:
		return "", fmt.Errorf("%w: %s is repeated", ErrMalformedHeader, http.CanonicalHeaderKey(name))
	}
	return vs[0], nil
}

// printable reports whether s is printable ASCII without spaces.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
