package sap_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/sap"
)

func TestNewValidates(t *testing.T) {
	for _, cfg := range []sap.Config{{}, {BaseURL: "ftp://x"}, {BaseURL: "http://"}, {BaseURL: "http://x", Timeout: -1}, {BaseURL: "http://x", MaxRetryAfter: -1}} {
		_, err := sap.New(cfg)
		assert.ErrorIs(t, err, sap.ErrInvalidConfig, "New(%+v)", cfg)
	}
	_, err := sap.New(sap.Config{BaseURL: "https://s4.example.com/"})
	assert.NoError(t, err)
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   connector.Code
	}{
		{"down", http.StatusServiceUnavailable, connector.CodeUnavailable},
		{"wrong credentials", http.StatusUnauthorized, connector.CodeUnauthorized},
		{"no such service", http.StatusNotFound, connector.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) }))
			defer srv.Close()
			c, err := sap.New(sap.Config{BaseURL: srv.URL})
			require.NoError(t, err)
			err = c.Health(t.Context())
			assert.Equal(t, tt.code, connector.CodeOf(err), "Health: %v", err)
		})
	}
	_, srv := emulator(t, nil)
	assert.NoError(t, newClient(t, srv.URL).Health(t.Context()), "Health of a running emulator")
}
