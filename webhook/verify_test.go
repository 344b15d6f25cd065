package webhook_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/webhook"
)

var (
	t0        = time.Unix(1_700_000_000, 0)
	secretOld = webhook.MustParseSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte("old-secret-0123456789")))
	secretNew = webhook.MustParseSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte("new-secret-9876543210")))
	secretBad = webhook.MustParseSecret("not-the-secret")
)

func signed(id string, ts time.Time, body []byte, secrets ...webhook.Secret) http.Header {
	h := http.Header{}
	webhook.SetHeaders(h, id, ts, body, secrets...)
	return h
}

func TestStandardVerify(t *testing.T) {
	body := []byte(`{"type":"order.shipped"}`)
	v := &webhook.Standard{Secrets: []webhook.Secret{secretNew, secretOld}}
	tests := []struct {
		name    string
		header  http.Header
		now     time.Time
		wantErr error
	}{
		{"new secret", signed("msg_1", t0, body, secretNew), t0, nil},
		{"old secret during rotation", signed("msg_1", t0, body, secretOld), t0, nil},
		{"several signatures, one good", signed("msg_1", t0, body, secretBad, secretOld), t0, nil},
		{"wrong secret", signed("msg_1", t0, body, secretBad), t0, webhook.ErrSignature},
		{"4m59s old", signed("msg_1", t0, body, secretNew), t0.Add(4*time.Minute + 59*time.Second), nil},
		{"5m1s old", signed("msg_1", t0, body, secretNew), t0.Add(5*time.Minute + time.Second), webhook.ErrTimestamp},
		{"5m1s in the future", signed("msg_1", t0, body, secretNew), t0.Add(-5*time.Minute - time.Second), webhook.ErrTimestamp},
		{"missing id", func() http.Header { h := signed("msg_1", t0, body, secretNew); h.Del(webhook.HeaderID); return h }(), t0, webhook.ErrMissingHeader},
		{"missing timestamp", func() http.Header { h := signed("m", t0, body, secretNew); h.Del(webhook.HeaderTimestamp); return h }(), t0, webhook.ErrMissingHeader},
		{"missing signature", func() http.Header { h := signed("m", t0, body, secretNew); h.Del(webhook.HeaderSignature); return h }(), t0, webhook.ErrMissingHeader},
		{"timestamp not a number", func() http.Header {
			h := signed("m", t0, body, secretNew)
			h.Set(webhook.HeaderTimestamp, "yesterday")
			return h
		}(), t0, webhook.ErrMalformedHeader},
		{"signature not base64", func() http.Header {
			h := signed("m", t0, body, secretNew)
			h.Set(webhook.HeaderSignature, "v1,@@@")
			return h
		}(), t0, webhook.ErrMalformedHeader},
		{"signature without version", func() http.Header {
			h := signed("m", t0, body, secretNew)
			h.Set(webhook.HeaderSignature, "abc")
			return h
		}(), t0, webhook.ErrMalformedHeader},
		{"only other versions", func() http.Header {
			h := signed("m", t0, body, secretNew)
			h.Set(webhook.HeaderSignature, "v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 64)))
			return h
		}(), t0, webhook.ErrSignature},
		{"repeated id header", func() http.Header { h := signed("m", t0, body, secretNew); h.Add(webhook.HeaderID, "x"); return h }(), t0, webhook.ErrMalformedHeader},
		{"id signed differs", func() http.Header { h := signed("m", t0, body, secretNew); h.Set(webhook.HeaderID, "other"); return h }(), t0, webhook.ErrSignature},
		{"timestamp signed differs", func() http.Header {
			h := signed("m", t0, body, secretNew)
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(t0.Unix()+1, 10))
			return h
		}(), t0, webhook.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.header, body, tt.now)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr, "header %v", tt.header)
				return
			}
			require.NoError(t, err, "header %v", tt.header)
			assert.Equal(t, webhook.Verified{ID: tt.header.Get(webhook.HeaderID), Timestamp: t0}, got)
		})
	}
	t.Run("body changed", func(t *testing.T) {
		_, err := v.Verify(signed("m", t0, body, secretNew), append([]byte(nil), `{"type":"order.shipped!"}`...), t0)
		require.ErrorIs(t, err, webhook.ErrSignature)
	})
	t.Run("custom tolerance", func(t *testing.T) {
		v := &webhook.Standard{Secrets: []webhook.Secret{secretNew}, Tolerance: time.Minute}
		_, err := v.Verify(signed("m", t0, body, secretNew), body, t0.Add(61*time.Second))
		require.ErrorIs(t, err, webhook.ErrTimestamp)
	})
}

