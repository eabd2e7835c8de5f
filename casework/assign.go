package casework

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// Assign gives the inquiry to a staff member who may work on it (userID 0: to nobody). The
// activity and audit record the change; assigning to whoever already has it changes nothing.
func (s *Service) Assign(ctx context.Context, a model.Actor, inquiryID string, userID int64) (changed bool, err error) {
	if !MayWork(a.Role) {
		return false, refuse("Only agents and admins may assign inquiries.")
	}
	name, email := "nobody", ""
	if userID != 0 {
		u, err := s.db.UserByID(ctx, userID)
		if errors.Is(err, db.ErrNotFound) {
			return false, refuse("There is no such staff member. Choose one from the list.")
		}
		if err != nil {
			return false, err
		}
		if u.Disabled || !MayWork(u.Role) {
			return false, refuse(u.Name + " cannot work on inquiries (" + string(u.Role) + map[bool]string{true: ", disabled", false: ""}[u.Disabled] + "). Choose an agent or an admin.")
		}
		name, email = u.Name, u.Email
	}
	q, err := s.db.GetInquiry(ctx, inquiryID)
	if err != nil {
		return false, err
	}
	_, changed, err = s.db.SetAssignment(ctx, inquiryID, userID, a.ID, s.now(), func(prev int64) db.AuditEntry {
		action := "inquiry.assign"
		if userID == 0 {
			action = "inquiry.unassign"
		}
		return db.AuditBy(a, action, inquiryID, fmt.Sprintf("to %s (user %d, was user %d)", name, userID, prev))
	})
	if err != nil || !changed {
		return changed, err
	}
	s.changed(inquiryID)
	if userID != 0 && userID != a.ID {
		s.notifyAssignee(ctx, a, userID, email, q)
	}
	return true, nil
}

// notifyAssignee emails the new assignee, if they asked for it, through the outbox. The
// assignment stands either way; a failure to queue is logged.
func (s *Service) notifyAssignee(ctx context.Context, a model.Actor, userID int64, to string, q *db.Inquiry) {
	on, err := s.db.AssignEmail(ctx, userID)
	if err != nil || !on {
		if err != nil {
			s.log.Warn("assignment email preference", "user", userID, "err", err)
		}
		return
	}
	who := cmp.Or(q.Name, "a person")
	if q.ReferenceID != "" {
		who += " (" + q.ReferenceID + ")"
	}
	text := fmt.Sprintf("%s assigned you the inquiry for %s.\n\nOpen it: %s/inquiries/%s\n", a.Name, who, strings.TrimRight(s.BaseURL, "/"), q.ID)
	if err := s.inq.QueueNotice(ctx, a, to, "Assigned to you: "+cmp.Or(q.ReferenceID, q.ID), text, ""); err != nil {
		s.log.Warn("assignment email", "inquiry", q.ID, "to", to, "err", err)
	}
}

// SetAssignEmail records whether a staff member wants an email when an inquiry is assigned
// to them.
func (s *Service) SetAssignEmail(ctx context.Context, a model.Actor, on bool) error {
	return s.db.SetAssignEmail(ctx, a.ID, on, db.AuditBy(a, "user.preferences", a.Name, fmt.Sprintf("email on assignment: %t", on)))
}
