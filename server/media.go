package server

import (
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/igemoji/igemoji/shared/moji"
)

func mediaURL(key string) string { return "/media/" + key }

// GET /media/{key}: template images, public and content-addressed (a key
// never changes content, so clients and proxies may cache it for good),
// and result images, private, behind a signed link that expires.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "*")
	switch {
	case strings.HasPrefix(key, moji.TemplateImagePrefix):
	case strings.HasPrefix(key, "results/"):
		exp, ok := s.checkSigned(key, r)
		if !ok {
			s.error(w, r, moji.Errorf(moji.EFORBIDDEN, "This link has expired or is not valid; open the result again to get a new one."))
			return
		}
		s.serveResult(w, r, key, "private, max-age="+strconv.Itoa(max(0, int(time.Until(exp).Seconds()))), "")
		return
	default:
		s.error(w, r, moji.Errorf(moji.ENOTFOUND, "File not found."))
		return
	}
	f, _, err := s.blobs.Open(r.Context(), key)
	if err != nil {
		s.error(w, r, err)
		return
	}
	defer f.Close()
	etag := `"` + strings.TrimSuffix(path.Base(key), path.Ext(key)) + `"`
	w.Header().Set("ETag", etag)
	// Content-addressed, so never stale, but not immutable: a deleted
	// template's pictures must leave caches within a day (then they
	// revalidate, a 304 while they live).
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "image/png")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// serveResult sends a result image. Its key is random and written once,
// and a deleted task's file is deleted, so the cache lifetime is the caller's to choose.
func (s *Server) serveResult(w http.ResponseWriter, r *http.Request, key, cacheControl, etag string) {
	f, _, err := s.blobs.Open(r.Context(), key)
	if err != nil {
		s.error(w, r, err)
		return
	}
	defer f.Close()
	ct := "image/jpeg"
	if path.Ext(key) == ".png" {
		ct = "image/png"
	}
	w.Header().Set("Cache-Control", cacheControl)
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", ct)
	// A name of its own (the key's random part, hex), so that a second
	// download is not "igemoji (1).jpg"; the task's id stays unsaid.
	name := strings.TrimSuffix(path.Base(key), path.Ext(key))
	w.Header().Set("Content-Disposition", `inline; filename="igemoji-`+name[:min(len(name), 12)]+path.Ext(key)+`"`)
	http.ServeContent(w, r, "", time.Time{}, f)
}
