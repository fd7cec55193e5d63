// Package compose pastes emoji onto photos: scaled, rotated with the head's
// roll, centred on the face, clipped at the image edges and alpha-blended.
// It is pure Go so that the worker and the in-browser preview draw exactly
// the same picture.
package compose

import (
	"encoding/binary"
	"image"
	"math"

	"github.com/igemoji/igemoji/shared/face"
)

// Placement says where an emoji goes: its centre, the side of its square
// in destination pixels, and its rotation in radians (clockwise on screen,
// as image y grows downwards).
type Placement struct {
	CX, CY, Size, Roll float64
}

// Paste draws emoji over dst at p (source-over, premultiplied alpha).
// Pixels of the rotated square that fall outside dst are skipped. An
// emoji pasted again and again is best given as a *Mipmap (see Prepare).
func Paste(dst *image.RGBA, emoji image.Image, p Placement) {
	// (NaN fails both tests; no photo is 2^24 pixels across.)
	if !(p.Size >= 1 && p.Size < 1<<24) || emoji.Bounds().Empty() {
		return
	}
	src := source(emoji, int(math.Ceil(p.Size)))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()

	sin, cos := math.Sincos(p.Roll)
	half := p.Size / 2
	// The rotated square's bounding box, clipped to dst, widened by the
	// soft edge bilinear reads give it: one emoji pixel, which is more
	// than one output pixel when the level is enlarged.
	ext := half*(math.Abs(sin)+math.Abs(cos)) + p.Size/float64(min(sw, sh))
	box := image.Rect(int(math.Floor(p.CX-ext)), int(math.Floor(p.CY-ext)),
		int(math.Ceil(p.CX+ext))+1, int(math.Ceil(p.CY+ext))+1).Intersect(dst.Bounds())
	kx, ky := float64(sw)/p.Size, float64(sh)/p.Size
	// The inverse map of a pixel centre into the emoji's frame is affine:
	// (u, v) = (u0 + x*du, v0 + x*dv) along a row.
	du, dv := cos*kx, -sin*ky
	for y := box.Min.Y; y < box.Max.Y; y++ {
		dx, dy := float64(box.Min.X)+0.5-p.CX, float64(y)+0.5-p.CY
		u0 := (dx*cos+dy*sin)*kx + float64(sw)/2 - 0.5
		v0 := (-dx*sin+dy*cos)*ky + float64(sh)/2 - 0.5
		// Only the part of the row whose reads touch the emoji (-1 < u <
		// sw, -1 < v < sh) is visited.
		lo, hi := span(u0, du, float64(sw), 0, box.Dx())
		lo, hi = span(v0, dv, float64(sh), lo, hi)
		row := dst.Pix[dst.PixOffset(box.Min.X, y):]
		// Fixed point, 32 fractional bits, along the span.
		ui, vi := fixed(u0+float64(lo)*du), fixed(v0+float64(lo)*dv)
		dui, dvi := fixed(du), fixed(dv)
		for x := lo; x < hi; x, ui, vi = x+1, ui+dui, vi+dvi {
			x0, y0 := int(ui>>32), int(vi>>32) // floor
			if x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh {
				continue // rounding at the span's ends
			}
			var c uint32 // premultiplied RGBA, R in the low byte
			if x0 >= 0 && y0 >= 0 && x0+1 < sw && y0+1 < sh {
				// Inside: the four neighbours read as words, blended in
				// 8-bit fixed point two channels at a time.
				i := y0*src.Stride + 4*x0
				p0 := src.Pix[i : i+8 : i+8]
				p1 := src.Pix[i+src.Stride : i+src.Stride+8 : i+src.Stride+8]
				c00, c10 := binary.LittleEndian.Uint32(p0), binary.LittleEndian.Uint32(p0[4:])
				c01, c11 := binary.LittleEndian.Uint32(p1), binary.LittleEndian.Uint32(p1[4:])
				if (c00|c10|c01|c11)>>24 == 0 {
					continue // transparent here
				}
				fx, fy := uint32(ui>>24)&0xff, uint32(vi>>24)&0xff
				c = lerp(lerp(c00, c10, fx), lerp(c01, c11, fx), fy)
			} else {
				r, g, b, a := bilinear(src, float64(ui)/(1<<32), float64(vi)/(1<<32))
				c = uint32(clamp(r)) | uint32(clamp(g))<<8 | uint32(clamp(b))<<16 | uint32(clamp(a))<<24
			}
			a := c >> 24
			if a == 0 {
				continue
			}
			d := row[4*x : 4*x+4 : 4*x+4]
			if a == 255 {
				binary.LittleEndian.PutUint32(d, c)
				continue
			}
			binary.LittleEndian.PutUint32(d, over(c, binary.LittleEndian.Uint32(d), a))
		}
	}
}

// source is the premultiplied image Paste reads to draw emoji side pixels
// wide: a mipmap's level, or the emoji shrunk close to that size with an
// area filter (bilinear reads alone would alias a 512 px image drawn at
// 40 px).
func source(emoji image.Image, side int) *image.RGBA {
	var src *image.RGBA
	if m, ok := emoji.(*Mipmap); ok {
		src = m.Level(side)
		emoji = m.RGBA // Scale's fast path, should it be needed below
	}
	if src == nil || src.Rect.Dx() >= 2*side || src.Rect.Dy() >= 2*side {
		src = image.NewRGBA(image.Rect(0, 0, side, side))
		Scale(src, src.Bounds(), emoji, emoji.Bounds())
	}
	return src
}

const lanes = 0x00ff00ff // bytes 0 and 2 of a word, in 16-bit lanes

