// Package compose pastes emoji onto photos: scaled, rotated with the head's
// roll, centred on the face, clipped at the image edges and alpha-blended.
// It is pure Go so that the worker and the in-browser preview draw exactly
// the same picture.
package compose

import (
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
	if p.Size < 1 || emoji.Bounds().Empty() {
		return
	}
	side := int(math.Ceil(p.Size))
	var src *image.RGBA
	if m, ok := emoji.(*Mipmap); ok {
		src = m.Level(side)
		emoji = m.RGBA // Scale's fast path, should it be needed below
	}
	if src == nil || src.Rect.Dx() >= 2*side || src.Rect.Dy() >= 2*side {
		// Shrink the emoji close to its final size with an area filter
		// first: bilinear sampling alone would alias a 512 px image drawn
		// at 40 px.
		src = image.NewRGBA(image.Rect(0, 0, side, side))
		Scale(src, src.Bounds(), emoji, emoji.Bounds())
	}
	sw, sh := src.Rect.Dx(), src.Rect.Dy()

	sin, cos := math.Sincos(p.Roll)
	half := p.Size / 2
	// The rotated square's bounding box, clipped to dst.
	ext := half * (math.Abs(sin) + math.Abs(cos))
	box := image.Rect(int(math.Floor(p.CX-ext)), int(math.Floor(p.CY-ext)),
		int(math.Ceil(p.CX+ext))+1, int(math.Ceil(p.CY+ext))+1).Intersect(dst.Bounds())
	kx, ky := float64(sw)/p.Size, float64(sh)/p.Size
	// The inverse map of a pixel centre into the emoji's frame is affine,
	// so it is stepped along each row rather than recomputed.
	du, dv := cos*kx, -sin*ky
	for y := box.Min.Y; y < box.Max.Y; y++ {
		dx, dy := float64(box.Min.X)+0.5-p.CX, float64(y)+0.5-p.CY
		u := (dx*cos+dy*sin)*kx + float64(sw)/2 - 0.5
		v := (-dx*sin+dy*cos)*ky + float64(sh)/2 - 0.5
		row := dst.Pix[dst.PixOffset(box.Min.X, y):]
		for x := 0; x < box.Dx(); x, u, v = x+1, u+du, v+dv {
			if u <= -1 || v <= -1 || u >= float64(sw) || v >= float64(sh) {
				continue // wholly outside the emoji
			}
			var r, g, b, a float64
			x0, y0 := int(math.Floor(u)), int(math.Floor(v))
			if x0 >= 0 && y0 >= 0 && x0+1 < sw && y0+1 < sh {
				// Inside: the four neighbours without bounds tests.
				fx, fy := u-float64(x0), v-float64(y0)
				i := src.PixOffset(x0, y0)
				p00 := src.Pix[i : i+8 : i+8]
				p01 := src.Pix[i+src.Stride : i+src.Stride+8 : i+src.Stride+8]
				if p00[3]|p00[7]|p01[3]|p01[7] == 0 {
					continue // transparent here
				}
				w00, w10, w01, w11 := (1-fx)*(1-fy), fx*(1-fy), (1-fx)*fy, fx*fy
				r = w00*float64(p00[0]) + w10*float64(p00[4]) + w01*float64(p01[0]) + w11*float64(p01[4])
				g = w00*float64(p00[1]) + w10*float64(p00[5]) + w01*float64(p01[1]) + w11*float64(p01[5])
				b = w00*float64(p00[2]) + w10*float64(p00[6]) + w01*float64(p01[2]) + w11*float64(p01[6])
				a = w00*float64(p00[3]) + w10*float64(p00[7]) + w01*float64(p01[3]) + w11*float64(p01[7])
			} else {
				r, g, b, a = bilinear(src, u, v)
			}
			if a == 0 {
				continue
			}
			d := row[4*x : 4*x+4 : 4*x+4]
			inv := 1 - a/255
			d[0] = clamp(r + float64(d[0])*inv)
			d[1] = clamp(g + float64(d[1])*inv)
			d[2] = clamp(b + float64(d[2])*inv)
			d[3] = clamp(a + float64(d[3])*inv)
		}
	}
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
