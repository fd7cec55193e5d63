// Package expr prepares faces for the expression models and reads their
// outputs: aligned crops, input tensors, and each model's class order
// mapped onto the product's seven classes. Pure Go: the worker runs the
// models through onnxruntime, the browser may run them another way, and
// both must prepare faces identically.
package expr

import (
	"image"
	"image/draw"
	"math"

	"github.com/igemoji/igemoji/shared/compose"
	"github.com/igemoji/igemoji/shared/moji"
)

// Probs holds one probability per class, in moji.Expressions order.
type Probs [7]float64

// Top returns the most probable class.
func (p Probs) Top() moji.Expression {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return moji.Expressions[best]
}

// Map returns the probabilities as a class-name map, for JSON.
func (p Probs) Map() map[moji.Expression]float64 {
	m := make(map[moji.Expression]float64, len(p))
	for i, e := range moji.Expressions {
		m[e] = p[i]
	}
	return m
}

// Order is a model's output order.
type Order [7]moji.Expression

// The models' own output orders.
var (
	// mini-Xception on FER2013 (Human's "emotion" model).
	MiniXceptionOrder = Order{moji.Angry, moji.Disgusted, moji.Fearful, moji.Happy, moji.Sad, moji.Surprised, moji.Neutral}
	// face-api's FaceExpressionNet.
	FaceAPIOrder = Order{moji.Neutral, moji.Happy, moji.Sad, moji.Angry, moji.Fearful, moji.Disgusted, moji.Surprised}
)

// FromModel maps a model's 7 outputs, in its order, onto Probs.
func FromModel(out []float32, order Order) Probs {
	var p Probs
	for i, e := range order {
		if i < len(out) {
			p[index(e)] = float64(out[i])
		}
	}
	return p
}

func index(e moji.Expression) int {
	for i, x := range moji.Expressions {
		if x == e {
			return i
		}
	}
	return 0
}

// Average returns the weighted mean of ps (equal weights when w is nil).
func Average(ps []Probs, w []float64) Probs {
	var out Probs
	total := 0.0
	for k, p := range ps {
		wk := 1.0
		if w != nil {
			wk = w[k]
		}
		total += wk
		for i := range p {
			out[i] += wk * p[i]
		}
	}
	if total > 0 {
		for i := range out {
			out[i] /= total
		}
	}
	return out
}

// Crop samples the square of side `side` centred at (cx, cy) and turned by
// roll radians (clockwise on screen) into an upright out×out image:
// rotating by -roll levels the eyes. Outside the source is black, as the
// models saw padding in training. Large shrinks are pre-filtered so that
// a big face is not aliased down to a few pixels.
func Crop(src image.Image, cx, cy, side, roll float64, out int) *image.RGBA {
	return NewPatch(src, cx, cy, side, roll, out).Crop(side, out)
}

// Patch is the neighbourhood of a face as a small mipmap, so that the
// crops of both models (and of several scales) cost one read of the photo:
// level 0 is the photo's square around the face box-reduced by a power of
// two to at least the resolution of the largest crop, each further level
// a 2x2 mean of the one before. A crop blends bilinear reads of the two
// levels around its own resolution (trilinear filtering, as graphics
// cards read textures), so nothing aliases however far a face shrinks.
// An exact area-mean resampling of the photo did the same job at about
// four times the cost (see BenchmarkRead). Crops add levels as they need
// them, so one Patch must not be cropped by two goroutines at once.
type Patch struct {
	levels   []*image.RGBA // levels[i] has 2^-(base+i) pixels per source pixel
	base     int
	ox, oy   float64 // the top-left of level 0, in source pixels
	cx, cy   float64 // the centre, in source pixels
	sin, cos float64
}

// NewPatch prepares crops centred at (cx, cy), turned by roll, of sides up
// to side read at up to out×out.
func NewPatch(src image.Image, cx, cy, side, roll float64, out int) *Patch {
	p := &Patch{cx: cx, cy: cy}
	p.sin, p.cos = math.Sincos(roll)
	// Nonsense (NaN, infinite or absurdly far off) reads black.
	if side <= 0 || out <= 0 || !(math.Abs(cx)+math.Abs(cy)+side < 1<<24) || !(math.Abs(roll) < 1<<20) {
		p.levels = []*image.RGBA{blackRGBA(2, 2)}
		p.cx, p.cy, p.sin, p.cos = 0, 0, 0, 1 // reads stay on that black
		return p
	}
	// The base level keeps at least one pixel per crop pixel.
	p.base = max(0, int(math.Floor(math.Log2(side/float64(out)))))
	f := 1 << p.base
	ext := side / 2 * (math.Abs(p.sin) + math.Abs(p.cos))
	x0, y0 := int(math.Floor(cx-ext))-2*f, int(math.Floor(cy-ext))-2*f
	n := (int(math.Ceil(2*ext))+4*f)/f + 1 // level-0 pixels a side
	p.ox, p.oy = float64(x0), float64(y0)
	p.levels = []*image.RGBA{boxReduce(src, x0, y0, n, f)}
	return p
}

