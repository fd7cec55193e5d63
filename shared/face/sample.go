package face

import (
	"fmt"
	"image"
	"math"
)

// Window is a square region of an image, in pixels relative to the image's
// bounds.Min. It may reach past the image's edges; the model then sees
// padding there (black, as MediaPipe's letterboxing pads).
type Window struct{ X, Y, Side float64 }

// Transform maps model-input pixels of a size×size input filled from w back
// to image pixels.
func (w Window) Transform(size int) Transform {
	return Transform{Scale: w.Side / float64(size), DX: w.X, DY: w.Y}
}

// Letterbox is the window that shows a whole w×h image, centred, keeping its
// aspect ratio: the long side fills the input, the short side is padded.
func Letterbox(w, h int) Window {
	l := float64(max(w, h))
	return Window{X: (float64(w) - l) / 2, Y: (float64(h) - l) / 2, Side: l}
}

// rowReader writes the three channel bytes of pixels [x0, x1) of row y
// (relative to bounds.Min) into dst: RGB, or for YCbCr images Y, Cb, Cr.
type rowReader func(y, x0, x1 int, dst []uint8)

// Source is an image prepared for repeated resampling: the full-frame pass
// and every tile read from one Source. It keeps scratch buffers between
// calls, so one Source must not be used by two goroutines at once.
type Source struct {
	W, H int
	read rowReader
	// ycc: the reader yields Y, Cb, Cr. Filtering is linear, so YCbCr is
	// averaged as read and converted to RGB once per output pixel instead
	// of once per source pixel: shrinking a 12-megapixel JPEG to 256x256
	// then converts 65,536 pixels, not 12 million.
	ycc bool
	// pad is black in the reader's channels.
	pad [3]float32

	raw  []uint8
	cols []taps
	rows []taps
	colW []float32
	rowW []float32
	ring [][]float32 // horizontally filtered source rows, row r in slot r%len
	acc  []float32
}

// taps are one output pixel's contributions along one axis: source pixels
// start..start+n-1 with weights w[off:off+n] (in the shared weight slice),
// and the weight of the padding outside the image.
type taps struct {
	start, off, n int
	pad           float32
}

// NewSource prepares img. *image.YCbCr (JPEG), *image.NRGBA, *image.RGBA and
// *image.Gray are read directly; anything else goes through image.At, which
// is correct but several times slower. Transparent pixels count as black,
// as image.At's premultiplied colours have them.
func NewSource(img image.Image) *Source {
	b := img.Bounds()
	s := &Source{W: b.Dx(), H: b.Dy()}
	switch m := img.(type) {
	case *image.YCbCr:
		s.ycc = true
		s.pad = [3]float32{0, 128, 128}
		s.read = yccReader(m)
	case *image.NRGBA:
		s.read = func(y, x0, x1 int, dst []uint8) {
			row := m.Pix[m.PixOffset(b.Min.X+x0, b.Min.Y+y):]
			for i := 0; i < x1-x0; i++ {
				p := row[4*i : 4*i+4]
				d := dst[3*i : 3*i+3]
				if a := uint32(p[3]); a == 255 {
					d[0], d[1], d[2] = p[0], p[1], p[2]
				} else {
					d[0] = uint8(uint32(p[0]) * a / 255)
					d[1] = uint8(uint32(p[1]) * a / 255)
					d[2] = uint8(uint32(p[2]) * a / 255)
				}
			}
		}
	case *image.RGBA:
		s.read = func(y, x0, x1 int, dst []uint8) {
			row := m.Pix[m.PixOffset(b.Min.X+x0, b.Min.Y+y):]
			for i := 0; i < x1-x0; i++ {
				d := dst[3*i : 3*i+3]
				d[0], d[1], d[2] = row[4*i], row[4*i+1], row[4*i+2]
			}
		}
	case *image.Gray:
		s.read = func(y, x0, x1 int, dst []uint8) {
			row := m.Pix[m.PixOffset(b.Min.X+x0, b.Min.Y+y):]
			for i := 0; i < x1-x0; i++ {
				v := row[i]
				d := dst[3*i : 3*i+3]
				d[0], d[1], d[2] = v, v, v
			}
		}
	default:
		s.read = func(y, x0, x1 int, dst []uint8) {
			for x := x0; x < x1; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				d := dst[3*(x-x0):]
				d[0], d[1], d[2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			}
		}
	}
	return s
}

