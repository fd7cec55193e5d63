package server

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

type userJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Alias     string    `json:"alias"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserJSON(u *moji.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Alias: u.Alias, CreatedAt: u.CreatedAt}
}

// clientAddr is the client's address for rate limiting: the connection's
// peer (or what our proxy reported, with trust-proxy). IPv6 clients are
// grouped by /64, since one host commonly holds a whole /64.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// slotWait is how long a request waits for a CPU-heavy slot before the
// server answers that it is busy.
const slotWait = 10 * time.Second

// withSlot runs fn holding one of sem's slots, giving up when the client
// does or when no slot frees up in time.
func withSlot(ctx context.Context, sem chan struct{}, fn func() error) error {
	t := time.NewTimer(slotWait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return moji.Errorf(moji.EUNAVAILABLE, "The server is busy; please try again shortly.")
	}
	defer func() { <-sem }()
	return fn()
}

// GET /api/v1/users/?case=email|alias&value=...
func (s *Server) handleUserTaken(w http.ResponseWriter, r *http.Request) {
	if d := s.lookupLimit.Reserve(clientAddr(r)); d > 0 {
		s.retryAfter(w, r, seconds(d), "Too many look-ups from your address.")
		return
	}
	q, err := query(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	value := q.Get("value")
	var taken bool
	switch q.Get("case") {
	case "email":
		// Whether an email has an account is worth more to a harvester
		// than an alias: as few answers per address as a sign-up gets.
		if d := s.emailLookupLimit.Reserve(clientAddr(r)); d > 0 {
			s.lookupLimit.Undo(clientAddr(r))
			s.retryAfter(w, r, seconds(d), "Too many look-ups from your address.")
			return
		}
		if value, err = cleanEmail(value); err == nil {
			taken, err = s.db.EmailTaken(r.Context(), value)
		}
	case "alias":
		if value, err = cleanAlias(value); err == nil {
			taken, err = s.db.AliasTaken(r.Context(), value)
		}
	default:
		err = moji.Errorf(moji.EINVALID, "Query parameter case must be email or alias.")
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"taken": taken})
}

// POST /api/v1/users/
func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Alias    string `json:"alias"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	email, err := cleanEmail(in.Email)
	if err != nil {
		s.error(w, r, err)
		return
	}
	alias, err := cleanAlias(in.Alias)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := checkPassword(in.Password); err != nil {
		s.error(w, r, err)
		return
	}
	if d := s.signupLimit.Reserve(clientAddr(r)); d > 0 {
		s.retryAfter(w, r, seconds(d), "Too many sign-ups from your address.")
		return
	}
	// Saying that an email is taken is a look-up too: counted as one, or
	// sign-ups would answer what look-ups refuse.
	if d := s.emailLookupLimit.Reserve(clientAddr(r)); d > 0 {
		s.retryAfter(w, r, seconds(d), "Too many sign-ups from your address.")
		return
	}
	// Refuse taken names before spending a bcrypt hash on them; the unique
	// constraints still decide a race between two sign-ups.
	if taken, err := s.db.EmailTaken(r.Context(), email); err != nil || taken {
		if err == nil {
			err = moji.Errorf(moji.ECONFLICT, "This email is already registered.")
		}
		s.error(w, r, err)
		return
	}
	if taken, err := s.db.AliasTaken(r.Context(), alias); err != nil || taken {
		if err == nil {
			err = store.AliasTakenError()
		}
		s.error(w, r, err)
		return
	}
	hash, err := s.hashPassword(r.Context(), in.Password)
	if err != nil {
		s.error(w, r, err)
		return
	}
	u := &moji.User{Email: email, Alias: alias, PasswordHash: hash}
	if err := s.db.CreateUser(r.Context(), u); err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("user signed up", "user_id", u.ID)
	w.Header().Set("Location", "/api/v1/users/me")
	writeJSON(w, http.StatusCreated, toUserJSON(u))
}

// POST /api/v1/users/auth
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	if in.Email == "" || in.Password == "" {
		s.error(w, r, moji.Errorf(moji.EINVALID, "Email and password are required."))
		return
	}
	failed := moji.Errorf(moji.EUNAUTHORIZED, "Email or password is incorrect.")
	if len(in.Email) > maxEmailLen || len(norm.NFC.String(in.Password)) > maxPasswordLen {
		s.error(w, r, failed) // no account has such an email or password
		return
	}
	attempts := s.loginAttempts(r, in.Email)
	if !s.guess(w, r, "Too many failed log-ins.", attempts...) {
		return
	}
	u, err := s.db.UserByEmail(r.Context(), in.Email)
	if err != nil && moji.ErrorCode(err) != moji.ENOTFOUND {
		s.error(w, r, err)
		return
	}
	hash := s.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	match, rehash, err := s.passwordMatches(r.Context(), hash, in.Password)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if u == nil || !match {
		s.error(w, r, failed)
		return
	}
	rightGuess(attempts...)
	if rehash {
		s.rehashPassword(r.Context(), u, in.Password)
	}
	s.writeAuth(w, r, u)
}

