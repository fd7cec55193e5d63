package picture

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/igemoji/igemoji/shared/moji"
)

var (
	white = color.NRGBA{255, 255, 255, 255}
	red   = color.NRGBA{220, 20, 30, 255}
)

type disc struct {
	cx, cy, r float64
	c         color.NRGBA
}

// drawing paints discs over a background with 4x4 supersampled,
// anti-aliased edges, the way drawing programs export emoji art. It also
// returns each pixel's coverage by the union of the discs.
func drawing(w, h int, bg color.NRGBA, discs ...disc) (*image.NRGBA, []float64) {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	cover := make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, b, n float64
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					px, py := float64(x)+(float64(sx)+0.5)/4, float64(y)+(float64(sy)+0.5)/4
					c := bg
					for _, d := range discs {
						if math.Hypot(px-d.cx, py-d.cy) <= d.r {
							c = d.c
							if d == discs[0] {
								n++
							}
						}
					}
					r, g, b = r+float64(c.R), g+float64(c.G), b+float64(c.B)
				}
			}
			cover[y*w+x] = n / 16
			m.SetNRGBA(x, y, color.NRGBA{uint8(r/16 + 0.5), uint8(g/16 + 0.5), uint8(b/16 + 0.5), 255})
		}
	}
	return m, cover
}

// face is a red disc of radius 60 on white with a white eye of radius 10,
// 15 pixels above the disc's centre: the eye is the background colour but
// enclosed, so it must survive.
func face() *image.NRGBA {
	m, _ := drawing(200, 200, white, disc{100, 100, 60, red}, disc{100, 85, 10, white})
	return m
}

func at(img *image.NRGBA, x, y int) color.NRGBA {
	return img.NRGBAAt(img.Rect.Min.X+x, img.Rect.Min.Y+y)
}

func wantSquare(t *testing.T, img *image.NRGBA, side int) {
	t.Helper()
	if w, h := img.Rect.Dx(), img.Rect.Dy(); w != side || h != side {
		t.Fatalf("got %dx%d, want %dx%d", w, h, side, side)
	}
}

func wantColour(t *testing.T, img *image.NRGBA, x, y int, want color.NRGBA, tol int) {
	t.Helper()
	if got := at(img, x, y); !near(got, want, tol) {
		t.Errorf("got %v at (%d,%d), want %v (±%d)", got, x, y, want, tol)
	}
}

func wantAlpha(t *testing.T, img *image.NRGBA, x, y int, want uint8) {
	t.Helper()
	if got := at(img, x, y).A; got != want {
		t.Errorf("got alpha %d at (%d,%d), want %d", got, x, y, want)
	}
}

func TestEmojiFace(t *testing.T) {
	decodedJPEG := func() image.Image {
		img, _, err := Decode(bytes.NewReader(encodeJPEG(t, face())), testLimits)
		if err != nil {
			t.Fatalf("decoding the JPEG fixture: %v", err)
		}
		return img
	}()
	tests := []struct {
		name     string
		img      image.Image
		size     int
		wantSide int
		tol      int // JPEG shifts colours a little
	}{
		{"png-like, fits", face(), 512, 122, 0},
		{"png-like, scaled", face(), 61, 61, 8},
		{"jpeg, fits", decodedJPEG, 512, 122, 24},
		{"offset origin", face().SubImage(image.Rect(10, 10, 190, 190)), 512, 122, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Emoji(tt.img, tt.size)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			// The disc with its anti-aliased rim is about 121 pixels wide.
			if side := got.Rect.Dx(); side < tt.wantSide-2 || side > tt.wantSide {
				t.Fatalf("got side %d, want %d (-2)", side, tt.wantSide)
			}
			s := got.Rect.Dx()
			wantSquare(t, got, s)
			if s > tt.size {
				t.Errorf("got side %d, want at most %d", s, tt.size)
			}
			for _, c := range []image.Point{{0, 0}, {s - 1, 0}, {0, s - 1}, {s - 1, s - 1}} {
				wantAlpha(t, got, c.X, c.Y, 0)
			}
			wantColour(t, got, s/2, s/2, red, tt.tol)
			eyeY := s/2 - int(math.Round(15*float64(s)/121))
			wantColour(t, got, s/2, eyeY, white, tt.tol)
			wantCleanTransparency(t, got)
		})
	}
}

// wantCleanTransparency checks that fully transparent pixels carry no colour.
func wantCleanTransparency(t *testing.T, img *image.NRGBA) {
	t.Helper()
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i+3] == 0 && (img.Pix[i] != 0 || img.Pix[i+1] != 0 || img.Pix[i+2] != 0) {
			t.Fatalf("got colour %v under alpha 0 at pixel %d, want 0,0,0", img.Pix[i:i+3], i/4)
		}
	}
}

