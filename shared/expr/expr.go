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

// Patch is the neighbourhood of a face, resampled once to about twice the
// resolution of the crops read from it, so that several crops (scales of
// the same face) cost one resampling of the photo.
type Patch struct {
	img      *image.RGBA
	k        float64 // patch pixels per source pixel
	cx, cy   float64 // the centre, in patch pixels
	roll     float64
	sin, cos float64
}

// NewPatch prepares crops centred at (cx, cy), turned by roll, of sides up
// to side read at out×out.
func NewPatch(src image.Image, cx, cy, side, roll float64, out int) *Patch {
	p := &Patch{roll: roll}
	p.sin, p.cos = math.Sincos(roll)
	if side <= 0 || out <= 0 || math.IsNaN(side) || math.IsInf(side, 0) {
		p.img = image.NewRGBA(image.Rect(0, 0, 1, 1))
		p.k = 1
		return p
	}
	ext := side / 2 * (math.Abs(p.sin) + math.Abs(p.cos))
	region := image.Rect(int(math.Floor(cx-ext))-1, int(math.Floor(cy-ext))-1,
		int(math.Ceil(cx+ext))+2, int(math.Ceil(cy+ext))+2)
	// Copy the region (black outside the source) at a scale near twice the
	// output's: the bilinear reads below then see a pre-filtered image.
	k := math.Min(1, 2*float64(out)/side)
	w := max(1, int(math.Round(float64(region.Dx())*k)))
	h := max(1, int(math.Round(float64(region.Dy())*k)))
	k = float64(w) / float64(region.Dx())
	patch := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 3; i < len(patch.Pix); i += 4 {
		patch.Pix[i] = 255 // opaque black
	}
	if in := region.Intersect(src.Bounds()); !in.Empty() {
		r := image.Rect(
			int(math.Round(float64(in.Min.X-region.Min.X)*k)), int(math.Round(float64(in.Min.Y-region.Min.Y)*k)),
			int(math.Round(float64(in.Max.X-region.Min.X)*k)), int(math.Round(float64(in.Max.Y-region.Min.Y)*k)))
		if k == 1 {
			draw.Draw(patch, r, src, in.Min, draw.Src)
		} else {
			compose.Scale(patch, r, src, in)
		}
	}
	p.img, p.k = patch, k
	p.cx, p.cy = (cx-float64(region.Min.X))*k, (cy-float64(region.Min.Y))*k
	return p
}

// Half is the patch at half its resolution (2x2 area means), for crops
// half the size: cheaper than resampling the photo again.
func (p *Patch) Half() *Patch {
	h := *p
	h.img = compose.Halve(p.img)
	h.k, h.cx, h.cy = p.k/2, p.cx/2, p.cy/2
	return &h
}

// Crop reads the square of the given side (in source pixels, at most the
// patch's) into an upright out×out image.
func (p *Patch) Crop(side float64, out int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, out, out))
	if side <= 0 || out <= 0 {
		return dst
	}
	// Inverse-map every output pixel into the patch.
	step := side * p.k / float64(out)
	for y := 0; y < out; y++ {
		for x := 0; x < out; x++ {
			u := (float64(x) + 0.5 - float64(out)/2) * step
			v := (float64(y) + 0.5 - float64(out)/2) * step
			// Rotate by roll: the output's up is the face's up.
			px := p.cx + u*p.cos - v*p.sin
			py := p.cy + u*p.sin + v*p.cos
			r, g, b := sample(p.img, px-0.5, py-0.5)
			i := dst.PixOffset(x, y)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, b, 255
		}
	}
	return dst
}

// sample is a bilinear read with edge clamping.
func sample(img *image.RGBA, u, v float64) (uint8, uint8, uint8) {
	b := img.Bounds()
	x0, y0 := int(math.Floor(u)), int(math.Floor(v))
	fx, fy := u-float64(x0), v-float64(y0)
	at := func(x, y int) []uint8 {
		x = min(max(x, b.Min.X), b.Max.X-1)
		y = min(max(y, b.Min.Y), b.Max.Y-1)
		i := img.PixOffset(x, y)
		return img.Pix[i : i+3 : i+3]
	}
	p00, p10, p01, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
	var out [3]uint8
	for c := 0; c < 3; c++ {
		top := float64(p00[c])*(1-fx) + float64(p10[c])*fx
		bot := float64(p01[c])*(1-fx) + float64(p11[c])*fx
		out[c] = uint8(math.Round(top*(1-fy) + bot*fy))
	}
	return out[0], out[1], out[2]
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

// Resolution is the patch's pixels per source pixel.
func (p *Patch) Resolution() float64 { return p.k }