func blackRGBA(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	return m
}

// boxReduce returns the n×n image whose pixel (i, j) is the mean of src's
// f×f square at (x0+i*f, y0+j*f) (f a power of two), black where that is
// outside src: the region halved log2(f) times. Only the part of the
// region over the photo is copied, so a window far bigger than the photo
// costs no more than the photo.
func boxReduce(src image.Image, x0, y0, n, f int) *image.RGBA {
	region := image.Rect(x0, y0, x0+n*f, y0+n*f)
	if rgba, ok := src.(*image.RGBA); ok && region.In(rgba.Rect) {
		// No copy needed: levels are only read.
		return halveTimes(rgba.SubImage(region).(*image.RGBA), f)
	}
	dst := blackRGBA(n, n)
	in := region.Intersect(src.Bounds())
	if in.Empty() {
		return dst
	}
	// The photo's part, widened to whole f×f squares (black where they
	// overhang the photo), reduced, then placed in the black level.
	down := func(v, o int) int { return o + (v-o)/f*f }
	up := func(v, o int) int { return o + (v-o+f-1)/f*f }
	a := image.Rect(down(in.Min.X, x0), down(in.Min.Y, y0), up(in.Max.X, x0), up(in.Max.Y, y0))
	m := blackRGBA(a.Dx(), a.Dy())
	draw.Draw(m, in.Sub(a.Min), src, in.Min, draw.Src)
	at := image.Pt((a.Min.X-x0)/f, (a.Min.Y-y0)/f)
	r := halveTimes(m, f)
	draw.Draw(dst, r.Rect.Add(at), r, image.Point{}, draw.Src)
	return dst
}

// halveTimes halves m until it has shrunk f times (f a power of two).
func halveTimes(m *image.RGBA, f int) *image.RGBA {
	for ; f > 1; f /= 2 {
		m = compose.Halve(m)
	}
	return m
}

// level returns level i, halving the last one as needed; a level would
// fall under 2 pixels, the smallest there is.
func (p *Patch) level(i int) (*image.RGBA, int) {
	for len(p.levels) <= i {
		last := p.levels[len(p.levels)-1]
		if last.Rect.Dx() < 4 {
			return last, len(p.levels) - 1
		}
		p.levels = append(p.levels, compose.Halve(last))
	}
	return p.levels[i], i
}

// Crop reads the square of the given side (in source pixels) into an
// upright out×out image.
func (p *Patch) Crop(side float64, out int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, out, out))
	if side <= 0 || out <= 0 || math.IsNaN(side) || math.IsInf(side, 0) {
		return dst
	}
	// λ: log2 of level-0 pixels per crop pixel. The crop reads levels
	// floor(λ) and floor(λ)+1, weighted by λ's fraction; at λ <= 0 it
	// enlarges level 0.
	step := side / float64(out) // source pixels per crop pixel
	lambda := math.Log2(step) - float64(p.base) - lodBias
	lo, t := 0, 0.0
	if lambda > 0 {
		lo, t = int(lambda), lambda-math.Floor(lambda)
	}
	a, la := p.level(lo)
	b, lb := p.level(lo + 1)
	if la != lo || t == 0 { // the finer level alone
		b, t = a, 0
	}
	ra := p.reader(a, la, side, out)
	rb := p.reader(b, lb, side, out)
	wt := float32(t)
	for y := 0; y < out; y++ {
		ua, va := ra.row(y)
		ub, vb := rb.row(y)
		d := dst.Pix[y*dst.Stride : y*dst.Stride+4*out]
		for x := 0; x < out; x++ {
			r, g, bl := ra.at(ua, va)
			if wt > 0 {
				r2, g2, b2 := rb.at(ub, vb)
				r += wt * (r2 - r)
				g += wt * (g2 - g)
				bl += wt * (b2 - bl)
			}
			o := d[4*x : 4*x+4 : 4*x+4]
			o[0], o[1], o[2], o[3] = uint8(r+0.5), uint8(g+0.5), uint8(bl+0.5), 255
			ua, va, ub, vb = ua+ra.dux, va+ra.dvx, ub+rb.dux, vb+rb.dvx
		}
	}
	return dst
}

