package handlers

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

var photoRe = regexp.MustCompile(`<img src="(/inquiries/[^"]+/photos/(front|back|selfie))" alt="([^"]+)"`)

// The government ID's card shows the front and back photos and what the document says, the
// selfie's card the selfie: each photo fetched from Persona through the console for agents and
// admins, never kept (no-store), with a placeholder for viewers and for a redacted inquiry.
func TestVerificationEvidence(t *testing.T) {
	e := newMailTestEnv(t, false)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	agent, viewer := e.signIn("agent@example.com", pw), e.signIn("viewer@example.com", pw)
	q := e.create("usr_evidence")
	e.completeAndWait(t, q)

	_, body := e.do(agent, "GET", "/inquiries/"+q.ID+"/verifications", nil)
	body = html.UnescapeString(body)
	photos := photoRe.FindAllStringSubmatch(body, -1)
	if len(photos) != 3 || photos[0][3] != "Front of the ID" || photos[1][3] != "Back of the ID" || photos[2][3] != "Selfie" {
		t.Fatalf("photos %q in %s", photos, body)
	}
	mustContain(t, "document", body, "<caption>The document</caption>", `<th scope="row">Type</th><td>Driver's license</td>`,
		`<th scope="row">Issuing country</th><td>United States</td>`, `<th scope="row">Number ends in</th><td>4562</td>`,
		`<th scope="row">Expires</th><td>20`, `<th scope="row">Address on the ID</th>`)
	for _, ph := range photos {
		res, img := e.do(agent, "GET", ph[1], nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(img, "\x89PNG") {
			t.Errorf("%s: %d %q %q", ph[2], res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
		}
	}
	// Viewers see the rest of the card, not the photos.
	_, body = e.do(viewer, "GET", "/inquiries/"+q.ID+"/verifications", nil)
	if strings.Contains(body, "<img src=") || !strings.Contains(body, "Photos are shown to agents and admins.") {
		t.Errorf("viewer's card: %s", body)
	}
	if res, _ := e.do(viewer, "GET", photos[0][1], nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer fetched a photo: %d", res.StatusCode)
	}
	// A verification of another inquiry, and a page the type has not, are not found.
	other := e.create("usr_other")
	if res, _ := e.do(agent, "GET", strings.Replace(photos[0][1], q.ID, other.ID, 1), nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("photo through another inquiry: %d", res.StatusCode)
	}
	if res, _ := e.do(agent, "GET", strings.Replace(photos[2][1], "/selfie", "/front", 1), nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("front of a selfie: %d", res.StatusCode)
	}

	// Redacted: Persona deleted the photos, and the card says so.
	req, _ := http.NewRequest("DELETE", e.sbURL+"/api/v1/inquiries/"+q.ID, nil)
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("redact: %v %v", err, res)
	}
	res.Body.Close()
	if _, err := e.inq.Refresh(context.Background(), model.System, q.ID); err != nil {
		t.Fatal(err)
	}
	_, body = e.do(agent, "GET", "/inquiries/"+q.ID+"/verifications", nil)
	if strings.Contains(body, "<img src=") || strings.Count(body, "No photo: the inquiry was redacted, so Persona deleted it.") != 3 {
		t.Errorf("redacted card: %s", body)
	}
	if res, _ := e.do(agent, "GET", photos[0][1], nil); res.StatusCode != http.StatusNotFound || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("redacted photo: %d", res.StatusCode)
	}
}
