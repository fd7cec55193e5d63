// Package vision is the worker's pipeline: find every face, read its
// expression, and paste the template's matching emoji.
package vision

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/igemoji/igemoji/shared/assets"
	"github.com/igemoji/igemoji/shared/compose"
	"github.com/igemoji/igemoji/shared/expr"
	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
	"github.com/igemoji/igemoji/worker/classify"
	"github.com/igemoji/igemoji/worker/detect"
	"github.com/igemoji/igemoji/worker/onnx"
)

// Config locates the models and tunes the pipeline.
type Config struct {
	AssetsDir string // `make assets` output
	LibPath   string // onnxruntime library; default: the bundled one in AssetsDir
	// CropScale is the side of the square read by the expression models,
	// as a multiple of the detector's box width.
	CropScale float64
	// ExtraScales, when set, are further crop scales read and averaged
	// with CropScale (test-time multi-scale averaging).
	ExtraScales []float64
	// Flip averages each model over the face and its mirror image.
	Flip bool
	// Threads per onnxruntime session (0: all CPUs).
	Threads int
	// Weights of mini-Xception and face-api in the average (both 1 by
	// default; 0 leaves a model out, for evaluation).
	EmotionWeight, FaceAPIWeight float64
	// WholeWeight, in --face-crop mode, blends in a reading of the whole
	// picture beside the aligned crop of the face found in it.
	WholeWeight float64
	// Align reads each face's 68 landmarks (face-api's landmark model, one
	// more model run a face) and crops the expression models' squares
	// around them, levelled by the eyes, with face-api's margin (see
	// alignedSquares). It measured within a standard error of the default
	// crops on the development faces, at a quarter more time a photo, so
	// it is off by default. CropScale and ExtraScales apply only to the
	// faces whose landmarks are not trusted (which keep the detector's
	// crop).
	Align bool
	// SmallFaces chooses which small-face tiles run (see face.RunStaged):
	// by default those that a coarser level's small faces call for.
	SmallFaces face.Staging
	// Observe, if set, is told how long each model run took ("blazeface",
	// "mini-xception", "face-api"), for metrics.
	Observe func(model string, d time.Duration)
}

// Progress is told, as Analyze goes, the stage it is at and the fraction
// of that stage done.
type Progress func(stage moji.Stage, frac float64)

// DefaultConfig is what measured best for its cost (see README,
// "Accuracy"): one 1.6x crop read by both models. More crop scales and
// mirror images cost three and two times the model runs and measured no
// better on the development faces.
func DefaultConfig(assetsDir string) Config {
	return Config{AssetsDir: assetsDir, CropScale: 1.6, EmotionWeight: 1, FaceAPIWeight: 1, WholeWeight: 0.5}
}

// Face is one face found and read.
type Face struct {
	Box        [4]float64                    `json:"box"`
	Score      float64                       `json:"score"`
	Keypoints  [face.NumKeypoints]face.Point `json:"keypoints"`
	Roll       float64                       `json:"roll"`
	Expression moji.Expression               `json:"expression"`
	Probs      expr.Probs                    `json:"-"`
}

// Pipeline holds the loaded models; it is safe for concurrent use.
type Pipeline struct {
	cfg     Config
	det     *detect.Detector
	emotion *classify.Model // mini-Xception, 64x64 gray
	faceexp *classify.Model // face-api, 112x112 RGB
	marks   *classify.Model // face-api's landmarks, 112x112 RGB; nil unless cfg.Align
}

