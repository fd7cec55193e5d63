// Package server is IGE MOJI's HTTP API: accounts, emoji templates and the
// files they reference, with JSON errors, limits and request logs.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/crypto/bcrypt"

	"github.com/igemoji/igemoji/shared/config"
	"github.com/igemoji/igemoji/shared/metrics"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
	"github.com/igemoji/igemoji/shared/store"
)

// Limits on request bodies.
const (
	maxJSONBody     = 64 << 10
	maxTemplateFile = 2 << 20
	// Seven files plus the name and multipart framing.
	maxTemplateBody = len(moji.Expressions)*maxTemplateFile + 64<<10
	// Gallery and My page sizes are fixed so pages are cacheable and
	// clients need not guess.
	PageSize = 12
)

// Deps are the server's collaborators, built by main.
type Deps struct {
	DB      *store.DB
	Blobs   moji.Blobs
	Queue   moji.Queue
	Bus     moji.Bus
	Metrics *metrics.Metrics // nil: no /metrics
	Web     http.Handler     // everything outside the API; nil: 404
}

// Server serves the API. Build it with New, then Serve; Shutdown drains it.
type Server struct {
	cfg         *config.Config
	log         *slog.Logger
	proxyWarned atomic.Bool // warnUntrustedProxy has spoken
	db          *store.DB
	blobs       moji.Blobs
	queue       moji.Queue
	bus         moji.Bus
	metrics     *metrics.Metrics
	hub         *Hub
	tokens      *Tokens
	web         http.Handler
	// mediaKey signs links to private result images.
	mediaKey []byte

	pairLimit        *Limiter // failed passwords per account and client address
	accountLimit     *Limiter // failed log-ins per account, from anywhere
	addrLimit        *Limiter // failed passwords per client address
	signupLimit      *Limiter // sign-up attempts per client address
	lookupLimit      *Limiter // "is this taken?" checks per client address
	emailLookupLimit *Limiter // the email look-ups among them
	uploadLimit      *Limiter // template creations per user
	taskUserLimit    *Limiter // photos per logged-in user
	taskAnonLimit    *Limiter // anonymous photos per client address
	uploads          chan struct{}
	uploadsByWho     *addrSlots   // uploads in flight per user (per address for anonymous ones)
	uploadsByAddr    *addrSlots   // uploads in flight per client address, whoever sends them
	photoPixels      *pixelBudget // photo and template image decodes in flight, by pixels
	hashing          chan struct{}
	imaging          chan struct{}
	// dummyHash is compared against when an email is unknown, so a log-in
	// takes as long for a missing account as for a wrong password.
	dummyHash []byte

	http *http.Server
}

