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
