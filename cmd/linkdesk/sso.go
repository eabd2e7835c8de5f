package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/linkdesk/linkdesk/handlers"
	"github.com/linkdesk/linkdesk/staff"
)

// ssoFlags adds serve's OpenID Connect flags to fs; the returned function reads them (and the
// client secret, from the environment only) after fs.Parse.
func ssoFlags(fs *flag.FlagSet) func() (handlers.SSOConfig, error) {
	issuer := fs.String("oidc-issuer", env("OIDC_ISSUER", ""), "OpenID Connect issuer URL for Sign in with SSO, e.g. https://login.example.com; the redirect URI to register is <base-url>/auth/oidc/callback, the sign-out return <base-url>/login [LINKDESK_OIDC_ISSUER]")
	clientID := fs.String("oidc-client-id", env("OIDC_CLIENT_ID", ""), "OpenID Connect client ID; the secret only in LINKDESK_OIDC_CLIENT_SECRET [LINKDESK_OIDC_CLIENT_ID]")
	groups := fs.String("oidc-groups-claim", env("OIDC_GROUPS_CLAIM", "groups"), "ID token claim listing the person's groups [LINKDESK_OIDC_GROUPS_CLAIM]")
	roles := fs.String("oidc-roles", env("OIDC_ROLES", ""), `which group gives which role, e.g. "admin=linkdesk-admins,agent=linkdesk-agents,viewer=linkdesk-viewers" (the highest wins; someone in none is refused) [LINKDESK_OIDC_ROLES]`)
	scopes := fs.String("oidc-scopes", env("OIDC_SCOPES", "openid,profile,email,groups"), "scopes asked for, comma-separated [LINKDESK_OIDC_SCOPES]")
	only := fs.Bool("sso-only", envBool("SSO_ONLY", false), "turn password sign-in off except for break-glass admins [LINKDESK_SSO_ONLY]")
	return func() (handlers.SSOConfig, error) {
		if *issuer == "" {
			if *only {
				return handlers.SSOConfig{}, errors.New("--sso-only needs --oidc-issuer")
			}
			return handlers.SSOConfig{}, nil
		}
		m, err := staff.ParseRoleMap(*roles)
		if err != nil {
			return handlers.SSOConfig{}, err
		}
		secret := os.Getenv("LINKDESK_OIDC_CLIENT_SECRET")
		if secret == "" {
			return handlers.SSOConfig{}, fmt.Errorf("--oidc-issuer needs the client secret in LINKDESK_OIDC_CLIENT_SECRET")
		}
		return handlers.SSOConfig{Issuer: *issuer, ClientID: *clientID, ClientSecret: secret, GroupsClaim: *groups,
			Roles: m, Scopes: splitList(strings.ReplaceAll(*scopes, " ", ",")), Only: *only}, nil
	}
}
