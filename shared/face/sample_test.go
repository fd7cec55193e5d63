package face

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand"
	"testing"
)

// reference resamples win the slow, obvious way: for shrinking, the exact
// area average of the pixel squares under each output pixel (outside the
// image: black); for enlarging, bilinear interpolation at the output
// pixel's centre, clamped to the edge pixels, black when the centre is
// outside the image. Colours come from image.At.
func reference(img image.Image, win Window, size int) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	k := win.Side / float64(size)
	px := func(x, y int) [3]float64 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return [3]float64{}
		}
		r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return [3]float64{float64(r >> 8), float64(g >> 8), float64(bl >> 8)}
	}
	out := make([]float32, size*size*3)
	for oy := 0; oy < size; oy++ {
		for ox := 0; ox < size; ox++ {
			var v [3]float64
			if k > 1 {
				x0, x1 := win.X+float64(ox)*k, win.X+float64(ox+1)*k
				y0, y1 := win.Y+float64(oy)*k, win.Y+float64(oy+1)*k
				for y := int(math.Floor(y0)); y < int(math.Ceil(y1)); y++ {
					cy := math.Min(y1, float64(y+1)) - math.Max(y0, float64(y))
					for x := int(math.Floor(x0)); x < int(math.Ceil(x1)); x++ {
						cx := math.Min(x1, float64(x+1)) - math.Max(x0, float64(x))
						p := px(x, y)
						for c := range v {
							v[c] += cx * cy * p[c] / (k * k)
						}
					}
				}
			} else {
				cx, cy := win.X+(float64(ox)+0.5)*k, win.Y+(float64(oy)+0.5)*k
				if cx >= 0 && cy >= 0 && cx < float64(w) && cy < float64(h) {
					fx, fy := cx-0.5, cy-0.5
					ix, iy := int(math.Floor(fx)), int(math.Floor(fy))
					ax, ay := fx-float64(ix), fy-float64(iy)
					cl := func(i, n int) int { return min(max(i, 0), n-1) }
					p00, p10 := px(cl(ix, w), cl(iy, h)), px(cl(ix+1, w), cl(iy, h))
					p01, p11 := px(cl(ix, w), cl(iy+1, h)), px(cl(ix+1, w), cl(iy+1, h))
					for c := range v {
						v[c] = (1-ay)*((1-ax)*p00[c]+ax*p10[c]) + ay*((1-ax)*p01[c]+ax*p11[c])
					}
				}
			}
			for c := range v {
				out[3*(oy*size+ox)+c] = float32(v[c]/127.5 - 1)
			}
		}
	}
	return out
}

// photoLike is a w×h picture with smooth gradients, edges and noise, so
// that resampling errors show.
func photoLike(w, h int, seed int64) *image.NRGBA {
	rng := rand.New(rand.NewSource(seed))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r := uint8(255 * x / max(w-1, 1))
			g := uint8(255 * y / max(h-1, 1))
			b := uint8(rng.Intn(256))
			if (x/7+y/5)%2 == 0 {
				r = 255 - r
			}
			m.SetNRGBA(x, y, color.NRGBA{r, g, b, 255})
		}
	}
	return m
}

func toYCbCr(src image.Image, ratio image.YCbCrSubsampleRatio, r image.Rectangle) *image.YCbCr {
	m := image.NewYCbCr(r, ratio)
	b := src.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(src.At(b.Min.X+x-r.Min.X, b.Min.Y+y-r.Min.Y)).(color.NRGBA)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			m.Y[m.YOffset(x, y)] = yy
			// Subsampled chroma keeps the last pixel's value; what matters
			// is that Fill and image.At read the same planes.
			ci := m.COffset(x, y)
			m.Cb[ci], m.Cr[ci] = cb, cr
		}
	}
	return m
}

type opaque struct{ image.Image } // hides the concrete type: the At path

