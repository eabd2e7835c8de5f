package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

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
