package sandbox

// The other objects: verifications, inquiry templates, sessions, accounts.

import "net/http"

// apiRetrieveVerification answers GET /verifications/{id} (vtype "") and the
// typed paths, which serve only verifications of their type.
func apiRetrieveVerification(vtype string) func(*Sandbox, *apiCall) apiResult {
	return func(s *Sandbox, c *apiCall) apiResult {
		v := s.verifs[c.id]
		if v == nil || vtype != "" && v.vtype != vtype {
			return notFound()
		}
		return apiResult{http.StatusOK, obj{{"data", c.sparse(s.verificationResource(v))}}}
	}
}

const msgTemplatesHidden = "For security reasons, we do not expose organization-level resources like Inquiry Templates in Sandbox via API"

func (s *Sandbox) apiListTemplates(c *apiCall) apiResult {
	if !s.production {
		return errResult(http.StatusForbidden, "Forbidden", msgTemplatesHidden)
	}
	data := []obj{}
	for _, t := range s.templates {
		data = append(data, templateResource(t))
	}
	return apiResult{http.StatusOK, obj{{"data", data}, {"links", obj{{"prev", nil}, {"next", nil}}}}}
}

func (s *Sandbox) apiRetrieveTemplate(c *apiCall) apiResult {
	if !s.production {
		return errResult(http.StatusForbidden, "Forbidden", msgTemplatesHidden)
	}
	t := s.tmplByID[c.id]
	if t == nil {
		return notFound()
	}
	return apiResult{http.StatusOK, obj{{"data", templateResource(t)}}}
}

func (s *Sandbox) apiRetrieveSession(c *apiCall) apiResult {
	ss := s.sessions[c.id]
	if ss == nil {
		return notFound()
	}
	if q := s.inquiries[ss.inquiryID]; q != nil {
		s.checkExpiry(q)
	}
	s.sessionValid(ss)
	return apiResult{http.StatusOK, obj{{"data", sessionResource(ss)}}}
}

func (s *Sandbox) apiRetrieveAccount(c *apiCall) apiResult {
	a := s.accounts[c.id]
	if a == nil {
		return notFound()
	}
	return apiResult{http.StatusOK, obj{{"data", accountResource(a)}}}
}
