package sandbox

// Photos of verifications: Persona gives a government ID's front and back and a selfie's
// centre photo as file URLs (files.withpersona.com, with an access token in the query); the
// sandbox draws small images instead and serves them at /files/{verification}/{page}.png.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
)

// photoAttrs are the attributes that carry a photo's URL, by verification type, with the page
// each one shows.
var photoAttrs = map[string][][2]string{
	"verification/government-id": {{"front-photo-url", "front"}, {"back-photo-url", "back"}},
	"verification/selfie":        {{"center-photo-url", "center"}},
}

// withPhotos fills the photo URLs of a submitted, unredacted verification into attrs (its
// resource's attributes), which otherwise say null: a redacted one has no photos left.
func (s *Sandbox) withPhotos(v *verification, attrs obj) {
	if v.submittedAt.IsZero() || !v.redactedAt.IsZero() {
		return
	}
	for _, pa := range photoAttrs[v.vtype] {
		for i := range attrs {
			if attrs[i].k == pa[0] {
				attrs[i].v = s.publicURL + "/files/" + v.id + "/" + pa[1] + ".png?access_token=" + s.fileToken(v.id, pa[1])
			}
		}
	}
}

// fileToken signs a photo's URL with the API key, as Persona's access tokens do: the URL alone
// grants access, and only to that photo.
func (s *Sandbox) fileToken(id, page string) string {
	m := hmac.New(sha256.New, []byte(s.apiKey))
	m.Write([]byte(id + "/" + page))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// serveFile answers GET /files/{verification}/{page}.png?access_token=…: the photo, or 404
// for a wrong token, an unknown or redacted verification, or a page it has none of.
func (s *Sandbox) serveFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/files/"), "/")
	page, isPNG := strings.CutSuffix(name, ".png")
	if !ok || !isPNG || !hmac.Equal([]byte(r.URL.Query().Get("access_token")), []byte(s.fileToken(id, page))) {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	v := s.verifs[id]
	var known bool
	if v != nil && !v.submittedAt.IsZero() && v.redactedAt.IsZero() {
		for _, pa := range photoAttrs[v.vtype] {
			known = known || pa[1] == page
		}
	}
	s.mu.Unlock()
	if !known {
		http.NotFound(w, r)
		return
	}
	var b bytes.Buffer
	if err := png.Encode(&b, drawPhoto(id, page)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(b.Bytes())
}

// drawPhoto draws a small stand-in photo: an ID card's front (a portrait and lines of text)
// or back (a barcode), or a selfie (a face); its colour comes from the verification's id.
func drawPhoto(id, page string) image.Image {
	h := fnv.New32a()
	h.Write([]byte(id))
	seed := h.Sum32()
	tint := color.RGBA{uint8(120 + seed%100), uint8(140 + seed>>8%90), uint8(170 + seed>>16%80), 255}
	fillRect := func(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				img.Set(x, y, c)
			}
		}
	}
	skin := color.RGBA{224, 184, 150, 255}
	dark := color.RGBA{40, 48, 64, 255}
	if page == "center" {
		img := image.NewRGBA(image.Rect(0, 0, 160, 200))
		fillRect(img, 0, 0, 160, 200, tint)
		for y := range 200 {
			for x := range 160 {
				dx, dy := float64(x-80)/45, float64(y-90)/58
				if dx*dx+dy*dy <= 1 {
					img.Set(x, y, skin)
				}
			}
		}
		fillRect(img, 60, 75, 68, 83, dark)
		fillRect(img, 92, 75, 100, 83, dark)
		fillRect(img, 66, 115, 94, 119, dark)
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	fillRect(img, 0, 0, 320, 200, color.RGBA{236, 240, 244, 255})
	fillRect(img, 0, 0, 320, 36, tint)
	if page == "back" {
		for i := range 60 {
			if (seed>>(i%32))&1 == 1 || i%3 == 0 {
				fillRect(img, 20+i*4, 120, 22+i*4, 180, dark)
			}
		}
		fillRect(img, 20, 60, 300, 66, dark)
		fillRect(img, 20, 80, 240, 86, dark)
		return img
	}
	fillRect(img, 20, 52, 110, 172, color.RGBA{200, 206, 214, 255})
	fillRect(img, 45, 75, 85, 125, skin)
	for i, w := range []int{170, 140, 120, 150, 100} {
		fillRect(img, 130, 60+i*22, 130+w, 68+i*22, dark)
	}
	return img
}
