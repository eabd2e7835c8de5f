package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// --- Data retention: the Settings section and removing one inquiry's personal data by hand ---

// retentionForm is the Data retention section's form with the setting in force, unless f
// already holds what was typed.
func (s *Server) retentionForm(r *http.Request, f views.Form) views.Form {
	if f.Values != nil {
		return f
	}
	f.Values = map[string]string{"retention_days": ""}
	if days, err := s.inq.RetentionDays(r.Context()); err == nil && days > 0 {
		f.Values["retention_days"] = strconv.Itoa(days)
	}
	if on, err := s.inq.RetentionAtPersona(r.Context()); err == nil && on {
		f.Values["retention_persona"] = "yes"
	}
	return f
}

func (s *Server) saveRetention(w http.ResponseWriter, r *http.Request) {
	typed := r.PostFormValue("retention_days")
	atPersona := r.PostFormValue("retention_persona") == "yes"
	fieldErr, err := s.inq.SaveRetention(r.Context(), actor(r), inquiry.RetentionInput{Days: typed, AtPersona: atPersona})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if fieldErr != "" {
		v := s.settingsView(r, views.Form{})
		v.Retention = views.Form{Values: map[string]string{"retention_days": typed, "retention_persona": r.PostFormValue("retention_persona")},
			Errors: map[string]string{"retention_days": fieldErr}, Error: "Data retention not saved; see the message next to the field."}
		s.render(w, r, http.StatusUnprocessableEntity, s.settingsWithEmail(r, s.page(r, "Settings", "settings"), v), nil)
		return
	}
	s.flash(w, r, "Data retention saved.")
	redirect(w, r, "/settings#retention-settings")
}

// personalDataForm asks an admin to confirm removing an inquiry's personal data.
func (s *Server) personalDataForm(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	s.render(w, r, http.StatusOK, views.PersonalDataConfirm(s.page(r, "Remove personal data", "inquiries"), inquiryRow(q)), nil)
}

func (s *Server) removePersonalData(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.inq.RemovePersonalData(r.Context(), actor(r), id)
	if errors.Is(err, db.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Personal data removed.")
	redirect(w, r, "/inquiries/"+id)
}

// personalDataFact is the detail page's line about personal data: when and by whom it was
// removed, or for admins the way to remove it.
func (s *Server) personalDataFact(r *http.Request, id string, admin bool) (views.Fact, bool) {
	at, by, err := s.db.PersonalDataRemoved(r.Context(), id)
	switch {
	case err != nil:
		return views.Fact{}, false
	case !at.IsZero():
		return views.Fact{Label: "Personal data", Value: "Personal data removed on " + views.When(at) + " by " + by}, true
	case admin:
		return views.Fact{Label: "Personal data", Value: "Remove personal data…", Href: templ.SafeURL("/inquiries/" + id + "/personal-data")}, true
	}
	return views.Fact{}, false
}
