package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
)

// maxPhotoBody is the photo limit plus the template id and framing.
var maxPhotoBody = picture.PhotoLimits.MaxBytes + 64<<10

const (
	// RankingWindow is how far back the ranking counts uses.
	RankingWindow = 7 * 24 * time.Hour
	// RankingSize is how many templates the ranking lists.
	RankingSize = 10
	// resultURLTTL is how long a signed link to a private result works.
	resultURLTTL = time.Hour
)

// taskJSON is a task as its owner sees it.
type taskJSON struct {
	*moji.Task
	ShareURL string `json:"share_url,omitempty"`
}

// POST /api/v1/faces/tasks/: multipart "image" (the photo) and
// "template_id". The photo is checked in full (a truncated or oversized
// file is refused here, not after queueing), stored, recorded, then
// queued; 202 once it is durable. Anonymous use is allowed, with a lower
// rate.
func (s *Server) handleCreateTask(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	var owner int64
	limit, key := s.taskAnonLimit, "addr:"+clientAddr(r)
	if u != nil {
		owner, limit, key = u.ID, s.taskUserLimit, "user:"+strconv.FormatInt(u.ID, 10)
	}
	if d := limit.Reserve(key); d > 0 {
		msg := "You are sending photos too fast."
		if u == nil {
			msg += " Log in for a higher limit."
		}
		s.retryAfter(w, r, seconds(d), msg)
		return
	}
	var (
		templateID int64
		data       []byte
		format     string
	)
	err := s.withUpload(w, r, func() error {
		var err error
		if templateID, data, err = readTaskForm(w, r); err != nil {
			return err
		}
		// The header first: it says what the decode's memory will be (the
		// budget counts 4-byte pixels; a progressive or 16-bit image
		// takes more of them).
		h, err := picture.Probe(data, picture.PhotoLimits)
		if err != nil {
			return photoError(err)
		}
		return s.photoPixels.run(r.Context(), h.DecodeBytes/4, func() error {
			_, format, err = picture.Decode(bytes.NewReader(data), picture.PhotoLimits)
			return photoError(err)
		})
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	// A template that does not exist is refused before anything is stored.
	if _, err := s.db.TemplateByID(r.Context(), templateID); err != nil {
		if moji.ErrorCode(err) == moji.ENOTFOUND {
			err = errNoTemplate
		}
		s.error(w, r, err)
		return
	}
	t := &moji.Task{ID: newID(), OwnerID: owner, TemplateID: templateID}
	t.PhotoKey = "uploads/" + t.ID + "." + map[string]string{picture.FormatJPEG: "jpg", picture.FormatPNG: "png", picture.FormatWebP: "webp"}[format]
	if err := s.blobs.Put(r.Context(), t.PhotoKey, data); err != nil {
		s.error(w, r, err)
		return
	}
	size := len(data)
	data = nil
	if err := s.db.CreateTask(r.Context(), t); err != nil {
		s.blobs.Delete(context.WithoutCancel(r.Context()), t.PhotoKey)
		if moji.ErrorCode(err) == moji.ENOTFOUND { // deleted just now
			err = errNoTemplate
		}
		s.error(w, r, err)
		return
	}
	// The task is durable now. If the queue is down, the reconciler
	// enqueues it once the queue is back: still accepted.
	// Not the request's context: a client that hangs up now must not stop
	// the enqueue of a task it was already promised.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := s.queue.Enqueue(qctx, t.ID); err != nil {
		s.log.Warn("enqueue failed; the reconciler will retry", "task", t.ID, "err", err)
	}
	if s.metrics != nil {
		s.metrics.TasksSubmitted.Inc()
	}
	s.log.Info("task accepted", "task", t.ID, "template_id", templateID, "user_id", owner, "bytes", size)
	w.Header().Set("Location", "/api/v1/faces/tasks/"+t.ID)
	writeJSON(w, http.StatusAccepted, s.toTaskJSON(r, t))
}

// photoError names the field in a client's image error.
func photoError(err error) error {
	if me := (*moji.Error)(nil); errors.As(err, &me) {
		return moji.Errorf(me.Code, "image: %s.", me.Message)
	}
	return err
}

// withUpload runs fn, which reads an upload body, holding one of the
// client's upload slots (per user, or per address for anonymous clients,
// so that people behind one NAT do not share) and one of the global ones:
// a client with slow uploads can hold only its own share.
func (s *Server) withUpload(w http.ResponseWriter, r *http.Request, fn func() error) error {
	addr := clientAddr(r)
	who := "addr:" + addr
	if u := userFrom(r.Context()); u != nil {
		who = "user:" + strconv.FormatInt(u.ID, 10)
	}
	if !s.uploadsByWho.acquire(who) {
		w.Header().Set("Retry-After", "5")
		return moji.Errorf(moji.ERATELIMIT, "You already have uploads in progress; wait for them to finish.")
	}
	defer s.uploadsByWho.release(who)
	// Accounts are free: a few of them from one place must not hold every
	// global slot with slow bodies either.
	if !s.uploadsByAddr.acquire(addr) {
		w.Header().Set("Retry-After", "5")
		return moji.Errorf(moji.ERATELIMIT, "Too many uploads from your network are in progress; wait for them to finish.")
	}
	defer s.uploadsByAddr.release(addr)
	return withSlot(r.Context(), s.uploads, fn)
}

// readTaskForm streams the multipart body: exactly one "image" file and
// one "template_id"; anything else is refused.
func readTaskForm(w http.ResponseWriter, r *http.Request) (int64, []byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return 0, nil, moji.Errorf(moji.EUNSUPPORTED, "Send the photo as multipart/form-data with fields image and template_id.")
	}
	if err := limitBody(w, r, maxPhotoBody); err != nil {
		return 0, nil, err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, nil, moji.Errorf(moji.EINVALID, "Malformed multipart body.")
	}
	var (
		id      int64
		haveID  bool
		data    []byte
		haveImg bool
	)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, bodyError(err)
		}
		switch part.FormName() {
		case "image":
			if haveImg {
				return 0, nil, moji.Errorf(moji.EINVALID, "Send one image.")
			}
			haveImg = true
			data, err = io.ReadAll(io.LimitReader(part, picture.PhotoLimits.MaxBytes+1))
			if err != nil {
				return 0, nil, bodyError(err)
			}
			if int64(len(data)) > picture.PhotoLimits.MaxBytes {
				return 0, nil, moji.Errorf(moji.ETOOLARGE, "The photo is larger than %d MB.", picture.PhotoLimits.MaxBytes>>20)
			}
		case "template_id":
			if haveID {
				return 0, nil, moji.Errorf(moji.EINVALID, "Send one template_id.")
			}
			haveID = true
			b, err := io.ReadAll(io.LimitReader(part, 33))
			if err != nil {
				return 0, nil, bodyError(err)
			}
			id, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil || id <= 0 || len(b) > 32 {
				return 0, nil, moji.Errorf(moji.EINVALID, "template_id must be a template's number.")
			}
		default:
			return 0, nil, moji.Errorf(moji.EINVALID, "Unexpected field %q: send image and template_id.", trimField(part.FormName()))
		}
	}
	switch {
	case !haveImg || len(data) == 0:
		return 0, nil, moji.Errorf(moji.EINVALID, "Missing the image file.")
	case !haveID:
		return 0, nil, moji.Errorf(moji.EINVALID, "Missing template_id.")
	}
	return id, data, nil
}

// GET /api/v1/faces/tasks/{id}: the polling view of a task.
func (s *Server) handleGetTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.ownTask(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.toTaskJSON(r, t))
}

// DELETE /api/v1/faces/tasks/{id}: the task, its result and its share.
func (s *Server) handleDeleteTask(w http.ResponseWriter, r *http.Request) {
	if _, err := s.ownTask(r); err != nil {
		s.error(w, r, err)
		return
	}
	t, err := s.db.DeleteTask(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx := context.WithoutCancel(r.Context())
	if t.State == moji.TaskQueued || t.State == moji.TaskRunning {
		s.stopWorker(ctx, t)
	}
	s.deleteFiles(ctx, t.PhotoKey, resultKey(t))
	w.WriteHeader(http.StatusNoContent)
}

// announce publishes e to every server and worker, best effort: the bus
// may be away, and what it would have told is caught up with otherwise
// (the fallback, for the log).
func (s *Server) announce(ctx context.Context, e moji.Event, fallback string, attrs ...any) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.bus.Publish(ctx, e); err != nil {
		s.log.Warn("publish "+e.Type+"; "+fallback, append(attrs, "err", err)...)
	}
}

// endSessions tells every server to close user uid's WebSocket connections
// whose tokens are not of password version pwd (-1: the account is gone).
func (s *Server) endSessions(ctx context.Context, uid, pwd int64) {
	s.announce(ctx, moji.Event{Type: moji.EventSessionsEnded, OwnerID: uid, Version: pwd},
		"they close when their tokens expire, or when the hub resubscribes", "user", uid)
}

