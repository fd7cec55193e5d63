package compose

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// TestScale checks the resampler against what each case must give.
func TestScale(t *testing.T) {
	// A 2x2 checker of 4x4 blocks: shrunk 4x it must give the blocks'
	// colours exactly; shrunk 8x their mean.
	checker := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			c := color.NRGBA{200, 40, 0, 255}
			if (x/4+y/4)%2 == 1 {
				c = color.NRGBA{0, 40, 100, 255}
			}
			checker.SetNRGBA(x, y, c)
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, 2, 2))
	Scale(dst, dst.Rect, checker, checker.Rect)
	if got := dst.RGBAAt(0, 0); got != (color.RGBA{200, 40, 0, 255}) {
		t.Errorf("4x shrink, pixel (0,0): got %v, want {200 40 0 255}", got)
	}
	if got := dst.RGBAAt(1, 0); got != (color.RGBA{0, 40, 100, 255}) {
		t.Errorf("4x shrink, pixel (1,0): got %v, want {0 40 100 255}", got)
	}
	one := image.NewRGBA(image.Rect(0, 0, 1, 1))
	Scale(one, one.Rect, checker, checker.Rect)
	if got := one.RGBAAt(0, 0); got != (color.RGBA{100, 40, 50, 255}) {
		t.Errorf("8x shrink: got %v, want the mean {100 40 50 255}", got)
	}
	// Transparency is averaged premultiplied: half a red opaque pixel over
	// nothing is a half-transparent red, not a darkened one.
	half := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	half.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	Scale(one, one.Rect, half, half.Rect)
	if got := one.RGBAAt(0, 0); got != (color.RGBA{128, 0, 0, 128}) {
		t.Errorf("alpha: got %v, want {128 0 0 128} (premultiplied)", got)
	}
	// Enlarging interpolates between pixel centres and keeps the edges.
	ramp := image.NewGray(image.Rect(0, 0, 2, 1))
	ramp.Pix[0], ramp.Pix[1] = 0, 200
	wide := image.NewRGBA(image.Rect(0, 0, 8, 1))
	Scale(wide, wide.Rect, ramp, ramp.Rect)
	want := []uint8{0, 0, 25, 75, 125, 175, 200, 200}
	for x, w := range want {
		if got := wide.RGBAAt(x, 0).R; got != w {
			t.Errorf("enlarging, pixel %d: got %d, want %d", x, got, w)
		}
	}
	// Only dr is written; a region past the source's edge is clipped.
	big := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range big.Pix {
		big.Pix[i] = 7
	}
	Scale(big, image.Rect(1, 1, 3, 3), checker, image.Rect(-8, -8, 8, 8))
	if got := big.RGBAAt(0, 0); got != (color.RGBA{7, 7, 7, 7}) {
		t.Errorf("outside dr: got %v, want it untouched", got)
	}
	if got := big.RGBAAt(1, 1); got.A != 255 {
		t.Errorf("inside dr: got %v, want the checker, opaque", got)
	}
	Scale(big, image.Rectangle{}, checker, checker.Rect) // empty: no panic
}

// TestScaleMatchesAreaMean compares odd ratios with the exact area mean of
// a smooth image.
func TestScaleMatchesAreaMean(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 97, 61))
	for y := range 61 {
		for x := range 97 {
			src.SetRGBA(x, y, color.RGBA{uint8(x * 2), uint8(y * 4), 90, 255})
		}
	}
	for _, size := range [][2]int{{31, 20}, {13, 7}, {96, 60}, {150, 90}} {
		dst := image.NewRGBA(image.Rect(0, 0, size[0], size[1]))
		Scale(dst, dst.Rect, src, src.Rect)
		kx, ky := 97/float64(size[0]), 61/float64(size[1])
		for y := range size[1] {
			for x := range size[0] {
				// The ramp is linear, so the area mean (or, enlarging, the
				// interpolation) is the value at the pixel's centre.
				cx := math.Min(math.Max((float64(x)+0.5)*kx-0.5, 0), 96)
				cy := math.Min(math.Max((float64(y)+0.5)*ky-0.5, 0), 60)
				got := dst.RGBAAt(x, y)
				if math.Abs(float64(got.R)-2*cx) > 1 || math.Abs(float64(got.G)-4*cy) > 1 {
					t.Fatalf("%dx%d, pixel (%d,%d): got %v, want R %.1f G %.1f", size[0], size[1], x, y, got, 2*cx, 4*cy)
				}
			}
		}
	}
}

