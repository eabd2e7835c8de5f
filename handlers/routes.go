package handlers

import (
	"net/http"
	"strings"
)

// Access is the least a request needs to reach a route.
type Access int

const (
	Public   Access = iota // no sign-in: sign-in, setup, health, assets, webhooks
	Viewer                 // any signed-in staff member
	Agent                  // agents, reviewers and admins
	Reviewer               // reviewers and admins: deciding inquiries
	Admin                  // admins only
)

// Route is one entry of the route table.
type Route struct {
	Pattern string // net/http pattern with method, e.g. "GET /inquiries/{id}"
	Access  Access
	Handler http.HandlerFunc
}

// Routes is the one route table; tests walk it to check every route against every role.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET /healthz", Public, s.healthz},
		{"GET /livez", Public, s.livez},
		{"GET /readyz", Public, s.readyz},
		{"GET /metrics", Public, s.metricsPage}, // its own bearer token or networks
		{"GET /static/", Public, s.assets.ServeHTTP},
		{"GET /favicon.ico", Public, s.favicon},
		{"GET /login", Public, s.loginForm},
		{"POST /login", Public, s.login},
		{"GET /auth/oidc/start", Public, s.ssoStart},
		{"GET /auth/oidc/callback", Public, s.ssoCallback},
		{"GET /invite", Public, s.inviteForm},
		{"POST /invite", Public, s.acceptInvite},
		{"GET /password/forgot", Public, s.forgotForm},
		{"POST /password/forgot", Public, s.forgot},
		{"GET /password/reset", Public, s.resetForm},
		{"POST /password/reset", Public, s.reset},
		{"GET /setup", Public, s.setupForm},
		{"POST /setup", Public, s.setup},
		{"GET /login/two-step", Public, s.twoStepForm},
		{"POST /login/two-step", Public, s.twoStep},
		{"GET /logout", Viewer, s.logoutForm},
		{"POST /logout", Viewer, s.logout},
		{"GET /{$}", Viewer, s.home},
		{"GET /inquiries", Viewer, s.inquiryList},
		{"GET /inquiries/counts", Viewer, s.listCounts},
		{"GET /inquiries/export", Viewer, s.exportCSV},
		{"POST /inquiries/{id}/refresh-row", Viewer, s.refreshRow},
		{"GET /events/inquiries", Viewer, s.listEvents},
		{"GET /events/inquiries/{id}", Viewer, s.inquiryEvents},
		{"POST /webhooks/persona", Public, s.receiveWebhook},
		{"GET /webhooks", Admin, s.webhooksPage},
		{"GET /inquiries/new", Agent, s.newInquiryForm},
		{"POST /inquiries", Agent, s.createInquiry},
		{"GET /inquiries/{id}", Viewer, s.inquiryDetail},
		{"POST /inquiries/{id}/refresh", Viewer, s.refreshInquiry},
		{"GET /inquiries/{id}/live", Viewer, s.inquiryLive},
		{"GET /inquiries/{id}/verifications", Viewer, s.inquiryVerifications},
		{"GET /inquiries/{id}/verifications/{vid}/photos/{page}", Agent, s.verificationPhoto},
		{"GET /people/{ref...}", Viewer, s.personPage},
		{"POST /inquiries/{id}/links", Agent, s.newLink},
		{"POST /inquiries/{id}/decision", Reviewer, s.decideInquiry},
		{"GET /inquiries/{id}/email", Agent, s.emailForm},
		{"GET /inquiries/{id}/email/preview", Agent, s.emailPreview},
		{"POST /inquiries/{id}/email", Agent, s.sendEmail},
		{"GET /inquiries/{id}/emails", Viewer, s.emailLog},
		{"POST /outbox/{id}/retry", Agent, s.retryEmail},
		{"POST /outbox/{id}/cancel", Agent, s.cancelEmail},
		{"GET /outbox", Admin, s.outboxPage},
		{"GET /dev/mailbox", Viewer, s.mailboxPage},
		{"GET /dev/mailbox/{id}", Viewer, s.mailboxMessage},
		{"GET /dev/mailbox/{id}/html", Viewer, s.mailboxHTML},
		{"POST /dev/mailbox/knobs", Agent, s.mailboxKnobs},

		{"GET /bulk", Agent, s.bulkPage},
		{"POST /bulk/check", Agent, s.bulkCheck},
		{"POST /bulk/start", Agent, s.bulkStart},
		{"GET /bulk/sample.csv", Agent, s.bulkSample},
		{"GET /bulk/{id}", Agent, s.bulkJob},
		{"GET /bulk/{id}/cancel", Agent, s.bulkCancelForm},
		{"GET /bulk/{id}/status", Agent, s.bulkJob},
		{"GET /bulk/{id}/results.csv", Agent, s.bulkResults},
		{"POST /bulk/{id}/{action}", Agent, s.bulkAction},

		{"POST /inquiries/{id}/notes", Agent, s.addNote},
		{"GET /notes/{id}/edit", Agent, s.noteEditForm},
		{"POST /notes/{id}/edit", Agent, s.editNote},
		{"POST /notes/{id}/delete", Agent, s.deleteNote},
		{"POST /inquiries/{id}/assign", Agent, s.assignInquiry},
		{"POST /inquiries/rows", Viewer, s.rowsAction},
		{"GET /inquiries/quick", Viewer, s.quickNav},
		{"POST /views", Viewer, s.saveView},
		{"GET /me/queue", Viewer, s.myQueue},
		{"POST /views/{id}/delete", Viewer, s.deleteView},
		{"POST /inquiries/rows/confirm", Agent, s.rowsConfirm},

		{"GET /links/template", Agent, s.templateLinkPage},
		{"POST /links/template", Agent, s.makeTemplateLink},

		{"GET /staff", Admin, s.staffPage},
		{"GET /settings", Admin, s.settingsPage},
		{"POST /settings", Admin, s.saveSettings},
		{"POST /settings/email", Admin, s.saveEmailSettings},
		{"POST /settings/retention", Admin, s.saveRetention},
		{"GET /inquiries/{id}/personal-data", Admin, s.personalDataForm},
		{"POST /inquiries/{id}/personal-data", Admin, s.removePersonalData},
		{"POST /settings/email/preview", Admin, s.emailSettingsPreview},
		{"GET /settings/email/preview/html", Admin, s.emailSettingsPreviewHTML},
		{"POST /settings/email/test", Admin, s.sendTestEmail},
		{"GET /templates", Admin, s.templatesPage},
		{"POST /templates", Admin, s.saveTemplate},
		{"POST /templates/{id}/delete", Admin, s.deleteTemplate},
		{"POST /templates/import", Admin, s.importTemplates},
		{"GET /audit", Admin, s.auditPage},
		{"POST /staff", Admin, s.inviteStaff},
		{"POST /staff/invitations/{id}/revoke", Admin, s.revokeInvitation},
		{"POST /staff/{id}", Admin, s.staffUpdate},

		{"GET /account", Viewer, s.accountPage},
		{"POST /account/two-step", Viewer, s.startTwoStepSetUp},
		{"GET /account/two-step", Viewer, s.twoStepSetUpPage},
		{"POST /account/two-step/confirm", Viewer, s.confirmTwoStepSetUp},
		{"POST /account/sessions/end-others", Viewer, s.endOtherSessions},
		{"POST /account/password", Viewer, s.changePassword},
		{"POST /account/preferences", Agent, s.savePreferences},
		{"POST /staff/{id}/two-step/reset", Admin, s.resetTwoStep},
		{"POST /settings/two-step", Admin, s.saveTwoStepSettings},
	}
}

// Handler wires the route table with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Pattern, routeName(rt.Pattern, s.authorize(rt.Access, rt.Handler)))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.noRoute(mux, w, r) })

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	// Persona posts from its own servers; the signature guards this route instead.
	cop.AddInsecureBypassPattern("POST /webhooks/persona")
	var h http.Handler = mux
	h = s.loadSession(h)
	h = cop.Handler(h)
	h = limitBody(h)
	if s.sso != nil {
		h = s.ssoFormAction(h)
	}
	h = securityHeaders(h, s.secure)
	h = s.recoverPanics(h)
	h = compress(h)
	h = s.accessLog(h)
	return h
}

// favicon answers browsers and tools that ask for /favicon.ico without reading the page's
// <link rel="icon">.
func (s *Server) favicon(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.assets.URL("favicon.svg"), http.StatusFound)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/inquiries", http.StatusSeeOther)
}

// noRoute answers what no pattern matched: 405 when the path exists for another method, else 404.
func (s *Server) noRoute(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := mux.Handler(probe); pat != "/" && m != r.Method {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.errorPage(w, r, http.StatusMethodNotAllowed, "Not possible here", "This address does not accept a "+r.Method+" request. Go back and use the page's own buttons.")
}