// New wires a server. secret signs tokens and, through a derived key,
// links to private results.
func New(cfg *config.Config, log *slog.Logger, secret []byte, d Deps) *Server {
	mk := hmac.New(sha256.New, secret)
	mk.Write([]byte("igemoji media links"))
	s := &Server{
		cfg:      cfg,
		log:      log,
		db:       d.DB,
		blobs:    d.Blobs,
		queue:    d.Queue,
		bus:      d.Bus,
		metrics:  d.Metrics,
		tokens:   NewTokens(secret, cfg.TokenTTL),
		web:      compressWeb(d.Web),
		mediaKey: mk.Sum(nil),
		// Five free failures, then the wait doubles up to 15 minutes; an
		// address gets more because several people may share it.
		// Failed passwords (see loginAttempts): a few free, then the wait
		// doubles up to 15 minutes; the counts drain slowly instead of
		// being forgotten, so that waiting out a lock does not give the
		// free ones back. An address gets more, and drains faster, because
		// several people may share it; the account-wide count drains
		// faster than one address may guess at its longest lock (4 an
		// hour), so that one guesser alone cannot lock its owner out.
		pairLimit:    NewLimiter(5, time.Second, 15*time.Minute).Leaking(time.Hour),
		accountLimit: NewLimiter(50, time.Second, 15*time.Minute).Leaking(10 * time.Minute),
		addrLimit:    NewLimiter(20, time.Second, 15*time.Minute).Leaking(5 * time.Minute),
		signupLimit:  NewLimiter(20, 10*time.Second, time.Hour),
		lookupLimit:  NewLimiter(120, time.Second, time.Minute),
		// Of which email look-ups (sign-ups' included): 30, then one per
		// 10 minutes, slowed past that as sign-ups are.
		emailLookupLimit: NewLimiter(30, 10*time.Second, time.Hour).Leaking(10 * time.Minute),
		uploadLimit:      NewLimiter(30, 10*time.Second, time.Hour),
		// Photos: a burst, then a wait that doubles; anonymous clients get
		// less, per address.
		taskUserLimit: NewLimiter(60, 2*time.Second, 10*time.Minute),
		taskAnonLimit: NewLimiter(10, 10*time.Second, 15*time.Minute),
		uploads:       make(chan struct{}, 8),
		uploadsByWho:  newAddrSlots(2),
		uploadsByAddr: newAddrSlots(4), // half the global slots
		// Two of the largest photos allowed (50 Mpx) at once, or many
		// ordinary ones: about 400 MB of pixels at most.
		photoPixels: newPixelBudget(2 * int64(picture.PhotoLimits.MaxPixels)),
		// bcrypt and image decoding are CPU- and memory-heavy: bound how
		// many run at once so a burst cannot exhaust the machine.
		// GOMAXPROCS, not NumCPU: in a container it is the CPU quota.
		hashing: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
		imaging: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	s.hub = NewHub(HubConfig{
		Log: log,
		Bus: d.Bus,
		Ranking: func(ctx context.Context) ([]moji.RankItem, error) {
			return s.db.Ranking(ctx, s.db.Now().Add(-RankingWindow), RankingSize)
		},
		Task: func(ctx context.Context, id string) (*moji.Task, error) {
			if !moji.ValidTaskID(id) {
				return nil, errNoTask
			}
			return s.db.Task(ctx, id)
		},
		PasswordVersion: func(ctx context.Context, uid int64) (int64, error) {
			u, err := s.db.UserByID(ctx, uid)
			if err != nil {
				return 0, err
			}
			return u.PasswordVersion, nil
		},
		ResultURL: s.signedResultURL,
		OnSlowDrop: func() {
			if s.metrics != nil {
				s.metrics.WSDropped.Inc()
			}
		},
		OnConnections: func(delta int) {
			if s.metrics != nil {
				s.metrics.WSConnections.Add(float64(delta))
			}
		},
	})
	s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("igemoji-timing-equalizer"), cfg.BcryptCost)
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the router.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	if s.cfg.TrustProxy {
		r.Use(proxiedAddr)
	} else {
		r.Use(s.warnUntrustedProxy)
	}
	r.Use(ownRequestID, middleware.RequestID, s.logRequests, s.recoverPanics, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		if s.web != nil && !isAPI(r) {
			s.web.ServeHTTP(w, r)
			return
		}
		s.error(w, r, moji.Errorf(moji.ENOTFOUND, "No such endpoint: %s %s.", trimField(r.Method), trimField(r.URL.Path)))
	})
	mux := r
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		// RFC 9110: a 405 lists the methods the resource has.
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			// The API strips a trailing slash before routing; Match does not.
			if mux.Match(chi.NewRouteContext(), m, r.URL.Path) || mux.Match(chi.NewRouteContext(), m, strings.TrimSuffix(r.URL.Path, "/")) {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
		s.error(w, r, moji.Errorf(moji.EMETHOD, "Method %s is not allowed here.", trimField(r.Method)))
	})

	r.Get("/healthz", s.handleHealth)
	r.Get("/readyz", s.handleReady)
	r.Get("/media/*", s.handleMedia)
	r.Get("/s/{slug}", s.handleSharePage)
	r.Get("/s/{slug}/image", s.handleShareImage)
	if s.metrics != nil && s.cfg.Metrics {
		r.Get("/metrics", s.metrics.Handler().ServeHTTP)
	}

	r.Route("/api/v1", func(r chi.Router) {
		// The seed's paths end in a slash; accept both forms.
		r.Use(middleware.StripSlashes, s.wellFormedQuery)
		// Long-lived: no request deadline; the token comes in the query.
		r.Get("/ws", s.handleWS)
		r.Get("/openapi.json", handleOpenAPI)
		r.Group(s.apiRoutes)
	})
	return r
}

