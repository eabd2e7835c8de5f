package handlers

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/views"
)

// --- Templates ---

var reminderRe = regexp.MustCompile(`^\s*\d{1,2}(\s*,\s*\d{1,2})*\s*$`)

func (s *Server) renderTemplates(w http.ResponseWriter, r *http.Request, status int, f views.Form) {
	ts, err := s.db.Templates(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rows := make([]views.TemplateRow, len(ts))
	for i, t := range ts {
		rows[i] = views.TemplateRow{ID: t.ID, Name: t.Name, IsDefault: t.IsDefault, ReminderDays: t.ReminderDays}
	}
	st := s.inq.Settings()
	canImport := st.APIKey != "" && st.Environment() == "Production"
	note := ""
	if canImport {
		note = " or import them from Persona"
	}
	p := s.page(r, "Templates", "templates")
	s.takeFlash(w, r, &p)
	s.render(w, r, status, views.TemplatesPage(p, rows, f, canImport, note), nil)
}

func (s *Server) templatesPage(w http.ResponseWriter, r *http.Request) {
	s.renderTemplates(w, r, http.StatusOK, views.Form{})
}

func (s *Server) saveTemplate(w http.ResponseWriter, r *http.Request) {
	t := db.Template{
		ID:           strings.TrimSpace(r.PostFormValue("id")),
		Name:         strings.TrimSpace(r.PostFormValue("name")),
		IsDefault:    r.PostFormValue("default") == "yes",
		ReminderDays: strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("reminder_days")), " ", ""),
	}
	f := views.Form{Values: map[string]string{"id": t.ID, "name": t.Name, "reminder_days": t.ReminderDays}, Errors: map[string]string{}}
	if t.IsDefault {
		f.Values["default"] = "yes"
	}
	if !strings.HasPrefix(t.ID, "itmpl_") && !strings.HasPrefix(t.ID, "itmplv_") || len(t.ID) > 64 || strings.ContainsAny(t.ID, " /?&#") {
		f.Errors["id"] = "Template ids start with itmpl_ (or itmplv_ for a pinned version)."
	}
	if t.Name == "" || len(t.Name) > 100 {
		f.Errors["name"] = "Enter a name of up to 100 characters."
	}
	if t.ReminderDays != "" && !reminderRe.MatchString(t.ReminderDays) {
		f.Errors["reminder_days"] = "Enter whole days separated by commas, e.g. 1,3."
	}
	if len(f.Errors) > 0 {
		s.renderTemplates(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	me := currentUser(r)
	if err := s.db.SaveTemplate(r.Context(), t, db.AuditEntry{UserID: me.ID, Actor: me.Name, Action: "template.save", Target: t.ID, Detail: t.Name}); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Saved template "+t.Name+".")
	redirect(w, r, "/templates")
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	me := currentUser(r)
	if err := s.db.DeleteTemplate(r.Context(), id, db.AuditEntry{UserID: me.ID, Actor: me.Name, Action: "template.remove", Target: id}); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Removed template "+id+". Inquiries made from it keep working.")
	redirect(w, r, "/templates")
}

func (s *Server) importTemplates(w http.ResponseWriter, r *http.Request) {
	n, err := s.inq.ImportTemplates(r.Context(), actor(r))
	if err != nil {
		if !inquiry.IsPersonaError(err) {
			s.serverError(w, r, err)
			return
		}
		s.renderTemplates(w, r, http.StatusBadGateway, views.Form{Error: persona.Explain(err)})
		return
	}
	s.flash(w, r, "Imported "+strconv.Itoa(n)+" templates from Persona.")
	redirect(w, r, "/templates")
}
