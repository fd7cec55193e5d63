package expr

import (
	"image"
	"image/color"
	"math"
	"runtime"
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

// BenchmarkRead is one face's reading as the worker does it: the patch of
// a 190-px face (1.6x crop, tilted) in a 1920x1280 photo and the two
// models' crops from it.
func BenchmarkRead(b *testing.B) {
	src := image.NewRGBA(image.Rect(0, 0, 1920, 1280))
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7 + i/4096)
	}
	side := 1.6 * 190
	for b.Loop() {
		p := NewPatch(src, 900, 500, side, 0.5, 112)
		p.Crop(side, 64)
		p.Crop(side, 112)
	}
}

// Crops read through the patch's mipmap must keep flat colours flat, blur
// fine detail to its mean instead of aliasing it, and read every image
// type alike.
func TestCropFilters(t *testing.T) {
	flat := image.NewRGBA(image.Rect(0, 0, 1200, 900))
	checker := image.NewRGBA(flat.Rect)
	gray := image.NewGray(flat.Rect)
	for y := range 900 {
		for x := range 1200 {
			flat.SetRGBA(x, y, color.RGBA{200, 100, 50, 255})
			v := uint8(0)
			if (x+y)%2 == 0 {
				v = 255
			}
			checker.SetRGBA(x, y, color.RGBA{v, v, v, 255})
			gray.SetGray(x, y, color.Gray{v})
		}
	}
	tests := []struct {
		name      string
		src       image.Image
		side      float64
		roll      float64
		out       int
		want      color.RGBA
		tolerance int
	}{
		{"flat, enlarged", flat, 40, 0.3, 112, color.RGBA{200, 100, 50, 255}, 0},
		{"flat, 1.5x", flat, 168, 0.3, 112, color.RGBA{200, 100, 50, 255}, 0},
		{"flat, 9x", flat, 600, 1.1, 64, color.RGBA{200, 100, 50, 255}, 0},
		{"checker, 2.7x", checker, 300, 0.5, 112, color.RGBA{128, 128, 128, 255}, 6},
		{"checker, 9x", checker, 600, 0.2, 64, color.RGBA{128, 128, 128, 255}, 2},
		{"gray checker, 9x", gray, 600, 0.2, 64, color.RGBA{128, 128, 128, 255}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Crop(tt.src, 600, 450, tt.side, tt.roll, tt.out)
			for y := 0; y < tt.out; y += 7 {
				for x := 0; x < tt.out; x += 7 {
					got := c.RGBAAt(x, y)
					if absDiff(got.R, tt.want.R) > tt.tolerance || absDiff(got.G, tt.want.G) > tt.tolerance ||
						absDiff(got.B, tt.want.B) > tt.tolerance || got.A != 255 {
						t.Fatalf("pixel (%d,%d): got %v, want %v ± %d", x, y, got, tt.want, tt.tolerance)
					}
				}
			}
		})
	}
	// Half off the photo's corner: the outside half is black, the inside
	// keeps its colour, at a scale that reads reduced levels.
	c := Crop(flat, 0, 450, 800, 0, 64)
	if got := c.RGBAAt(4, 32); got != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("outside: got %v, want black", got)
	}
	if got := c.RGBAAt(60, 32); got != (color.RGBA{200, 100, 50, 255}) {
		t.Errorf("inside: got %v, want the photo's colour", got)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestCropNonsense(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 50, 50))
	inf, nan := math.Inf(1), math.NaN()
	for _, tt := range []struct{ cx, cy, side, roll float64 }{
		{nan, 10, 20, 0}, {10, inf, 20, 0}, {10, 10, nan, 0}, {10, 10, inf, 0},
		{10, 10, 20, nan}, {10, 10, 20, inf}, {1e30, 10, 20, 0}, {10, 10, -5, 0}, {10, 10, 0, 0},
	} {
		c := Crop(src, tt.cx, tt.cy, tt.side, tt.roll, 16)
		if got := c.Bounds().Dx(); got != 16 {
			t.Errorf("%v: got a %d-px crop, want 16", tt, got)
		}
	}
}