// TestRemoveBackgroundEdges checks that the rim of an anti-aliased disc
// gets an alpha close to its true coverage and its colour un-mixed from the
// background, rather than a jagged cut or a white fringe.
func TestRemoveBackgroundEdges(t *testing.T) {
	tests := []struct {
		name string
		bg   color.NRGBA
		fg   color.NRGBA
	}{
		{"red on white", white, red},
		{"black on white", white, color.NRGBA{0, 0, 0, 255}},
		{"yellow on blue", color.NRGBA{30, 60, 200, 255}, color.NRGBA{250, 210, 40, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, cover := drawing(80, 80, tt.bg, disc{40, 40, 25.3, tt.fg})
			removeBackground(m)
			soft, maxErr := 0, 0.0
			for i, c := range cover {
				a := m.Pix[4*i+3]
				if a > 0 && a < 255 {
					soft++
				}
				maxErr = math.Max(maxErr, math.Abs(float64(a)/255-c))
				if a >= 64 {
					got := color.NRGBA{m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], 255}
					if !near(got, tt.fg, 24) {
						t.Fatalf("got colour %v at alpha %d, want about %v: background not un-mixed", got, a, tt.fg)
					}
				}
			}
			if soft < 50 {
				t.Errorf("got %d semi-transparent rim pixels, want at least 50", soft)
			}
			if maxErr > 0.15 {
				t.Errorf("got alpha off its coverage by up to %.2f, want at most 0.15", maxErr)
			}
		})
	}
}

func TestEmoji(t *testing.T) {
	transparent := image.NewNRGBA(image.Rect(0, 0, 50, 50))
	// An opaque white square holding a half-transparent blue one.
	layered := image.NewNRGBA(image.Rect(0, 0, 50, 50))
	for y := 10; y < 30; y++ {
		for x := 10; x < 30; x++ {
			layered.SetNRGBA(x, y, white)
			if x >= 18 && x < 22 && y >= 18 && y < 22 {
				layered.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 128})
			}
		}
	}
	bar, _ := drawing(100, 100, white)
	for y := 40; y < 60; y++ {
		for x := 20; x < 80; x++ {
			bar.SetNRGBA(x, y, red)
		}
	}

	// A one-pixel line has no interior to take its colour from.
	line := solid(60, 20, white)
	for x := 5; x < 55; x++ {
		line.SetNRGBA(x, 10, color.NRGBA{0, 0, 0, 255})
	}

	type probe struct {
		x, y int
		c    color.NRGBA
	}
	tests := []struct {
		name     string
		img      image.Image
		size     int
		wantSide int
		probes   []probe
	}{
		{
			name: "already transparent keeps its alpha", img: layered, size: 512, wantSide: 20,
			probes: []probe{{1, 1, white}, {9, 9, color.NRGBA{0, 0, 255, 128}}},
		},
		{
			name: "photo stays opaque", img: noise(100, 100), size: 512, wantSide: 100,
			probes: []probe{{0, 0, at(noise(100, 100), 0, 0)}, {99, 99, at(noise(100, 100), 99, 99)}},
		},
		{
			name: "large photo is padded and scaled down", img: noise(2000, 1000), size: 512, wantSide: 512,
			probes: []probe{{256, 5, color.NRGBA{}}, {256, 506, color.NRGBA{}}},
		},
		{
			name: "small image is not scaled up", img: noise(40, 40), size: 512, wantSide: 40,
		},
		{
			name: "wide shape is centred", img: bar, size: 512, wantSide: 60,
			probes: []probe{{30, 30, red}, {0, 20, red}, {30, 5, color.NRGBA{}}, {30, 54, color.NRGBA{}}},
		},
		{
			name: "thin line", img: line, size: 512, wantSide: 50,
			probes: []probe{{0, 24, color.NRGBA{0, 0, 0, 255}}, {49, 24, color.NRGBA{0, 0, 0, 255}}, {25, 23, color.NRGBA{}}},
		},
		{
			name: "solid colour is kept", img: solid(30, 30, red), size: 512, wantSide: 30,
			probes: []probe{{0, 0, red}, {29, 29, red}},
		},
		{
			name: "one pixel", img: solid(1, 1, red), size: 512, wantSide: 1,
			probes: []probe{{0, 0, red}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Emoji(tt.img, tt.size)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			wantSquare(t, got, tt.wantSide)
			for _, p := range tt.probes {
				wantColour(t, got, p.x, p.y, p.c, 0)
			}
			wantCleanTransparency(t, got)
		})
	}

	t.Run("photo is wholly opaque", func(t *testing.T) {
		got, err := Emoji(noise(64, 64), 512)
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		if !got.Opaque() {
			t.Error("got transparent pixels, want an opaque image")
		}
	})

	errTests := []struct {
		name string
		img  image.Image
	}{
		{"fully transparent", transparent},
		{"alpha below the visibility threshold", solid(20, 20, color.NRGBA{255, 0, 0, 5})},
		{"no pixels", image.NewNRGBA(image.Rectangle{})},
		{"nil", nil},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Emoji(tt.img, 512)
			wantCode(t, err, moji.EINVALID)
			if msg := moji.ErrorMessage(err); msg != "image is empty (fully transparent)" {
				t.Errorf("got message %q, want %q", msg, "image is empty (fully transparent)")
			}
			if got != nil {
				t.Errorf("got an image with the error, want nil")
			}
		})
	}

	t.Run("size must be positive", func(t *testing.T) {
		if _, err := Emoji(face(), 0); err == nil {
			t.Error("got no error for size 0, want one")
		}
	})
}

func BenchmarkEmoji(b *testing.B) {
	img, _ := drawing(1024, 1024, white, disc{512, 512, 400, red})
	b.ResetTimer()
	for b.Loop() {
		if _, err := Emoji(img, 512); err != nil {
			b.Fatal(err)
		}
	}
}
