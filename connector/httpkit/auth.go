// This file owns authorization: the Authorizer a Client calls, and OAuth2
// through golang.org/x/oauth2 with a cached token that a 401 invalidates.

package httpkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Authorizer authorizes the requests of a Client. Implementations must be
// safe for concurrent use.
type Authorizer interface {
	// Authorize sets the credential on req (such as its Authorization
	// header), fetching one under req's context when it has none cached.
	Authorize(req *http.Request) error
	// Invalidate tells that req, authorized by Authorize, was answered
	// 401: the credential it carried must not be used again. A credential
	// already replaced is left alone, so concurrent 401s fetch one new
	// credential, not one each.
	Invalidate(req *http.Request)
}

// OAuth2Config configures an OAuth2 Authorizer. It is a plain value: safe
// for concurrent use when not modified. The zero value is not usable:
// TokenURL and ClientID are required.
type OAuth2Config struct {
	// TokenURL is the token endpoint. Required.
	TokenURL string
	// ClientID identifies the client. Required.
	ClientID string
	// ClientSecret authenticates the client.
	ClientSecret string
	// Scopes are the scopes asked for; none means the server's default.
	Scopes []string
	// Params are more form parameters of the token request (such as an
	// audience).
	Params url.Values
	// HTTPClient fetches tokens; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Validate reports whether c is usable; the error matches ErrInvalidConfig.
func (c OAuth2Config) Validate() error {
	if c.TokenURL == "" {
		return fmt.Errorf("%w: OAuth2Config.TokenURL is required", ErrInvalidConfig)
	}
	if u, err := url.Parse(c.TokenURL); err != nil || !u.IsAbs() {
		return fmt.Errorf("%w: OAuth2Config.TokenURL %q is not an absolute URL", ErrInvalidConfig, c.TokenURL)
	}
	if c.ClientID == "" {
		return fmt.Errorf("%w: OAuth2Config.ClientID is required", ErrInvalidConfig)
	}
	return nil
}

// OAuth2 is an Authorizer sending an OAuth2 bearer token: it caches the
// token until it expires or a 401 invalidates it, then fetches a new one
// (one fetch at a time). Create it with ClientCredentials or RefreshToken;
// the zero value is not usable. It is safe for concurrent use. Its LogValue
// never shows a token or the client secret.
type OAuth2 struct {
	cfg   OAuth2Config
	fetch func(ctx context.Context, refresh string) (*oauth2.Token, error)

	mu      sync.Mutex
	token   *oauth2.Token
	refresh string
}

// ClientCredentials returns an OAuth2 Authorizer using the client
// credentials grant (RFC 6749 section 4.4), or an error matching
// ErrInvalidConfig.
func ClientCredentials(cfg OAuth2Config) (*OAuth2, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cc := &clientcredentials.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL,
		Scopes: cfg.Scopes, EndpointParams: cfg.Params,
	}
	a := &OAuth2{cfg: cfg}
	a.fetch = func(ctx context.Context, _ string) (*oauth2.Token, error) {
		return cc.Token(a.context(ctx))
	}
	return a, nil
}

// RefreshToken returns an OAuth2 Authorizer that gets access tokens with
// the refresh token grant (RFC 6749 section 6) from refreshToken, keeping a
// new refresh token when the server rotates it, or an error matching
// ErrInvalidConfig.
func RefreshToken(cfg OAuth2Config, refreshToken string) (*OAuth2, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if refreshToken == "" {
		return nil, fmt.Errorf("%w: the refresh token is empty", ErrInvalidConfig)
	}
	oc := &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL},
	}
	a := &OAuth2{cfg: cfg, refresh: refreshToken}
	a.fetch = func(ctx context.Context, refresh string) (*oauth2.Token, error) {
		return oc.TokenSource(a.context(ctx), &oauth2.Token{RefreshToken: refresh}).Token()
	}
	return a, nil
}

func (a *OAuth2) context(ctx context.Context) context.Context {
	if a.cfg.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	}
	return ctx
}

// ErrToken is matched (with errors.Is) by the error Authorize returns when
// no token could be fetched; the error names the token endpoint's answer,
// never a secret.
var ErrToken = errors.New("httpkit: fetching an OAuth2 token failed")

// Authorize sets "Authorization: Bearer TOKEN" on req.
func (a *OAuth2) Authorize(req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.token.Valid() {
		t, err := a.fetch(req.Context(), a.refresh)
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) && re.Response != nil {
				return fmt.Errorf("%w: token endpoint answered %d %s", ErrToken, re.Response.StatusCode, re.ErrorCode)
			}
			return fmt.Errorf("%w: %w", ErrToken, err)
		}
		a.token = t
		if t.RefreshToken != "" {
			a.refresh = t.RefreshToken
		}
	}
	req.Header.Set("Authorization", a.token.Type()+" "+a.token.AccessToken)
	return nil
}

// Invalidate drops the cached token when req carried it.
func (a *OAuth2) Invalidate(req *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != nil && req.Header.Get("Authorization") == a.token.Type()+" "+a.token.AccessToken {
		a.token = nil
	}
}

// LogValue shows the token endpoint and client ID only.
func (a *OAuth2) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token_url", a.cfg.TokenURL), slog.String("client_id", a.cfg.ClientID))
}