// Open loads and checks every model. A missing or altered file is an error
// that says what to run.
func Open(cfg Config) (*Pipeline, error) {
	if cfg.CropScale <= 0 {
		cfg.CropScale = 1.6
	}
	if cfg.EmotionWeight <= 0 && cfg.FaceAPIWeight <= 0 {
		return nil, errors.New("vision: both expression models are weighted 0")
	}
	if cfg.LibPath == "" {
		p, err := assets.ONNXRuntime(cfg.AssetsDir)
		if err != nil {
			return nil, err
		}
		cfg.LibPath = p
	}
	if _, err := os.Stat(cfg.LibPath); err != nil {
		return nil, fmt.Errorf("onnxruntime library: %w (run `make assets`)", err)
	}
	emo, err := assets.ReadModel(cfg.AssetsDir, assets.Emotion)
	if err != nil {
		return nil, err
	}
	fx, err := assets.ReadModel(cfg.AssetsDir, assets.FaceExp)
	if err != nil {
		return nil, err
	}
	blaze := filepath.Join(cfg.AssetsDir, assets.BlazeFace)
	front := filepath.Join(cfg.AssetsDir, assets.BlazeFaceFront)
	for _, f := range []string{blaze, front} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("face detector: %w (run `make assets`)", err)
		}
	}
	if err := onnx.Start(cfg.LibPath); err != nil {
		return nil, err
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0) // the container's CPU quota, where NumCPU is the host's
	}
	p := &Pipeline{cfg: cfg}
	if p.det, err = detect.New(cfg.LibPath, blaze, detect.Options{Threads: threads, Staging: cfg.SmallFaces, Confirm: front}); err != nil {
		return nil, err
	}
	if p.emotion, err = classify.New(emo, 64, 1, expr.MiniXceptionOrder, threads); err != nil {
		p.Close()
		return nil, err
	}
	if p.faceexp, err = classify.New(fx, 112, 3, expr.FaceAPIOrder, threads); err != nil {
		p.Close()
		return nil, err
	}
	if cfg.Align {
		lm, err := assets.ReadModel(cfg.AssetsDir, assets.Landmarks)
		if err != nil {
			p.Close()
			return nil, err
		}
		if p.marks, err = classify.NewRaw(lm, 112, 3, 2*expr.NumLandmarks, threads); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// Close frees the models.
func (p *Pipeline) Close() {
	if p.det != nil {
		p.det.Close()
	}
	if p.emotion != nil {
		p.emotion.Close()
	}
	if p.faceexp != nil {
		p.faceexp.Close()
	}
	if p.marks != nil {
		p.marks.Close()
	}
}

// Analyze finds the faces in img and reads each one's expression, largest
// face first.
func (p *Pipeline) Analyze(ctx context.Context, img image.Image) ([]Face, error) {
	return p.AnalyzeProgress(ctx, img, nil)
}

// AnalyzeProgress is Analyze telling progress (nil: not told) at the
// detecting and reading stages.
func (p *Pipeline) AnalyzeProgress(ctx context.Context, img image.Image, progress Progress) ([]Face, error) {
	faces, _, err := p.analyze(ctx, img, nil, progress)
	return faces, err
}

// AnalyzePhoto is AnalyzeProgress for a decoded photo, whose half-size
// copy, where the decoder made one, spares the detector a pass over the
// photo; it also tells where the time went. Nothing it returns refers to
// ph.Half: the caller may recycle ph once done with ph.Image.
func (p *Pipeline) AnalyzePhoto(ctx context.Context, ph picture.Photo, progress Progress) ([]Face, Timing, error) {
	return p.analyze(ctx, ph.Image, ph.Half, progress)
}

// Timing tells where one Analyze call spent its time.
type Timing struct {
	Detect detect.Stats
	Read   time.Duration // every face's expression
}

func (p *Pipeline) analyze(ctx context.Context, img image.Image, half []uint8, progress Progress) ([]Face, Timing, error) {
	var tm Timing
	if progress == nil {
		progress = func(moji.Stage, float64) {}
	}
	progress(moji.StageDetecting, 0)
	start := time.Now()
	dets, st, err := p.det.DetectHalf(ctx, img, half)
	tm.Detect = st
	if err != nil {
		return nil, tm, err
	}
	p.observe("blazeface", start)
	start = time.Now()
	sort.SliceStable(dets, func(i, j int) bool { return dets[i].Box[2] > dets[j].Box[2] })
	// Every face's squares first, then each model over all of them: one
	// model after the other keeps its weights in cache (about 5% less
	// than alternating per face).
	progress(moji.StageReading, 0)
	// With Align, the landmark runs are told as the first third of the
	// stage (one run a face of three).
	lead := 0.0
	if p.marks != nil {
		lead = 1.0 / 3
	}
	sq := make([][]squares, len(dets))
	for i, d := range dets {
		if p.marks == nil {
			sq[i] = p.squares(img, d)
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, tm, err
		}
		if sq[i], err = p.alignedSquares(img, d); err != nil {
			return nil, tm, err
		}
		progress(moji.StageReading, lead*float64(i+1)/float64(len(dets)))
	}
	probs, err := p.classifyAll(ctx, sq, func(frac float64) { progress(moji.StageReading, lead+(1-lead)*frac) })
	if err != nil {
		return nil, tm, err
	}
	faces := make([]Face, 0, len(dets))
	for i, d := range dets {
		faces = append(faces, Face{Box: d.Box, Score: d.Score, Keypoints: d.Keypoints, Roll: d.Roll,
			Expression: probs[i].Top(), Probs: probs[i]})
	}
	tm.Read = time.Since(start)
	return faces, tm, nil
}

// AnalyzeCrop reads an image that is already one face (--face-crop): the
// face found in it, or the whole picture when none is found.
func (p *Pipeline) AnalyzeCrop(ctx context.Context, img image.Image) (Face, error) {
	b := img.Bounds()
	side := float64(min(b.Dx(), b.Dy()))
	cx, cy := float64(b.Min.X)+float64(b.Dx())/2, float64(b.Min.Y)+float64(b.Dy())/2
	whole := Face{Box: [4]float64{cx - side/2, cy - side/2, side, side}}
	var faces []Face
	var err error
	if p.cfg.WholeWeight < 1 {
		if faces, err = p.Analyze(ctx, img); err != nil {
			return Face{}, err
		}
	}
	if len(faces) > 0 && p.cfg.WholeWeight <= 0 {
		return faces[0], nil
	}
	if whole.Probs, err = p.classify(ctx, img, cx, cy, side, 0); err != nil {
		return Face{}, err
	}
	if len(faces) == 0 {
		whole.Expression = whole.Probs.Top()
		return whole, nil
	}
	f := faces[0]
	f.Probs = expr.Average([]expr.Probs{f.Probs, whole.Probs}, []float64{1 - p.cfg.WholeWeight, p.cfg.WholeWeight})
	f.Expression = f.Probs.Top()
	return f, nil
}

func (p *Pipeline) observe(model string, start time.Time) {
	if p.cfg.Observe != nil {
		p.cfg.Observe(model, time.Since(start))
	}
}

// squares is one square of a face read at each model's input size.
type squares struct{ small, large *image.RGBA }

// squares reads the face of d: upright squares around it, at each crop
// scale, all from one patch of the photo.
func (p *Pipeline) squares(img image.Image, d face.Detection) []squares {
	c := d.Center()
	scales := append([]float64{p.cfg.CropScale}, p.cfg.ExtraScales...)
	widest := slices.Max(scales) * d.Box[2]
	patch := expr.NewPatch(img, c.X, c.Y, widest, d.Roll, 112)
	out := make([]squares, 0, len(scales))
	for _, k := range scales {
		side := d.Box[2] * k
		out = append(out, squares{patch.Crop(side, 64), patch.Crop(side, 112)})
	}
	return out
}

// Landmark alignment (Config.Align): the landmark model reads a square of
// landmarkScale times the detector's box (at 1.2 it lost the chin of close
// crops), and the expression models read the landmarks' box with
// alignPad of margin, face-api's own (FaceLandmarks.align pads the box by
// a fifth).
const (
	landmarkScale = 1.6
	alignPad      = 1.2
	maxAlignTurn  = 0.35 // radians, 20 degrees
)

// alignedSquares reads the face of d levelled by its eyes and centred on
// its landmarks' box.
func (p *Pipeline) alignedSquares(img image.Image, d face.Detection) ([]squares, error) {
	pts, err := p.landmarks(img, d)
	if err != nil {
		return nil, err
	}
	f, ok := trusted(pts, d)
	if !ok {
		return p.squares(img, d), nil
	}
	c := d.Center()
	sin, cos := math.Sincos(d.Roll)
	cx, cy := c.X+f.CX*cos-f.CY*sin, c.Y+f.CX*sin+f.CY*cos
	s := f.Side * alignPad
	patch := expr.NewPatch(img, cx, cy, s, d.Roll+f.Roll, 112)
	return []squares{{patch.Crop(s, 64), patch.Crop(s, 112)}}, nil
}

// trusted is the frame of landmarks pts of d, and whether it agrees with
// the detector enough to crop by: landmarks that turn the face far from
// the detector's eye line, or whose box is far from its box in size or
// place, are the model guessing (a face in profile, a hand over it).
func trusted(pts []float32, d face.Detection) (expr.Frame, bool) {
	f := expr.LandmarkFrame(pts)
	w := d.Box[2]
	ok := f.Side > 0.5*w && f.Side < 2*w && math.Hypot(f.CX, f.CY) < 0.5*w && math.Abs(f.Roll) <= maxAlignTurn
	return f, ok
}

// landmarks reads the 68 landmarks of d (x0, y0, x1, ...) in the upright
// frame of the square around d's centre turned by d.Roll: source pixels
// from that centre.
func (p *Pipeline) landmarks(img image.Image, d face.Detection) ([]float32, error) {
	c := d.Center()
	side := d.Box[2] * landmarkScale
	in := expr.RGBInput(expr.Crop(img, c.X, c.Y, side, d.Roll, 112), false)
	start := time.Now()
	out, err := p.marks.Run(in)
	if err != nil {
		return nil, err
	}
	p.observe("face-api-landmarks", start)
	// The model gives fractions of its square.
	for i := range out {
		out[i] = (out[i] - 0.5) * float32(side)
	}
	return out, nil
}

// classify averages both models (and their mirror images) on one square.
func (p *Pipeline) classify(ctx context.Context, img image.Image, cx, cy, side, roll float64) (expr.Probs, error) {
	ps, err := p.classifyAll(ctx, [][]squares{{{expr.Crop(img, cx, cy, side, roll, 64), expr.Crop(img, cx, cy, side, roll, 112)}}}, nil)
	if err != nil {
		return expr.Probs{}, err
	}
	return ps[0], nil
}

// classifyAll reads each face's squares with both models (and their
// mirror images, with Flip), each model over every square in turn, and
// gives each face the average over its squares of the models' weighted
// average. It stops between model runs when ctx is done, and tells tell
// (nil: nobody) the fraction of runs made.
func (p *Pipeline) classifyAll(ctx context.Context, faces [][]squares, tell func(frac float64)) ([]expr.Probs, error) {
	flips := []bool{false}
	if p.cfg.Flip {
		flips = append(flips, true)
	}
	type model struct {
		m      *classify.Model
		name   string
		weight float64
		input  func(squares, bool) []float32
	}
	var models []model
	if p.cfg.EmotionWeight > 0 {
		models = append(models, model{p.emotion, "mini-xception", p.cfg.EmotionWeight,
			func(s squares, flip bool) []float32 { return expr.GrayInput(s.small, flip) }})
	}
	if p.cfg.FaceAPIWeight > 0 {
		models = append(models, model{p.faceexp, "face-api", p.cfg.FaceAPIWeight,
			func(s squares, flip bool) []float32 { return expr.RGBInput(s.large, flip) }})
	}
	total, done := 0, 0
	for _, sq := range faces {
		total += len(models) * len(sq) * len(flips)
	}
	// got[m][f][s][k]: model m on face f's square s, mirrored if flips[k].
	got := make([][][][]expr.Probs, len(models))
	for mi, m := range models {
		got[mi] = make([][][]expr.Probs, len(faces))
		for f, sq := range faces {
			got[mi][f] = make([][]expr.Probs, len(sq))
			for s := range sq {
				got[mi][f][s] = make([]expr.Probs, len(flips))
				for k, flip := range flips {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					if tell != nil {
						tell(float64(done) / float64(total))
					}
					done++
					start := time.Now()
					pr, err := m.m.Predict(m.input(sq[s], flip))
					if err != nil {
						return nil, err
					}
					p.observe(m.name, start)
					got[mi][f][s][k] = pr
				}
			}
		}
	}
	out := make([]expr.Probs, len(faces))
	for f, sq := range faces {
		per := make([]expr.Probs, len(sq))
		for s := range sq {
			var all []expr.Probs
			var w []float64
			for k := range flips {
				for mi, m := range models {
					all, w = append(all, got[mi][f][s][k]), append(w, m.weight)
				}
			}
			per[s] = expr.Average(all, w)
		}
		out[f] = expr.Average(per, nil)
	}
	return out, nil
}

// Place is where the emoji for f goes (see compose.Place): the worker and
// the browser preview place emoji with the same code.
func Place(f Face) compose.Placement { return compose.Place(f.Box, f.Keypoints, f.Roll) }

// Emojify returns a copy of img with each face covered by the emoji of its
// expression. Smaller faces are drawn first so that a near face covers a
// far one, as in the photo.
func Emojify(img image.Image, faces []Face, emoji map[moji.Expression]image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	paste(out, b.Min, faces, emoji)
	return out
}

// EmojifyOwned is Emojify for a caller that no longer needs img: an
// *image.RGBA (what JPEG decoding gives) is drawn on in place, which saves
// copying the photo.
func EmojifyOwned(img image.Image, faces []Face, emoji map[moji.Expression]image.Image) *image.RGBA {
	m, ok := img.(*image.RGBA)
	if !ok || m.Rect.Min != (image.Point{}) {
		return Emojify(img, faces, emoji)
	}
	paste(m, image.Point{}, faces, emoji)
	return m
}

// paste draws the emoji over out, whose origin is img's point min.
func paste(out *image.RGBA, min image.Point, faces []Face, emoji map[moji.Expression]image.Image) {
	order := append([]Face(nil), faces...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Box[2] < order[j].Box[2] })
	for _, f := range order {
		if e := emoji[f.Expression]; e != nil {
			pl := Place(f)
			pl.CX -= float64(min.X) // faces are in img's coordinates, out starts at 0
			pl.CY -= float64(min.Y)
			compose.Paste(out, e, pl)
		}
	}
}
