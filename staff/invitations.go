package staff

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 72 * time.Hour

// ErrLinkInvalid: an invitation or reset link that is wrong, used, withdrawn or expired.
var ErrLinkInvalid = errors.New("this link is wrong, already used, withdrawn or expired")

// Invite is a person an admin invites to become staff.
type Invite struct {
	Name, Email string
	Role        model.Role
}

// tokenLink is baseURL/path?token=tok (the access log leaves query strings out).
func tokenLink(baseURL, path, tok string) string {
	return strings.TrimRight(baseURL, "/") + path + "?" + url.Values{"token": {tok}}.Encode()
}

// InviteStaff emails in a single-use link to choose a password (through the outbox), replacing
// any open invitation to the same email, with its audit entry in the same transaction. It
// returns db.ErrEmailTaken when an account has the email, inquiry.ErrInvalidRecipient or
// ErrInvalidRole.
func (s *Service) InviteStaff(ctx context.Context, by model.Actor, in Invite, baseURL string) error {
	in.Email, in.Name = strings.TrimSpace(in.Email), strings.TrimSpace(in.Name)
	if err := inquiry.ValidRecipient(in.Email); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return ErrInvalidRole
	}
	tok := randomHex(32)
	now := s.now()
	msg := inviteEmail(in.Name, by.Name, tokenLink(baseURL, "/invite", tok), InvitationTTL)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := db.UserByEmailTx(ctx, tx, in.Email); err == nil {
			return db.ErrEmailTaken
		} else if !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if err := db.RevokeOpenInvitations(ctx, tx, in.Email, now); err != nil {
			return err
		}
		inv := db.Invitation{Email: in.Email, Name: in.Name, Role: in.Role, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
		if _, err := db.InsertInvitation(ctx, tx, tokenHash(tok), inv, by.ID); err != nil {
			return err
		}
		if _, err := db.QueueEmail(ctx, tx, db.OutboxEmail{Kind: "staff", Recipient: in.Email, Subject: msg.Subject,
			BodyText: msg.Text, BodyHTML: msg.HTML, QueuedBy: by.ID, QueuedAt: now}); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(by, "user.invite", in.Email, "role "+string(in.Role)))
	})
}

// Invitation returns the open, unexpired invitation tok belongs to, or ErrLinkInvalid.
func (s *Service) Invitation(ctx context.Context, tok string) (*db.Invitation, error) {
	inv, err := db.InvitationByToken(ctx, s.db.R, tokenHash(tok))
	if errors.Is(err, db.ErrNotFound) || (err == nil && !open(inv, s.now())) {
		return nil, ErrLinkInvalid
	}
	return inv, err
}

func open(inv *db.Invitation, now time.Time) bool {
	return inv.AcceptedAt.IsZero() && inv.RevokedAt.IsZero() && now.Before(inv.ExpiresAt)
}

// AcceptInvitation creates the invited account with the password the person chose and signs
// it in, once: the link stops working. signIn, when not nil, may keep the browser signed out
// (--sso-only for an account that is not break-glass); the session id is then "". It returns
// ErrLinkInvalid, a *PasswordError, or db.ErrEmailTaken when an account got the email meanwhile.
func (s *Service) AcceptInvitation(ctx context.Context, tok, pw, oldSID string, signIn func(*db.User) bool) (*db.User, string, error) {
	hash, err := HashPassword(pw)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	var u db.User
	var sid string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		inv, err := db.InvitationByToken(ctx, tx, tokenHash(tok))
		if errors.Is(err, db.ErrNotFound) || (err == nil && !open(inv, now)) {
			return ErrLinkInvalid
		}
		if err != nil {
			return err
		}
		u = db.User{Email: inv.Email, Name: inv.Name, Role: inv.Role, PasswordHash: hash}
		if u.ID, err = db.InsertUser(ctx, tx, u); err != nil {
			return err
		}
		if err := closed(db.CloseInvitation(ctx, tx, inv.ID, u.ID, now)); err != nil {
			return err
		}
		if signIn == nil || signIn(&u) {
			if sid, err = s.startSession(ctx, tx, oldSID, &u); err != nil {
				return err
			}
		}
		return db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.invite-accept", u.Email, "role "+string(u.Role)))
	})
	if err != nil {
		return nil, "", err
	}
	return &u, sid, nil
}

// RevokeInvitation withdraws an open invitation, with its audit entry; ErrLinkInvalid when it
// is no longer open.
func (s *Service) RevokeInvitation(ctx context.Context, by model.Actor, id int64) error {
	inv, err := s.db.InvitationByID(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := closed(db.CloseInvitation(ctx, tx, id, 0, s.now())); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(by, "user.invite-revoke", inv.Email, ""))
	})
}

// closed turns a conditional update's (done, err) into an error: ErrLinkInvalid when the row
// was no longer open.
func closed(ok bool, err error) error {
	if err == nil && !ok {
		return ErrLinkInvalid
	}
	return err
}