func TestFillMatchesReference(t *testing.T) {
	src := photoLike(97, 61, 1)
	rgba := image.NewRGBA(image.Rect(0, 0, 97, 61))
	draw.Draw(rgba, rgba.Bounds(), src, image.Point{}, draw.Src)
	gray := image.NewGray(image.Rect(0, 0, 97, 61))
	draw.Draw(gray, gray.Bounds(), src, image.Point{}, draw.Src)
	translucent := photoLike(97, 61, 2)
	for i := 3; i < len(translucent.Pix); i += 4 {
		translucent.Pix[i] = uint8(i * 7)
	}
	odd := image.Rect(3, 5, 100, 66) // bounds not at the origin, odd Min
	// Subsampled chroma next to sharp edges makes colours outside the RGB
	// gamut. image.At clamps each pixel and then the reference averages;
	// Fill averages YCbCr and clamps once, which is what makes it fast. The
	// two agree wherever colours are in gamut, as in this smooth picture;
	// on real JPEGs they differ by 0.002 on average (saturated edges).
	smooth := image.NewNRGBA(image.Rect(0, 0, 97, 61))
	for y := 0; y < 61; y++ {
		for x := 0; x < 97; x++ {
			smooth.SetNRGBA(x, y, color.NRGBA{uint8(40 + 2*x), uint8(200 - 2*y), uint8(100 + x - y), 255})
		}
	}
	images := []struct {
		name string
		img  image.Image
		tol  float64 // YCbCr averages before converting: a little rounding
	}{
		{"NRGBA", src, 1e-5},
		{"NRGBA with alpha", translucent, 1.5 / 127.5},
		{"RGBA", rgba, 1e-5},
		{"Gray", gray, 1e-5},
		{"generic", opaque{src}, 1e-5},
		{"YCbCr 4:4:4", toYCbCr(src, image.YCbCrSubsampleRatio444, odd), 2.5 / 127.5},
		{"YCbCr 4:2:0", toYCbCr(smooth, image.YCbCrSubsampleRatio420, odd), 2.5 / 127.5},
		{"YCbCr 4:2:2", toYCbCr(smooth, image.YCbCrSubsampleRatio422, odd), 2.5 / 127.5},
		{"YCbCr 4:1:1", toYCbCr(smooth, image.YCbCrSubsampleRatio411, odd), 2.5 / 127.5},
		{"YCbCr 4:4:0", toYCbCr(smooth, image.YCbCrSubsampleRatio440, odd), 2.5 / 127.5},
		{"sub-image", src.SubImage(image.Rect(10, 7, 80, 50)), 1e-5},
	}
	windows := []struct {
		name string
		win  func(w, h int) Window
		size int
	}{
		{"letterbox shrinking", func(w, h int) Window { return Letterbox(w, h) }, 32},
		{"letterbox enlarging", func(w, h int) Window { return Letterbox(w, h) }, 128},
		{"inner tile, fractional", func(w, h int) Window { return Window{10.3, 4.7, 33.3} }, 16},
		{"past the top left", func(w, h int) Window { return Window{-20, -15, 50} }, 24},
		{"past the bottom right, enlarging", func(w, h int) Window { return Window{float64(w) - 10, float64(h) - 8, 20} }, 40},
		{"outside entirely", func(w, h int) Window { return Window{-100, -100, 50} }, 8},
		{"exactly one pixel per pixel", func(w, h int) Window { return Window{5, 5, 16} }, 16},
	}
	for _, im := range images {
		for _, wt := range windows {
			t.Run(im.name+"/"+wt.name, func(t *testing.T) {
				b := im.img.Bounds()
				win := wt.win(b.Dx(), b.Dy())
				got := make([]float32, wt.size*wt.size*3)
				if err := NewSource(im.img).Fill(got, win, wt.size); err != nil {
					t.Fatal(err)
				}
				want := reference(im.img, win, wt.size)
				worst, at := 0.0, 0
				for i := range got {
					if d := math.Abs(float64(got[i] - want[i])); d > worst {
						worst, at = d, i
					}
				}
				if worst > im.tol {
					t.Errorf("value %d (pixel %d, channel %d): got %.4f, want %.4f (±%.4f)",
						at, at/3, at%3, got[at], want[at], im.tol)
				}
			})
		}
	}
}

// One Source serves many windows (the full frame, then every tile); its
// reused buffers must not leak one window into the next.
func TestFillReuse(t *testing.T) {
	img := photoLike(300, 200, 3)
	s := NewSource(img)
	wins := []Window{Letterbox(300, 200), {50, 20, 100}, {-30, 150, 80}, {0, 0, 10}, Letterbox(300, 200)}
	sizes := []int{64, 40, 64, 32, 64}
	for i, win := range wins {
		got := make([]float32, sizes[i]*sizes[i]*3)
		if err := s.Fill(got, win, sizes[i]); err != nil {
			t.Fatal(err)
		}
		want := reference(img, win, sizes[i])
		for j := range got {
			if math.Abs(float64(got[j]-want[j])) > 1e-5 {
				t.Fatalf("window %d: value %d: got %.4f, want %.4f", i, j, got[j], want[j])
			}
		}
	}
}

func TestFillErrors(t *testing.T) {
	s := NewSource(photoLike(10, 10, 4))
	tests := []struct {
		name string
		dst  int
		win  Window
	}{
		{"short buffer", 8*8*3 - 1, Window{0, 0, 10}},
		{"empty window", 8 * 8 * 3, Window{0, 0, 0}},
		{"NaN window", 8 * 8 * 3, Window{math.NaN(), 0, 10}},
		{"infinite window", 8 * 8 * 3, Window{0, 0, math.Inf(1)}},
	}
	for _, tt := range tests {
		if err := s.Fill(make([]float32, tt.dst), tt.win, 8); err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
		}
	}
}
