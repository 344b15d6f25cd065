package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distsync/distsync/webhook"
)

func knownError(err error) bool {
	for _, e := range []error{webhook.ErrMissingHeader, webhook.ErrMalformedHeader, webhook.ErrSignature, webhook.ErrTimestamp} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func printableID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// FuzzStandardVerify feeds arbitrary headers and bodies to the Standard
// verifier: it never panics, every refusal is one of the sentinel errors
// and names no secret, a message signed by Sign verifies, and any
// change to the signed body is refused.
func FuzzStandardVerify(f *testing.F) {
	sig := webhook.Sign(secretNew, "msg_1", t0, []byte("{}"))
	f.Add("msg_1", strconv.FormatInt(t0.Unix(), 10), sig, []byte("{}"))
	f.Add("msg_1", "1700000000", "v1,abc v2,def", []byte(""))
	f.Add("msg_1", "-1", "v1a,"+strings.Repeat("A", 44), []byte("x"))
	f.Add("", "", "", []byte(nil))
	f.Add("m", "99999999999999999999", ",,, v1, v1,=", []byte("{"))
	f.Add("m", "1700000000", sig+" "+sig+" garbage", []byte("{}"))
	v := &webhook.Standard{Secrets: []webhook.Secret{secretNew, secretOld}}
	f.Fuzz(func(t *testing.T, id, ts, sigs string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sigs)
		got, err := v.Verify(h, body, t0)
		if err != nil {
			if !knownError(err) {
				t.Fatalf("Verify(%q, %q, %q): error %v matches no sentinel", id, ts, sigs, err)
			}
			if strings.Contains(err.Error(), string(secretNew)) || strings.Contains(err.Error(), secretNew.Encode()) {
				t.Fatalf("error %q names a secret", err)
			}
		} else if got.ID != id {
			t.Fatalf("Verify accepted id %q as %q", id, got.ID)
		}

		// Round trip: what Sign produces verifies, and only for this body.
		if !printableID(id) {
			return
		}
		h = http.Header{}
		webhook.SetHeaders(h, id, t0, body, secretOld)
		if _, err := v.Verify(h, body, t0); err != nil {
			t.Fatalf("signed message %q refused: %v", id, err)
		}
		changed := append(append([]byte(nil), body...), '!')
		if _, err := v.Verify(h, changed, t0); !errors.Is(err, webhook.ErrSignature) {
			t.Fatalf("changed body: err = %v, want ErrSignature", err)
		}
		if _, err := v.Verify(h, body, t0.Add(10*time.Minute)); !errors.Is(err, webhook.ErrTimestamp) {
			t.Fatalf("late: err = %v, want ErrTimestamp", err)
		}
	})
}

// FuzzBodyHMACVerify: arbitrary signature headers never panic and are
// refused with a sentinel; a SignBody signature verifies.
func FuzzBodyHMACVerify(f *testing.F) {
	f.Add(webhook.SignBody(secretNew, []byte("{}")), "m-1", []byte("{}"))
	f.Add("", "", []byte(nil))
	f.Add("!!!", "id with space", []byte("x"))
	v := &webhook.BodyHMAC{Header: "X-Sig", IDHeader: "X-Id", Secrets: []webhook.Secret{secretNew}}
	f.Fuzz(func(t *testing.T, sig, id string, body []byte) {
		h := http.Header{}
		h.Set("X-Sig", sig)
		h.Set("X-Id", id)
		if _, err := v.Verify(h, body, t0); err != nil && !knownError(err) {
			t.Fatalf("Verify(%q): error %v matches no sentinel", sig, err)
		}
		h.Set("X-Sig", webhook.SignBody(secretNew, body))
		got, err := v.Verify(h, body, t0)
		if printableID(id) || id == "" {
			if err != nil {
				t.Fatalf("signed body refused: %v", err)
			}
			if id != "" && got.ID != id {
				t.Fatalf("ID %q, want %q", got.ID, id)
			}
		}
	})
}

// FuzzParseSecret: ParseSecret never panics, and Encode round-trips.
func FuzzParseSecret(f *testing.F) {
	f.Add("whsec_c2VjcmV0")
	f.Add("raw")
	f.Add("whsec_")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := webhook.ParseSecret(s)
		if err != nil {
			if !errors.Is(err, webhook.ErrInvalidConfig) {
				t.Fatalf("ParseSecret: %v", err)
			}
			return
		}
		back, err := webhook.ParseSecret(k.Encode())
		if err != nil || string(back) != string(k) {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}
