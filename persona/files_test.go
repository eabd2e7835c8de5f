package persona_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A finished inquiry's government ID and selfie carry photo URLs that GetFile fetches; it
// fetches nothing but Persona's own file addresses, and a tampered token or a redacted
// inquiry gets no photo.
func TestContractVerificationPhotos(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	q := k.create(t, "usr_photos")
	if err := k.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	got, err := k.c.GetInquiry(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{}
	for _, id := range got.VerificationIDs {
		v, err := k.c.GetVerification(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{persona.PhotoFront, persona.PhotoBack, persona.PhotoSelfie} {
			if u := v.PhotoURL(p); u != "" {
				pages[p] = u
			}
		}
		if d, ok := v.Document(); ok && (d.Class != "dl" || d.Country != "US" || d.NumberEnding != "4562" || d.Expires == "") {
			t.Errorf("document %+v", d)
		}
	}
	if len(pages) != 3 {
		t.Fatalf("photo URLs %v, want front, back and selfie", pages)
	}
	for p, u := range pages {
		b, ct, err := k.c.GetFile(ctx, u)
		if err != nil || ct != "image/png" || len(b) < 100 {
			t.Errorf("%s: %v %q %d bytes", p, err, ct, len(b))
		}
	}
	if _, _, err := k.c.GetFile(ctx, pages[persona.PhotoFront][:len(pages[persona.PhotoFront])-4]+"0000"); persona.StatusOf(err) != http.StatusNotFound {
		t.Errorf("tampered token: %v", err)
	}
	for _, u := range []string{"http://files.withpersona.com/a.png", "https://example.com/a.png", "file:///etc/passwd"} {
		if _, _, err := k.c.GetFile(ctx, u); err == nil || !strings.Contains(err.Error(), "not one of Persona's file addresses") {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := k.c.RedactInquiry(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.c.GetFile(ctx, pages[persona.PhotoFront]); persona.StatusOf(err) != http.StatusNotFound {
		t.Errorf("photo of a redacted inquiry: %v", err)
	}
}
