// Package detect finds faces in photos with MediaPipe's BlazeFace (ONNX,
// run by onnxruntime through cgo). The model-independent parts (anchors,
// decoding, suppression, tiling, resampling) live in shared/face so that
// the browser runs the very same code.
package detect

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/worker/onnx"
)

// Options tune a Detector. Zero values take the defaults.
type Options struct {
	// Spec describes the model. By default it follows the model's input
	// size: 256 is face.Back, 128 face.Front.
	Spec *face.Spec
	// MinScore overrides Spec.MinScore.
	MinScore float64
	// Plan tunes the small-face tiles (see face.PlanOptions).
	Plan face.PlanOptions
	// FullFrameOnly skips the small-face tiles (Staging face.StageFullFrame).
	FullFrameOnly bool
	// Staging chooses which small-face tiles run: by default only the
	// levels that a coarser level's small faces call for (face.RunStaged).
	Staging face.Staging
	// LeadFactor tunes face.StageLeads (0: face.DefaultLeadFactor).
	LeadFactor float64
	// Threads is how many onnxruntime threads the Detector may use in all
	// (default: the number of CPUs), split evenly among its sessions.
	Threads int
	// Sessions is how many model sessions the Detector holds (default: one
	// per thread, at most 8). Concurrent Detect calls each take one; a call
	// also borrows whichever are idle and runs its passes on them in
	// parallel. The model is small and onnxruntime spreads one pass over
	// many threads poorly: on 16 cores one photo's 42 passes took 285 ms
	// with one 16-thread session, 52 ms with eight 2-thread sessions and
	// 42 ms with sixteen 1-thread ones. A session costs about 13 MB, hence
	// the cap.
	Sessions int
	// Confirm, if set, is a front-model file (128x128) that takes the
	// second looks first: see ConfirmScore.
	Confirm string
	// NoCuts runs every full frame on the square model, letterbox padding
	// and all, instead of on a copy cut to the photo's shape (see cutFor):
	// for comparison.
	NoCuts bool
}

// ConfirmScore is the score the front model must give a doubtful face in
// its second-look window, with a face's keypoint layout and a box at IoU
// 0.5 or more with the face's, for the face to stay without the back
// model's look. The front model costs a sixth as much (1.6 ms against
// 9.2 ms on one thread here) and sees a face a quarter of the window well.
// Anything it does not confirm goes to the back model as before, so it
// can only keep more faces, never fewer. On the development photos, the
// demo photos and two synthetic crowds (78 second looks), the 9 that the
// back model rejected scored at most 0.41 by the front model, and it
// confirmed 57 of the 69 the back model kept.
const ConfirmScore = 0.7

// bound is an onnxruntime session of a BlazeFace model with its tensors:
// the input and the four outputs (scores of the stride-16 and stride-32
// grids, then their regressors).
type bound struct {
	s    *ort.AdvancedSession
	in   *ort.Tensor[float32]
	outs [4]*ort.Tensor[float32]
}

// bind loads model (ONNX bytes) for an input of rows×cols and n16 + n32
// anchors.
func (d *Detector) bind(model []byte, rows, cols int, n16, n32 int64) (b bound, err error) {
	defer func() {
		if err != nil {
			b.destroy()
		}
	}()
	if b.in, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(rows), int64(cols), 3)); err != nil {
		return b, fmt.Errorf("detect: input tensor: %w", err)
	}
	coords := int64(d.spec.NumCoords)
	shapes := []ort.Shape{ort.NewShape(1, n16, 1), ort.NewShape(1, n32, 1), ort.NewShape(1, n16, coords), ort.NewShape(1, n32, coords)}
	vals := make([]ort.Value, 4)
	for i, sh := range shapes {
		if b.outs[i], err = ort.NewEmptyTensor[float32](sh); err != nil {
			return b, fmt.Errorf("detect: output tensor: %w", err)
		}
		vals[i] = b.outs[i]
	}
	so, err := d.sessionOptions()
	if err != nil {
		return b, err
	}
	defer so.Destroy()
	if b.s, err = ort.NewAdvancedSessionWithONNXData(model, inputNames, outputNames, []ort.Value{b.in}, vals, so); err != nil {
		return b, fmt.Errorf("detect: load model for %dx%d: %w", rows, cols, err)
	}
	return b, nil
}

func (b *bound) destroy() {
	if b.s != nil {
		b.s.Destroy()
	}
	if b.in != nil {
		b.in.Destroy()
	}
	for _, o := range b.outs {
		if o != nil {
			o.Destroy()
		}
	}
	*b = bound{}
}

