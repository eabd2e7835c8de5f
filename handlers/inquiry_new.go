package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

func actor(r *http.Request) inquiry.Actor {
	u := currentUser(r)
	return inquiry.Actor{ID: u.ID, Name: u.Name}
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

// maxTags bounds the tags one inquiry is created with: enough to sort by, not a store.
const maxTags = 20

var (
	phoneRe = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	tagRe   = regexp.MustCompile(`^[\p{L}\p{N} _.:/-]{1,64}$`)
)

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
	if in.ReferenceID == "" && s.inq.Settings().RequireReference {
		f.Errors["reference_id"] = "Enter the person's reference ID: the ID your own system gives them."
	} else if len(in.ReferenceID) > 200 {
		f.Errors["reference_id"] = "Use at most 200 characters."
	}
	if b := in.Fields["birthdate"]; b != "" {
		if t, err := time.Parse("2006-01-02", b); err != nil {
			f.Errors["birthdate"] = "Enter the date as YYYY-MM-DD, e.g. 1977-08-31."
		} else if t.After(time.Now()) || t.Year() < 1900 {
			f.Errors["birthdate"] = "Enter a birthdate in the past (after 1900)."
		}
	}
	if e := in.Fields["email-address"]; e != "" && !ValidEmail(e) {
		f.Errors["email-address"] = "Enter an email address like name@example.com."
	}
	if p := in.Fields["phone-number"]; p != "" {
		p = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "").Replace(p)
		if !phoneRe.MatchString(p) {
			f.Errors["phone-number"] = "Enter the number with its country code, e.g. +14155551234."
		} else {
			in.Fields["phone-number"] = p
		}
	}
	if c := strings.ToUpper(in.Fields["address-country-code"]); c != "" {
		if !isCountryCode(c) {
			f.Errors["address-country-code"] = "Enter a two-letter ISO country code, e.g. US, GB or DE."
		} else {
			in.Fields["address-country-code"] = c
			f.Values["address-country-code"] = c
		}
	}
	for k, v := range in.Fields {
		if len(v) > 200 && f.Errors[k] == "" {
			f.Errors[k] = "Use at most 200 characters."
		}
	}
	if len(in.Note) > 2000 {
		f.Errors["note"] = "Use at most 2000 characters."
	}
	seen := map[string]bool{}
	for _, t := range strings.Split(get("tags"), ",") {
		if t = strings.TrimSpace(t); t == "" || seen[t] {
			continue
		}
		seen[t] = true
		if !tagRe.MatchString(t) && f.Errors["tags"] == "" {
			f.Errors["tags"] = "Tags may use letters, digits, spaces and - _ . : / (up to 64 characters each)."
		}
		in.Tags = append(in.Tags, t)
	}
	if len(in.Tags) > maxTags && f.Errors["tags"] == "" {
		f.Errors["tags"] = fmt.Sprintf("Use at most %d tags (%d entered).", maxTags, len(in.Tags))
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
			s.log.Error("create inquiry", "err", err)
			f.Error = "The inquiry may or may not have been created: Linkdesk could not finish. Press Create inquiry again; it will not make a second one."
		} else {
			s.log.Warn("create inquiry: persona", "err", err)
			f.Error = p.Words
			placeProblem(p, &f)
		}
		s.renderNewInquiry(w, r, status, views.NewInquiry{Form: f, Key: key})
		return
	}
	if res.Guard != "" {
		g := &views.GuardView{Kind: string(res.Guard), Existing: inquiryRow(res.Existing)}
		if c := res.Claim; c != nil {
			g.Existing.ReferenceID, g.ClaimedBy, g.ClaimedAt = c.ReferenceID, c.UserName, c.ClaimedAt
			if c.UserID != 0 && c.UserID == currentUser(r).ID {
				g.ClaimedBy = "you (in another tab or window)"
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
	redirect(w, r, "/inquiries/"+res.Inquiry.ID)
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

// isCountryCode reports whether c is an ISO 3166-1 alpha-2 code.
func isCountryCode(c string) bool {
	return len(c) == 2 && strings.Contains(isoCountries, " "+c+" ")
}

const isoCountries = " AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
