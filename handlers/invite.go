package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/views"
)

// invitationRows are the Staff page's open invitations.
func (s *Server) invitationRows(r *http.Request) ([]views.InvitationRow, error) {
	invs, err := s.db.OpenInvitations(r.Context())
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rows := make([]views.InvitationRow, len(invs))
	for i, inv := range invs {
		rows[i] = views.InvitationRow{ID: inv.ID, Name: inv.Name, Email: inv.Email, Role: string(inv.Role),
			InvitedBy: inv.InvitedBy, ExpiresAt: inv.ExpiresAt, Expired: !now.Before(inv.ExpiresAt)}
	}
	return rows, nil
}

// inviteStaff sends an invitation ("Send invitation" on the Staff page).
func (s *Server) inviteStaff(w http.ResponseWriter, r *http.Request) {
	in := staffInput{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Role: model.Role(r.PostFormValue("role"))}
	f := in.validate(false)
	if len(f.Errors) > 0 {
		s.renderStaff(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	err := s.staff.InviteStaff(r.Context(), actor(r), staff.Invite{Name: in.Name, Email: in.Email, Role: in.Role}, s.cfg.BaseURL)
	switch {
	case errors.Is(err, db.ErrEmailTaken):
		f.Errors["email"] = "A staff member with this email already exists."
		s.renderStaff(w, r, http.StatusUnprocessableEntity, f)
		return
	case errors.Is(err, inquiry.ErrInvalidRecipient):
		f.Errors["email"] = "Enter an email address like name@example.com."
		s.renderStaff(w, r, http.StatusUnprocessableEntity, f)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Invitation sent to "+in.Email+" as "+string(in.Role)+". The link works once, for 72 hours.")
	redirect(w, r, "/staff")
}

func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	inv, ok := byPathID(s, w, r, s.db.InvitationByID)
	if !ok {
		return
	}
	switch err := s.staff.RevokeInvitation(r.Context(), actor(r), inv.ID); {
	case errors.Is(err, staff.ErrLinkInvalid):
		s.flash(w, r, "The invitation to "+inv.Email+" was already accepted or withdrawn.")
	case err != nil:
		s.serverError(w, r, err)
		return
	default:
		s.flash(w, r, "Withdrew the invitation to "+inv.Email+": its link no longer works.")
	}
	redirect(w, r, "/staff")
}

const linkInvalidWords = "This link is wrong, already used, withdrawn or expired. Ask an admin for a new invitation, or use Forgot password? on the sign-in page."

// inviteForm is where the invitation email's link leads.
func (s *Server) inviteForm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	inv, err := s.staff.Invitation(r.Context(), tok)
	if errors.Is(err, staff.ErrLinkInvalid) {
		s.errorPage(w, r, http.StatusNotFound, "Invitation not valid", linkInvalidWords)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := views.InviteView{Token: tok, Name: inv.Name, Email: inv.Email, Role: string(inv.Role)}
	s.render(w, r, http.StatusOK, views.InvitePage(s.page(r, "Join Linkdesk", ""), views.Form{}, v), nil)
}

func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	inv, err := s.staff.Invitation(r.Context(), tok)
	if errors.Is(err, staff.ErrLinkInvalid) {
		s.errorPage(w, r, http.StatusNotFound, "Invitation not valid", linkInvalidWords)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := views.InviteView{Token: tok, Name: inv.Name, Email: inv.Email, Role: string(inv.Role)}
	u, sid, err := s.staff.AcceptInvitation(r.Context(), tok, r.PostFormValue("password"), s.sessionID(r), s.passwordSignIn())
	var pe *staff.PasswordError
	switch {
	case errors.As(err, &pe):
		f := views.Form{Errors: map[string]string{"password": "Choose another password: " + pe.Error() + "."}}
		s.render(w, r, http.StatusUnprocessableEntity, views.InvitePage(s.page(r, "Join Linkdesk", ""), f, v), nil)
		return
	case errors.Is(err, db.ErrEmailTaken):
		s.errorPage(w, r, http.StatusConflict, "Account exists already", "A Linkdesk account with the email "+inv.Email+" exists already. Sign in instead, or use Forgot password? on the sign-in page.")
		return
	case errors.Is(err, staff.ErrLinkInvalid):
		s.errorPage(w, r, http.StatusNotFound, "Invitation not valid", linkInvalidWords)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.enterWithNewPassword(w, r, sid, "Welcome, "+u.Name+". Your account is ready.")
}
