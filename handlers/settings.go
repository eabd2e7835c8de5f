package handlers

import (
	"net/http"

	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// --- Settings ---

func (s *Server) settingsView(r *http.Request, f views.Form) views.SettingsView {
	st := s.inq.Settings()
	if f.Values == nil {
		req := ""
		if st.RequireReference {
			req = "yes"
		}
		f.Values = map[string]string{"api_base_url": st.APIBaseURL, "hosted_url": st.HostedURL, "environment_id": st.EnvironmentID,
			"version": st.Version, "company": st.Company, "require_reference": req}
	}
	required, err := s.staff.TwoStepRequired(r.Context())
	if err != nil {
		s.log.Warn("two-step setting", "err", err)
	}
	return views.SettingsView{Form: f, MaskedKey: st.MaskedKey(), Environment: st.Environment(), WebhookSecrets: len(s.cfg.WebhookSecrets), Dev: st.Dev, TwoStepRequired: required, SSO: s.ssoSettings()}
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Settings", "settings")
	s.takeFlash(w, r, &p)
	s.render(w, r, http.StatusOK, s.settingsWithEmail(r, p, s.settingsView(r, views.Form{})), nil)
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
		s.render(w, r, http.StatusUnprocessableEntity, s.settingsWithEmail(r, s.page(r, "Settings", "settings"), s.settingsView(r, f)), nil)
		return
	}
	s.flash(w, r, "Settings saved.")
	redirect(w, r, "/settings")
}