// session is the model bound at its square size. The model's batch
// dimension is fixed at 1 (onnxruntime refuses 2), so passes run one
// after another through the same tensors.
type session struct {
	bound
	scores []float32 // the two score outputs, concatenated in anchor order
	regs   []float32 // the two regressor outputs, likewise
	// cuts are this session's companions for full frames of other shapes
	// than the square (see cutFor), made on first use, the most recently
	// used first; at most maxCuts, as each holds its own buffers.
	cuts []*cutSession
}

// maxCuts bounds the cut sessions kept per session: photos come in a few
// shapes (3:2, 16:9 and their portraits), and a session holds megabytes.
const maxCuts = 3

func (s *session) destroy() {
	for _, c := range s.cuts {
		c.destroy()
	}
	s.cuts = nil
	s.bound.destroy()
}

// Detector finds faces. It is safe for concurrent use: each Detect call
// takes a session from a small pool (and borrows the idle ones).
type Detector struct {
	spec     face.Spec
	minScore float64
	opts     Options
	pool     chan *session
	all      []*session
	confirm  *Detector // the front model for second looks, or nil
	// model is the back model's ONNX, kept to cut it for full frames of
	// other shapes than the square (see cutFor); nil for other models.
	// cutModels holds each cut's rewritten graph, for every session to
	// load, or nil for a cut that failed to load, whose full frames then
	// run on the square.
	model     []byte
	cutMu     sync.Mutex
	cutModels map[cut][]byte
	// mu is held shared by every Detect call and exclusively by Close, so
	// Close waits for running calls and none starts after it.
	mu     sync.RWMutex
	closed bool
}

// The ONNX models' tensor names (keijiro's BlazeFace export): the stride-16
// outputs first (512 anchors), then the stride-32 ones (384).
var (
	inputNames  = []string{"input:0"}
	outputNames = []string{"Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"}
)

// New loads the model at modelPath, starting onnxruntime from libPath (or
// $IGEMOJI_ONNXRUNTIME_LIB, or the loader's search path) if no package has
// started it yet.
func New(libPath, modelPath string, opts Options) (*Detector, error) {
	if err := onnx.Start(libPath); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	ins, outs, err := ort.GetInputOutputInfo(modelPath)
	if err != nil {
		return nil, fmt.Errorf("detect: read model %s: %w", modelPath, err)
	}
	if len(ins) != 1 || len(ins[0].Dimensions) != 4 || len(outs) != 4 {
		return nil, fmt.Errorf("detect: %s is not a BlazeFace model (%d inputs, %d outputs)", modelPath, len(ins), len(outs))
	}
	dims := ins[0].Dimensions
	size := int(dims[1])
	var spec face.Spec
	switch {
	case opts.Spec != nil:
		spec = *opts.Spec
	case size == 256:
		spec = face.Back()
	case size == 128:
		spec = face.Front()
	default:
		return nil, fmt.Errorf("detect: %s: input %v is neither 256x256 nor 128x128", modelPath, dims)
	}
	if dims[0] != 1 || dims[1] != int64(spec.Size) || dims[2] != int64(spec.Size) || dims[3] != 3 {
		return nil, fmt.Errorf("detect: %s: input %v, want [1 %d %d 3]", modelPath, dims, spec.Size, spec.Size)
	}
	minScore := spec.MinScore
	if opts.MinScore > 0 {
		minScore = opts.MinScore
	}
	if opts.Threads <= 0 {
		opts.Threads = runtime.GOMAXPROCS(0) // the container's CPU quota, where NumCPU is the host's
	}
	if opts.Sessions <= 0 {
		opts.Sessions = min(opts.Threads, 8)
	}
	d := &Detector{spec: spec, minScore: minScore, opts: opts, pool: make(chan *session, opts.Sessions)}
	if opts.Confirm != "" {
		c, err := New(libPath, opts.Confirm, Options{Threads: opts.Threads, Sessions: opts.Sessions, FullFrameOnly: true})
		if err != nil {
			return nil, fmt.Errorf("detect: second-look model: %w", err)
		}
		if c.spec.Size >= spec.Size {
			c.Close()
			return nil, fmt.Errorf("detect: second-look model %s is no smaller than the detector's", opts.Confirm)
		}
		d.confirm = c
	}
	model, err := os.ReadFile(modelPath)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("detect: read model %s: %w", modelPath, err)
	}
	if spec.Size == 256 && len(spec.Anchors) == 896 && !opts.NoCuts {
		// A graph this code cannot cut (another export of the model) runs
		// every full frame on the square, as before.
		if _, err := cutModel(model, spec.Size, cut{0, cutGrid, spec.Size, spec.Size - 2*cutGrid}); err == nil {
			d.model, d.cutModels = model, map[cut][]byte{}
		}
	}
	for range opts.Sessions {
		s, err := d.newSession(model)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.all = append(d.all, s)
		d.pool <- s
	}
	return d, nil
}