// yccReader reads Y, Cb, Cr straight from the planes for every subsampling
// ratio the standard library knows: chroma index = coordinate >> shift,
// minus the rectangle's origin shifted alike (as image.YCbCr.COffset does).
func yccReader(m *image.YCbCr) rowReader {
	hs, vs := 0, 0
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	}
	r := m.Rect
	return func(y, x0, x1 int, dst []uint8) {
		py := r.Min.Y + y
		yrow := m.Y[(py-r.Min.Y)*m.YStride:]
		crow := (py>>vs - r.Min.Y>>vs) * m.CStride
		cb, cr := m.Cb[crow:], m.Cr[crow:]
		cmin := r.Min.X >> hs
		for x := x0; x < x1; x++ {
			px := r.Min.X + x
			ci := px>>hs - cmin
			d := dst[3*(x-x0) : 3*(x-x0)+3]
			d[0], d[1], d[2] = yrow[x], cb[ci], cr[ci]
		}
	}
}

// axisTaps computes, for each of size output pixels along one axis, which
// source pixels (of n) contribute and how much. Output pixel i covers source
// interval [origin+i*k, origin+(i+1)*k) with k = side/size. Shrinking
// (k > 1) averages the covered area exactly, so nothing aliases away (small
// faces survive an 8x reduction); enlarging interpolates linearly.
func axisTaps(origin, side float64, size, n int, ts []taps, w []float32) ([]taps, []float32) {
	ts, w = ts[:0], w[:0]
	k := side / float64(size)
	for i := 0; i < size; i++ {
		t := taps{off: len(w)}
		if k > 1 {
			a, b := origin+float64(i)*k, origin+float64(i+1)*k
			lo, hi := int(math.Floor(a)), int(math.Ceil(b))
			var in float64
			first := true
			for p := lo; p < hi; p++ {
				c := math.Min(b, float64(p+1)) - math.Max(a, float64(p))
				if c <= 0 || p < 0 || p >= n {
					continue
				}
				if first {
					t.start, first = p, false
				}
				w = append(w, float32(c/k))
				in += c
			}
			t.n = len(w) - t.off
			t.pad = float32(1 - in/k)
		} else {
			c := origin + (float64(i)+0.5)*k // centre of the output pixel
			if c < 0 || c >= float64(n) {
				t.pad = 1
			} else {
				p := c - 0.5
				i0 := int(math.Floor(p))
				f := p - float64(i0)
				i1 := i0 + 1
				// Near the edge clamp to the edge pixel instead of blending
				// in padding: the pixel's centre is inside the image.
				i0 = min(max(i0, 0), n-1)
				i1 = min(max(i1, 0), n-1)
				if i0 == i1 {
					t.start = i0
					w = append(w, 1)
				} else {
					t.start = i0
					w = append(w, float32(1-f), float32(f))
				}
				t.n = len(w) - t.off
			}
		}
		if t.pad < 1e-6 {
			t.pad = 0
		}
		ts = append(ts, t)
	}
	return ts, w
}

