package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/igemoji/igemoji/shared/moji"
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

// error writes err as a JSON error. Anything that is not a *moji.Error is
// ours: it is logged with the request id and the client sees a generic 500.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		err = moji.Errorf(moji.EUNAVAILABLE, "The request took too long; please try again.")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		s.log.Debug("client went away", "path", r.URL.Path) // nobody to answer
		return
	}
	code := moji.ErrorCode(err)
	var me *moji.Error
	if !errors.As(err, &me) {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", middleware.GetReqID(r.Context()), "err", err)
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, moji.ErrorMessage(err)
	if code == moji.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="igemoji"`)
	}
	writeJSON(w, status, body)
}

// retryAfter is a rate-limit error that tells the client when to come back.
func (s *Server) retryAfter(w http.ResponseWriter, r *http.Request, secs int, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.error(w, r, moji.Errorf(moji.ERATELIMIT, "%s Try again in %d seconds.", msg, secs))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}

// decodeJSON reads a small JSON object into v, refusing unknown fields and
// trailing data, with errors a client can act on.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if rf := readFailure(err); rf != nil {
			return rf
		}
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
		case len(err.Error()) > 20 && err.Error()[:20] == "json: unknown field ":
			return moji.Errorf(moji.EINVALID, "Unknown field %s.", err.Error()[20:])
		default:
			return moji.Errorf(moji.EINVALID, "Request body must be a JSON object.")
		}
	}
	// Anything after the object, even a stray brace, is refused: a client
	// sending that meant something else.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if rf := readFailure(err); rf != nil {
			return rf
		}
		return moji.Errorf(moji.EINVALID, "Request body must hold one JSON object.")
	}
	return nil
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