func (d *Detector) newSession(model []byte) (*session, error) {
	// 512 + 384 anchors, as the stride-16 and stride-32 grids hold them.
	n := int64(len(d.spec.Anchors))
	if n != 896 {
		return nil, fmt.Errorf("detect: spec has %d anchors, want 896", n)
	}
	b, err := d.bind(model, d.spec.Size, d.spec.Size, 512, n-512)
	if err != nil {
		return nil, err
	}
	return &session{bound: b, scores: make([]float32, n), regs: make([]float32, n*int64(d.spec.NumCoords))}, nil
}

// sessionOptions are the options of every session: the threads each.
func (d *Detector) sessionOptions() (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("detect: session options: %w", err)
	}
	if err := so.SetIntraOpNumThreads(max(1, d.opts.Threads/d.opts.Sessions)); err != nil {
		so.Destroy()
		return nil, fmt.Errorf("detect: threads: %w", err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		so.Destroy()
		return nil, fmt.Errorf("detect: threads: %w", err)
	}
	return so, nil
}

// modelFor is s as a face.Model for pass p over a w×h image: the full
// frame of a photo whose letterbox leaves whole grid rows (or columns) of
// padding runs on a cut of the model (see cutFor), anything else on s.
func (d *Detector) modelFor(s *session, p face.Pass, w, h int) (face.Model, error) {
	if d.model == nil || p.Level != 0 {
		return s.run, nil
	}
	c, ok := cutFor(p.Window, w, h, d.spec.Size)
	if !ok {
		return s.run, nil
	}
	i := slices.IndexFunc(s.cuts, func(x *cutSession) bool { return x.c == c })
	var cs *cutSession
	if i >= 0 {
		cs = s.cuts[i]
		s.cuts = slices.Delete(s.cuts, i, i+1)
	} else {
		var err error
		if cs, err = d.newCutSession(c); err != nil {
			return s.run, nil // see cutModels
		}
		if len(s.cuts) == maxCuts {
			s.cuts[maxCuts-1].destroy()
			s.cuts = s.cuts[:maxCuts-1]
		}
	}
	s.cuts = slices.Insert(s.cuts, 0, cs)
	return cs.run, nil
}

// Spec is the model's description.
func (d *Detector) Spec() face.Spec { return d.spec }

// ErrClosed is returned by Detect after Close.
var ErrClosed = errors.New("detect: detector closed")

// Close frees the sessions, waiting for running Detect calls to finish.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	for _, s := range d.all {
		s.destroy()
	}
	if d.confirm != nil {
		d.confirm.Close()
	}
	return nil
}

// Detect finds the faces in img: the full-frame pass, then, for images
// large enough to hold faces too small for it, the small-face tiles (see
// face.PlanPasses) that Options.Staging calls for (see face.RunStaged),
// merged as face.Merge describes. Boxes, keypoints and roll are in pixels
// relative to img.Bounds().Min, sorted by descending score. An image
// without faces gives an empty slice and no error.
func (d *Detector) Detect(ctx context.Context, img image.Image) ([]face.Detection, error) {
	dets, _, err := d.DetectStats(ctx, img)
	return dets, err
}

// Stats tell where one Detect call spent its time.
type Stats struct {
	Passes, Planned int           // model runs made (second looks included) and planned
	FullFrame       time.Duration // the full-frame pass
	SmallFaces      time.Duration // the tiles, second looks and merging
}

// DetectStats is Detect, also telling what it cost.
func (d *Detector) DetectStats(ctx context.Context, img image.Image) ([]face.Detection, Stats, error) {
	return d.DetectHalf(ctx, img, nil)
}

// DetectHalf is DetectStats for a photo whose decoder also halved it
// (picture.Photo.Half; nil: none), which saves reading the whole photo
// once (see face.NewSourceHalf). Detect takes half over.
func (d *Detector) DetectHalf(ctx context.Context, img image.Image, half []uint8) ([]face.Detection, Stats, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return []face.Detection{}, Stats{}, nil
	}
	mode := d.opts.Staging
	if d.opts.FullFrameOnly {
		mode = face.StageFullFrame
	}
	return d.detect(ctx, img, half, face.PlanPasses(w, h, d.spec, d.opts.Plan), mode)
}

// DetectPasses runs exactly the given passes over img and merges their
// detections. Detect plans the passes itself; this is for evaluation and
// for callers with their own plan.
func (d *Detector) DetectPasses(ctx context.Context, img image.Image, passes []face.Pass) ([]face.Detection, error) {
	dets, _, err := d.detect(ctx, img, nil, passes, face.StageAll)
	return dets, err
}

