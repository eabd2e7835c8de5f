package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
)

// ErrSSOOnly: with --sso-only, a password signs in break-glass accounts only (see BreakGlass).
var ErrSSOOnly = errors.New("password sign-in is off for this account: use Sign in with SSO")

// BreakGlass reports whether u may still sign in with a password while --sso-only is on: the
// way in when the identity provider is down or misconfigured: an admin whose password alone
// is not enough, because two-step sign-in is set up.
func BreakGlass(u *db.User) bool {
	return u.Role == model.Admin && u.TwoStepEnabled()
}

// SignInSSOOnly is SignIn while --sso-only is on: a right password of an account that is not
// break-glass is refused with ErrSSOOnly and starts nothing.
func (s *Service) SignInSSOOnly(ctx context.Context, email, pw, oldSID string) (*db.User, string, error) {
	return s.signIn(ctx, email, pw, oldSID, BreakGlass)
}

// RoleMap decides a role from the identity provider's groups: --oidc-roles
// "admin=GROUP,agent=GROUP,viewer=GROUP".
type RoleMap map[string]model.Role

// ParseRoleMap reads "role=group,role=group"; a role may be named several times (one group
// each), a group only once.
func ParseRoleMap(s string) (RoleMap, error) {
	m := RoleMap{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		role, group, ok := strings.Cut(pair, "=")
		role, group = strings.TrimSpace(role), strings.TrimSpace(group)
		r, valid := model.ParseRole(role)
		switch {
		case !ok || group == "":
			return nil, fmt.Errorf("--oidc-roles: %q is not role=group", pair)
		case !valid:
			return nil, fmt.Errorf("--oidc-roles: %q is not a role (%s)", role, roleNames())
		case m[group] != "" && m[group] != r:
			return nil, fmt.Errorf("--oidc-roles: the group %q is mapped twice", group)
		}
		m[group] = r
	}
	return m, nil
}

func roleNames() string {
	var n []string
	for _, r := range model.Roles {
		n = append(n, string(r))
	}
	return strings.Join(n, ", ")
}

// Decide returns the highest role any of groups maps to, or "" when none does.
func (m RoleMap) Decide(groups []string) model.Role {
	var best model.Role
	for _, g := range groups {
		if r := m[g]; r.Level() > best.Level() {
			best = r
		}
	}
	return best
}

// SSOIdentity is a person the identity provider vouched for in a verified ID token.
type SSOIdentity struct {
	Issuer, Subject string
	Email, Name     string
	EmailVerified   bool
	Groups          []string
	Role            model.Role // from Groups by the RoleMap; "" when none maps
}

var errRefused = errors.New("refused")

// SSORefusal is an SSO sign-in refused by a rule of ours; Reason says why, for the person.
type SSORefusal struct{ Reason string }

func (e *SSORefusal) Error() string { return e.Reason }

// SignInSSO signs id in: the account linked to its issuer+subject, else (first sign-in) an
// existing account with its email when the provider says that email is verified, else a new
// account. The role is id.Role, decided again at every sign-in. A refusal (no mapped group, a
// disabled account, an email that cannot be linked) returns *SSORefusal, creates nothing and is
// audited. It returns the account and the new session's id.
func (s *Service) SignInSSO(ctx context.Context, id SSOIdentity, oldSID string) (*db.User, string, error) {
	if id.Issuer == "" || id.Subject == "" {
		return nil, "", errors.New("staff: SSO identity without issuer or subject")
	}
	var u *db.User
	var sid, detail string
	var refusal *SSORefusal
	err := s.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if id.Role == "" {
			refusal = &SSORefusal{"Your account at the identity provider is in no group that Linkdesk maps to a role, so you cannot sign in here. Ask your administrator to add you to one."}
			return errRefused
		}
		if u, detail, refusal, err = s.ssoAccount(ctx, tx, id); err != nil {
			return err
		}
		if refusal != nil {
			return errRefused // nothing linked or created is kept
		}
		if err := db.TouchIdentity(ctx, tx, id.Issuer, id.Subject); err != nil {
			return err
		}
		if sid, err = s.startSession(ctx, tx, oldSID, u); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.sso-sign-in", u.Email, detail))
	})
	if err != nil && !errors.Is(err, errRefused) {
		return nil, "", err
	}
	if refusal != nil {
		if err := s.RecordSSORefusal(ctx, id, refusal.Reason); err != nil {
			return nil, "", err
		}
		return nil, "", refusal
	}
	return u, sid, nil
}