// lerp is a + (b-a)*f/256 for each byte of two packed pixels, f in 0..256.
func lerp(a, b, f uint32) uint32 {
	g := 256 - f
	even := ((a&lanes)*g + (b&lanes)*f + 0x00800080) >> 8 & lanes
	odd := ((a>>8&lanes)*g + (b>>8&lanes)*f + 0x00800080) >> 8 & lanes
	return even | odd<<8
}

// over is premultiplied src-over: s + d*(255-a)/255 for each byte,
// saturating.
func over(s, d, a uint32) uint32 {
	k := 255 - a
	blend := func(s, d uint32) uint32 {
		t := d*k + 0x00800080 // x/255 rounded as (t + t>>8) >> 8
		t = (t + t>>8&lanes) >> 8 & lanes
		t += s
		return (t | (t>>8&0x00010001)*0xff) & lanes // saturate each lane
	}
	return blend(s&lanes, d&lanes) | blend(s>>8&lanes, d>>8&lanes)<<8
}

// fixed is v in 32.32 fixed point (|v| is far below 2^31 here).
func fixed(v float64) int64 { return int64(math.Round(v * (1 << 32))) }

// span narrows [lo, hi) to the x where -1 < a + x*d < n.
func span(a, d, n float64, lo, hi int) (int, int) {
	if d == 0 {
		if a <= -1 || a >= n {
			return lo, lo
		}
		return lo, hi
	}
	x1, x2 := (-1-a)/d, (n-a)/d
	if d < 0 {
		x1, x2 = x2, x1
	}
	// A pixel of slack either side (the loop tests each pixel anyway),
	// and compared as floats before converting, which could overflow.
	if f := math.Floor(x1) - 1; f > float64(lo) {
		lo = int(math.Min(f, float64(hi)))
	}
	if c := math.Ceil(x2) + 1; c < float64(hi) {
		hi = int(math.Max(c, float64(lo)))
	}
	return lo, max(lo, hi)
}

// bilinear samples premultiplied src at (u, v) in pixel-centre
// coordinates; outside the image counts as transparent, which gives the
// emoji's edges a soft, anti-aliased border.
func bilinear(src *image.RGBA, u, v float64) (r, g, b, a float64) {
	x0, y0 := int(math.Floor(u)), int(math.Floor(v))
	fx, fy := u-float64(x0), v-float64(y0)
	w := [4]float64{(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy}
	pts := [4][2]int{{x0, y0}, {x0 + 1, y0}, {x0, y0 + 1}, {x0 + 1, y0 + 1}}
	bnd := src.Bounds()
	for k, pt := range pts {
		if w[k] == 0 || !(image.Point{pt[0], pt[1]}.In(bnd)) {
			continue
		}
		i := src.PixOffset(pt[0], pt[1])
		p := src.Pix[i : i+4 : i+4]
		r += w[k] * float64(p[0])
		g += w[k] * float64(p[1])
		b += w[k] * float64(p[2])
		a += w[k] * float64(p[3])
	}
	return
}

func clamp(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// Place is where the emoji for a face goes: centred on the face, as large as the
// head (from the keypoints where they are sound, the box otherwise),
// turned with the head.
func Place(box [4]float64, k [face.NumKeypoints]face.Point, roll float64) Placement {
	ears := math.Hypot(k[face.LeftEarTragion].X-k[face.RightEarTragion].X, k[face.LeftEarTragion].Y-k[face.RightEarTragion].Y)
	eyes := face.Point{X: (k[face.RightEye].X + k[face.LeftEye].X) / 2, Y: (k[face.RightEye].Y + k[face.LeftEye].Y) / 2}
	eyeMouth := math.Hypot(k[face.MouthCenter].X-eyes.X, k[face.MouthCenter].Y-eyes.Y)
	// A head is about 1.3 ear-spans wide and 3.2 eye-to-mouth spans tall; a
	// turned head shortens the ear span, so take the larger estimate, and
	// never less than the box.
	size := math.Max(box[2]*1.35, math.Max(ears*1.3, eyeMouth*3.2))
	// Centre: midway between the eyes and the mouth, nudged up towards the
	// forehead the emoji should also cover.
	cx := (eyes.X + k[face.MouthCenter].X) / 2
	cy := (eyes.Y + k[face.MouthCenter].Y) / 2
	up := size * 0.06
	cx += up * math.Sin(roll)
	cy -= up * math.Cos(roll)
	if ears == 0 && eyeMouth == 0 { // no keypoints (a --face-crop fallback)
		cx, cy = box[0]+box[2]/2, box[1]+box[3]/2
		size = box[2]
	}
	return Placement{CX: cx, CY: cy, Size: size, Roll: roll}
}

// PasteStraight is Paste onto pixels with straight (not premultiplied)
// alpha, as a browser canvas holds them; an opaque image is pasted on as
// it is. Colours of nearly transparent pixels keep what 8 bits allow.
func PasteStraight(dst *image.RGBA, emoji image.Image, places []Placement) {
	pix := dst.Pix
	opaque := true
	for i := 3; i < len(pix); i += 4 {
		if a := uint32(pix[i]); a != 255 {
			opaque = false
			for j := i - 3; j < i; j++ {
				pix[j] = uint8((uint32(pix[j])*a + 127) / 255)
			}
		}
	}
	for _, p := range places {
		Paste(dst, emoji, p)
	}
	if opaque {
		return
	}
	for i := 3; i < len(pix); i += 4 {
		switch a := uint32(pix[i]); a {
		case 255:
		case 0:
			pix[i-3], pix[i-2], pix[i-1] = 0, 0, 0
		default:
			for j := i - 3; j < i; j++ {
				pix[j] = uint8(min(255, (uint32(pix[j])*255+a/2)/a))
			}
		}
	}
}