// rankingChanged tells every server's hub to read the ranking again now
// (a template left it) rather than at its next periodic read.
func (s *Server) rankingChanged(ctx context.Context) {
	s.announce(ctx, moji.Event{Type: moji.EventRankingUpdated}, "live rankings catch up within 30 s")
}

// stopWorker tells the worker running deleted task t to stop now rather
// than at its next heartbeat.
func (s *Server) stopWorker(ctx context.Context, t *moji.Task) {
	s.announce(ctx, moji.Event{Type: moji.EventTaskDeleted, TaskID: t.ID, OwnerID: t.OwnerID},
		"its worker stops at its next heartbeat", "task", t.ID)
}

// deleteFiles deletes files a deletion put in the trash and takes each
// out of it. A slow or stalled store must not hold the request (an account
// may have thousands of files): what is not done in 10 s, or fails, is left
// to the workers' sweep.
func (s *Server) deleteFiles(ctx context.Context, keys ...string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, f := range s.db.DeleteFiles(ctx, s.blobs, 5*time.Second, keys...) {
		s.log.Warn("delete a file; the sweep will try again", "key", f.Key, "err", f.Err)
	}
}

// POST /api/v1/faces/tasks/{id}/share → {"share_url"}.
func (s *Server) handleShareTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.ownTask(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	slug, err := s.db.ShareTask(r.Context(), t.ID, newSlug())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"share_url": s.publicBase(r) + "/s/" + slug})
}