// A patch over the photo's edge reads the same from any image type, and a
// window far larger than the photo costs no more memory than the photo.
func TestPatchEdges(t *testing.T) {
	rgba := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 29 / 7)
		if i%4 == 3 {
			rgba.Pix[i] = 255
		}
	}
	nrgba := image.NewNRGBA(rgba.Rect)
	copy(nrgba.Pix, rgba.Pix)
	for _, tt := range []struct{ cx, cy, side, roll float64 }{
		{10, 190, 120, 0.4}, {290, 5, 400, -1}, {150, 100, 90, 0}, {-30, 50, 200, 2},
	} {
		a := Crop(rgba, tt.cx, tt.cy, tt.side, tt.roll, 64)
		b := Crop(nrgba, tt.cx, tt.cy, tt.side, tt.roll, 64)
		for i := range a.Pix {
			if a.Pix[i] != b.Pix[i] {
				t.Fatalf("%+v: byte %d: got %d from NRGBA, want %d as from RGBA", tt, i, b.Pix[i], a.Pix[i])
			}
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	Crop(image.NewGray(image.Rect(0, 0, 50, 50)), 25, 25, 6000, 0.3, 112)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("a 6000-px window on a 50-px photo allocated %d bytes, want under 4 MiB", got)
	}
}

func TestLandmarkFrame(t *testing.T) {
	// A face's landmarks: eyes at (±20, -10), the rest spread over a box
	// 60 wide and 80 tall centred at (0, 5); then turned and moved.
	var face [2 * NumLandmarks]float64
	for i := range NumLandmarks {
		face[2*i], face[2*i+1] = float64(i%7)*10-30, float64(i%9)*10-35
	}
	for i := 36; i < 48; i++ {
		face[2*i], face[2*i+1] = -20, -10
		if i >= 42 {
			face[2*i] = 20
		}
	}
	face[0], face[1], face[2], face[3] = -30, -35, 30, 45 // the box's corners
	tests := []struct {
		name           string
		roll, dx, dy   float64
		wantCX, wantCY float64
	}{
		{"upright", 0, 0, 0, 0, 5},
		{"moved", 0, 7, -3, 7, 2},
		{"turned a quarter", math.Pi / 2, 0, 0, -5, 0},
		{"tilted", 0.3, 4, 4, 4 - 5*math.Sin(0.3), 4 + 5*math.Cos(0.3)},
		{"tilted back", -0.4, 0, 0, 5 * math.Sin(0.4), 5 * math.Cos(0.4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sin, cos := math.Sincos(tt.roll)
			pts := make([]float32, 2*NumLandmarks)
			for i := range NumLandmarks {
				x, y := face[2*i], face[2*i+1]
				pts[2*i], pts[2*i+1] = float32(x*cos-y*sin+tt.dx), float32(x*sin+y*cos+tt.dy)
			}
			f := LandmarkFrame(pts)
			near := func(got, want float64) bool { return math.Abs(got-want) < 1e-3 }
			if !near(f.Roll, tt.roll) || !near(f.CX, tt.wantCX) || !near(f.CY, tt.wantCY) || !near(f.Side, 80) {
				t.Errorf("got %+v, want roll %.3f, centre (%.3f, %.3f), side 80", f, tt.roll, tt.wantCX, tt.wantCY)
			}
		})
	}
	nan := make([]float32, 2*NumLandmarks)
	nan[5] = float32(math.NaN())
	for _, pts := range [][]float32{nil, make([]float32, 10), make([]float32, 2*NumLandmarks), nan} {
		if f := LandmarkFrame(pts); f.Side != 0 {
			t.Errorf("LandmarkFrame(%d values) = %+v, want a zero Side", len(pts), f)
		}
	}
}
