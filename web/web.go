// Package web holds the browser client, embedded into the binary. Built
// with the webapp tag (make build, make run, make test do), it serves the
// React client from app/dist; without it (a bare go build, which needs no
// Node), a small placeholder page that reads the same API.
package web

import (
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/igemoji/igemoji/shared/moji"
)

// clientRoutes are the client's routes, as in web/app/src/App.tsx
// (TestClientRoutesMatchApp keeps the two alike); ":name" is one segment
// that routeParams[name] accepts. They match regardless of case, as
// react-router's do.
var clientRoutes = []string{"", "templates/new", "templates/:id", "upload", "results/:taskId", "login", "signup", "me"}

// routeParams says which segments can name something, so that
// /templates/abc is answered 404 like any other path that names nothing.
var routeParams = map[string]func(string) bool{
	"id": func(s string) bool { // a template id as its links write it, within what the client's Number() holds
		n, err := strconv.ParseInt(s, 10, 64)
		return err == nil && n > 0 && n <= 1<<53-1 && strconv.FormatInt(n, 10) == s
	},
	"taskId": moji.ValidTaskID,
}

// clientRoute reports whether p (cleaned, without its leading slash) is
// one of clientRoutes.
func clientRoute(p string) bool {
	segs := strings.Split(p, "/")
	for _, route := range clientRoutes {
		want := strings.Split(route, "/")
		if len(want) != len(segs) {
			continue
		}
		ok := true
		for i, w := range want {
			if name, param := strings.CutPrefix(w, ":"); param {
				ok = ok && routeParams[name](segs[i])
			} else {
				ok = ok && strings.EqualFold(w, segs[i])
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Handler serves the client's files. Paths that name no file get
// index.html, so that the client's own routes (/templates/3, /me) load
// the app on a reload; other paths get it too, for the app's "not found"
// page, but with status 404, for crawlers and link checkers. Vite's hashed
// files under /assets/ never change and are cached for good, index.html
// is revalidated every time.
func Handler() http.Handler {
	files, err := fs.Sub(embedded, embeddedRoot)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err) // likewise
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p == "." {
			p = ""
		}
		notFound := false
		if p == "" {
			p = "index.html"
		} else if st, err := fs.Stat(files, p); err != nil || st.IsDir() {
			if path.Ext(p) != "" { // a missing file, not a client route
				http.NotFound(w, r)
				return
			}
			notFound = !clientRoute(p)
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
		if notFound {
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			if r.Method != http.MethodHead {
				w.Write(index)
			}
			return
		}
		fileServer.ServeHTTP(w, r)
	})
}
