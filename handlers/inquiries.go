package handlers

import (
	"net/http"

	"github.com/linkdesk/linkdesk/views"
)

func (s *Server) inquiryList(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Inquiries", "inquiries")
	s.takeFlash(w, r, &p)
	s.render(w, r, http.StatusOK, views.InquiriesPage(p), nil)
}
