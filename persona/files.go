package persona

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Document is what a government ID verification read from the document, for a reviewer:
// never the whole number, only its end.
type Document struct {
	Class        string // Persona's id-class: dl, pp, id, …
	Country      string // the issuing country's ISO code
	NumberEnding string // the last 4 characters of the number; "" when it is shorter than 6
	Expires      string // YYYY-MM-DD
	Address      string // the address on the ID, its parts joined by commas
}

// Document returns what the ID says beyond the holder's name (see IDFacts), and false for a
// verification that does not read an ID or carries none of it.
func (v *Verification) Document() (Document, bool) {
	if v == nil || !governmentIDTypes[v.Type] {
		return Document{}, false
	}
	str := func(k string) string {
		s, _ := v.Attributes[k].(string)
		return strings.TrimSpace(s)
	}
	d := Document{Class: str("id-class"), Country: str("country-code"), Expires: str("expiration-date")}
	f, _ := v.IDFacts()
	d.NumberEnding = f.NumberEnding
	var parts []string
	for _, k := range []string{"address-street-1", "address-street-2", "address-city", "address-subdivision", "address-postal-code"} {
		if s := str(k); s != "" {
			parts = append(parts, s)
		}
	}
	d.Address = strings.Join(parts, ", ")
	return d, d != Document{}
}

// Photo pages.
const (
	PhotoFront  = "front"  // a government ID's front
	PhotoBack   = "back"   // its back
	PhotoSelfie = "selfie" // a selfie's centre photo
)

// photoAttr is the attribute holding each page's URL.
var photoAttr = map[string]string{PhotoFront: "front-photo-url", PhotoBack: "back-photo-url", PhotoSelfie: "center-photo-url"}

// PhotoURL is the URL of the verification's photo of page, or "" when it has none (not
// submitted, redacted, or a type without that page).
func (v *Verification) PhotoURL(page string) string {
	if v == nil {
		return ""
	}
	if page == PhotoSelfie && v.Type != "verification/selfie" || page != PhotoSelfie && !governmentIDTypes[v.Type] {
		return ""
	}
	s, _ := v.Attributes[photoAttr[page]].(string)
	return s
}

// PhotoPages are the photos a verification of this type has: a government ID's front and back,
// a selfie's centre photo, none for other types.
func (v *Verification) PhotoPages() []string {
	switch {
	case v == nil:
		return nil
	case v.Type == "verification/selfie":
		return []string{PhotoSelfie}
	case governmentIDTypes[v.Type]:
		return []string{PhotoFront, PhotoBack}
	}
	return nil
}

// MaxPhotoBytes bounds a photo GetFile reads.
const MaxPhotoBytes = 10 << 20

// ErrNotImage is a file that is not a PNG, JPEG, WebP or GIF image.
var ErrNotImage = errors.New("persona: the file is not an image")

// GetFile fetches a photo Persona named in a verification (its URL carries its own access
// token, so the API key is not sent). Only Persona's file host, or the API's own host (the
// sandbox), is fetched, redirects are not followed, and the answer must be an image of at
// most MaxPhotoBytes; it returns the bytes and their sniffed content type.
func (c *Client) GetFile(ctx context.Context, rawURL string) ([]byte, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !c.fileHost(u) {
		return nil, "", fmt.Errorf("persona: get file: %q is not one of Persona's file addresses", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("persona: get file: %w", err)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	hc := *c.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if hc.Timeout == 0 {
		hc.Timeout = c.cfg.Timeout
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("persona: get file: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, "", &APIError{StatusCode: res.StatusCode, Title: "File not available"}
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxPhotoBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("persona: get file: %w", err)
	}
	if len(b) > MaxPhotoBytes {
		return nil, "", fmt.Errorf("persona: get file: larger than %d bytes", MaxPhotoBytes)
	}
	switch ct := http.DetectContentType(b); ct {
	case "image/png", "image/jpeg", "image/webp", "image/gif":
		return b, ct, nil
	}
	return nil, "", ErrNotImage
}

// fileHost reports whether u is on Persona's file host (https) or on the API's own host.
func (c *Client) fileHost(u *url.URL) bool {
	if u.Scheme == "https" && u.Host == "files.withpersona.com" {
		return true
	}
	base, err := url.Parse(c.cfg.BaseURL)
	return err == nil && u.Scheme == base.Scheme && u.Host == base.Host
}

// StatusOf is the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae.StatusCode
	}
	return 0
}
