// Package static embeds the console's CSS and scripts and serves them under fingerprinted
// URLs, so browsers may cache them forever and a new build is fetched at once.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed app.css app.js favicon.svg vendor/*.js vendor/*.css
var files embed.FS

type asset struct {
	body, gz []byte
	hash     string
	ctype    string
}

// Assets holds every embedded file with its content hash and a gzipped copy.
type Assets struct {
	byName map[string]*asset
}

// Load reads and fingerprints the embedded files once at start.
func Load() *Assets {
	a := &Assets{byName: map[string]*asset{}}
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, _ := files.ReadFile(p)
		sum := sha256.Sum256(body)
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		a.byName[p] = &asset{body: body, gz: buf.Bytes(), hash: hex.EncodeToString(sum[:])[:12], ctype: mime.TypeByExtension(path.Ext(p))}
		return nil
	})
	return a
}

// URL returns the fingerprinted URL of an embedded file, e.g. "/static/1a2b3c4d5e6f/app.css".
func (a *Assets) URL(name string) string {
	f, ok := a.byName[name]
	if !ok {
		panic("static: no such asset " + name) // a typo in a template: fail loudly in tests
	}
	return "/static/" + f.hash + "/" + name
}

// ServeHTTP serves /static/<hash>/<name>; a stale hash still gets the current file, uncached.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/static/")
	hash, name, ok := strings.Cut(rest, "/")
	f, found := a.byName[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Vary", "Accept-Encoding")
	if hash == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body := f.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	w.Write(body)
}