// wellFormedQuery refuses a query string that cannot be read (a bad
// %-escape), on every API route alike, also where no parameter is read.
func (s *Server) wellFormedQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := query(r); err != nil {
			s.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) apiRoutes(r chi.Router) {
	{
		r.Use(s.deadline, s.authenticate)
		r.Get("/users", s.handleUserTaken)
		r.Post("/users", s.handleSignup)
		r.Post("/users/auth", s.handleLogin)
		r.With(s.requireUser).Get("/users/me", s.handleMe)
		r.With(s.requireUser).Delete("/users/me", s.handleDeleteAccount)
		r.With(s.requireUser).Put("/users/me/password", s.handleChangePassword)
		r.With(s.requireUser).Get("/users/mypage/{case}", s.handleMyPage)

		r.With(s.requireUser).Post("/emojis", s.handleCreateTemplate)
		r.Get("/emojis/pages/{page}", s.handleTemplatePage)
		r.Get("/emojis/pages", s.handleTemplatePage) // the first page, not template "pages"
		r.Get("/emojis/{id}", s.handleGetTemplate)
		r.With(s.requireUser).Delete("/emojis/{id}", s.handleDeleteTemplate)

		r.Post("/faces/tasks", s.handleCreateTask)
		r.Get("/faces/tasks/{id}", s.handleGetTask)
		r.Delete("/faces/tasks/{id}", s.handleDeleteTask)
		r.Post("/faces/tasks/{id}/share", s.handleShareTask)
		r.Delete("/faces/tasks/{id}/share", s.handleUnshareTask)
		r.Get("/faces/ranking", s.handleRanking)
	}
}

// GET /api/v1/ws: the live channel. Browsers cannot set headers on a
// WebSocket, so a logged-in client sends its token as ?token= (other
// clients may send the Authorization header); a bad one is refused rather
// than silently treated as anonymous. The connection is closed (4001
// "token expired") when the token expires.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	var uid, pwd int64
	var expires time.Time
	q, err := query(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	tok := q.Get("token")
	if h := r.Header.Get("Authorization"); h != "" && tok == "" {
		if tok, err = bearerToken(h); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if tok != "" {
		u, c, err := s.session(r.Context(), tok)
		if moji.ErrorCode(err) == moji.EINTERNAL {
			s.error(w, r, err)
			return
		} else if err != nil {
			s.error(w, r, moji.Errorf(moji.EUNAUTHORIZED, "Your session has expired or is not valid; log in again."))
			return
		}
		uid, pwd, expires = u.ID, c.Password, c.Expires
	}
	s.hub.ServeWS(w, r, uid, pwd, clientAddr(r), expires)
}

// Run runs the server's background work (the WebSocket hub) until ctx ends.
func (s *Server) Run(ctx context.Context) error { return s.hub.Run(ctx) }

// compressWeb gzips the client's files on the fly: the JavaScript shrinks
// to about a third, the preview's WebAssembly module and model by half.
func compressWeb(h http.Handler) http.Handler {
	if h == nil {
		return nil
	}
	return middleware.Compress(5, "text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml", "application/json",
		"application/wasm", "application/octet-stream")(h)
}

func isAPI(r *http.Request) bool {
	p := r.URL.Path
	return len(p) >= 4 && p[:4] == "/api"
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for requests in flight,
// up to ctx's deadline.
// Requests still running when ctx ends are cut off, so that nothing touches
// the database after the caller closes it.
func (s *Server) Shutdown(ctx context.Context) error {
	// WebSockets are hijacked connections that http.Server.Shutdown does
	// not wait for: close them first, telling clients we are going away.
	s.hub.Close()
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	return err
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady reports whether this instance can serve: its database answers.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("readiness: database", "err", err)
		s.error(w, r, moji.Errorf(moji.EUNAVAILABLE, "The database is not reachable."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
