package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// --- Templates ---

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
	f := views.Form{Values: map[string]string{"id": t.ID, "name": t.Name, "reminder_days": t.ReminderDays}}
	if t.IsDefault {
		f.Values["default"] = "yes"
	}
	errs, err := s.inq.SaveTemplate(r.Context(), actor(r), t)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		f.Errors = errs
		s.renderTemplates(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	s.flash(w, r, "Saved template "+t.Name+".")
	redirect(w, r, "/templates")
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.inq.DeleteTemplate(r.Context(), actor(r), id); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Removed template "+id+". Inquiries made from it keep working.")
	redirect(w, r, "/templates")
}

func (s *Server) importTemplates(w http.ResponseWriter, r *http.Request) {
	n, err := s.inq.ImportTemplates(r.Context(), actor(r))
	if err != nil {
		p := inquiry.ProblemOf(err)
		if p == nil {
			s.serverError(w, r, err)
			return
		}
		s.renderTemplates(w, r, http.StatusBadGateway, views.Form{Error: p.Words})
		return
	}
	s.flash(w, r, "Imported "+strconv.Itoa(n)+" templates from Persona.")
	redirect(w, r, "/templates")
}