// TestMipmap: levels halve down to 8 px, Level picks the copy nearest in
// scale, and pasting a Mipmap looks like pasting the plain image.
func TestMipmap(t *testing.T) {
	emoji := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for y := range 512 {
		for x := range 512 {
			if (x-256)*(x-256)+(y-256)*(y-256) < 240*240 { // a disc, transparent around
				emoji.SetNRGBA(x, y, color.NRGBA{uint8(x / 2), 200, uint8(y / 2), 255})
			}
		}
	}
	m := Prepare(emoji)
	if Prepare(m) != m {
		t.Error("Prepare of a Mipmap made a new one")
	}
	var sides []int
	for _, l := range m.halves {
		sides = append(sides, l.Rect.Dx())
	}
	if len(sides) != 6 || sides[0] != 256 || sides[5] != 8 {
		t.Errorf("got halves %v, want 256 down to 8", sides)
	}
	for _, tc := range []struct{ side, want int }{{600, 512}, {512, 512}, {363, 512}, {362, 256}, {300, 256}, {256, 256}, {130, 128}, {40, 32}, {3, 8}} {
		if got := m.Level(tc.side).Rect.Dx(); got != tc.want {
			t.Errorf("Level(%d) is %d px, want %d", tc.side, got, tc.want)
		}
	}
	for _, size := range []float64{270, 130, 37} {
		p := Placement{CX: 160, CY: 150, Size: size, Roll: 0.3}
		plain := image.NewRGBA(image.Rect(0, 0, 320, 300))
		mip := image.NewRGBA(plain.Rect)
		Paste(plain, emoji, p)
		Paste(mip, m, p)
		var diff, n float64
		for i := range plain.Pix {
			diff += math.Abs(float64(plain.Pix[i]) - float64(mip.Pix[i]))
			if plain.Pix[i] != 0 {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("size %.0f: nothing pasted", size)
		}
		// Bilinear reads of a copy up to twice the size against an exact
		// area mean: they differ along the disc's edge, by a few levels.
		if mean := diff / n; mean > 5 {
			t.Errorf("size %.0f: mipmapped paste differs by %.2f levels on average, want at most 5", size, mean)
		}
	}
}

// TestHalve compares the word-at-a-time Halve with the 2x2 mean written
// out, on noise, odd sizes and a sub-image.
func TestHalve(t *testing.T) {
	full := image.NewRGBA(image.Rect(0, 0, 37, 23))
	for i := range full.Pix {
		full.Pix[i] = uint8(i*131 + i/7)
	}
	for _, tt := range []struct {
		name string
		m    *image.RGBA
	}{
		{"odd size", full},
		{"sub-image", full.SubImage(image.Rect(3, 5, 30, 20)).(*image.RGBA)},
		{"one pixel", full.SubImage(image.Rect(0, 0, 1, 1)).(*image.RGBA)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Halve(tt.m)
			w, h := tt.m.Rect.Dx()/2, tt.m.Rect.Dy()/2
			if got.Rect.Dx() != w || got.Rect.Dy() != h {
				t.Fatalf("size: got %v, want %dx%d", got.Rect.Size(), w, h)
			}
			o := tt.m.Rect.Min
			for y := range h {
				for x := range w {
					a, b := tt.m.RGBAAt(o.X+2*x, o.Y+2*y), tt.m.RGBAAt(o.X+2*x+1, o.Y+2*y)
					c, d := tt.m.RGBAAt(o.X+2*x, o.Y+2*y+1), tt.m.RGBAAt(o.X+2*x+1, o.Y+2*y+1)
					mean := func(p, q, r, s uint8) uint8 { return uint8((int(p) + int(q) + int(r) + int(s) + 2) / 4) }
					want := color.RGBA{mean(a.R, b.R, c.R, d.R), mean(a.G, b.G, c.G, d.G), mean(a.B, b.B, c.B, d.B), mean(a.A, b.A, c.A, d.A)}
					if g := got.RGBAAt(x, y); g != want {
						t.Fatalf("pixel (%d,%d): got %v, want %v", x, y, g, want)
					}
				}
			}
		})
	}
}
