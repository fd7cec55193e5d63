package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/igemoji/igemoji/shared/builtin"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
)

// EmojiSize is the side of a stored template image.
const EmojiSize = 512

// templateLimits bound one uploaded template image: its bytes, and its
// dimensions as read from the header before any pixel is decoded.
var templateLimits = picture.Limits{MaxBytes: maxTemplateFile, MaxSide: 4096, MaxPixels: 4096 * 4096}

type templateJSON struct {
	ID           int64                      `json:"id"`
	Name         string                     `json:"name"`
	CreatorAlias string                     `json:"creator_alias"`
	Builtin      bool                       `json:"builtin"`
	CreatedAt    time.Time                  `json:"created_at"`
	Images       map[moji.Expression]string `json:"images"`
}

func toTemplateJSON(t *moji.Template) templateJSON {
	j := templateJSON{ID: t.ID, Name: t.Name, CreatorAlias: t.CreatorAlias, Builtin: t.Builtin,
		CreatedAt: t.CreatedAt, Images: make(map[moji.Expression]string, len(t.Images))}
	for e, key := range t.Images {
		j.Images[e] = mediaURL(key)
	}
	return j
}

func toTemplatePage(p *moji.Page[*moji.Template]) moji.Page[templateJSON] {
	out := moji.Page[templateJSON]{Items: make([]templateJSON, len(p.Items)), Page: p.Page, PageSize: p.PageSize, Total: p.Total}
	for i, t := range p.Items {
		out.Items[i] = toTemplateJSON(t)
	}
	return out
}

