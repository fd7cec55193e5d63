package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

const issuer = "igemoji"

// Tokens issues and verifies signed, expiring access tokens (JWT, HS256).
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewTokens returns tokens signed with secret that live for ttl.
func NewTokens(secret []byte, ttl time.Duration) *Tokens {
	return &Tokens{secret: secret, ttl: ttl, now: time.Now}
}

// tokenClaims are a token's registered claims and the version of the
// password it was issued under (moji.User.PasswordVersion), so that a
// change ends older sessions.
type tokenClaims struct {
	jwt.RegisteredClaims
	Password int64 `json:"pwd,omitempty"`
}

// Issue returns a token for u and its lifetime.
func (t *Tokens) Issue(u *moji.User) (string, time.Duration, error) {
	now := t.now()
	jti := make([]byte, 16)
	rand.Read(jti)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        hex.EncodeToString(jti),
		},
		Password: u.PasswordVersion,
	})
	s, err := tok.SignedString(t.secret)
	return s, t.ttl, err
}

// Claims is what a verified token says.
type Claims struct {
	UserID   int64
	Expires  time.Time
	Password int64 // see tokenClaims
}

// Verify checks a token's signature, algorithm, issuer and expiry and
// returns its claims. Every failure is EUNAUTHORIZED; an expired token
// says so, so that clients can ask the person to log in again.
func (t *Tokens) Verify(s string) (Claims, error) {
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(s, &claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		// Instances' clocks differ a little; a token fresh from one must
		// not be "issued in the future" on another.
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(t.now),
	)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return Claims{}, moji.Errorf(moji.EUNAUTHORIZED, "Your session has expired; please log in again.")
	}
	if err != nil || claims.IssuedAt == nil || claims.ExpiresAt == nil {
		return Claims{}, moji.Errorf(moji.EUNAUTHORIZED, "Invalid access token.")
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return Claims{}, moji.Errorf(moji.EUNAUTHORIZED, "Invalid access token.")
	}
	return Claims{UserID: id, Expires: claims.ExpiresAt.Time, Password: claims.Password}, nil
}

// session resolves a token to its user: verified, the account still there,
// and issued under its current password (a change ends the sessions a
// thief may hold).
func (s *Server) session(ctx context.Context, tok string) (*moji.User, Claims, error) {
	c, err := s.tokens.Verify(tok)
	if err != nil {
		return nil, Claims{}, err
	}
	u, err := s.db.UserByID(ctx, c.UserID)
	if moji.ErrorCode(err) == moji.ENOTFOUND {
		return nil, Claims{}, moji.Errorf(moji.EUNAUTHORIZED, "This account no longer exists.")
	} else if err != nil {
		return nil, Claims{}, err
	}
	if c.Password != u.PasswordVersion {
		return nil, Claims{}, store.ErrStaleSession
	}
	return u, c, nil
}

type ctxKey int

const userKey ctxKey = iota

// userFrom returns the authenticated user of the request, or nil.
func userFrom(ctx context.Context) *moji.User {
	u, _ := ctx.Value(userKey).(*moji.User)
	return u
}

// authenticate resolves a Bearer token, when one is sent, to its user. A bad
// token is refused even on public routes: silently treating it as anonymous
// would hide an expired session from the client.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		tok, err := bearerToken(h)
		if err != nil {
			s.error(w, r, err)
			return
		}
		u, _, err := s.session(r.Context(), tok)
		if err != nil {
			s.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, u)))
	})
}

// bearerToken is the token of an Authorization header.
func bearerToken(h string) (string, error) {
	scheme, tok, ok := strings.Cut(h, " ")
	if tok = strings.TrimSpace(tok); !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", moji.Errorf(moji.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\".")
	}
	return tok, nil
}

// requireUser refuses anonymous requests.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if userFrom(r.Context()) == nil {
			s.error(w, r, moji.Errorf(moji.EUNAUTHORIZED, "Please log in first."))
			return
		}
		next.ServeHTTP(w, r)
	})
}
