package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"golang.org/x/text/language"

	"github.com/igemoji/igemoji/shared/moji"
)

// sharePage is the public page of a shared result: the picture, and Open
// Graph and Twitter tags so that chat apps and social sites preview it.
// With no picture it is the page of a link that no longer works.
var sharePage = template.Must(template.New("share").Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<meta name="description" content="{{.Description}}">
<meta name="referrer" content="no-referrer">
{{- if .ImageURL}}
<meta property="og:type" content="website">
<meta property="og:site_name" content="IGE MOJI">
<meta property="og:locale" content="{{.T.Locale}}">
<meta property="og:title" content="{{.Title}}">
<meta property="og:description" content="{{.Description}}">
<meta property="og:url" content="{{.PageURL}}">
<meta property="og:image" content="{{.ImageURL}}">
<meta property="og:image:width" content="{{.Width}}">
<meta property="og:image:height" content="{{.Height}}">
<meta property="og:image:alt" content="{{.T.Alt}}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="{{.Title}}">
<meta name="twitter:image" content="{{.ImageURL}}">
{{- else}}
<meta name="robots" content="noindex">
{{- end}}
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#111;color:#eee;display:flex;flex-direction:column;align-items:center;min-height:100vh;word-break:keep-all}
main{max-width:min(96vw,1200px);padding:1rem;text-align:center}
img{max-width:100%;height:auto;border-radius:8px}
a{color:#ffd54f}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{- if .ImageURL}}
<img src="{{.ImageURL}}" width="{{.Width}}" height="{{.Height}}" alt="{{.T.Alt}}">
{{- end}}
<p>{{.Description}}</p>
<p><a href="/">{{.T.MakeYours}}</a></p>
</main>
</body>
</html>
`))

// shareText is the share page's wording in one language.
type shareText struct {
	Lang, Locale, Title, Alt, MakeYours string
	NoFaces, OneFace, Faces             string // Faces takes the count twice
	GoneTitle, Gone, Failed             string
}

// shareTexts are in the web client's languages; the page follows the
// visitor's own choice in the app (the langCookie it sets), else their
// Accept-Language, since whoever opens a link is rarely the person who
// shared it.
var shareTexts = []shareText{
	{
		Lang: "en", Locale: "en_US", Title: "IGE MOJI — what's this?", Alt: "A photo with an emoji on every face",
		MakeYours: "Make your own on IGE MOJI",
		NoFaces:   "No faces were found in this photo.", OneFace: "1 face, 1 emoji.", Faces: "%d faces, %d emoji.",
		GoneTitle: "This link no longer works", Gone: "This shared picture does not exist or is no longer shared.",
		Failed: "The picture cannot be shown just now. Please try again in a moment.",
	},
	{
		Lang: "ko", Locale: "ko_KR", Title: "IGE MOJI — 이게 모지?", Alt: "모든 얼굴에 이모지를 붙인 사진",
		MakeYours: "IGE MOJI에서 직접 만들어 보세요",
		NoFaces:   "이 사진에서는 얼굴을 찾지 못했습니다.", OneFace: "얼굴 1개, 이모지 1개.", Faces: "얼굴 %d개, 이모지 %d개.",
		GoneTitle: "더 이상 열리지 않는 링크입니다", Gone: "공유된 사진이 없거나 공유가 중지되었습니다.",
		Failed: "지금은 사진을 보여 드릴 수 없습니다. 잠시 후 다시 시도해 주세요.",
	},
}

var shareLangs = language.NewMatcher([]language.Tag{language.English, language.Korean})

// langCookie holds the language picked in the web client (LANG_COOKIE in
// web/app/src/i18n/lang.ts).
const langCookie = "igemoji_lang"

// shareTextFor picks the visitor's language, English when none matches.
func shareTextFor(r *http.Request) shareText {
	if c, err := r.Cookie(langCookie); err == nil {
		for _, tx := range shareTexts {
			if c.Value == tx.Lang {
				return tx
			}
		}
	}
	header := r.Header.Get("Accept-Language")
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		// One bad entry spoils the lot for the parser; the good ones still
		// say something (in the order given, their weights unread).
		tags = tags[:0]
		for _, part := range strings.Split(header, ",") {
			name, _, _ := strings.Cut(part, ";")
			if tag, err := language.Parse(strings.TrimSpace(name)); err == nil {
				tags = append(tags, tag)
			}
		}
	}
	if len(tags) == 0 {
		return shareTexts[0]
	}
	_, i, conf := shareLangs.Match(tags...)
	if conf == language.No {
		return shareTexts[0]
	}
	return shareTexts[i]
}

// setSharePageHeaders: caches must ask each time (an unshared link stops
// working at once, also in a browser that has opened it before), the
// wording depends on the visitor's language, and the page is not framed.
func (s *Server) setSharePageHeaders(w http.ResponseWriter, base string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self' "+base+"; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY") // for browsers without frame-ancestors
	h.Set("Referrer-Policy", "no-referrer")
}

// GET /s/{slug}: the public page of a shared result. People open it in a
// browser, so a link that no longer works, or a fault, is a page too.
func (s *Server) handleSharePage(w http.ResponseWriter, r *http.Request) {
	tx := shareTextFor(r)
	base := s.publicBase(r)
	t, err := s.db.TaskBySlug(r.Context(), chi.URLParam(r, "slug"))
	if err != nil {
		status, _, _, ok := s.resolve(r, err)
		if !ok {
			return
		}
		desc := tx.Failed
		if status == http.StatusNotFound {
			desc = tx.Gone
		}
		s.setSharePageHeaders(w, base)
		w.WriteHeader(status)
		s.writeSharePage(w, map[string]any{"T": tx, "Title": tx.GoneTitle, "Description": desc})
		return
	}
	page := base + "/s/" + t.ShareSlug
	n := len(t.Result.Faces)
	desc := tx.NoFaces
	switch {
	case n == 1:
		desc = tx.OneFace
	case n > 1:
		desc = fmt.Sprintf(tx.Faces, n, n)
	}
	s.setSharePageHeaders(w, base)
	s.writeSharePage(w, map[string]any{
		"T": tx, "Title": tx.Title, "Description": desc, "PageURL": page,
		"ImageURL": page + "/image", "Width": t.Result.Width, "Height": t.Result.Height,
	})
}

func (s *Server) writeSharePage(w http.ResponseWriter, data map[string]any) {
	if err := sharePage.Execute(w, data); err != nil {
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