// rehashPassword hashes u's password afresh (see passwordMatches), for
// the next log-in; a failure only leaves the old hash in place.
func (s *Server) rehashPassword(ctx context.Context, u *moji.User, password string) {
	hash, err := s.hashPassword(ctx, password)
	if err == nil {
		_, err = s.db.RehashPassword(ctx, u.ID, u.PasswordHash, hash)
	}
	if err != nil {
		s.log.Warn("rehash a password", "user", u.ID, "err", err)
	}
}

// writeAuth answers with a fresh access token for u.
func (s *Server) writeAuth(w http.ResponseWriter, r *http.Request, u *moji.User) {
	tok, ttl, err := s.tokens.Issue(u)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(ttl.Seconds()),
		"user":         toUserJSON(u),
	})
}

// PUT /api/v1/users/me/password {"current_password","new_password"}: the
// current password is asked again (counted like log-ins); every token
// issued before the change stops working, and the answer carries a new one,
// as a log-in does, so that this session goes on.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	if in.Current == "" {
		s.error(w, r, moji.Errorf(moji.EINVALID, "Enter your current password."))
		return
	}
	if err := checkPassword(in.New); err != nil {
		s.error(w, r, err)
		return
	}
	u := userFrom(r.Context())
	if !s.confirmPassword(w, r, u, in.Current, "The current password is incorrect.") {
		return
	}
	hash, err := s.hashPassword(r.Context(), in.New)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if u.PasswordVersion, err = s.db.SetPassword(r.Context(), u.ID, u.PasswordVersion, hash); err != nil {
		s.error(w, r, err)
		return
	}
	s.endSessions(context.WithoutCancel(r.Context()), u.ID, u.PasswordVersion)
	s.log.Info("password changed", "user", u.ID)
	s.writeAuth(w, r, u)
}

// hashPassword hashes a new password, in its NFC form (the same password
// typed on another device may come composed otherwise), in one of the
// hashing slots.
func (s *Server) hashPassword(ctx context.Context, password string) ([]byte, error) {
	var hash []byte
	err := withSlot(ctx, s.hashing, func() (err error) {
		hash, err = bcrypt.GenerateFromPassword([]byte(norm.NFC.String(password)), s.cfg.BcryptCost)
		return err
	})
	return hash, err
}

// DELETE /api/v1/users/me {"password"}: the account, its tasks and their
// pictures, and its templates (gone from the gallery; results made with
// them stay). The password is asked again, as for a log-in, and counts
// towards the same limits.
func (s *Server) handleDeleteAccount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	if in.Password == "" {
		s.error(w, r, moji.Errorf(moji.EINVALID, "Enter your password to delete your account."))
		return
	}
	u := userFrom(r.Context())
	if !s.confirmPassword(w, r, u, in.Password, "The password is incorrect.") {
		return
	}
	live, keys, err := s.db.DeleteUser(r.Context(), u.ID, u.PasswordVersion)
	if moji.ErrorCode(err) == moji.ENOTFOUND { // deleted by another request meanwhile
		err = moji.Errorf(moji.EUNAUTHORIZED, "This account no longer exists.")
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx := context.WithoutCancel(r.Context())
	s.endSessions(ctx, u.ID, -1)
	s.rankingChanged(ctx) // its templates, if any, left it
	for _, t := range live {
		s.stopWorker(ctx, t)
	}
	s.deleteFiles(ctx, keys...)
	s.log.Info("account deleted", "user", u.ID, "tasks_running", len(live), "files", len(keys))
	w.WriteHeader(http.StatusNoContent)
}

// attempt is one count of a password guess in a Limiter.
type attempt struct {
	l   *Limiter
	key string
	// forget: a right password forgets the key, rather than taking back
	// this one attempt.
	forget bool
}

// loginAttempts are what a log-in as email counts against: the client's
// address (20 free), the account from that address (5 free), and the
// account from anywhere (50 free; all remembered for a day). A guesser
// from one address locks only that address out of the account: the
// account-wide lock, which also holds the right password back, takes
// guessing from many addresses, or from one for days.
func (s *Server) loginAttempts(r *http.Request, email string) []attempt {
	addr, acct := clientAddr(r), store.Key(email)
	return []attempt{{s.addrLimit, addr, false}, {s.pairLimit, acct + "\x00" + addr, true}, {s.accountLimit, acct, false}}
}

