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
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w),
				timeout: s.cfg.BodyTimeout, upload: upload}
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// deadlineBody sets the connection's read deadline as the body is read,
// from the handler's first read on (a request may first wait for an upload
// slot, and a client sending "Expect: 100-continue" sends nothing until
// then): a JSON body must be in within timeout of that first read, an
// upload may pause for timeout at most between reads and take uploadTimeout
// in all. At the body's end the deadline is lifted, since net/http then
// reads in the background to notice a client that hangs up. Where the
// connection takes no deadlines, the server's ReadTimeout still applies.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	upload  bool
	end     time.Time // zero until the first read
	done    bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	now := time.Now()
	if b.end.IsZero() {
		b.end = now.Add(b.timeout)
		if b.upload {
			b.end = now.Add(uploadTimeout)
		}
	}
	t := b.end
	if b.upload && now.Add(b.timeout).Before(t) {
		t = now.Add(b.timeout)
	}
	_ = b.rc.SetReadDeadline(t)
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// warnUntrustedProxy tells the operator, once, that requests come through
// a proxy the server was not told to trust: every client behind it then
// shares the proxy's address in the per-address limits.
func (s *Server) warnUntrustedProxy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Forwarded-For") != "" && s.proxyWarned.CompareAndSwap(false, true) {
			s.log.Warn("requests carry X-Forwarded-For but --trust-proxy is off: all clients behind the proxy share its address for rate limits and upload caps")
		}
		next.ServeHTTP(w, r)
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
