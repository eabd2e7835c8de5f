package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/views"
)

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
	s.render(w, r, http.StatusOK, views.AuditPage(s.page(r, "Audit log", "audit"), s.auditRows(r.Context(), es), f, opts, more), nil)
}
