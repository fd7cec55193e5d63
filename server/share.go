package server

import (
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/igemoji/igemoji/shared/moji"
)

// sharePage is the public page of a shared result: the picture, and Open
// Graph and Twitter tags so that chat apps and social sites preview it.
var sharePage = template.Must(template.New("share").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<meta name="description" content="{{.Description}}">
<meta name="referrer" content="no-referrer">
<meta property="og:type" content="website">
<meta property="og:site_name" content="IGE MOJI">
<meta property="og:title" content="{{.Title}}">
<meta property="og:description" content="{{.Description}}">
<meta property="og:url" content="{{.PageURL}}">
<meta property="og:image" content="{{.ImageURL}}">
<meta property="og:image:width" content="{{.Width}}">
<meta property="og:image:height" content="{{.Height}}">
<meta property="og:image:alt" content="A photo with an emoji on every face">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="{{.Title}}">
<meta name="twitter:image" content="{{.ImageURL}}">
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#111;color:#eee;display:flex;flex-direction:column;align-items:center;min-height:100vh}
main{max-width:min(96vw,1200px);padding:1rem;text-align:center}
img{max-width:100%;height:auto;border-radius:8px}
a{color:#ffd54f}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<img src="{{.ImageURL}}" width="{{.Width}}" height="{{.Height}}" alt="A photo with an emoji on every face">
<p>{{.Description}}</p>
<p><a href="/">Make your own on IGE MOJI</a></p>
</main>
</body>
</html>
`))

// GET /s/{slug}: the public page of a shared result.
func (s *Server) handleSharePage(w http.ResponseWriter, r *http.Request) {
	t, err := s.db.TaskBySlug(r.Context(), chi.URLParam(r, "slug"))
	if err != nil {
		s.sharedGone(w, r, err)
		return
	}
	base := s.publicBase(r)
	page := base + "/s/" + t.ShareSlug
	n := len(t.Result.Faces)
	desc := "No faces were found in this photo."
	switch {
	case n == 1:
		desc = "1 face, 1 emoji."
	case n > 1:
		desc = strconv.Itoa(n) + " faces, " + strconv.Itoa(n) + " emoji."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Caches must ask each time: an unshared link stops working at once,
	// also in a browser that has opened it before.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self' "+base+"; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY") // for browsers without frame-ancestors
	w.Header().Set("Referrer-Policy", "no-referrer")
	err = sharePage.Execute(w, map[string]any{
		"Title": "IGE MOJI — what's this?", "Description": desc, "PageURL": page,
		"ImageURL": page + "/image", "Width": t.Result.Width, "Height": t.Result.Height,
	})
	if err != nil {
		s.log.Debug("share page write", "err", err)
	}
}

// GET /s/{slug}/image: the shared picture itself.
func (s *Server) handleShareImage(w http.ResponseWriter, r *http.Request) {
	t, err := s.db.TaskBySlug(r.Context(), chi.URLParam(r, "slug"))
	if err != nil {
		s.sharedGone(w, r, err)
		return
	}
	// Asked for each time, as the page is; the tag (not the key, which
	// names the task) makes the answer a 304 while it is still shared,
	// without reading the picture.
	sum := sha256.Sum256([]byte(t.Result.ImageKey))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.serveResult(w, r, t.Result.ImageKey, "no-cache", etag)
}

func (s *Server) sharedGone(w http.ResponseWriter, r *http.Request, err error) {
	if moji.ErrorCode(err) == moji.ENOTFOUND {
		err = moji.Errorf(moji.ENOTFOUND, "This shared picture does not exist or is no longer shared.")
	}
	s.error(w, r, err)
}
