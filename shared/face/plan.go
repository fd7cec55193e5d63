package face

import "math"

// Pass is one run of the model: a window of the image resampled to the
// model's input.
type Pass struct {
	Window Window
	// Level is 0 for the full-frame pass and 1, 2, ... for tiles, finer
	// (closer to the image's native resolution) as it grows.
	Level int
	// Scale is model-input pixels per image pixel.
	Scale float64
	// Margin is how close, in image pixels, a detection may come to one of
	// the window's inner edges (those inside the image) before it counts as
	// cut by the tile border.
	Margin float64
	// MinFace and MaxFace bound, in image pixels, the detections a pass
	// keeps (0: no bound): each pass answers for a band of face sizes.
	// Below MinFace (spec.ReliableFace model pixels) a finer pass sees the
	// face bigger, and the model's boxes for faces that small are often
	// twice too big. Above MaxFace a coarser pass sees the face at a
	// reliable size with more context, while at this pass's magnification
	// the model tends to see faces in textures (plaid, badges, folds of
	// cloth). Bands of neighbouring levels overlap a little, so that no
	// size falls between them.
	MinFace, MaxFace float64
}

// Inner reports which window edges lie inside a w×h image (left, top,
// right, bottom): a face touching one of those may continue outside the
// tile, while one touching an image edge is simply at the image's edge.
func (p Pass) Inner(w, h int) (left, top, right, bottom bool) {
	const eps = 1e-6
	return p.Window.X > eps, p.Window.Y > eps,
		p.Window.X+p.Window.Side < float64(w)-eps, p.Window.Y+p.Window.Side < float64(h)-eps
}

// Cut reports whether the pass should drop d (in image pixels): d lies
// outside the pass's band of face sizes, or touches one of its inner edges.
// A detection at an inner edge is part of a face that the tile border cut,
// or a whole face seen better by the neighbouring tile, whose overlap holds
// it entirely; keeping it would add a second, worse box for the same face.
func (p Pass) Cut(d Detection, w, h int) bool {
	if size := math.Max(d.Box[2], d.Box[3]); size < p.MinFace || (p.MaxFace > 0 && size > p.MaxFace) {
		return true
	}
	l, t, r, b := p.Inner(w, h)
	win, m := p.Window, p.Margin
	return (l && d.Box[0] < win.X+m) ||
		(t && d.Box[1] < win.Y+m) ||
		(r && d.Box[0]+d.Box[2] > win.X+win.Side-m) ||
		(b && d.Box[1]+d.Box[3] > win.Y+win.Side-m)
}

// PlanOptions tune the small-face pass. Zero values take the defaults.
type PlanOptions struct {
	// MinFace is the width in image pixels of the smallest face to find
	// (default 20). Setting it large (a selfie camera) turns tiles off.
	MinFace float64
	// MaxScale caps the tiles' model pixels per image pixel (default 1):
	// enlarging past the native resolution adds no detail, only passes.
	MaxScale float64
	// LevelRatio is the largest ratio between the scales of consecutive
	// levels (default 3): one level reliably covers faces from
	// spec.ReliableFace up to about a third of its input, so a factor of 3
	// between levels leaves no size uncovered.
	LevelRatio float64
	// Overlap is the tiles' overlap as a multiple of the largest face each
	// level answers for (default 1.1), so that every such face lies wholly
	// inside some tile, clear of its inner edges.
	Overlap float64
	// MaxFace is the largest face a level keeps, as a multiple of the
	// smallest face the next coarser level finds reliably (default 1.25):
	// a little overlap between levels, so that no size falls between them.
	MaxFace float64
}

func (o PlanOptions) withDefaults() PlanOptions {
	if o.MinFace <= 0 {
		o.MinFace = 20
	}
	if o.MaxScale <= 0 {
		o.MaxScale = 1
	}
	if o.LevelRatio <= 1 {
		o.LevelRatio = 3
	}
	if o.Overlap <= 0 {
		o.Overlap = 1.1
	}
	if o.MaxFace <= 0 {
		o.MaxFace = 1.25
	}
	return o
}

// PlanPasses lists the passes for a w×h image: first the full frame,
// letterboxed to the model's square input, then, only when the full frame
// shrinks faces of opt.MinFace pixels below spec.ReliableFace, levels of
// overlapping square tiles. Level scales grow geometrically from the full
// frame's up to the scale at which a MinFace face becomes ReliableFace
// pixels wide (capped at MaxScale), at most LevelRatio apart. Within a
// level, tiles overlap by enough to hold the level's largest face whole;
// bigger faces are the coarser levels' job.
//
// An image whose full frame already resolves MinFace faces gets no tiles at
// all: the small-face pass costs nothing there.
func PlanPasses(w, h int, spec Spec, opt PlanOptions) []Pass {
	if w <= 0 || h <= 0 || spec.Size <= 0 {
		return nil
	}
	opt = opt.withDefaults()
	size := float64(spec.Size)
	full := Letterbox(w, h)
	r0 := size / full.Side
	passes := []Pass{{Window: full, Scale: r0}}

	reliable := spec.ReliableFace
	if reliable <= 0 {
		reliable = size / 16
	}
	need := math.Min(reliable/opt.MinFace, opt.MaxScale)
	// A small tolerance keeps rounding from adding a level for nothing.
	if need <= r0*1.05 {
		return passes
	}
	n := int(math.Ceil(math.Log(need/r0)/math.Log(opt.LevelRatio) - 1e-9))
	q := math.Pow(need/r0, 1/float64(n))
	margin := reliable / 4 // in model pixels
	// The full frame leaves faces below a reliable size to the tiles.
	passes[0].MinFace = reliable / r0
	for k := 1; k <= n; k++ {
		r := r0 * math.Pow(q, float64(k))
		side := size / r
		// The largest face this level answers for: the coarser level finds
		// faces from reliable/(r/q) image pixels up.
		maxFace := opt.MaxFace * reliable * q / r
		minFace := reliable / r
		if k == n {
			minFace = 0 // the finest level keeps whatever it finds
		}
		overlap := math.Min(opt.Overlap*maxFace+2*margin/r, side/2)
		xs := tileStarts(float64(w), side, overlap)
		ys := tileStarts(float64(h), side, overlap)
		for _, y := range ys {
			for _, x := range xs {
				passes = append(passes, Pass{
					Window: Window{X: x, Y: y, Side: side},
					Level:  k, Scale: r, Margin: margin / r,
					MinFace: minFace, MaxFace: maxFace,
				})
			}
		}
	}
	return passes
}

// tileStarts spreads tiles of the given side evenly over length so that
// neighbours overlap by at least overlap. A length shorter than one tile
// gets one tile, centred, padded on both sides.
func tileStarts(length, side, overlap float64) []float64 {
	if length <= side {
		return []float64{(length - side) / 2}
	}
	n := int(math.Ceil((length-overlap)/(side-overlap) - 1e-9))
	if n < 2 {
		n = 2
	}
	out := make([]float64, n)
	step := (length - side) / float64(n-1)
	for i := range out {
		out[i] = float64(i) * step
	}
	return out
}