// TestSignKnownVector pins Sign to an independently computed value:
// HMAC-SHA256 with key "secret-key" over "msg_1.1700000000.{}".
func TestSignKnownVector(t *testing.T) {
	got := webhook.Sign(webhook.Secret("secret-key"), "msg_1", t0, []byte("{}"))
	// Computed with: printf 'msg_1.1700000000.{}' | openssl dgst -sha256 -hmac secret-key -binary | base64
	assert.Equal(t, "v1,"+knownVector, got)
}

func TestParseSecret(t *testing.T) {
	tests := []struct {
		in      string
		want    []byte
		wantErr bool
	}{
		{"whsec_" + base64.StdEncoding.EncodeToString([]byte("abc")), []byte("abc"), false},
		{"raw-secret", []byte("raw-secret"), false},
		{"", nil, true},
		{"whsec_", nil, true},
		{"whsec_!!notbase64", nil, true},
	}
	for _, tt := range tests {
		got, err := webhook.ParseSecret(tt.in)
		if tt.wantErr {
			require.ErrorIs(t, err, webhook.ErrInvalidConfig, "ParseSecret(%q)", tt.in)
			assert.NotContains(t, err.Error(), "notbase64", "the error must not quote the secret")
			continue
		}
		require.NoError(t, err, "ParseSecret(%q)", tt.in)
		assert.Equal(t, tt.want, []byte(got), "ParseSecret(%q)", tt.in)
		back, err := webhook.ParseSecret(got.Encode())
		require.NoError(t, err)
		assert.Equal(t, got, back, "Encode round trip of %q", tt.in)
	}
}

func TestSecretRedacted(t *testing.T) {
	k := webhook.Secret("topsecret")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s %#v", k, k, k), buf.String()} {
		assert.NotContains(t, s, "topsecret")
		assert.Contains(t, s, "REDACTED")
	}
}

func TestBodyHMAC(t *testing.T) {
	body := []byte(`{"webhook_type":"Shipment Update"}`)
	k := webhook.Secret("shiphero-app-secret")
	v := &webhook.BodyHMAC{Header: "X-Shiphero-Hmac-Sha256", IDHeader: "X-Shiphero-Message-ID", Secrets: []webhook.Secret{secretBad, k}}
	require.NoError(t, v.Validate())
	h := http.Header{}
	h.Set("X-Shiphero-Hmac-Sha256", webhook.SignBody(k, body))
	h.Set("X-Shiphero-Message-ID", "m-42")
	got, err := v.Verify(h, body, t0)
	require.NoError(t, err)
	assert.Equal(t, "m-42", got.ID)

	h.Del("X-Shiphero-Message-ID")
	got, err = v.Verify(h, body, t0)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got.ID, "sha256:"), "ID derived from the body: %q", got.ID)

	h.Set("X-Shiphero-Hmac-Sha256", webhook.SignBody(webhook.Secret("other"), body))
	_, err = v.Verify(h, body, t0)
	require.ErrorIs(t, err, webhook.ErrSignature)
	h.Del("X-Shiphero-Hmac-Sha256")
	_, err = v.Verify(h, body, t0)
	require.ErrorIs(t, err, webhook.ErrMissingHeader)

	require.ErrorIs(t, (&webhook.BodyHMAC{Secrets: []webhook.Secret{k}}).Validate(), webhook.ErrInvalidConfig)
	require.ErrorIs(t, (&webhook.Standard{}).Validate(), webhook.ErrInvalidConfig)
}

const knownVector = "TpMXpgJuEDtGUWHqKf6XWi0wxEzYiEcb+5b+I3hEmU4="
