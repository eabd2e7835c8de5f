package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// --- Settings ---

func (s *Server) settingsView(f views.Form) views.SettingsView {
	st := s.inq.Settings()
	if f.Values == nil {
		req := ""
		if st.RequireReference {
			req = "yes"
		}
		f.Values = map[string]string{"api_base_url": st.APIBaseURL, "hosted_url": st.HostedURL, "environment_id": st.EnvironmentID,
			"version": st.Version, "company": st.Company, "require_reference": req}
	}
	return views.SettingsView{Form: f, MaskedKey: st.MaskedKey(), Environment: st.Environment(), WebhookSecrets: len(s.cfg.WebhookSecrets), Dev: st.Dev}
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Settings", "settings")
	s.takeFlash(w, r, &p)
	s.render(w, r, http.StatusOK, s.settingsWithEmail(r, p, s.settingsView(views.Form{})), nil)
}

func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request) {
	in := inquiry.SettingsInput{
		HostedURL:     r.PostFormValue("hosted_url"),
		EnvironmentID: r.PostFormValue("environment_id"), Version: r.PostFormValue("version"),
		Company: r.PostFormValue("company"), RequireReference: r.PostFormValue("require_reference") == "yes",
	}
	errs, err := s.inq.SaveSettings(r.Context(), actor(r), in)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		f := views.Form{Values: map[string]string{}, Errors: errs, Error: "Settings not saved; see the messages next to the fields."}
		for k := range r.PostForm {
			f.Values[k] = r.PostFormValue(k)
		}
		s.render(w, r, http.StatusUnprocessableEntity, s.settingsWithEmail(r, s.page(r, "Settings", "settings"), s.settingsView(f)), nil)
		return
	}
	s.flash(w, r, "Settings saved.")
	redirect(w, r, "/settings")
}

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
	errs, err := s.staff.SaveTemplate(r.Context(), actor(r), t)
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
	if err := s.staff.DeleteTemplate(r.Context(), actor(r), id); err != nil {
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

// --- Audit ---

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := views.Form{Values: map[string]string{"action": q.Get("action"), "target": q.Get("target"), "user": q.Get("user")}}
	filter := db.AuditFilter{Action: strings.TrimSpace(q.Get("action")), Target: strings.TrimSpace(q.Get("target")), Limit: 100}
	filter.UserID, _ = strconv.ParseInt(q.Get("user"), 10, 64)
	filter.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	es, err := s.db.ListAudit(r.Context(), filter)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	users, err := s.db.ListUsers(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	opts := make([]views.Option, len(users))
	for i, u := range users {
		opts[i] = views.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name}
	}
	more := ""
	if len(es) == filter.Limit {
		q.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		more = "/audit?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, views.AuditPage(s.page(r, "Audit log", "audit"), auditRows(es), f, opts, more), nil)
}

// --- Template links ---

func (s *Server) templateLinkPage(w http.ResponseWriter, r *http.Request) {
	opts, def, err := s.templateOptions(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f := views.Form{Values: map[string]string{"template_id": def}}
	s.render(w, r, http.StatusOK, views.TemplateLinkPage(s.page(r, "Template link", "new"), f, opts, nil), nil)
}

func (s *Server) makeTemplateLink(w http.ResponseWriter, r *http.Request) {
	opts, _, err := s.templateOptions(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	in := inquiry.TemplateLinkInput{TemplateID: strings.TrimSpace(r.PostFormValue("template_id")), ReferenceID: strings.TrimSpace(r.PostFormValue("reference_id")), Fields: map[string]string{}}
	f := views.Form{Values: map[string]string{"template_id": in.TemplateID, "reference_id": in.ReferenceID}, Errors: map[string]string{}}
	for _, k := range []string{"name-first", "name-last", "email-address"} {
		in.Fields[k] = strings.TrimSpace(r.PostFormValue(k))
		f.Values[k] = in.Fields[k]
	}
	if _, err := s.db.GetTemplate(r.Context(), in.TemplateID); err != nil {
		f.Errors["template_id"] = "Choose a template."
	}
	if e := in.Fields["email-address"]; e != "" && !ValidEmail(e) {
		f.Errors["email-address"] = "Enter an email address like name@example.com."
	}
	if len(f.Errors) == 0 {
		l, err := s.inq.TemplateLink(r.Context(), actor(r), in)
		if err == nil {
			lv := &views.LinkView{Kind: l.Kind, URL: l.URL}
			s.render(w, r, http.StatusOK, views.TemplateLinkPage(s.page(r, "Template link", "new"), f, opts, lv), nil)
			return
		}
		if errors.Is(err, db.ErrNotFound) {
			s.serverError(w, r, err)
			return
		}
		f.Error = err.Error() + "."
	}
	s.render(w, r, http.StatusUnprocessableEntity, views.TemplateLinkPage(s.page(r, "Template link", "new"), f, opts, nil), nil)
}