func (d *Detector) detect(ctx context.Context, img image.Image, half []uint8, passes []face.Pass, mode face.Staging) ([]face.Detection, Stats, error) {
	st := Stats{Planned: len(passes)}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, st, ErrClosed
	}
	var s *session
	select {
	case s = <-d.pool:
	case <-ctx.Done():
		return nil, st, ctx.Err()
	}
	defer func() { d.pool <- s }()
	src := face.NewSourceHalf(img, half)
	start := time.Now()
	ran, per, err := face.RunStaged(passes, d.spec, mode, d.minScore, d.opts.LeadFactor, func(batch []face.Pass) ([][]face.Detection, error) {
		if st.Passes == 0 {
			defer func() { st.FullFrame = time.Since(start) }()
		}
		st.Passes += len(batch)
		return d.runBatch(ctx, s, src, img, batch, min(d.minScore, face.LeadScore))
	})
	if err != nil {
		return nil, st, err
	}
	out, err := face.Merge(ran, per, src.W, src.H, d.spec, func(cand face.Detection, win face.Window) ([]face.Detection, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if d.confirm != nil {
			st.Passes++
			if dets, err := d.quickLook(src, cand, win); err != nil || dets != nil {
				return dets, err
			}
		}
		st.Passes++
		return d.runPass(s, src, win)
	})
	st.SmallFaces = time.Since(start) - st.FullFrame
	if err != nil {
		return nil, st, err
	}
	if out == nil {
		out = []face.Detection{}
	}
	return out, st, nil
}

// runBatch runs passes on s reading src, spread over as many sessions as
// nobody else is using right now (borrowed for this batch only, each with
// a Source of its own): the model is small, so several sessions with a few
// threads each keep more cores busy than one session with all of them,
// and a photo that needs one pass holds one session.
func (d *Detector) runBatch(ctx context.Context, s *session, src *face.Source, img image.Image, passes []face.Pass, minScore float64) ([][]face.Detection, error) {
	sessions, srcs := []*session{s}, []*face.Source{src}
borrow:
	for len(sessions) < len(passes) {
		select {
		case x := <-d.pool:
			sessions, srcs = append(sessions, x), append(srcs, face.NewSource(img))
		default:
			break borrow
		}
	}
	defer func() {
		for _, x := range sessions[1:] {
			d.pool <- x
		}
	}()
	per := make([][]face.Detection, len(passes))
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for i, x := range sessions {
		src := srcs[i]
		wg.Go(func() {
			// A panic here would end the process: the runner's recover
			// is on another goroutine.
			defer func() {
				if p := recover(); p != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("detect: panic: %v\n%s", p, debug.Stack()) })
					next.Store(int64(len(passes)))
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(passes) {
					return
				}
				// Between passes is where a cancelled request stops paying:
				// one pass takes milliseconds, a big photo's tiles add up.
				err := ctx.Err()
				var m face.Model
				if err == nil {
					m, err = d.modelFor(x, passes[i], src.W, src.H)
				}
				if err == nil {
					per[i], err = face.RunPass(m, src, passes[i].Window, d.spec, minScore, x.in.GetData(), x.scores, x.regs)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(len(passes))) // the others stop too
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return per, nil
}

// runPass fills the input from win, runs the model and decodes its
// outputs into image pixels (before suppression).
func (d *Detector) runPass(s *session, src *face.Source, win face.Window) ([]face.Detection, error) {
	return face.RunPass(s.run, src, win, d.spec, d.minScore, s.in.GetData(), s.scores, s.regs)
}

// run is the session as a face.Model: the input is already in s.in.
func (s *session) run([]float32) ([][]float32, error) {
	if err := s.s.Run(); err != nil {
		return nil, fmt.Errorf("detect: run model: %w", err)
	}
	return [][]float32{s.outs[0].GetData(), s.outs[1].GetData(), s.outs[2].GetData(), s.outs[3].GetData()}, nil
}

// quickLook runs the front model on a second look's window and returns
// its detections that confirm cand (see ConfirmScore), or nil. Without a
// front model it returns nil at once.
func (d *Detector) quickLook(src *face.Source, cand face.Detection, win face.Window) ([]face.Detection, error) {
	if d.confirm == nil {
		return nil, nil
	}
	c := d.confirm
	s := <-c.pool
	defer func() { c.pool <- s }()
	dets, err := face.RunPass(s.run, src, win, c.spec, ConfirmScore, s.in.GetData(), s.scores, s.regs)
	if err != nil {
		return nil, err
	}
	var ok []face.Detection
	for _, x := range dets {
		if x.Score >= ConfirmScore && x.Plausible() && face.IoU(x.Box, cand.Box) >= 0.5 {
			ok = append(ok, x)
		}
	}
	return ok, nil
}
