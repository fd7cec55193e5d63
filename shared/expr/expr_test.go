package expr

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/igemoji/igemoji/shared/moji"
)

func TestFromModelOrders(t *testing.T) {
	// Put 1 on each model's "happy" output and check it lands on happy.
	for _, tt := range []struct {
		name  string
		order Order
		happy int
	}{
		{"mini-Xception", MiniXceptionOrder, 3},
		{"face-api", FaceAPIOrder, 1},
	} {
		out := make([]float32, 7)
		out[tt.happy] = 1
		if got := FromModel(out, tt.order).Top(); got != moji.Happy {
			t.Errorf("%s: got %s, want happy", tt.name, got)
		}
	}
	for _, order := range []Order{MiniXceptionOrder, FaceAPIOrder} {
		seen := map[moji.Expression]bool{}
		for _, e := range order {
			seen[e] = true
		}
		if len(seen) != 7 {
			t.Fatalf("order %v covers %d classes, want 7", order, len(seen))
		}
	}
}

func TestAverage(t *testing.T) {
	a := Probs{1, 0, 0, 0, 0, 0, 0}
	b := Probs{0, 1, 0, 0, 0, 0, 0}
	got := Average([]Probs{a, b}, []float64{1, 3})
	if math.Abs(got[0]-0.25) > 1e-12 || math.Abs(got[1]-0.75) > 1e-12 {
		t.Fatalf("got %v, want [0.25 0.75 …]", got)
	}
}

// A source whose left half is red and right half green: a crop turned a
// quarter turn must show the halves top and bottom.
func TestCropRotates(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 400, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 400; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 200 {
				c = color.RGBA{0, 255, 0, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	tests := []struct {
		name          string
		roll          float64
		top, bottom   color.RGBA
		left, right   color.RGBA
		checkVertical bool
	}{
		{name: "upright", roll: 0, left: color.RGBA{255, 0, 0, 255}, right: color.RGBA{0, 255, 0, 255}},
		// Face turned clockwise by 90°: its "up" points right, so the
		// source's right (green) is the crop's top.
		{name: "quarter", roll: math.Pi / 2, top: color.RGBA{0, 255, 0, 255}, bottom: color.RGBA{255, 0, 0, 255}, checkVertical: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Crop(src, 200, 200, 200, tt.roll, 64)
			if tt.checkVertical {
				if got := c.RGBAAt(32, 8); got != tt.top {
					t.Errorf("top: got %v, want %v", got, tt.top)
				}
				if got := c.RGBAAt(32, 56); got != tt.bottom {
					t.Errorf("bottom: got %v, want %v", got, tt.bottom)
				}
				return
			}
			if got := c.RGBAAt(8, 32); got != tt.left {
				t.Errorf("left: got %v, want %v", got, tt.left)
			}
			if got := c.RGBAAt(56, 32); got != tt.right {
				t.Errorf("right: got %v, want %v", got, tt.right)
			}
		})
	}
	// Off the edge: black, no panic.
	if got := Crop(src, -100, -100, 50, 0.3, 16).RGBAAt(8, 8); got != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("outside: got %v, want black", got)
	}
}

func TestInputs(t *testing.T) {
	c := image.NewRGBA(image.Rect(0, 0, 2, 2))
	c.SetRGBA(0, 0, color.RGBA{255, 255, 255, 255})
	g := GrayInput(c, false)
	if math.Abs(float64(g[0])-0.9998) > 1e-3 || g[1] != -1 {
		t.Fatalf("gray: got %v, want [~1 -1 …]", g)
	}
	if f := GrayInput(c, true); f[1] != g[0] {
		t.Fatalf("flipped gray: got %v, want the first pixel mirrored", f)
	}
	rgb := RGBInput(c, false)
	if rgb[0] != 255 || rgb[3] != 0 {
		t.Fatalf("rgb: got %v", rgb[:6])
	}
}
