package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/views"
)

type staffInput struct {
	Name, Email, Password string
	Role                  model.Role
}

// validate trims the input and reports problems per field; needPassword is false when editing.
func (in *staffInput) validate(needPassword bool) views.Form {
	in.Name, in.Email, in.Role = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email), model.Role(strings.TrimSpace(string(in.Role)))
	f := views.Form{Values: map[string]string{"name": in.Name, "email": in.Email, "role": string(in.Role)}, Errors: map[string]string{}}
	if in.Name == "" {
		f.Errors["name"] = "Enter a name."
	} else if len(in.Name) > 200 {
		f.Errors["name"] = "Use at most 200 characters."
	}
	if !ValidEmail(in.Email) {
		f.Errors["email"] = "Enter an email address like name@example.com."
	}
	if !in.Role.Valid() {
		f.Errors["role"] = "Choose admin, reviewer, agent or viewer."
	}
	if needPassword || in.Password != "" {
		if len(in.Password) < staff.MinPasswordLength {
			f.Errors["password"] = "Use at least 12 characters."
		} else if len(in.Password) > 72 {
			f.Errors["password"] = "Use at most 72 characters."
		}
	}
	return f
}

func (s *Server) staffRows(r *http.Request) ([]views.StaffRow, error) {
	users, err := s.db.ListUsers(r.Context())
	if err != nil {
		return nil, err
	}
	sso, err := s.db.SSOUsers(r.Context())
	if err != nil {
		return nil, err
	}
	me := currentUser(r)
	rows := make([]views.StaffRow, len(users))
	for i, u := range users {
		rows[i] = views.StaffRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), Disabled: u.Disabled, Self: u.ID == me.ID, TwoStep: u.TwoStepEnabled(), SSO: sso[u.ID]}
	}
	return rows, nil
}

func (s *Server) renderStaff(w http.ResponseWriter, r *http.Request, status int, add views.Form) {
	s.renderStaffEdit(w, r, status, add, 0, "")
}

// renderStaffEdit shows the Staff page with the row of user editID reopened and its problem.
func (s *Server) renderStaffEdit(w http.ResponseWriter, r *http.Request, status int, add views.Form, editID int64, editErr string) {
	rows, err := s.staffRows(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for i := range rows {
		if rows[i].ID == editID {
			rows[i].EditError, rows[i].EditRole = editErr, strings.TrimSpace(r.PostFormValue("role"))
		}
	}
	p := s.page(r, "Staff", "staff")
	s.takeFlash(w, r, &p)
	if add.Values == nil {
		add.Values = map[string]string{"role": string(model.Agent)}
	}
	invites, err := s.invitationRows(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, views.StaffPage(p, rows, add, invites), nil)
}

func (s *Server) staffPage(w http.ResponseWriter, r *http.Request) {
	s.renderStaff(w, r, http.StatusOK, views.Form{})
}

func (s *Server) staffUpdate(w http.ResponseWriter, r *http.Request) {
	u, ok := byPathID(s, w, r, s.db.UserByID)
	if !ok {
		return
	}
	me := currentUser(r)
	var ch staff.Change
	if a := r.PostFormValue("action"); a == "disable" || a == "enable" {
		dis := a == "disable"
		ch.Disabled = &dis
	} else {
		// Admins no longer set others' passwords: people choose their own (invitation, reset).
		ch.Role = model.Role(strings.TrimSpace(r.PostFormValue("role")))
	}
	what, err := s.staff.UpdateUser(r.Context(), actor(r), *u, ch)
	switch {
	case errors.Is(err, staff.ErrOwnAccount):
		s.renderStaffEdit(w, r, http.StatusUnprocessableEntity, views.Form{}, u.ID, "You cannot disable your own account.")
		return
	case errors.Is(err, staff.ErrInvalidRole):
		s.renderStaffEdit(w, r, http.StatusUnprocessableEntity, views.Form{}, u.ID, "Choose admin, reviewer, agent or viewer.")
		return
	case errors.Is(err, db.ErrLastAdmin):
		// Keep at least one admin who can sign in.
		s.renderStaffEdit(w, r, http.StatusUnprocessableEntity, views.Form{}, u.ID, u.Name+" is the last active admin. Make someone else an admin first.")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if len(what) == 0 {
		s.flash(w, r, "Nothing to change for "+u.Name+".")
		redirect(w, r, "/staff")
		return
	}
	// Every change (role, the disabled flag) ends the account's sessions.
	msg := "Saved " + u.Name + ": " + strings.Join(what, ", ") + ". Their sessions were ended."
	if u.ID == me.ID {
		// Their own sessions just ended too (a role change: disabling oneself is refused); send
		// them to sign in again.
		redirect(w, r, "/login")
		return
	}
	s.flash(w, r, msg)
	redirect(w, r, "/staff")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
