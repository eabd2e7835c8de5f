package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/linkdesk/linkdesk/staff"
	"golang.org/x/oauth2"
)

// SSOConfig is sign-in with OpenID Connect; zero Issuer turns it off.
type SSOConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string // from LINKDESK_OIDC_CLIENT_SECRET only
	GroupsClaim  string // the ID token claim listing the person's groups; "" is "groups"
	Roles        staff.RoleMap
	Scopes       []string // nil: openid, profile, email, groups
	Only         bool     // --sso-only: password sign-in for break-glass accounts only
	// HTTPClient talks to the provider; nil: one with a 10 s timeout.
	HTTPClient *http.Client
}

// ssoClient is the console's side of the provider: discovery (retried on demand, so a provider
// that is down when the console starts does not stop it), the OAuth 2 settings and the ID
// token verifier.
type ssoClient struct {
	cfg      SSOConfig
	redirect string // <base-url>/auth/oidc/callback

	mu         sync.Mutex
	provider   *oidc.Provider
	endSession string    // the provider's end_session_endpoint, or ""
	problem    string    // why the last discovery failed, in words; "" when none did
	triedAt    time.Time // the last failed discovery
	origins    []string  // where sign-in and sign-out forms may lead (form-action)
}

// discoveryTimeout bounds a discovery, so a sign-in page is never held up long by a provider
// that does not answer.
const discoveryTimeout = 5 * time.Second

func newSSOClient(cfg SSOConfig, baseURL string) (*ssoClient, error) {
	if cfg.Issuer == "" {
		return nil, nil
	}
	iu, err := url.Parse(cfg.Issuer)
	if err != nil || iu.Host == "" || (iu.Scheme != "https" && iu.Scheme != "http") {
		return nil, fmt.Errorf("--oidc-issuer %q must be an absolute URL, like https://login.example.com", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("--oidc-issuer needs --oidc-client-id")
	}
	if len(cfg.Roles) == 0 {
		return nil, errors.New("--oidc-issuer needs --oidc-roles, e.g. \"admin=linkdesk-admins,agent=linkdesk-agents\": nobody could sign in with SSO without a role")
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", "groups"}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &ssoClient{cfg: cfg, redirect: strings.TrimRight(baseURL, "/") + "/auth/oidc/callback", origins: []string{origin(iu)}}, nil
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// discover finds the provider's endpoints and keys once; after a failure it tries again when
// asked (at most every few seconds).
func (c *ssoClient) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	p, problem, triedAt := c.provider, c.problem, c.triedAt
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	if problem != "" && time.Since(triedAt) < 3*time.Second {
		return nil, errors.New(problem)
	}
	// Not under the lock: a sign-in page asking for status must not wait for the provider.
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.cfg.HTTPClient), discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, c.cfg.Issuer)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.problem = "The identity provider at " + c.cfg.Issuer + " did not answer as expected (" + err.Error() + ")."
		c.triedAt = time.Now()
		return nil, errors.New(c.problem)
	}
	if c.provider != nil { // another request finished first
		return c.provider, nil
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&extra); err == nil {
		c.endSession = extra.EndSession
	}
	for _, e := range []string{p.Endpoint().AuthURL, c.endSession} {
		if u, err := url.Parse(e); err == nil && u.Host != "" && !slices.Contains(c.origins, origin(u)) {
			c.origins = append(c.origins, origin(u))
		}
	}
	c.provider, c.problem = p, ""
	return p, nil
}

// status is the last discovery's problem ("" when fine or not yet tried) and the form-action
// origins.
func (c *ssoClient) status() (problem string, origins []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.problem, append([]string(nil), c.origins...)
}

// endSessionURL is where a sign-out continues at the provider, or "".
func (c *ssoClient) endSessionURL(postLogout string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endSession == "" {
		return ""
	}
	u, err := url.Parse(c.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", c.cfg.ClientID)
	q.Set("post_logout_redirect_uri", postLogout)
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *ssoClient) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  c.redirect,
		Scopes:       c.cfg.Scopes,
	}
}

// exchange trades the code for tokens (with the PKCE verifier) and returns the verified ID
// token with its nonce checked against the one this browser's sign-in sent.
func (c *ssoClient) exchange(ctx context.Context, p *oidc.Provider, code, verifier, nonce string) (*oidc.IDToken, error) {
	ctx = oidc.ClientContext(ctx, c.cfg.HTTPClient)
	tok, err := c.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errNoIDToken
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadIDToken, err)
	}
	// go-oidc leaves the nonce to us: it ties the token to this browser's sign-in.
	if idt.Nonce == "" || idt.Nonce != nonce {
		return nil, errNonce
	}
	return idt, nil
}

var (
	errNoIDToken  = errors.New("the identity provider sent no ID token")
	errBadIDToken = errors.New("the identity provider's ID token did not verify")
	errNonce      = errors.New("the ID token's nonce is not the one this sign-in sent")
)

// identity reads the person from a verified ID token.
func (c *ssoClient) identity(idt *oidc.IDToken) (staff.SSOIdentity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return staff.SSOIdentity{}, err
	}
	str := func(k string) string { s, _ := claims[k].(string); return strings.TrimSpace(s) }
	id := staff.SSOIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Email: str("email"), Name: str("name")}
	if id.Name == "" {
		id.Name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
	}
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string: // some providers send "true"
		id.EmailVerified = v == "true"
	}
	switch g := claims[c.cfg.GroupsClaim].(type) {
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				id.Groups = append(id.Groups, s)
			}
		}
	case string:
		id.Groups = []string{g}
	}
	id.Role = c.cfg.Roles.Decide(id.Groups)
	return id, nil
}
