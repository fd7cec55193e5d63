// Package web holds the browser client, embedded into the binary. Built
// with the webapp tag (make build, make run, make test do), it serves the
// React client from app/dist; without it (a bare go build, which needs no
// Node), a small placeholder page that reads the same API.
package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Handler serves the client's files. Paths that name no file get
// index.html, so that the client's own routes (/templates/3, /me) load
// the app on a reload; Vite's hashed files under /assets/ never change
// and are cached for good, index.html is revalidated every time.
func Handler() http.Handler {
	files, err := fs.Sub(embedded, embeddedRoot)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p == "" || p == "." {
			p = "index.html"
		}
		if st, err := fs.Stat(files, p); err != nil || st.IsDir() {
			if path.Ext(p) != "" { // a missing file, not a client route
				http.NotFound(w, r)
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			r = r2
			p = "index.html"
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(p, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if p == "index.html" {
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			// MUI's styling engine injects <style> tags, hence inline
			// styles; blob: is the photo before upload and the webcam;
			// wasm-unsafe-eval lets the preview compile WebAssembly (and
			// nothing else: JavaScript eval stays blocked).
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "+
				"connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; "+
				"object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
		}
		fileServer.ServeHTTP(w, r)
	})
}