// lodBias reads each crop from half a level finer than its resolution
// calls for: trilinear filtering of box-filtered levels blurs more than an
// exact area mean, and on expressions-dev the sharper reading scored as
// the exact one did (55.3% / 51.2% against 55.7% / 51.5%, within one
// standard error; without the bias 55.0% / 50.9%).
const lodBias = 0.5

// reader samples one level bilinearly along a crop's rows: the crop's
// pixel (x, y) maps affinely to the level's (u0 + x*dux + y*duy, v0 +
// x*dvx + y*dvy), with pixel centres at whole numbers.
type reader struct {
	pix                        []uint8
	stride                     int
	maxU, maxV                 float64
	u0, v0, dux, dvx, duy, dvy float64
}

func (p *Patch) reader(img *image.RGBA, level int, side float64, out int) reader {
	k := math.Ldexp(1, -(p.base + level)) // level pixels per source pixel
	step := side / float64(out) * k
	// The crop's top-left pixel centre, turned by roll about the centre:
	// the crop's up is the face's up.
	c := (0.5 - float64(out)/2) * step
	cx, cy := (p.cx-p.ox)*k-0.5, (p.cy-p.oy)*k-0.5
	return reader{
		pix: img.Pix, stride: img.Stride,
		// Reads stay one pixel short of the last column and row, so that
		// a read's right and lower neighbours exist (levels are >= 2x2).
		maxU: float64(img.Rect.Dx()-1) - 1e-6, maxV: float64(img.Rect.Dy()-1) - 1e-6,
		u0: cx + c*p.cos - c*p.sin, v0: cy + c*p.sin + c*p.cos,
		dux: step * p.cos, dvx: step * p.sin,
		duy: -step * p.sin, dvy: step * p.cos,
	}
}

func (r *reader) row(y int) (u, v float64) {
	return r.u0 + float64(y)*r.duy, r.v0 + float64(y)*r.dvy
}

// at is a bilinear read, clamped at the level's edges (which are margin,
// or black outside the photo).
func (r *reader) at(u, v float64) (float32, float32, float32) {
	// (Comparisons, not min and max: those also order NaNs, and cost.)
	if u < 0 {
		u = 0
	} else if u > r.maxU {
		u = r.maxU
	}
	if v < 0 {
		v = 0
	} else if v > r.maxV {
		v = r.maxV
	}
	x0, y0 := int(u), int(v)
	fx, fy := float32(u-float64(x0)), float32(v-float64(y0))
	i := y0*r.stride + 4*x0
	p := r.pix[i : i+8 : i+8]
	q := r.pix[i+r.stride : i+r.stride+8 : i+r.stride+8]
	t0 := float32(p[0]) + fx*(float32(p[4])-float32(p[0]))
	b0 := float32(q[0]) + fx*(float32(q[4])-float32(q[0]))
	t1 := float32(p[1]) + fx*(float32(p[5])-float32(p[1]))
	b1 := float32(q[1]) + fx*(float32(q[5])-float32(q[1]))
	t2 := float32(p[2]) + fx*(float32(p[6])-float32(p[2]))
	b2 := float32(q[2]) + fx*(float32(q[6])-float32(q[2]))
	return t0 + fy*(b0-t0), t1 + fy*(b1-t1), t2 + fy*(b2-t2)
}

// GrayInput is mini-Xception's input: NHWC [1, n, n, 1], gray =
// 0.2989R + 0.587G + 0.114B in [0,1], then (g-0.5)*2. flip mirrors it.
func GrayInput(crop *image.RGBA, flip bool) []float32 {
	n := crop.Bounds().Dx()
	out := make([]float32, n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sx := x
			if flip {
				sx = n - 1 - x
			}
			i := crop.PixOffset(sx, y)
			g := (0.2989*float64(crop.Pix[i]) + 0.587*float64(crop.Pix[i+1]) + 0.114*float64(crop.Pix[i+2])) / 255
			out[y*n+x] = float32((g - 0.5) * 2)
		}
	}
	return out
}

// RGBInput is face-api's input: NHWC [1, n, n, 3] RGB in 0..255 (the
// model normalizes inside its graph). flip mirrors it.
func RGBInput(crop *image.RGBA, flip bool) []float32 {
	n := crop.Bounds().Dx()
	out := make([]float32, n*n*3)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sx := x
			if flip {
				sx = n - 1 - x
			}
			i := crop.PixOffset(sx, y)
			o := (y*n + x) * 3
			out[o], out[o+1], out[o+2] = float32(crop.Pix[i]), float32(crop.Pix[i+1]), float32(crop.Pix[i+2])
		}
	}
	return out
}
