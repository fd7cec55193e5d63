package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Deadlines bound every API request, so a stalled dependency cannot hold
// one forever; uploads get longer for slow connections.
const (
	requestTimeout = 30 * time.Second
	uploadTimeout  = 2 * time.Minute
)

// deadline gives an API request's context a deadline: longer for uploads.
func deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := requestTimeout
		if r.Method == http.MethodPost && (strings.HasPrefix(r.URL.Path, "/api/v1/emojis") || strings.HasPrefix(r.URL.Path, "/api/v1/faces/tasks")) {
			d = uploadTimeout
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ownRequestID drops a client's X-Request-Id: ids in our logs are ours.
func ownRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(middleware.RequestIDHeader)
		next.ServeHTTP(w, r)
	})
}

// proxiedAddr, with trust-proxy, takes the client address from the last
// X-Forwarded-For entry: the one our own proxy appended. Earlier entries
// (and X-Real-IP / True-Client-IP) are whatever the client sent.
func proxiedAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				r.RemoteAddr = net.JoinHostPort(ip.String(), "0")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// logRequests writes one structured line per request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		route := ""
		if rc := chi.RouteContext(r.Context()); rc != nil {
			route = rc.RoutePattern()
		}
		if s.metrics != nil {
			label := route
			if label == "" {
				label = "unmatched" // the web app's paths, and 404s: bounded cardinality
			}
			s.metrics.HTTPRequests.WithLabelValues(label, r.Method, strconv.Itoa(ww.Status())).Inc()
			s.metrics.HTTPDuration.WithLabelValues(label, r.Method).Observe(time.Since(start).Seconds())
		}
		s.log.Info("http",
			"method", r.Method,
			"path", r.URL.Path,
			"route", route,
			"status", ww.Status(),
			"bytes", ww.BytesWritten(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"remote", r.RemoteAddr,
			"request_id", middleware.GetReqID(r.Context()),
		)
	})
}

// recoverPanics turns a panic into a logged 500 with a JSON body.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.error(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
