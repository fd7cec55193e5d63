package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/igemoji/igemoji/shared/moji"
)

// Deadlines bound every API request, so a stalled dependency cannot hold
// one forever; uploads get longer for slow connections.
const (
	requestTimeout = 30 * time.Second
	uploadTimeout  = 2 * time.Minute
)

var errBodyTimeout = moji.Errorf(moji.ETIMEOUT, "The request body stopped arriving; please send it again.")

// deadline gives an API request's context a deadline, longer for uploads,
// and its body read deadlines: a request body must keep arriving, a JSON
// body (64 kB at most) within the configured body timeout, an upload with
// no pause that long and within uploadTimeout in all. Without them a
// stalled client held its upload slot, and so a few of them every global
// one, until the server's ReadTimeout, and got no answer; now it gets a
// 408 and the slot is free.
func (s *Server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := requestTimeout
		upload := r.Method == http.MethodPost && (strings.HasPrefix(r.URL.Path, "/api/v1/emojis") || strings.HasPrefix(r.URL.Path, "/api/v1/faces/tasks"))
		if upload {
			d = uploadTimeout
		}
		if r.Body != nil && r.Body != http.NoBody {
			b := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w)}
			if upload {
				b.idle, b.end = s.cfg.BodyTimeout, time.Now().Add(uploadTimeout)
			}
			if b.rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)) == nil {
				r.Body = b
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// deadlineBody moves the connection's read deadline as the body arrives:
// with idle set, each read that brings data allows idle more (up to end);
// at the body's end the deadline is lifted, since net/http then keeps
// reading in the background to notice a client that hangs up, and a
// deadline expiring there would cancel a request still being served.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case b.done:
	case err == io.EOF:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case n > 0 && b.idle > 0:
		t := time.Now().Add(b.idle)
		if t.After(b.end) {
			t = b.end
		}
		_ = b.rc.SetReadDeadline(t)
	}
	return n, err
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
			m := methodLabel(r.Method)
			s.metrics.HTTPRequests.WithLabelValues(label, m, strconv.Itoa(ww.Status())).Inc()
			s.metrics.HTTPDuration.WithLabelValues(label, m).Observe(time.Since(start).Seconds())
		}
		s.log.Info("http",
			"method", trimField(r.Method),
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

// methodLabel bounds the metrics' method label: net/http takes any token
// of up to some 64 kB as a method, and each new one made new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
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