// POST /api/v1/emojis/: multipart with "name" and one file per class.
//
// Memory is bounded three times: the uploads semaphore caps how many bodies
// (up to 14 MB each) are held at once, the imaging one how many decodes
// run, and the decode budget shared with photos their pixels. All
// seven images are checked before any is stored, so a rejected upload
// leaves nothing behind.
func (s *Server) handleCreateTemplate(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if d := s.uploadLimit.Reserve(strconv.FormatInt(u.ID, 10)); d > 0 {
		s.retryAfter(w, r, seconds(d), "You are creating templates too fast.")
		return
	}
	t := &moji.Template{CreatorID: u.ID, CreatorAlias: u.Alias, Images: map[moji.Expression]string{}}
	pngs := map[moji.Expression][]byte{}
	err := s.withUpload(w, r, func() error {
		name, files, err := readTemplateForm(w, r)
		if err != nil {
			return err
		}
		t.Name = name
		return withSlot(r.Context(), s.imaging, func() error {
			for _, e := range moji.Expressions {
				png, err := s.normalizeEmoji(r.Context(), files[e])
				if err != nil {
					if me := (*moji.Error)(nil); errors.As(err, &me) && me.Code != moji.EUNAVAILABLE {
						return moji.Errorf(me.Code, "%s: %s", e, me.Message)
					}
					return err
				}
				pngs[e] = png
				files[e] = nil // let the upload go as soon as possible
			}
			return nil
		})
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	for _, e := range moji.Expressions {
		if t.Images[e], err = s.putPNG(r.Context(), moji.TemplateImagePrefix, pngs[e]); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if err := s.db.CreateTemplate(r.Context(), t, ""); err != nil {
		s.error(w, r, err)
		return
	}
	// A deletion of a template that showed one of the same pictures may
	// have deleted its file between the store and the insert (the insert
	// waited for it): stored again, now that the row keeps it.
	for _, e := range moji.Expressions {
		if _, err := s.putPNG(context.WithoutCancel(r.Context()), moji.TemplateImagePrefix, pngs[e]); err != nil {
			s.log.Warn("store a template image again", "template_id", t.ID, "err", err)
		}
	}
	s.log.Info("template created", "template_id", t.ID, "user_id", t.CreatorID)
	w.Header().Set("Location", "/api/v1/emojis/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, toTemplateJSON(t))
}

// readTemplateForm streams the multipart body, holding each part to its
// limit, so nothing larger than allowed is ever buffered.
func readTemplateForm(w http.ResponseWriter, r *http.Request) (string, map[moji.Expression][]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return "", nil, moji.Errorf(moji.EUNSUPPORTED, "Send the template as multipart/form-data.")
	}
	if err := limitBody(w, r, int64(maxTemplateBody)); err != nil {
		return "", nil, err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, moji.Errorf(moji.EINVALID, "Malformed multipart body.")
	}
	files := map[moji.Expression][]byte{}
	var name string
	var haveName bool
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, bodyError(err)
		}
		field := part.FormName()
		switch e, isClass := moji.ParseExpression(field); {
		case field == "name":
			if haveName {
				return "", nil, moji.Errorf(moji.EINVALID, "Field name is given twice.")
			}
			b, err := io.ReadAll(io.LimitReader(part, 1024))
			if err != nil {
				return "", nil, bodyError(err)
			}
			name, haveName = string(b), true
		case isClass:
			if _, dup := files[e]; dup {
				return "", nil, moji.Errorf(moji.EINVALID, "Field %s is given twice.", e)
			}
			b, err := io.ReadAll(io.LimitReader(part, maxTemplateFile+1))
			if err != nil {
				return "", nil, bodyError(err)
			}
			if len(b) > maxTemplateFile {
				return "", nil, moji.Errorf(moji.ETOOLARGE, "%s: file is larger than %d MB.", e, maxTemplateFile>>20)
			}
			files[e] = b
		default:
			return "", nil, moji.Errorf(moji.EINVALID, "Unexpected field %q; send name and the seven classes: %s.", trimField(field), classList())
		}
		part.Close()
	}
	if !haveName {
		return "", nil, moji.Errorf(moji.EINVALID, "Field name is required.")
	}
	name, err = cleanName(name)
	if err != nil {
		return "", nil, err
	}
	var missing []string
	for _, e := range moji.Expressions {
		if _, ok := files[e]; !ok {
			missing = append(missing, string(e))
		}
	}
	if len(missing) > 0 {
		return "", nil, moji.Errorf(moji.EINVALID, "Missing image for: %s.", strings.Join(missing, ", "))
	}
	return name, files, nil
}

func bodyError(err error) error {
	if rf := readFailure(err); rf != nil {
		return rf
	}
	return moji.Errorf(moji.EINVALID, "Malformed multipart body.")
}

func trimField(f string) string {
	if len(f) > 40 {
		return f[:40] + "…"
	}
	return f
}

func classList() string {
	s := make([]string, len(moji.Expressions))
	for i, e := range moji.Expressions {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

// normalizeEmoji checks and normalizes one uploaded image into PNG bytes,
// charging its decode to the decode budget shared with photos by what its
// header says the decode takes: a 100 KB file can claim a 128 MB 16-bit
// canvas.
func (s *Server) normalizeEmoji(ctx context.Context, data []byte) ([]byte, error) {
	h, err := picture.Probe(data, templateLimits)
	if err != nil {
		return nil, err
	}
	var png []byte
	err = s.photoPixels.run(ctx, h.DecodeBytes/4, func() (err error) {
		png, err = normalizeEmoji(data)
		return err
	})
	return png, err
}

func normalizeEmoji(data []byte) ([]byte, error) {
	// Capped at 4x the emoji's size first: the copies made to square it up
	// then take a sixteenth of a 4096-px image's memory, and an emoji that
	// fills a quarter of its canvas's side still keeps its full size.
	img, _, err := picture.DecodeCapped(bytes.NewReader(data), templateLimits, 4*EmojiSize)
	if err != nil {
		return nil, err
	}
	norm, err := picture.Emoji(img, EmojiSize)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := picture.EncodePNG(&buf, norm); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// putPNG stores a PNG under its content hash, so equal images share one
// file and a URL, once served, never changes meaning.
func (s *Server) putPNG(ctx context.Context, prefix string, png []byte) (string, error) {
	sum := sha256.Sum256(png)
	key := prefix + hex.EncodeToString(sum[:]) + ".png"
	if err := s.blobs.Put(ctx, key, png); err != nil {
		return "", fmt.Errorf("store image: %w", err)
	}
	return key, nil
}

// GET /api/v1/emojis/{id}
func (s *Server) handleGetTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	t, err := s.db.TemplateByID(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toTemplateJSON(t))
}

// GET /api/v1/emojis/pages/{page}; without a page, the first.
func (s *Server) handleTemplatePage(w http.ResponseWriter, r *http.Request) {
	page, err := pageParam(chi.URLParam(r, "page"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.db.Templates(r.Context(), page, PageSize)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toTemplatePage(p))
}

// DELETE /api/v1/emojis/{id}
func (s *Server) handleDeleteTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	keys, err := s.db.DeleteTemplate(r.Context(), id, userFrom(r.Context()).ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.rankingChanged(context.WithoutCancel(r.Context()))
	s.deleteFiles(context.WithoutCancel(r.Context()), keys...)
	s.log.Info("template deleted", "template_id", id, "user_id", userFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}

// idParam is a template id as written in its links: /emojis/01 and
// /emojis/+1 name nothing (one page, one address).
func idParam(r *http.Request, name string) (int64, error) {
	raw := chi.URLParam(r, name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 || strconv.FormatInt(id, 10) != raw {
		return 0, moji.Errorf(moji.ENOTFOUND, "Template not found.")
	}
	return id, nil
}

// SeedBuiltins stores each built-in set that is not yet in the database.
// Safe to run on every start and from several instances at once.
func (s *Server) SeedBuiltins(ctx context.Context, sets []builtin.Rendered) error {
	for _, set := range sets {
		if ok, err := s.db.BuiltinExists(ctx, set.Key); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		t := &moji.Template{Name: set.Name, Images: map[moji.Expression]string{}}
		for _, e := range moji.Expressions {
			key, err := s.putPNG(ctx, moji.TemplateImagePrefix, set.PNG[e])
			if err != nil {
				return err
			}
			t.Images[e] = key
		}
		if err := s.db.CreateTemplate(ctx, t, set.Key); err != nil && moji.ErrorCode(err) != moji.ECONFLICT {
			return fmt.Errorf("seed %q: %w", set.Name, err)
		}
		s.log.Info("seeded built-in template", "name", set.Name, "template_id", t.ID)
	}
	return nil
}

// BuiltinsMissing reports whether any built-in template still needs seeding,
// so that the emoji sets are only rasterized when needed.
func (s *Server) BuiltinsMissing(ctx context.Context, keys []string) (bool, error) {
	for _, k := range keys {
		ok, err := s.db.BuiltinExists(ctx, k)
		if err != nil || !ok {
			return err == nil, err
		}
	}
	return false, nil
}
