package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

// statusOf is the one place error codes become HTTP statuses.
var statusOf = map[string]int{
	moji.EINVALID:      http.StatusBadRequest,
	moji.EUNAUTHORIZED: http.StatusUnauthorized,
	moji.EFORBIDDEN:    http.StatusForbidden,
	moji.ENOTFOUND:     http.StatusNotFound,
	moji.EMETHOD:       http.StatusMethodNotAllowed,
	moji.ECONFLICT:     http.StatusConflict,
	moji.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	moji.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	moji.ERATELIMIT:    http.StatusTooManyRequests,
	moji.EINTERNAL:     http.StatusInternalServerError,
	moji.EUNAVAILABLE:  http.StatusServiceUnavailable,
	moji.ETIMEOUT:      http.StatusRequestTimeout,
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// error writes err as a JSON error.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg, ok := s.resolve(r, err)
	if !ok {
		return
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, msg
	switch code {
	case moji.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="igemoji"`)
	case moji.EUNAVAILABLE: // busy or a dependency away: both pass soon
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "5")
		}
	}
	writeJSON(w, status, body)
}

// resolve turns err into what the client is told: a status, an error code
// and a message; ok is false when nobody is left to answer. Anything that
// is not a *moji.Error is ours: it is logged with the request id and the
// client sees a generic 500.
func (s *Server) resolve(r *http.Request, err error) (status int, code, msg string, ok bool) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		err = moji.Errorf(moji.EUNAVAILABLE, "The request took too long; please try again.")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		s.log.Debug("client went away", "path", r.URL.Path) // nobody to answer
		return 0, "", "", false
	case store.Unreachable(err):
		// An outage, not a bug: 503 tells clients and balancers to retry.
		s.log.Warn("request failed: a dependency is out of reach", "method", r.Method, "path", r.URL.Path,
			"request_id", middleware.GetReqID(r.Context()), "err", err)
		err = moji.Errorf(moji.EUNAVAILABLE, "The service is briefly unavailable; please try again.")
	}
	code = moji.ErrorCode(err)
	var me *moji.Error
	if !errors.As(err, &me) {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", middleware.GetReqID(r.Context()), "err", err)
	}
	status, found := statusOf[code]
	if !found {
		status = http.StatusInternalServerError
	}
	return status, code, moji.ErrorMessage(err), true
}

// retryAfter is a rate-limit error that tells the client when to come back.
func (s *Server) retryAfter(w http.ResponseWriter, r *http.Request, secs int, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	s.error(w, r, moji.Errorf(moji.ERATELIMIT, "%s Try again in %d %s.", msg, secs, unit))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}

// decodeJSON reads a small JSON object into v, refusing unknown fields and
// trailing data, with errors a client can act on. It is stricter than
// encoding/json, which would match "EMAIL" to email, let a repeated key
// win silently and turn invalid UTF-8 into U+FFFD: a password sent that
// way would not be the one the client meant.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := jsonBody(r); err != nil {
		return err
	}
	if err := limitBody(w, r, maxJSONBody); err != nil {
		return err
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		if rf := readFailure(err); rf != nil {
			return rf
		}
		// The client stopped sending mid-body (or went away).
		return moji.Errorf(moji.EINVALID, "The request body could not be read to its end.")
	}
	if !utf8.Valid(data) {
		return moji.Errorf(moji.EINVALID, "Request body is not valid UTF-8.")
	}
	// null, [] or "x" would decode into v as nothing, and be told that
	// its fields are missing.
	if b := bytes.TrimLeft(data, " \t\r\n"); len(b) > 0 && b[0] != '{' {
		return moji.Errorf(moji.EINVALID, "Request body must be a JSON object.")
	}
	// Unknown keys are left to checkKeys, which also sees their spelling.
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return moji.Errorf(moji.EINVALID, "Request body is empty; send a JSON object.")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return moji.Errorf(moji.EINVALID, "Request body is not valid JSON (it ends too early).")
		case errors.As(err, &te) && te.Field != "":
			return moji.Errorf(moji.EINVALID, "Field %q has the wrong type.", te.Field)
		case errors.As(err, &se):
			return moji.Errorf(moji.EINVALID, "Request body is not valid JSON (at byte %d).", se.Offset)
		default:
			return moji.Errorf(moji.EINVALID, "Request body must be a JSON object.")
		}
	}
	// Anything after the object, even a stray brace, is refused: a client
	// sending that meant something else.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return moji.Errorf(moji.EINVALID, "Request body must hold one JSON object.")
	}
	if err := checkKeys(data, fieldNames(v)); err != nil {
		return err
	}
	return checkText(v)
}

// checkText refuses a decoded string holding U+FFFD: encoding/json puts it
// in for an escaped lone surrogate ("\udcff"), which is no character, and a
// password read that way would match others.
func checkText(v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.String && strings.ContainsRune(f.String(), utf8.RuneError) {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			return moji.Errorf(moji.EINVALID, "Field %q holds a character that is not valid.", name)
		}
	}
	return nil
}

// checkKeys refuses an object whose keys are not spelled exactly as the
// fields are, or that repeats one. data is known to be one valid object.
func checkKeys(data []byte, fields map[string]bool) error {
	if fields == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return moji.Errorf(moji.EINVALID, "Request body must be a JSON object.")
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return moji.Errorf(moji.EINVALID, "Request body must be a JSON object.")
		}
		switch {
		case !fields[key]:
			return moji.Errorf(moji.EINVALID, "Unknown field %q.", trimField(key))
		case seen[key]:
			return moji.Errorf(moji.EINVALID, "Field %q is given more than once.", key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return moji.Errorf(moji.EINVALID, "Request body must be a JSON object.")
		}
	}
	return nil
}

// fieldNames is the set of JSON names of the struct v points to: request
// bodies here are flat objects (no embedded structs; nested objects' keys
// are not checked). Nil for anything else, which checkKeys then skips.
func fieldNames(v any) map[string]bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "":
			names[f.Name] = true
		default:
			names[name] = true
		}
	}
	return names
}

// limitBody holds r's body to max bytes, refusing at once one whose
// declared length is already over (rather than reading it first).
func limitBody(w http.ResponseWriter, r *http.Request, max int64) error {
	if r.ContentLength > max {
		return readFailure(&http.MaxBytesError{Limit: max})
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	return nil
}

// jsonBody refuses a body that says it is something else than JSON: a
// compressed one, or a form, XML, … Form-urlencoded and text/plain pass,
// as what curl -d and a plain fetch send.
func jsonBody(r *http.Request) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return moji.Errorf(moji.EUNSUPPORTED, "Send the body uncompressed (no Content-Encoding).")
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mt == "application/json" || strings.HasSuffix(mt, "+json"),
		mt == "text/plain", mt == "application/x-www-form-urlencoded":
		return nil
	}
	return moji.Errorf(moji.EUNSUPPORTED, "Send the body as JSON (Content-Type: application/json).")
}

// readFailure is the client's error when reading a request body failed for
// the body's own reasons (too large, stopped arriving); nil for others.
func readFailure(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) && mbe.Limit%(1<<20) == 0:
		return moji.Errorf(moji.ETOOLARGE, "Request body is larger than %d MB.", mbe.Limit>>20)
	case errors.As(err, &mbe):
		return moji.Errorf(moji.ETOOLARGE, "Request body is larger than %d bytes.", mbe.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errBodyTimeout
	}
	return nil
}
