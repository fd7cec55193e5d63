package compose

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"testing"
)

// arrow is an opaque emoji whose top half is red and bottom half blue, on
// a transparent border, so rotation is visible.
func arrow(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := n / 8; y < n-n/8; y++ {
		for x := n / 8; x < n-n/8; x++ {
			c := color.NRGBA{255, 0, 0, 255}
			if y >= n/2 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func grey(w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.RGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	return dst
}

func near(c color.RGBA, want color.RGBA) bool {
	d := func(a, b uint8) float64 { return math.Abs(float64(a) - float64(b)) }
	return d(c.R, want.R) < 12 && d(c.G, want.G) < 12 && d(c.B, want.B) < 12 && d(c.A, want.A) < 12
}

var (
	red  = color.RGBA{255, 0, 0, 255}
	blue = color.RGBA{0, 0, 255, 255}
	bg   = color.RGBA{128, 128, 128, 255}
)

func TestPaste(t *testing.T) {
	tests := []struct {
		name string
		p    Placement
		at   []image.Point
		want []color.RGBA
	}{
		{"upright", Placement{CX: 100, CY: 100, Size: 80}, []image.Point{{100, 80}, {100, 120}, {100, 40}, {30, 30}}, []color.RGBA{red, blue, bg, bg}},
		// Rolled a quarter turn clockwise: the top (red) now points right.
		{"quarter turn", Placement{CX: 100, CY: 100, Size: 80, Roll: math.Pi / 2}, []image.Point{{120, 100}, {80, 100}}, []color.RGBA{red, blue}},
		{"half turn", Placement{CX: 100, CY: 100, Size: 80, Roll: math.Pi}, []image.Point{{100, 80}, {100, 120}}, []color.RGBA{blue, red}},
		// Mostly off the left edge: what remains is drawn, nothing panics.
		{"clipped", Placement{CX: 5, CY: 100, Size: 80}, []image.Point{{10, 80}, {10, 120}}, []color.RGBA{red, blue}},
		{"entirely outside", Placement{CX: -500, CY: -500, Size: 80}, []image.Point{{0, 0}}, []color.RGBA{bg}},
		{"tiny", Placement{CX: 50, CY: 50, Size: 0.5}, []image.Point{{50, 50}}, []color.RGBA{bg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := grey(200, 200)
			Paste(dst, arrow(512), tt.p)
			for i, pt := range tt.at {
				if got := dst.RGBAAt(pt.X, pt.Y); !near(got, tt.want[i]) {
					t.Errorf("at %v: got %v, want %v", pt, got, tt.want[i])
				}
			}
		})
	}
}

// A half-transparent emoji blends with the photo instead of replacing it.
func TestPasteBlends(t *testing.T) {
	e := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	draw.Draw(e, e.Bounds(), image.NewUniform(color.NRGBA{255, 255, 255, 128}), image.Point{}, draw.Src)
	dst := grey(100, 100)
	Paste(dst, e, Placement{CX: 50, CY: 50, Size: 60})
	got := dst.RGBAAt(50, 50)
	want := color.RGBA{192, 192, 192, 255}
	if !near(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// pasteReference is Paste written plainly in floating point, per pixel.
func pasteReference(dst *image.RGBA, emoji image.Image, p Placement) {
	src := source(emoji, int(math.Ceil(p.Size)))
	sw, sh := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	sin, cos := math.Sincos(p.Roll)
	for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
		for x := dst.Rect.Min.X; x < dst.Rect.Max.X; x++ {
			dx, dy := float64(x)+0.5-p.CX, float64(y)+0.5-p.CY
			u := (dx*cos+dy*sin)*sw/p.Size + sw/2 - 0.5
			v := (-dx*sin+dy*cos)*sh/p.Size + sh/2 - 0.5
			if u <= -1 || v <= -1 || u >= sw || v >= sh {
				continue
			}
			r, g, b, a := bilinear(src, u, v)
			d := dst.Pix[dst.PixOffset(x, y):]
			inv := 1 - a/255
			d[0] = clamp(r + float64(d[0])*inv)
			d[1] = clamp(g + float64(d[1])*inv)
			d[2] = clamp(b + float64(d[2])*inv)
			d[3] = clamp(a + float64(d[3])*inv)
		}
	}
}

// Paste's fixed-point words and row spans must draw what the plain
// floating-point version draws, to a unit of rounding.
func TestPasteMatchesReference(t *testing.T) {
	// A round, soft-edged emoji with translucent parts over a patterned
	// photo.
	e := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for y := range 96 {
		for x := range 96 {
			r := math.Hypot(float64(x)-47.5, float64(y)-47.5)
			a := math.Max(0, math.Min(1, 44-r)) * (0.5 + 0.5*float64(x)/96)
			e.SetRGBA(x, y, color.RGBA{uint8(a * float64(x*2)), uint8(a * 200), uint8(a * float64(y*2)), uint8(a * 255)})
		}
	}
	for _, p := range []Placement{
		{CX: 60, CY: 50, Size: 70},
		{CX: 60, CY: 50, Size: 70, Roll: 0.6},
		{CX: 3, CY: 97, Size: 90, Roll: -2.2}, // over a corner
		{CX: 50, CY: 50, Size: 150, Roll: math.Pi / 2},
		{CX: 40.3, CY: 61.7, Size: 33.3, Roll: 3.5},
	} {
		got, want := image.NewRGBA(image.Rect(0, 0, 120, 100)), image.NewRGBA(image.Rect(0, 0, 120, 100))
		for i := range got.Pix {
			got.Pix[i] = uint8(i * 37 / 3)
			if i%4 == 3 {
				got.Pix[i] = 255
			}
		}
		copy(want.Pix, got.Pix)
		Paste(got, e, p)
		pasteReference(want, e, p)
		worst := 0
		for i := range got.Pix {
			worst = max(worst, int(math.Abs(float64(got.Pix[i])-float64(want.Pix[i]))))
		}
		if worst > 2 {
			t.Errorf("%+v: got a pixel %d off the reference, want at most 2", p, worst)
		}
	}
}

func BenchmarkPaste(b *testing.B) {
	dst := grey(1920, 1280)
	e := Prepare(arrow(512))
	for b.Loop() {
		Paste(dst, e, Placement{CX: 900, CY: 500, Size: 258, Roll: 0.5})
	}
}

// A canvas's pixels are straight alpha: a half-transparent red emoji on a
// transparent photo must read as red at half alpha, not darkened, and an
// untouched pixel must keep its colour.
func TestPasteStraight(t *testing.T) {
	emoji := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	draw.Draw(emoji, emoji.Bounds(), image.NewUniform(color.NRGBA{255, 0, 0, 128}), image.Point{}, draw.Src)
	tests := []struct {
		name       string
		background color.RGBA // straight
		centre     color.RGBA // straight, after the paste
	}{
		{"transparent photo", color.RGBA{0, 0, 0, 0}, color.RGBA{255, 0, 0, 128}},
		{"half-transparent photo", color.RGBA{0, 0, 255, 128}, color.RGBA{170, 0, 85, 192}},
		{"opaque photo", color.RGBA{0, 0, 255, 255}, color.RGBA{128, 0, 127, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := image.NewRGBA(image.Rect(0, 0, 64, 64))
			for i := 0; i < len(dst.Pix); i += 4 {
				dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = tt.background.R, tt.background.G, tt.background.B, tt.background.A
			}
			PasteStraight(dst, emoji, []Placement{{CX: 32, CY: 32, Size: 16}})
			if got := dst.RGBAAt(32, 32); !near(got, tt.centre) {
				t.Errorf("centre: got %v, want about %v", got, tt.centre)
			}
			if got := dst.RGBAAt(2, 2); tt.background.A != 0 && !near(got, tt.background) {
				t.Errorf("outside the emoji: got %v, want about %v", got, tt.background)
			}
		})
	}
}
