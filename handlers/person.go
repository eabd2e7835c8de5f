package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// personPage shows every cached inquiry of one reference ID, with the links and emails sent
// across them, and offers a new inquiry prefilled from the newest.
func (s *Server) personPage(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref") // as stored: spaces at either end are part of it
	if ref == "" {
		ref = r.URL.Query().Get("ref") // "." and ".." (views.PersonURL)
	}
	if strings.TrimSpace(ref) == "" {
		s.errorPage(w, r, http.StatusNotFound, "No reference ID given", "A person's page needs their reference ID in the address, e.g. /people/usr_ABC123. Find the person in the list and follow their reference ID.")
		return
	}
	p, err := s.db.Person(r.Context(), ref)
	if errors.Is(err, db.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "Person not found", "No inquiry here has the reference ID "+ref+". Check the spelling, or search for the person in the list.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	now := time.Now()
	v := views.PersonView{ReferenceID: p.ReferenceID}
	for _, q := range p.Inquiries {
		if v.Name == "" {
			v.Name = q.Name
		}
		if v.Email == "" {
			v.Email = q.Email
		}
		row := inquiryRow(&q)
		v.Inquiries = append(v.Inquiries, views.PersonInquiry{ID: q.ID, Name: q.Name, Status: string(q.Status), Template: row.Template,
			Created: q.CreatedAt, CreatedBy: q.CreatedByName, LinkState: linkState(q.Status, q.ExpiresAt, now)})
	}
	for _, l := range p.Links {
		v.Links = append(v.Links, views.PersonLinkRow{InquiryID: l.InquiryID, LinkView: views.LinkView{Kind: l.Kind, URL: l.URL,
			ExpiresAt: l.ExpiresAt, IssuedBy: orDash(l.IssuedByName), IssuedAt: l.IssuedAt}})
	}
	for _, e := range p.Emails {
		v.Emails = append(v.Emails, emailRow(e))
	}
	if roleAccess(currentUser(r).Role) >= Agent {
		v.NewURL = newInquiryURL(&p.Inquiries[0])
	}
	s.render(w, r, http.StatusOK, views.PersonPage(s.page(r, p.ReferenceID, "inquiries"), v), nil)
}

// linkState says where the person's link stands, as the list's Link expiry column does.
func linkState(status model.Status, expires, now time.Time) string {
	if e := views.LinkExpiry(status, expires, now); e != "" {
		return e
	}
	return "no link needed"
}

// newInquiryURL is the New inquiry form prefilled from q (its template, reference ID, fields
// and tags); submitting it still meets the duplicate guard.
func newInquiryURL(q *db.Inquiry) string {
	v := url.Values{"reference_id": {q.ReferenceID}}
	if q.TemplateID != "" {
		v.Set("template_id", q.TemplateID)
	}
	for _, k := range inquiry.FieldKeys {
		if val := q.Fields[k]; val != "" {
			v.Set(k, val)
		}
	}
	if len(q.Tags) > 0 {
		v.Set("tags", strings.Join(q.Tags, ", "))
	}
	return "/inquiries/new?" + v.Encode()
}

// personHref is the person's page of a reference ID, "" when there is none to link.
func personHref(ref string) templ.SafeURL {
	if ref == "" {
		return ""
	}
	return views.PersonURL(ref)
}
