package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/igemoji/igemoji/shared/assets"
	"github.com/igemoji/igemoji/shared/builtin"
	"github.com/igemoji/igemoji/shared/compose"
	"github.com/igemoji/igemoji/shared/disk"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
	"github.com/igemoji/igemoji/shared/s3"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/worker/vision"
)

// visionFlags are the flags analyze, emojify and eval share.
type visionFlags struct {
	assets  string
	lib     string
	maxSide int
}

func (v *visionFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	def := getenv("IGEMOJI_ASSETS")
	if def == "" {
		def = "./.cache"
	}
	fs.StringVar(&v.assets, "assets", def, "assets folder made by make assets [IGEMOJI_ASSETS]")
	fs.StringVar(&v.lib, "onnxruntime", getenv("IGEMOJI_ONNXRUNTIME_LIB"), "onnxruntime library (default: the bundled one) [IGEMOJI_ONNXRUNTIME_LIB]")
	fs.IntVar(&v.maxSide, "max-side", 4096, "photos larger than this many pixels a side are scaled down first")
}

func (v *visionFlags) open() (*vision.Pipeline, error) {
	cfg := vision.DefaultConfig(v.assets)
	cfg.LibPath = v.lib
	return vision.Open(cfg)
}

// loadPhoto decodes a photo with the upload limits, orientation applied,
// capped to maxSide.
// Messages leave the path to the caller, which names the file.
func loadPhoto(path string, maxSide int) (image.Image, error) {
	ph, err := decodeFile(path, maxSide)
	return ph.Image, err
}

// decodeFile is loadPhoto keeping what else the decoder found (the colour
// profile, a half-size copy for the detector).
func decodeFile(path string, maxSide int) (picture.Photo, error) {
	f, err := openPhotoFile(path)
	if err != nil {
		return picture.Photo{}, err
	}
	defer f.Close()
	return picture.DecodePhoto(f, picture.PhotoLimits, maxSide)
}

// openPhotoFile opens a regular file to read, or says in a moji.Error why
// it cannot.
func openPhotoFile(path string) (*os.File, error) {
	// Stat first: opening a FIFO would wait for a writer for ever.
	st, err := os.Stat(path)
	if err != nil {
		return nil, fileError(err)
	}
	if !st.Mode().IsRegular() {
		return nil, moji.Errorf(moji.EINVALID, "not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(err)
	}
	return f, nil
}

// readPhotoFile reads a whole regular file (see openPhotoFile).
func readPhotoFile(path string) ([]byte, error) {
	f, err := openPhotoFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, picture.PhotoLimits.MaxBytes+1))
	if err != nil {
		return nil, fileError(err)
	}
	return data, nil
}

func fileError(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return moji.Errorf(moji.EFORBIDDEN, "%s", pathReason(err))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return moji.Errorf(moji.ENOTFOUND, "%s", pathReason(err))
	}
	return moji.Errorf(moji.EINVALID, "%s", pathReason(err))
}

// cliMessage is err as a command-line user should read it: a moji.Error's
// message, anything else in full (on the command line the user is the
// operator).
func cliMessage(err error) string {
	if moji.ErrorCode(err) == moji.EINTERNAL {
		return err.Error()
	}
	return moji.ErrorMessage(err)
}

// pathReason is an error about a file without the file's name.
func pathReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// check refuses a --max-side that would shrink a photo to nothing.
func (v *visionFlags) check() error {
	if v.maxSide < 256 || v.maxSide > 12000 {
		return usageError{fmt.Errorf("--max-side %d: want 256 to 12000 pixels", v.maxSide)}
	}
	return nil
}

type faceJSON struct {
	Box        [4]float64                  `json:"box"`
	Score      float64                     `json:"score"`
	Keypoints  [][2]float64                `json:"keypoints"`
	Roll       float64                     `json:"roll"`
	Expression moji.Expression             `json:"expression"`
	Probs      map[moji.Expression]float64 `json:"probs"`
}

type imageJSON struct {
	File   string     `json:"file"`
	Width  int        `json:"width,omitempty"`
	Height int        `json:"height,omitempty"`
	Faces  []faceJSON `json:"faces"`
	Error  *errJSON   `json:"error,omitempty"`
}

type errJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func round(v float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

// toFaceJSON writes f in the file's own pixels: k is the file's size over
// the size the photo was read at (above 1 where --max-side scaled it down).
func toFaceJSON(f vision.Face, k float64) faceJSON {
	j := faceJSON{Score: round(f.Score, 4), Roll: round(f.Roll, 4), Expression: f.Expression, Probs: map[moji.Expression]float64{},
		Keypoints: [][2]float64{}} // [] rather than null where no face was found
	for i, v := range f.Box {
		j.Box[i] = round(v*k, 1)
	}
	if f.Score > 0 {
		for _, p := range f.Keypoints {
			j.Keypoints = append(j.Keypoints, [2]float64{round(p.X*k, 1), round(p.Y*k, 1)})
		}
	}
	for e, p := range f.Probs.Map() {
		j.Probs[e] = round(p, 4)
	}
	return j
}

// analyze prints each image's faces; a failed file is reported and makes
// the exit status non-zero, the others still run.
func analyze(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("igemoji analyze", "igemoji analyze [--json] [--face-crop] IMAGE...",
		"Finds the faces in each IMAGE and reads their expressions: box, score, six keypoints,\n"+
			"roll (radians), expression and the seven probabilities. A file that fails is reported\n"+
			"and the others still run; the exit status is then 1.\n\n"+
			"  igemoji analyze --json group.jpg other.png")
	var vf visionFlags
	vf.register(fs, getenv)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	crop := fs.Bool("face-crop", false, "each image is one already-cropped face")
	if err := parseImageArgs(fs, args, "analyze", stdout); err != nil {
		return err
	}
	if err := vf.check(); err != nil {
		return err
	}
	p, err := vf.open()
	if err != nil {
		return err
	}
	defer p.Close()
	failed := 0
	out := &errWriter{w: stdout}
	enc := json.NewEncoder(out)
	for _, path := range fs.Args() {
		res := imageJSON{File: path, Faces: []faceJSON{}}
		err := func() error {
			ph, err := decodeFile(path, vf.maxSide)
			if err != nil {
				return err
			}
			img := ph.Image
			// Sizes and coordinates are the file's, also where the photo
			// was read scaled down to --max-side.
			res.Width, res.Height = ph.Full.X, ph.Full.Y
			k := float64(ph.Full.X) / float64(img.Bounds().Dx())
			if *crop {
				f, err := p.AnalyzeCrop(ctx, img)
				if err != nil {
					return err
				}
				res.Faces = append(res.Faces, toFaceJSON(f, k))
				return nil
			}
			faces, err := p.Analyze(ctx, img)
			for _, f := range faces {
				res.Faces = append(res.Faces, toFaceJSON(f, k))
			}
			return err
		}()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			res.Error = &errJSON{moji.ErrorCode(err), cliMessage(err)}
		}
		if *asJSON && res.Error != nil {
			// A failed file is its name and the error, nothing half-made.
			enc.Encode(struct {
				File  string   `json:"file"`
				Error *errJSON `json:"error"`
			}{res.File, res.Error})
		} else if *asJSON {
			enc.Encode(res)
		} else if res.Error != nil {
			fmt.Fprintf(stderr, "%s: %s\n", path, res.Error.Message)
		} else {
			printFaces(out, path, res)
		}
		if out.err != nil {
			return fmt.Errorf("analyze: write output: %w", out.err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("analyze: %d of %d file(s) failed", failed, fs.NArg())
	}
	return nil
}

func printFaces(w io.Writer, path string, res imageJSON) {
	fmt.Fprintf(w, "%s: %dx%d, %d face(s)\n", path, res.Width, res.Height, len(res.Faces))
	for i, f := range res.Faces {
		fmt.Fprintf(w, "  #%d box=%v score=%.2f roll=%.1f° %s (%.0f%%)\n", i+1, f.Box, f.Score,
			f.Roll*180/3.141592653589793, f.Expression, 100*f.Probs[f.Expression])
	}
}

// errWriter keeps the first write error, for a command to report (stdout
// may be a full disk or a closed pipe).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// emojify writes IMAGE with every face covered by the template's emoji.
func emojify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("igemoji emojify", "igemoji emojify [--template NAME|ID] -o OUT IMAGE",
		"Writes IMAGE to OUT (.jpg or .png) with every face covered by the template's emoji for\n"+
			"its expression. A photo with no faces is written unchanged.\n\n"+
			"  igemoji emojify --template noto-color -o party-emoji.jpg party.jpg")
	var vf visionFlags
	vf.register(fs, getenv)
	tmpl := fs.String("template", "fluent-flat", "template: a built-in name or key (fluent-flat, noto-color), or the id of a template in the service's database")
	dataDir := fs.String("data", envOr(getenv, "IGEMOJI_DATA", "./data"), "the service's data directory, for a template id [IGEMOJI_DATA]")
	dbURL := fs.String("database-url", getenv("IGEMOJI_DATABASE_URL"), "the service's database, for a template id (default: DATA/igemoji.db) [IGEMOJI_DATABASE_URL]")
	blobURL := fs.String("blob-url", getenv("IGEMOJI_BLOB_URL"), "the service's bucket, for a template id, if it keeps its files in one (default: DATA/blobs) [IGEMOJI_BLOB_URL]")
	out := fs.String("o", "", "output file (.jpg or .png)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return usagef(fs, "emojify: want one IMAGE and -o OUT (got %d image(s), -o %q)", fs.NArg(), *out)
	}
	if err := vf.check(); err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if ext != ".jpg" && ext != ".jpeg" && ext != ".png" {
		return usageError{fmt.Errorf("-o %s: name a .jpg, .jpeg or .png file", *out)}
	}
	var emoji map[moji.Expression]image.Image
	var err error
	if id, perr := strconv.ParseInt(*tmpl, 10, 64); perr == nil {
		if id < 1 {
			return usagef(fs, "emojify: --template %d: an id is a whole number from 1", id)
		}
		emoji, err = storedEmoji(ctx, *dataDir, *dbURL, *blobURL, getenv, id)
	} else {
		emoji, err = builtinEmoji(vf.assets, *tmpl)
	}
	if err != nil {
		return err
	}
	ph, err := decodeFile(fs.Arg(0), vf.maxSide)
	img := ph.Image
	if err != nil {
		return fmt.Errorf("%s: %s", fs.Arg(0), cliMessage(err))
	}
	f, err := createOut(*out, fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.abort()
	p, err := vf.open()
	if err != nil {
		return err
	}
	defer p.Close()
	start := time.Now()
	faces, _, err := p.AnalyzePhoto(ctx, ph, nil)
	if err != nil {
		return err
	}
	result := vision.Emojify(img, faces, emoji)
	_, err = picture.EncodeWithProfile(f, result, ext == ".png", ph.ICC)
	if err == nil {
		err = ctx.Err() // interrupted while encoding: keep the old file
	}
	if err == nil {
		err = f.commit()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *out, err)
	}
	// The status goes to stderr: stdout may be the picture (-o /dev/stdout
	// is refused, but a wrapper may pipe it).
	scaled := ""
	if b := result.Bounds(); b.Dx() != ph.Full.X || b.Dy() != ph.Full.Y {
		scaled = fmt.Sprintf(" at %dx%d (the photo is %dx%d; --max-side %d)", b.Dx(), b.Dy(), ph.Full.X, ph.Full.Y, vf.maxSide)
	}
	if len(faces) == 0 {
		fmt.Fprintf(stderr, "%s: no faces found; wrote the photo unchanged to %s%s\n", fs.Arg(0), *out, scaled)
		return nil
	}
	fmt.Fprintf(stderr, "%s: %d face(s) in %v; wrote %s%s\n", fs.Arg(0), len(faces), time.Since(start).Round(time.Millisecond), *out, scaled)
	return nil
}

// storedEmoji loads template id from the service's database and files.
func storedEmoji(ctx context.Context, dataDir, dbURL, blobURL string, getenv func(string) string, id int64) (map[moji.Expression]image.Image, error) {
	if dbURL == "" {
		dbURL = "sqlite:" + filepath.Join(dataDir, "igemoji.db")
		if _, err := os.Stat(filepath.Join(dataDir, "igemoji.db")); err != nil {
			return nil, fmt.Errorf("template %d: no database in %s (give --data or --database-url)", id, dataDir)
		}
	}
	db, err := store.OpenExisting(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("template %d: %w", id, err)
	}
	defer db.Close()
	t, err := db.TemplateByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("template %d: %s", id, moji.ErrorMessage(err))
	}
	var blobs moji.Blobs
	if blobURL != "" {
		cfg, err := s3.ParseURL(blobURL, getenv)
		if err != nil {
			return nil, usageError{err}
		}
		if blobs, err = s3.New(ctx, cfg); err != nil {
			return nil, err
		}
	} else if blobs, err = disk.New(filepath.Join(dataDir, "blobs")); err != nil {
		return nil, err
	}
	m := map[moji.Expression]image.Image{}
	for e, key := range t.Images {
		f, _, err := blobs.Open(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("template %d, %s: %s", id, e, moji.ErrorMessage(err))
		}
		img, _, err := picture.Decode(f, picture.Limits{})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("template %d, %s: %w", id, e, err)
		}
		m[e] = compose.Prepare(img)
	}
	return m, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// builtinEmoji loads a built-in template's images by key or name.
func builtinEmoji(assetsDir, name string) (map[moji.Expression]image.Image, error) {
	sets, err := builtin.ReadRendered(filepath.Join(assetsDir, assets.EmojiDir))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range sets {
		names = append(names, s.Key)
		if strings.EqualFold(s.Key, name) || strings.EqualFold(s.Name, name) {
			m := map[moji.Expression]image.Image{}
			for e, b := range s.PNG {
				img, _, err := picture.Decode(strings.NewReader(string(b)), picture.Limits{})
				if err != nil {
					return nil, fmt.Errorf("template %s, %s: %w", s.Key, e, err)
				}
				m[e] = compose.Prepare(img)
			}
			return m, nil
		}
	}
	return nil, usageError{fmt.Errorf("unknown template %q; built-in: %s", name, strings.Join(names, ", "))}
}

// parseImageArgs parses a command's flags and wants at least one IMAGE.
func parseImageArgs(fs *flag.FlagSet, args []string, cmd string, stdout io.Writer) error {
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef(fs, "%s: no image given", cmd)
	}
	return nil
}