// DELETE /api/v1/faces/tasks/{id}/share: the link stops working.
func (s *Server) handleUnshareTask(w http.ResponseWriter, r *http.Request) {
	t, err := s.ownTask(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.db.UnshareTask(r.Context(), t.ID); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ownTask loads the task in the path if the caller may see it: its owner,
// or anyone holding the id of an anonymous task. Someone else's task is
// "not found", so ids cannot be probed.
func (s *Server) ownTask(r *http.Request) (*moji.Task, error) {
	id := chi.URLParam(r, "id")
	if !moji.ValidTaskID(id) {
		return nil, errNoTask
	}
	t, err := s.db.Task(r.Context(), id)
	if err != nil {
		if moji.ErrorCode(err) == moji.ENOTFOUND {
			return nil, errNoTask
		}
		return nil, err
	}
	if t.OwnerID != 0 {
		if u := userFrom(r.Context()); u == nil || u.ID != t.OwnerID {
			return nil, errNoTask
		}
	}
	return t, nil
}

var errNoTask = moji.Errorf(moji.ENOTFOUND, "No such task.")

// errNoTemplate is a mistake in the form, not a missing endpoint: 400.
var errNoTemplate = moji.Errorf(moji.EINVALID, "template_id: no such template; pick one from the gallery.")

func (s *Server) toTaskJSON(r *http.Request, t *moji.Task) taskJSON {
	c := *t
	if t.Result != nil {
		res := *t.Result
		res.ImageURL = s.signedResultURL(res.ImageKey)
		c.Result = &res
	}
	j := taskJSON{Task: &c}
	if t.ShareSlug != "" {
		j.ShareURL = s.publicBase(r) + "/s/" + t.ShareSlug
	}
	return j
}

// GET /api/v1/faces/ranking: templates by uses in the last 7 days.
func (s *Server) handleRanking(w http.ResponseWriter, r *http.Request) {
	items, err := s.ranking(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "window_days": int(RankingWindow / (24 * time.Hour))})
}

// rankJSON is a ranking row with the template as the API shows it.
type rankJSON struct {
	Rank     int          `json:"rank"`
	Uses     int          `json:"uses"`
	Template templateJSON `json:"template"`
}

// ranking reads the ranking from the database, the truth.
func (s *Server) ranking(ctx context.Context) ([]rankJSON, error) {
	items, err := s.db.Ranking(ctx, s.db.Now().Add(-RankingWindow), RankingSize)
	if err != nil {
		return nil, err
	}
	return toRankJSON(items), nil
}

// toRankJSON is the one shape of the ranking, polled and pushed.
func toRankJSON(items []moji.RankItem) []rankJSON {
	out := make([]rankJSON, len(items))
	for i, it := range items {
		out[i] = rankJSON{Rank: it.Rank, Uses: it.Uses, Template: toTemplateJSON(&it.Template)}
	}
	return out
}

// Result images are private: the API hands out links signed for an hour.
// Expiry is rounded up to the next hour so a page reloaded within the hour
// gets the same URL and the browser's cached copy.
func (s *Server) signedResultURL(key string) string {
	if key == "" {
		return ""
	}
	exp := s.db.Now().Add(resultURLTTL).Truncate(resultURLTTL).Add(resultURLTTL).Unix()
	e := strconv.FormatInt(exp, 10)
	return mediaURL(key) + "?exp=" + e + "&sig=" + s.sign(key, e)
}

func (s *Server) sign(key, exp string) string {
	m := hmac.New(sha256.New, s.mediaKey)
	m.Write([]byte(key + "\n" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkSigned verifies a signed result link.
func (s *Server) checkSigned(key string, r *http.Request) (time.Time, bool) {
	e, sig := r.URL.Query().Get("exp"), r.URL.Query().Get("sig")
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(s.sign(key, e))) {
		return time.Time{}, false
	}
	t := time.Unix(exp, 0)
	return t, s.db.Now().Before(t)
}

func resultKey(t *moji.Task) string {
	if t.Result == nil {
		return ""
	}
	return t.Result.ImageKey
}

// publicBase is the site's absolute URL: configured, or this request's.
func (s *Server) publicBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil || (s.cfg.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "https"
	}
	return scheme + "://" + safeHost(r.Host)
}

// safeHost is the request's Host if it is a plain host[:port]; anything
// else (net/http lets through ; ' and more) would otherwise land in share
// pages' links and their Content-Security-Policy, and in shared caches.
func safeHost(h string) string {
	host, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		host, port = h[:i], h[i+1:]
		if _, err := strconv.ParseUint(port, 10, 16); err != nil && port != "" {
			return "localhost"
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		// Zones (fe80::1%25eth0) included, if they are a plain
		// interface name: netip takes any bytes in one.
		a, err := netip.ParseAddr(strings.Replace(host[1:len(host)-1], "%25", "%", 1))
		if err != nil || !a.Is6() || !plainName(a.Zone()) {
			return "localhost"
		}
		return h
	}
	if host == "" || len(host) > 253 || !plainName(host) {
		return "localhost"
	}
	return h
}

// plainName reports whether s holds only letters, digits, '.', '-' and
// '_' (no DNS name has underscores, but compose service names do).
func plainName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newID is a task id: 128 random bits, hex.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newSlug is a share slug: 128 random bits, URL-safe base64 (22 chars).
func newSlug() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