// Fill resamples win to a size×size RGB input and writes it to dst as NHWC
// float32 in [-1, 1] (pixel/127.5 - 1), the BlazeFace models' input. dst
// must hold size*size*3 values.
func (s *Source) Fill(dst []float32, win Window, size int) error {
	if len(dst) < size*size*3 {
		return fmt.Errorf("face: input buffer holds %d values, want %d", len(dst), size*size*3)
	}
	if !(win.Side > 0) || math.IsInf(win.Side, 0) || math.IsNaN(win.X) || math.IsNaN(win.Y) {
		return fmt.Errorf("face: bad window %+v", win)
	}
	s.cols, s.colW = axisTaps(win.X, win.Side, size, s.W, s.cols, s.colW)
	s.rows, s.rowW = axisTaps(win.Y, win.Side, size, s.H, s.rows, s.rowW)

	// The columns read from each source row: the union of all taps.
	x0, x1 := s.W, 0
	for _, t := range s.cols {
		if t.n > 0 {
			x0 = min(x0, t.start)
			x1 = max(x1, t.start+t.n)
		}
	}
	if x0 >= x1 { // the window misses the image: all padding
		for i := range dst[:size*size*3] {
			dst[i] = -1 // black
		}
		return nil
	}
	if need := 3 * (x1 - x0); cap(s.raw) < need {
		s.raw = make([]uint8, need)
	}
	raw := s.raw[:3*(x1-x0)]

	// The ring holds the horizontally filtered source rows that the current
	// output row needs; source rows only advance as output rows do, and
	// neighbouring output rows share boundary rows (enlarging, all of them),
	// so each source row is read and filtered once per Fill.
	slots := 1
	for _, t := range s.rows {
		slots = max(slots, t.n)
	}
	for len(s.ring) < slots {
		s.ring = append(s.ring, nil)
	}
	ring := s.ring[:slots]
	for i := range ring {
		if len(ring[i]) < 3*size {
			ring[i] = make([]float32, 3*size)
		}
	}
	if len(s.acc) < 3*size {
		s.acc = make([]float32, 3*size)
	}
	acc := s.acc[:3*size]
	lo, hi := 0, 0 // filtered rows [lo, hi) are in the ring
	for oy, rt := range s.rows {
		for i := range acc {
			acc[i] = 0
		}
		if rt.n > 0 {
			if rt.start < lo || rt.start >= hi {
				lo, hi = rt.start, rt.start
			}
			lo = rt.start
			for ; hi < rt.start+rt.n; hi++ {
				s.read(hi, x0, x1, raw)
				s.filterRow(ring[hi%slots][:3*size], raw, x0)
			}
			for j, wy := range s.rowW[rt.off : rt.off+rt.n] {
				row := ring[(rt.start+j)%slots][:3*size]
				for i := range acc {
					acc[i] += wy * row[i]
				}
			}
		}
		out := dst[oy*size*3 : (oy+1)*size*3]
		p0, p1, p2 := rt.pad*s.pad[0], rt.pad*s.pad[1], rt.pad*s.pad[2]
		for i := 0; i < len(acc); i += 3 {
			r, g, b := acc[i]+p0, acc[i+1]+p1, acc[i+2]+p2
			if s.ycc {
				r, g, b = yccToRGB(r, g, b)
			}
			out[i], out[i+1], out[i+2] = r/127.5-1, g/127.5-1, b/127.5-1
		}
	}
	return nil
}

// yccToRGB is JFIF's YCbCr to RGB conversion (as color.YCbCrToRGB, in
// floating point), clamped to 0..255.
func yccToRGB(y, cb, cr float32) (r, g, b float32) {
	cb -= 128
	cr -= 128
	r = clamp255(y + 1.402*cr)
	g = clamp255(y - 0.344136*cb - 0.714136*cr)
	b = clamp255(y + 1.772*cb)
	return r, g, b
}

func clamp255(v float32) float32 {
	return min(max(v, 0), 255)
}

// filterRow resamples one source row (rgb holds pixels from x0) horizontally
// into out (size RGB triples, 0..255 units, padding included).
func (s *Source) filterRow(out []float32, rgb []uint8, x0 int) {
	for ox, t := range s.cols {
		var r, g, b float32
		if t.n > 0 { // else the output pixel is all padding
			ws := s.colW[t.off : t.off+t.n]
			p := rgb[3*(t.start-x0):]
			for j, w := range ws {
				r += w * float32(p[3*j])
				g += w * float32(p[3*j+1])
				b += w * float32(p[3*j+2])
			}
		}
		o := out[3*ox : 3*ox+3]
		o[0], o[1], o[2] = r+t.pad*s.pad[0], g+t.pad*s.pad[1], b+t.pad*s.pad[2]
	}
}