// guess counts a password guess against each attempt's key before
// hashing, so that parallel guesses count too. It answers 429 with msg,
// and reports false, while any key is locked (counting nothing then).
func (s *Server) guess(w http.ResponseWriter, r *http.Request, msg string, attempts ...attempt) bool {
	for i, a := range attempts {
		if d := a.l.Reserve(a.key); d > 0 {
			for _, b := range attempts[:i] {
				b.l.Undo(b.key)
			}
			s.retryAfter(w, r, seconds(d), msg)
			return false
		}
	}
	return true
}

// rightGuess takes back what guess counted: the password was right.
func rightGuess(attempts ...attempt) {
	for _, a := range attempts {
		if a.forget {
			a.l.Reset(a.key)
		} else {
			a.l.Undo(a.key)
		}
	}
}

// confirmPassword checks the logged-in user's password once more before a
// change to the account, counted like a log-in; it answers the request
// itself (403 with wrongMsg, 429, …) and reports false when it is not
// confirmed.
func (s *Server) confirmPassword(w http.ResponseWriter, r *http.Request, u *moji.User, password, wrongMsg string) bool {
	wrong := moji.Errorf(moji.EFORBIDDEN, "%s", wrongMsg)
	if len(norm.NFC.String(password)) > maxPasswordLen { // measured as sign-up does
		s.error(w, r, wrong)
		return false
	}
	// Counted per account and address, as a log-in, but under keys of
	// their own: only someone holding the account's token can drive
	// them, so failed log-ins by others do not lock its owner out of
	// changing the password.
	attempts := []attempt{{s.addrLimit, clientAddr(r), false}, {s.pairLimit, "confirm:" + strconv.FormatInt(u.ID, 10), true}}
	if !s.guess(w, r, "Too many wrong passwords.", attempts...) {
		return false
	}
	match, _, err := s.passwordMatches(r.Context(), u.PasswordHash, password)
	if err != nil {
		s.error(w, r, err)
		return false
	}
	if !match {
		s.error(w, r, wrong)
		return false
	}
	rightGuess(attempts...)
	return true
}

// passwordMatches compares password with hash, in one of the hashing
// slots: in its NFC form (see hashPassword), and as sent when that
// differs, for hashes made before passwords were normalized. rehash
// reports a match that should be hashed afresh: as sent, or at another
// cost than the configured one (which would also make its log-ins' timing
// differ from an unknown email's).
func (s *Server) passwordMatches(ctx context.Context, hash []byte, password string) (match, rehash bool, err error) {
	err = withSlot(ctx, s.hashing, func() error {
		nfc := norm.NFC.String(password)
		match = bcrypt.CompareHashAndPassword(hash, []byte(nfc)) == nil
		if !match && nfc != password {
			match = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
			rehash = match
		}
		return nil
	})
	if cost, cerr := bcrypt.Cost(hash); match && cerr == nil && cost != s.cfg.BcryptCost {
		rehash = true
	}
	return match, rehash, err
}

// GET /api/v1/users/me
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, toUserJSON(userFrom(r.Context())))
}

// GET /api/v1/users/mypage/{case}: the seed's 1 and 2 are kept as aliases.
func (s *Server) handleMyPage(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page, err := pageParam(q.Get("page"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	switch chi.URLParam(r, "case") {
	case "templates", "2":
		p, err := s.db.TemplatesByCreator(r.Context(), userFrom(r.Context()).ID, page, PageSize)
		if err != nil {
			s.error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toTemplatePage(p))
	case "results", "1":
		p, err := s.db.UserResults(r.Context(), userFrom(r.Context()).ID, page, PageSize)
		if err != nil {
			s.error(w, r, err)
			return
		}
		out := moji.Page[taskJSON]{Items: make([]taskJSON, len(p.Items)), Page: p.Page, PageSize: p.PageSize, Total: p.Total}
		for i, t := range p.Items {
			out.Items[i] = s.toTaskJSON(r, t)
		}
		writeJSON(w, http.StatusOK, out)
	default:
		s.error(w, r, moji.Errorf(moji.ENOTFOUND, "My page has: results (or 1) and templates (or 2)."))
	}
}

// pageParam parses an optional 1-based page number.
func pageParam(s string) (int, error) {
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 || strconv.Itoa(n) != s {
		return 0, moji.Errorf(moji.EINVALID, "Page must be a whole number from 1.")
	}
	return n, nil
}

func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }
