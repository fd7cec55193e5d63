package compose

import (
	"encoding/binary"
	"image"
	"image/draw"
	"math"
)

// Scale resamples sr of src into dr of dst (replacing dst's pixels there,
// premultiplied alpha). Shrinking averages exactly the area each output
// pixel covers, so nothing aliases, however large the reduction;
// enlarging interpolates linearly. It is separable float32 work in
// proportion to the source's pixels: about 1 ms for a face read from a big
// photo or a 512-pixel emoji drawn at 200 pixels, where
// x/image/draw's Catmull-Rom took 7 to 16 ms.
func Scale(dst *image.RGBA, dr image.Rectangle, src image.Image, sr image.Rectangle) {
	dr = dr.Intersect(dst.Rect)
	sr = sr.Intersect(src.Bounds())
	if dr.Empty() || sr.Empty() {
		return
	}
	// Premultiplied RGBA of the region: draw.Draw has fast paths for the
	// image types that matter (RGBA, NRGBA, YCbCr, Gray).
	var pix []uint8
	stride := 0
	if m, ok := src.(*image.RGBA); ok {
		pix, stride = m.Pix[m.PixOffset(sr.Min.X, sr.Min.Y):], m.Stride
	} else {
		m := image.NewRGBA(image.Rect(0, 0, sr.Dx(), sr.Dy()))
		draw.Draw(m, m.Rect, src, sr.Min, draw.Src)
		pix, stride = m.Pix, m.Stride
	}
	sw, sh, dw, dh := sr.Dx(), sr.Dy(), dr.Dx(), dr.Dy()
	cols := taps(sw, dw)
	rows := taps(sh, dh)

	// Horizontal pass: every source row to dw pixels.
	tmp := make([]float32, sh*dw*4)
	for y := range sh {
		in := pix[y*stride : y*stride+4*sw]
		out := tmp[y*dw*4 : (y+1)*dw*4]
		for x, t := range cols {
			var r, g, b, a float32
			p := in[4*t.start : 4*(t.start+len(t.w))]
			for j, w := range t.w {
				q := p[4*j : 4*j+4 : 4*j+4]
				r += w * float32(q[0])
				g += w * float32(q[1])
				b += w * float32(q[2])
				a += w * float32(q[3])
			}
			o := out[4*x : 4*x+4 : 4*x+4]
			o[0], o[1], o[2], o[3] = r, g, b, a
		}
	}
	// Vertical pass into dst.
	acc := make([]float32, dw*4)
	for y, t := range rows {
		clear(acc)
		for j, w := range t.w {
			row := tmp[(t.start+j)*dw*4 : (t.start+j+1)*dw*4]
			row = row[:len(acc)]
			for i, v := range row {
				acc[i] += w * v
			}
		}
		o := dst.Pix[dst.PixOffset(dr.Min.X, dr.Min.Y+y):]
		for i, v := range acc {
			o[i] = uint8(min(max(v+0.5, 0), 255))
		}
	}
}

// tap is one output pixel's source pixels start.. with weights w.
type tap struct {
	start int
	w     []float32
}

// taps maps n source pixels onto m output pixels: exact area coverage when
// shrinking, linear interpolation between pixel centres when enlarging
// (clamped at the edges).
func taps(n, m int) []tap {
	out := make([]tap, m)
	k := float64(n) / float64(m)
	for i := range out {
		if k >= 1 {
			a, b := float64(i)*k, float64(i+1)*k
			lo, hi := int(math.Floor(a)), min(int(math.Ceil(b)), n)
			t := tap{start: lo}
			for p := lo; p < hi; p++ {
				c := math.Min(b, float64(p+1)) - math.Max(a, float64(p))
				t.w = append(t.w, float32(c/k))
			}
			out[i] = t
			continue
		}
		c := (float64(i)+0.5)*k - 0.5
		i0 := int(math.Floor(c))
		f := float32(c - float64(i0))
		switch {
		case i0 < 0:
			out[i] = tap{start: 0, w: []float32{1}}
		case i0 >= n-1:
			out[i] = tap{start: n - 1, w: []float32{1}}
		default:
			out[i] = tap{start: i0, w: []float32{1 - f, f}}
		}
	}
	return out
}

// Mipmap is an emoji prepared for pasting again and again: premultiplied,
// with copies halved down to 8 pixels (each a 2x2 area mean of the one
// before). Paste reads the smallest copy at least as big as the paste
// directly, as graphics cards mipmap textures, instead of resampling the
// full image every time. It is itself the full image.
type Mipmap struct {
	*image.RGBA
	halves []*image.RGBA
}

// Prepare makes img into a Mipmap (img itself if it already is one).
func Prepare(img image.Image) *Mipmap {
	if m, ok := img.(*Mipmap); ok {
		return m
	}
	b := img.Bounds()
	m := &Mipmap{RGBA: image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))}
	draw.Draw(m.RGBA, m.RGBA.Rect, img, b.Min, draw.Src)
	for l := m.RGBA; l.Rect.Dx() >= 16 && l.Rect.Dy() >= 16; {
		l = Halve(l)
		m.halves = append(m.halves, l)
	}
	return m
}

// Level is the copy nearest to side pixels (in scale: none more than
// √2 larger or smaller), so that bilinear reads from it neither skip
// pixels, which would alias, nor enlarge it much, which would blur; it
// also keeps the reads within a small, cache-friendly copy.
func (m *Mipmap) Level(side int) *image.RGBA {
	best := m.RGBA
	for _, l := range m.halves {
		if float64(min(l.Rect.Dx(), l.Rect.Dy())) < float64(side)/math.Sqrt2 {
			break
		}
		best = l
	}
	return best
}

// Halve averages 2x2 blocks (an odd last row or column is dropped),
// rounding half up.
func Halve(m *image.RGBA) *image.RGBA {
	w, h := m.Rect.Dx()/2, m.Rect.Dy()/2
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	const lo = 0x00ff00ff00ff00ff // every other byte, in 16-bit lanes
	for y := range h {
		a := m.Pix[(2*y)*m.Stride : (2*y)*m.Stride+8*w]
		b := m.Pix[(2*y+1)*m.Stride : (2*y+1)*m.Stride+8*w]
		o := out.Pix[y*out.Stride : y*out.Stride+4*w]
		// Two pixels of each row at a time, as one 64-bit word: the even
		// bytes (R, B) and odd bytes (G, A) of the four pixels summed in
		// 16-bit lanes, then each pixel's lanes added to its neighbour's.
		for len(a) >= 8 && len(b) >= 8 && len(o) >= 4 {
			p, q := binary.LittleEndian.Uint64(a), binary.LittleEndian.Uint64(b)
			even := p&lo + q&lo
			odd := (p>>8)&lo + (q>>8)&lo
			even += even >> 32
			odd += odd >> 32
			even = (even + 0x0002_0002) >> 2 & 0x00ff00ff
			odd = (odd + 0x0002_0002) >> 2 & 0x00ff00ff
			binary.LittleEndian.PutUint32(o, uint32(even|odd<<8))
			a, b, o = a[8:], b[8:], o[4:]
		}
	}
	return out
}