// ssoAccount finds, links or creates id's account inside tx and brings its role up to date.
func (s *Service) ssoAccount(ctx context.Context, tx *sql.Tx, id SSOIdentity) (*db.User, string, *SSORefusal, error) {
	u, err := db.UserByIdentity(ctx, tx, id.Issuer, id.Subject)
	var what []string
	switch {
	case errors.Is(err, db.ErrNotFound):
		if inquiry.ValidRecipient(id.Email) != nil {
			return nil, "", &SSORefusal{"Your identity provider did not share an email address, which Linkdesk needs for your account. Ask your administrator to release the email claim to Linkdesk."}, nil
		}
		u, err = db.UserByEmailTx(ctx, tx, id.Email)
		switch {
		case errors.Is(err, db.ErrNotFound):
			name := strings.TrimSpace(id.Name)
			if name == "" {
				name = id.Email
			}
			// No password: the account signs in through SSO until someone resets it.
			nu := db.User{Email: id.Email, Name: name, Role: id.Role}
			if nu.ID, err = db.InsertUser(ctx, tx, nu); err != nil {
				return nil, "", nil, err
			}
			u = &nu
			what = append(what, "account created on first sign-in")
		case err != nil:
			return nil, "", nil, err
		case !id.EmailVerified:
			return nil, "", &SSORefusal{"A Linkdesk account with the email " + id.Email + " exists, but your identity provider does not say that this email address is verified, so the two cannot be linked. Ask your administrator."}, nil
		default:
			var linked int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_identities WHERE user_id = ?`, u.ID).Scan(&linked); err != nil {
				return nil, "", nil, err
			}
			if linked > 0 {
				return nil, "", &SSORefusal{"The Linkdesk account with the email " + id.Email + " is already linked to another identity, so it cannot be linked to yours. Ask your administrator."}, nil
			}
			what = append(what, "linked to the existing account")
		}
		if err := db.LinkIdentity(ctx, tx, id.Issuer, id.Subject, u.ID); err != nil {
			return nil, "", nil, err
		}
	case err != nil:
		return nil, "", nil, err
	}
	if u.Disabled {
		return nil, "", &SSORefusal{"Your Linkdesk account is disabled. Ask an admin to enable it."}, nil
	}
	if u.Role != id.Role {
		if err := db.SetUserRole(ctx, tx, u.ID, id.Role); err != nil {
			return nil, "", nil, err
		}
		if !slices.Contains(what, "account created on first sign-in") {
			what = append(what, "role "+string(u.Role)+" → "+string(id.Role)+" from the provider's groups")
		}
		u.Role = id.Role
	}
	if len(what) == 0 {
		what = append(what, "role "+string(u.Role))
	}
	return u, strings.Join(what, ", "), nil, nil
}

// RecordSSORefusal audits an SSO sign-in that was refused: by a rule here, by the provider (a
// denied consent) or by a check of the answer (a wrong state, an expired code). id may hold
// only what is known.
func (s *Service) RecordSSORefusal(ctx context.Context, id SSOIdentity, reason string) error {
	who := id.Email
	if who == "" {
		who = id.Subject
	}
	detail := reason
	if len(id.Groups) > 0 {
		detail += " (groups: " + strings.Join(id.Groups, ", ") + ")"
	}
	e := db.AuditBy(model.Actor{Name: "SSO"}, "user.sso-refused", who, detail)
	e.Outcome = "refused"
	return s.db.Tx(ctx, func(tx *sql.Tx) error { return db.AddAudit(ctx, tx, e) })
}
