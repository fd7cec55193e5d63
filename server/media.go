package server

import (
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/igemoji/igemoji/shared/moji"
)

func mediaURL(key string) string { return "/media/" + key }

// GET /media/{key}: public, content-addressed images. A key never changes
// content, so clients and proxies may cache it for good.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "*")
	if !strings.HasPrefix(key, "t/") { // only template images are public
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
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "image/png")
	http.ServeContent(w, r, "", time.Time{}, f)
}
