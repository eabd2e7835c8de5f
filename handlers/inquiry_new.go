package handlers

import (
	"net/http"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// actor is the signed-in staff member as the rules see them (audit name, role).
func actor(r *http.Request) model.Actor {
	return currentUser(r).Actor()
}

func (s *Server) templateOptions(r *http.Request) ([]views.Option, string, error) {
	ts, err := s.db.Templates(r.Context())
	if err != nil {
		return nil, "", err
	}
	opts := make([]views.Option, len(ts))
	def := ""
	for i, t := range ts {
		opts[i] = views.Option{Value: t.ID, Label: t.Name + " (" + t.ID + ")"}
		if t.IsDefault || len(ts) == 1 {
			def = t.ID
		}
	}
	return opts, def, nil
}

// renderNewInquiry shows the form; status is 422 when it carries errors.
func (s *Server) renderNewInquiry(w http.ResponseWriter, r *http.Request, status int, v views.NewInquiry) {
	opts, def, err := s.templateOptions(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Templates = opts
	if v.Form.Values == nil {
		v.Form.Values = map[string]string{"template_id": def}
	}
	if v.Key == "" {
		v.Key = inquiry.NewKey()
	}
	for _, c := range inquiry.Countries() {
		v.Countries = append(v.Countries, views.Option{Value: c.Code, Label: c.Name})
	}
	// The picker shows a country by name; its code is what is stored.
	if c, ok := inquiry.CountryCode(v.Form.Values["address-country-code"]); ok {
		v.Form.Values["address-country-code"] = inquiry.CountryName(c)
	}
	st := s.inq.Settings()
	v.RequireReference = st.RequireReference
	switch {
	case st.APIKey == "":
		v.NotConfigured = inquiry.ErrNotConfigured.Error() + "."
	case len(opts) == 0:
		v.NotConfigured = "No inquiry template is known yet. An admin adds one on the Templates page (Persona dashboard → Inquiry templates shows the itmpl_ id)."
	}
	p := s.page(r, "New inquiry", "new")
	s.takeFlash(w, r, &p)
	s.render(w, r, status, views.NewInquiryPage(p, v), nil)
}

func (s *Server) newInquiryForm(w http.ResponseWriter, r *http.Request) {
	v := views.NewInquiry{}
	// Prefill from the query, so other tools can link to a filled-in form.
	if q := r.URL.Query(); len(q) > 0 {
		v.Form.Values = map[string]string{}
		for _, k := range append([]string{"template_id", "reference_id", "note", "tags"}, inquiry.FieldKeys...) {
			if val := q.Get(k); val != "" {
				v.Form.Values[k] = val
			}
		}
		if v.Form.Values["template_id"] == "" {
			_, v.Form.Values["template_id"], _ = s.templateOptions(r)
		}
	}
	s.renderNewInquiry(w, r, http.StatusOK, v)
}

// parseNewInquiry reads the form into the request and reports problems per field, in words.
func (s *Server) parseNewInquiry(r *http.Request) (inquiry.CreateInput, views.Form) {
	f := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	get := func(k string) string {
		v := strings.TrimSpace(r.PostFormValue(k))
		if v != "" {
			f.Values[k] = v
		}
		return v
	}
	in := inquiry.CreateInput{
		TemplateID:  get("template_id"),
		ReferenceID: get("reference_id"),
		Note:        get("note"),
		Key:         r.PostFormValue("key"),
		Confirm:     r.PostFormValue("confirm") == "yes",
		Replace:     r.PostFormValue("replace") == "yes",
		WarnPrior:   true,
		Fields:      map[string]string{},
	}
	for _, k := range inquiry.FieldKeys {
		in.Fields[k] = get(k)
	}
	if in.TemplateID == "" {
		f.Errors["template_id"] = "Choose a template."
	} else if _, err := s.db.GetTemplate(r.Context(), in.TemplateID); err != nil {
		f.Errors["template_id"] = "This template is not known here; choose one from the list."
	}
	for k, msg := range inquiry.Validate(&in, get("tags"), s.inq.Settings().RequireReference) {
		f.Errors[k] = msg
	}
	return in, f
}

func (s *Server) createInquiry(w http.ResponseWriter, r *http.Request) {
	in, f := s.parseNewInquiry(r)
	if len(f.Errors) > 0 {
		f.Error = "Some fields need attention; see the messages next to them."
		s.renderNewInquiry(w, r, http.StatusUnprocessableEntity, views.NewInquiry{Form: f, Key: in.Key})
		return
	}
	res, err := s.inq.Create(r.Context(), actor(r), in)
	if err != nil && s.clientGone(r, err) {
		return
	}
	if err != nil {
		// The form keeps its key, so submitting it again repeats the same request and cannot
		// create a second inquiry, unless Persona refused it: Persona keeps its answer to a key,
		// so a corrected form must go out under a new one.
		key, status := in.Key, http.StatusBadGateway
		p := inquiry.ProblemOf(err)
		if p != nil && !p.Retryable {
			key, status = "", http.StatusUnprocessableEntity
		}
		if p == nil {
			s.log.ErrorContext(r.Context(), "create inquiry", "err", err)
			f.Error = "The inquiry may or may not have been created: Linkdesk could not finish. Press Create inquiry again; it will not make a second one."
		} else {
			s.log.WarnContext(r.Context(), "create inquiry: persona", "err", err)
			f.Error = p.Words
			placeProblem(p, &f)
		}
		s.renderNewInquiry(w, r, status, views.NewInquiry{Form: f, Key: key})
		return
	}
	if res.Guard != "" {
		g := &views.GuardView{Kind: res.Guard, Existing: inquiryRow(res.Existing)}
		if c := res.Claim; c != nil {
			g.Existing.ReferenceID, g.ClaimedBy, g.ClaimedAt = c.ReferenceID, c.UserName, c.ClaimedAt
			if c.UserID != 0 && c.UserID == currentUser(r).ID {
				g.ClaimedBy = "you (in another tab or window)"
			}
		}
		if o := res.Outcome; o != nil {
			g.OutcomeAt, g.OutcomeBy = o.At, o.By
		}
		if res.Guard == model.GuardUseExisting || res.Guard == model.GuardResume {
			for _, d := range inquiry.Differences(res.Existing, in.Fields) {
				g.Differs = append(g.Differs, d.String())
			}
		}
		v := views.NewInquiry{Form: f, Key: in.Key, Guard: g}
		s.renderNewInquiry(w, r, http.StatusConflict, v)
		return
	}
	msg := "Inquiry " + res.Inquiry.ID + " created. Hand the person the link below."
	if res.Notice != "" {
		msg = res.Notice + " " + msg
	}
	s.flash(w, r, msg)
	// The fragment puts focus on the new link's Copy link button (app.js): the next thing to do.
	redirect(w, r, "/inquiries/"+res.Inquiry.ID+"#copy-link")
}

// placeProblem puts Persona's complaints next to the fields they name, when they do.
func placeProblem(p *inquiry.Problem, f *views.Form) {
	for key, msg := range p.Fields {
		if key == "inquiry-template-id" || key == "inquiry-template-version-id" {
			continue
		}
		if _, ok := f.Values[key]; ok {
			f.Errors[key] = "Persona: " + msg
		}
	}
	// Both template attributes are the form's one template field; the version, when Persona
	// names it, is the more precise complaint.
	for _, key := range []string{"inquiry-template-id", "inquiry-template-version-id"} {
		if msg, ok := p.Fields[key]; ok {
			f.Errors["template_id"] = "Persona: " + msg
		}
	}
}

func inquiryRow(q *db.Inquiry) views.InquiryRow {
	if q == nil {
		return views.InquiryRow{}
	}
	tmpl := q.TemplateName
	if tmpl == "" {
		tmpl = q.TemplateID
	}
	return views.InquiryRow{ID: q.ID, ReferenceID: q.ReferenceID, Name: q.Name, Email: q.Email, Status: string(q.Status),
		Template: tmpl, CreatedAt: q.CreatedAt, ExpiresAt: q.ExpiresAt, CreatedBy: q.CreatedByName}
}
