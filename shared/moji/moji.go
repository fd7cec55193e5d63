// Package moji holds IGE MOJI's domain: expressions, users, emoji templates
// and the error type every layer speaks. It imports only the standard
// library so that the server, the worker and the WASM client can all share it.
package moji

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Expression is one of the seven facial expression classes.
type Expression string

// The seven classes, in the order used everywhere (API, templates, models).
const (
	Neutral   Expression = "neutral"
	Happy     Expression = "happy"
	Sad       Expression = "sad"
	Angry     Expression = "angry"
	Surprised Expression = "surprised"
	Fearful   Expression = "fearful"
	Disgusted Expression = "disgusted"
)

// Expressions lists the classes in canonical order.
var Expressions = [7]Expression{Neutral, Happy, Sad, Angry, Surprised, Fearful, Disgusted}

// ParseExpression returns the class named s, or false.
func ParseExpression(s string) (Expression, bool) {
	for _, e := range Expressions {
		if string(e) == s {
			return e, true
		}
	}
	return "", false
}

// User is an account. PasswordHash never leaves the server.
type User struct {
	ID           int64  `json:"id"`
	Email        string `json:"email"`
	Alias        string `json:"alias"`
	PasswordHash []byte `json:"-"`
	// PasswordVersion counts the password's changes; a token counts only
	// while the version it was issued under holds.
	PasswordVersion int64     `json:"-"`
	CreatedAt       time.Time `json:"created_at"`
}

// Template is an emoji template: a named set of seven images, one per class.
// Images maps each class to the key of its stored PNG.
type Template struct {
	ID           int64                 `json:"id"`
	Name         string                `json:"name"`
	CreatorID    int64                 `json:"-"` // 0 for built-in templates
	CreatorAlias string                `json:"creator_alias"`
	Builtin      bool                  `json:"builtin"`
	CreatedAt    time.Time             `json:"created_at"`
	DeletedAt    *time.Time            `json:"-"`
	Images       map[Expression]string `json:"-"`
}

// Page is one page of a newest-first listing.
type Page[T any] struct {
	Items    []T `json:"items"`
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
	Total    int `json:"total"`
}

// Error codes. Each maps to one HTTP status in the server.
const (
	EINVALID      = "invalid"            // bad input: 400
	EUNAUTHORIZED = "unauthorized"       // no or bad credentials: 401
	EFORBIDDEN    = "forbidden"          // authenticated but not allowed: 403
	ENOTFOUND     = "not_found"          // 404
	ECONFLICT     = "conflict"           // uniqueness violated: 409
	ETOOLARGE     = "too_large"          // request or file too big: 413
	EUNSUPPORTED  = "unsupported_media"  // not an accepted file type: 415
	ERATELIMIT    = "rate_limited"       // slow down: 429
	EINTERNAL     = "internal"           // our fault: 500; details are logged, never shown
	EUNAVAILABLE  = "unavailable"        // a dependency is down: 503
	EMETHOD       = "method_not_allowed" // 405
	ETIMEOUT      = "timeout"            // the request body stopped arriving: 408
)

// Error is an error a person can act on. Code is machine-readable; Message is
// safe to show to clients.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("moji error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := asError(err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of an *Error in err's chain,
// or a generic message for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := asError(err); ok {
		return e.Message
	}
	return "Internal error."
}

// TemplateImagePrefix begins the key of every template image (stored by
// content, so that templates may share one).
const TemplateImagePrefix = "t/"

// blobKeyRE admits only keys the application makes (prefix/name.ext), so
// a key can never climb out of a directory or a bucket's prefix, nor be
// longer than a file name or an object key may be.
var blobKeyRE = regexp.MustCompile(`^[a-z0-9]{1,16}(/[a-z0-9]{1,16}){0,2}/[A-Za-z0-9_-]{8,128}\.(png|jpg|webp)$`)

// ValidBlobKey reports whether key is a well-formed blob key.
func ValidBlobKey(key string) bool { return blobKeyRE.MatchString(key) }

// Blobs stores files (template images, later photos and results) by key.
// Keys are slash-separated and chosen by the caller; the disk adapter keeps
// them under the data directory, another may keep them in object storage.
type Blobs interface {
	// Put stores data under key, atomically: readers see all of it or none.
	Put(ctx context.Context, key string, data []byte) error
	// Open returns the blob's content and size, or an ENOTFOUND *Error.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
}
