package inquiry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// ErrNoLinkNeeded means the inquiry is finished: the person has nothing left to do.
var ErrNoLinkNeeded = errors.New("this inquiry is finished, so the person needs no link")

func (s *Service) inquiryURL(id string) string {
	return s.Settings().HostedURL + "/verify?inquiry-id=" + url.QueryEscape(id)
}

// issue records a link with its audit entry.
func (s *Service) issue(ctx context.Context, a model.Actor, q *db.Inquiry, l db.Link) (*db.Link, error) {
	l.IssuedBy, l.IssuedByName, l.IssuedAt = a.ID, a.Name, time.Now()
	detail := l.Kind + " link"
	if !l.ExpiresAt.IsZero() {
		detail += ", expires " + l.ExpiresAt.UTC().Format(time.RFC3339)
	}
	id, err := s.db.AddLink(ctx, l, audit(a, "link.issue", l.InquiryID, detail, nil))
	if err != nil {
		return nil, err
	}
	l.ID = id
	return &l, nil
}

// NewLink issues the right link for the inquiry's current status, asking Persona for its
// status first: the unique inquiry link while it is created; a one-time link (Persona's advice
// for email and SMS) while it is pending; resume first, then a one-time link, once it expired.
func (s *Service) NewLink(ctx context.Context, a model.Actor, id string) (*db.Link, error) {
	return s.newLink(ctx, a, id, "")
}

// newLink is NewLink whose Persona actions use the stored keys of requestKey (a form's key, or
// "" for keys derived from the parameters), so a resubmitted form issues no second link.
func (s *Service) newLink(ctx context.Context, a model.Actor, id, requestKey string) (*db.Link, error) {
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	q, err := s.Refresh(ctx, a, id)
	if err != nil {
		return nil, err
	}
	switch model.LinkFor(q.Status) {
	case model.LinkInquiry:
		return s.issue(ctx, a, q, db.Link{InquiryID: id, Kind: "inquiry", URL: s.inquiryURL(id), ExpiresAt: q.ExpiresAt})
	case model.LinkResumeOneTime:
		var p *persona.Inquiry
		err := s.keyedAction(ctx, id, "resume", requestKey, "", func(ctx context.Context) (err error) {
			p, _, err = c.ResumeInquiry(ctx, id)
			return err
		})
		if err != nil {
			s.auditFailure(ctx, audit(a, "link.issue", id, "resume", err))
			return nil, err
		}
		if q, err = s.store(ctx, p, time.Time{}, audit(a, "inquiry.resume", id, "resumed to hand out a new link", nil)); err != nil {
			return nil, err
		}
		fallthrough
	case model.LinkOneTime:
		ttl := s.Settings().OneTimeLinkTTL
		var p *persona.Inquiry
		var link string
		err := s.keyedAction(ctx, id, "generate-one-time-link", requestKey, ttl.String(), func(ctx context.Context) (err error) {
			p, link, _, err = c.GenerateOneTimeLink(ctx, id, ttl)
			return err
		})
		if err == nil && !webURL(link) {
			//lint:ignore ST1005 shown to people; Persona is a name
			err = fmt.Errorf("Persona answered with an unusable one-time link %q; try again", link)
		}
		if err != nil {
			s.auditFailure(ctx, audit(a, "link.issue", id, "one-time link", err))
			return nil, err
		}
		if _, err := s.store(ctx, p, time.Time{}, db.AuditEntry{}); err != nil {
			return nil, err
		}
		exp := time.Now().Add(ttl)
		if prev := s.issuedBefore(ctx, id, link); prev != nil {
			exp = prev.ExpiresAt // Persona handed back an unused link it gave before: its expiry stands
		}
		if !q.ExpiresAt.IsZero() && q.ExpiresAt.Before(exp) {
			exp = q.ExpiresAt // the link dies with the inquiry
		}
		return s.issue(ctx, a, q, db.Link{InquiryID: id, Kind: "one-time", URL: link, ExpiresAt: exp})
	default:
		return nil, fmt.Errorf("%w (it is %s)", ErrNoLinkNeeded, q.Status.Phrase())
	}
}

// issuedBefore finds the one-time link with this URL issued earlier for the inquiry (with its
// expiry), or nil.
func (s *Service) issuedBefore(ctx context.Context, id, url string) *db.Link {
	links, err := s.db.Links(ctx, id)
	if err != nil {
		s.log.Warn("read the inquiry's links", "inquiry", id, "err", err)
		return nil
	}
	for _, l := range links {
		if l.Kind == "one-time" && l.URL == url && !l.ExpiresAt.IsZero() {
			return &l
		}
	}
	return nil
}

// CurrentLink returns the newest link issued for the inquiry that still works, or nil. The
// unique inquiry link stops opening the flow once the person has started (a pending inquiry
// needs a session token or a one-time link), so it counts only while the inquiry is created.
func (s *Service) CurrentLink(ctx context.Context, q *db.Inquiry) (*db.Link, error) {
	links, err := s.db.Links(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if l.Kind == "inquiry" && model.LinkFor(q.Status) != model.LinkInquiry {
			continue
		}
		if l.ExpiresAt.IsZero() || l.ExpiresAt.After(time.Now()) {
			return &l, nil
		}
	}
	return nil, nil
}

// webURL reports whether u is an absolute http(s) URL, the only kind of link we hand out.
func webURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

// TemplateLinkInput asks for a template link: one that creates a new inquiry on every visit.
type TemplateLinkInput struct {
	TemplateID  string
	ReferenceID string
	Fields      map[string]string
}

// TemplateLink builds and records a template link. Each visit creates a new inquiry, so it
// suits a page many people open, not a message to one person.
func (s *Service) TemplateLink(ctx context.Context, a model.Actor, in TemplateLinkInput) (*db.Link, error) {
	st := s.Settings()
	if st.EnvironmentID == "" && !st.Dev {
		return nil, errors.New("template links need the Persona environment id (env_...): an admin can set it in Settings")
	}
	v := url.Values{}
	v.Set("inquiry-template-id", in.TemplateID)
	if st.EnvironmentID != "" {
		v.Set("environment-id", st.EnvironmentID)
	}
	if ref := strings.TrimSpace(in.ReferenceID); ref != "" {
		v.Set("reference-id", ref)
	}
	keys := make([]string, 0, len(in.Fields))
	for k, val := range in.Fields {
		if val != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.Set("fields["+k+"]", in.Fields[k])
	}
	return s.issue(ctx, a, nil, db.Link{Kind: "template", URL: st.HostedURL + "/verify?" + v.Encode()})
}
