package staff

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
)

var (
	// ErrInvalidRole: the role is not admin, reviewer, agent or viewer.
	ErrInvalidRole = errors.New("choose admin, reviewer, agent or viewer")
	// ErrOwnAccount: staff cannot disable (or enable) their own account.
	ErrOwnAccount = errors.New("you cannot disable your own account")
)

// NewUser is a staff account to add.
type NewUser struct {
	Name, Email, Password string
	Role                  model.Role
}

// AddUser adds a staff account with its audit entry in the same transaction. It returns
// db.ErrEmailTaken when the email is in use, inquiry.ErrInvalidRecipient for an email that is
// not one plain address, ErrInvalidRole, or a *PasswordError.
func (s *Service) AddUser(ctx context.Context, by model.Actor, in NewUser) (int64, error) {
	if err := inquiry.ValidRecipient(in.Email); err != nil {
		return 0, err
	}
	if !in.Role.Valid() {
		return 0, ErrInvalidRole
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if id, err = db.InsertUser(ctx, tx, db.User{Email: in.Email, Name: in.Name, Role: in.Role, PasswordHash: hash}); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(by, "user.add", in.Email, "role "+string(in.Role)))
	})
	return id, err
}

// Change is what an admin changes about an account.
type Change struct {
	Disabled *bool      // set: disable or enable the account, and nothing else
	Role     model.Role // the role wanted; the account's own role keeps it
	// No password: people choose their own (invitation, password reset).
}

// UpdateUser applies ch to u with its audit entry in the same transaction, ending u's sessions
// (see db.UpdateUser). It returns what changed, in words (none: nothing to change), or
// ErrOwnAccount, ErrInvalidRole, or db.ErrLastAdmin when no active admin
// would be left.
func (s *Service) UpdateUser(ctx context.Context, by model.Actor, u db.User, ch Change) ([]string, error) {
	var up db.UserUpdate
	var what []string
	if ch.Disabled != nil {
		if u.ID == by.ID {
			return nil, ErrOwnAccount
		}
		up.Disabled = ch.Disabled
		if *ch.Disabled {
			what = append(what, "disabled")
		} else {
			what = append(what, "enabled")
		}
	} else {
		if ch.Role != u.Role {
			if !ch.Role.Valid() {
				return nil, ErrInvalidRole
			}
			up.Role = &ch.Role
			what = append(what, "role "+string(u.Role)+" → "+string(ch.Role))
		}
	}
	if len(what) == 0 {
		return nil, nil
	}
	if err := s.db.UpdateUser(ctx, u.ID, up, db.AuditBy(by, "user.update", u.Email, strings.Join(what, ", "))); err != nil {
		return nil, err
	}
	return what, nil
}
