package face

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand"
	"slices"
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

// pyramidTol is how far Fill may stray from reference at output pixel
// (ox, oy), channel c, when it reads from a reduced level (levelFor(k) =
// L > 0; shrinks of 4 and more). Two things separate them:
//
//   - Misalignment. Output pixel edges fall inside the level's 2^L-pixel
//     squares, which count in part but always with their mean, so weight
//     lands up to 2^L-1 image pixels from where the exact filter puts it.
//     A square cut ℓ:2^L-ℓ misplaces ℓ(2^L-ℓ)/2^L <= 2^L/4 pixels' worth
//     of the k an output pixel spans per axis; over both ends and both
//     axes the two weightings share all but at most 2^L/k of their weight
//     (1/2 at most with levelMargin 1), so the results differ by at most
//     that fraction of the range of the values they touch: the output
//     pixel's square widened by 2^L on every side, black past the edges.
//     Smooth pictures have small ranges and get tight tolerances; noisy
//     ones get loose ones, hence TestFillMatchesReference's check of the
//     mean difference as well.
//   - Rounding: each level rounds to whole units (0.5 at most; see
//     TestReducedLevels).
//
// YCbCr images are reduced in YCbCr and converted afterwards, which can
// amplify both by up to 2.77 (B = Y + 1.772 Cb); the YCbCr channels' ranges
// are bounded by the largest RGB range.
func pyramidTol(img image.Image, win Window, size, L int, ycc bool, ox, oy, c int) float64 {
	b := img.Bounds()
	k := win.Side / float64(size)
	m := float64(int(1) << L)
	x0, x1 := int(math.Floor(win.X+float64(ox)*k-m)), int(math.Ceil(win.X+float64(ox+1)*k+m))
	y0, y1 := int(math.Floor(win.Y+float64(oy)*k-m)), int(math.Ceil(win.Y+float64(oy+1)*k+m))
	lo, hi := [3]float64{255, 255, 255}, [3]float64{}
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			var v [3]float64 // black outside
			if x >= 0 && y >= 0 && x < b.Dx() && y < b.Dy() {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				v = [3]float64{float64(r >> 8), float64(g >> 8), float64(bl >> 8)}
			}
			for i := range v {
				lo[i], hi[i] = min(lo[i], v[i]), max(hi[i], v[i])
			}
		}
	}
	rng, amp := hi[c]-lo[c], 1.0
	if ycc {
		rng, amp = max(hi[0]-lo[0], hi[1]-lo[1], hi[2]-lo[2]), 2.77
	}
	return (m/k*rng + 0.5*float64(L)) * amp / 127.5
}

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
	even := image.Rect(2, 4, 99, 65) // even Min: 4:2:0 takes Source.halve
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
		{"RGBA sub-image", rgba.SubImage(image.Rect(3, 2, 90, 59)), 1e-5},
		{"Gray", gray, 1e-5},
		{"generic", opaque{src}, 1e-5},
		{"YCbCr 4:4:4", toYCbCr(src, image.YCbCrSubsampleRatio444, odd), 2.5 / 127.5},
		{"YCbCr 4:2:0", toYCbCr(smooth, image.YCbCrSubsampleRatio420, odd), 2.5 / 127.5},
		{"YCbCr 4:2:0 even origin", toYCbCr(smooth, image.YCbCrSubsampleRatio420, even), 2.5 / 127.5},
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
		{"shrink 1.5", func(w, h int) Window { return Window{7.25, 3.5, 36} }, 24},
		{"shrink 2", func(w, h int) Window { return Window{-3.5, 2.25, 64} }, 32},
		// From a shrink of 4 on, Fill reads a reduced level.
		{"shrink 4, past the top left", func(w, h int) Window { return Window{-6.5, -9.75, 128} }, 32},
		{"shrink 5.3, inner tile", func(w, h int) Window { return Window{20.6, 10.2, 42.4} }, 8},
		{"shrink 6, past the bottom right", func(w, h int) Window { return Window{float64(w) - 30.5, float64(h) - 20.25, 48} }, 8},
		{"shrink 7.5", func(w, h int) Window { return Window{-3.7, 1.3, 60} }, 8},
		{"shrink 16, letterbox", func(w, h int) Window { return Letterbox(w, h) }, 6},
		{"shrink 40, image inside", func(w, h int) Window { return Window{-200, -150, 400} }, 10},
	}
	for _, im := range images {
		_, ycc := im.img.(*image.YCbCr)
		for _, wt := range windows {
			t.Run(im.name+"/"+wt.name, func(t *testing.T) {
				b := im.img.Bounds()
				win := wt.win(b.Dx(), b.Dy())
				got := make([]float32, wt.size*wt.size*3)
				s := NewSource(im.img)
				if err := s.Fill(got, win, wt.size); err != nil {
					t.Fatal(err)
				}
				want := reference(im.img, win, wt.size)
				L := s.levelFor(win.Side / float64(wt.size))
				worst, at, sum := 0.0, -1, 0.0
				for i := range got {
					d := math.Abs(float64(got[i] - want[i]))
					sum += d
					tol := im.tol
					if L > 0 {
						tol += pyramidTol(im.img, win, wt.size, L, ycc, i/3%wt.size, i/3/wt.size, i%3)
					}
					if d-tol > worst {
						worst, at = d-tol, i
					}
				}
				if at >= 0 {
					t.Errorf("value %d (pixel %d, channel %d): got %.4f, want %.4f (±%.4f, level %d)",
						at, at/3, at%3, got[at], want[at], math.Abs(float64(got[at]-want[at]))-worst, L)
				}
				// Misalignment moves a little weight between neighbours,
				// which shows where neighbours differ a lot, but little on
				// average even on these noisy pictures: up to 2.7 units of
				// 255 here, 0.2 to 0.6 on photos. Reading one level coarser
				// (levelMargin 0) gives 4.5 to 10 here.
				if mean := sum / float64(len(got)); L > 0 && mean > 4/127.5 {
					t.Errorf("mean difference %.4f (%.2f of 255), want ≤ %.4f", mean, mean*127.5, 4/127.5)
				}
			})
		}
	}
}

// One Source serves many windows (the full frame, then every tile); its
// reused buffers and reduced levels must not leak one window into the
// next: each result must be the one a fresh Source gives.
func TestFillReuse(t *testing.T) {
	img := photoLike(300, 200, 3)
	s := NewSource(img)
	wins := []Window{Letterbox(300, 200), {50, 20, 100}, {-30, 150, 80}, {0, 0, 10}, {-500, -500, 1300}, {10.5, 20.25, 200}, Letterbox(300, 200)}
	sizes := []int{64, 40, 64, 32, 16, 24, 64}
	for i, win := range wins {
		got := make([]float32, sizes[i]*sizes[i]*3)
		if err := s.Fill(got, win, sizes[i]); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, len(got))
		if err := NewSource(img).Fill(want, win, sizes[i]); err != nil {
			t.Fatal(err)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("window %d: value %d: got %.4f, want %.4f", i, j, got[j], want[j])
			}
		}
	}
	if len(s.levels) == 0 {
		t.Error("no reduced level built: the test misses that path")
	}
}

// Each pixel of a reduced level is the mean of the image pixels it stands
// for (the reader's channels) to within the rounding of the levels between
// (0.5 each), odd sizes included: the last column and row of a level stand
// for fewer image pixels and must weigh accordingly. Source.halve must
// build exactly what the reader does.
func TestReducedLevels(t *testing.T) {
	src := photoLike(97, 61, 6)
	rgba := image.NewRGBA(image.Rect(5, 3, 102, 64))
	draw.Draw(rgba, rgba.Bounds(), src, image.Point{}, draw.Src)
	for _, tt := range []struct {
		name  string
		img   image.Image
		halve bool
	}{
		{"NRGBA", src, false},
		{"RGBA", rgba, true},
		{"YCbCr 4:2:0", toYCbCr(src, image.YCbCrSubsampleRatio420, image.Rect(0, 0, 97, 61)), true},
		{"YCbCr 4:2:0 odd origin", toYCbCr(src, image.YCbCrSubsampleRatio420, image.Rect(1, 1, 98, 62)), false},
		{"YCbCr 4:2:0 even, 98x62", toYCbCr(src, image.YCbCrSubsampleRatio420, image.Rect(0, 0, 98, 62)), true},
		{"YCbCr 4:4:4", toYCbCr(src, image.YCbCrSubsampleRatio444, image.Rect(0, 0, 97, 61)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSource(tt.img)
			if (s.halve != nil) != tt.halve {
				t.Fatalf("Source.halve set: %v, want %v", s.halve != nil, tt.halve)
			}
			top := s.level(7) // 1x1
			if top.w != 1 || top.h != 1 {
				t.Fatalf("level 7 is %dx%d, want 1x1", top.w, top.h)
			}
			if s.halve != nil {
				plain := NewSource(tt.img)
				plain.halve = nil
				got, want := s.level(1).pix, plain.level(1).pix
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("level 1 byte %d: got %d with Source.halve, want %d as the reader gives", i, got[i], want[i])
					}
				}
			}
			if _, ok := tt.img.(*image.RGBA); ok {
				// What a decoder hands NewSourceHalf: all but the odd last
				// column and row, which the Source must add alike.
				want := s.level(1)
				half := slices.Clone(want.pix)
				for y := 0; y < want.h; y++ {
					for x := 0; x < want.w; x++ {
						if x >= s.W/2 || y >= s.H/2 {
							copy(half[3*(y*want.w+x):], []uint8{0, 0, 0})
						}
					}
				}
				got := NewSourceHalf(tt.img, half).level(1).pix
				if !slices.Equal(got, want.pix) {
					t.Fatalf("NewSourceHalf's level 1 differs from the one NewSource builds")
				}
				// and it is read, not rebuilt:
				marked := slices.Clone(want.pix)
				marked[0] ^= 0xff
				if got := NewSourceHalf(tt.img, marked).level(1).pix[0]; got != marked[0] {
					t.Fatalf("level 1 byte 0: got %d, want %d from the half given", got, marked[0])
				}
				if got := NewSourceHalf(tt.img, half[1:]).level(1).pix[0]; got != want.pix[0] {
					t.Fatalf("a half of the wrong size: level 1 byte 0 is %d, want %d built from the image", got, want.pix[0])
				}
			}
			img := make([]uint8, 3*s.W*s.H)
			for y := 0; y < s.H; y++ {
				s.read(y, 0, s.W, img[3*y*s.W:])
			}
			for L := 1; L <= 7; L++ {
				lv := s.level(L)
				n := 1 << L
				if lv.w != (s.W+n-1)/n || lv.h != (s.H+n-1)/n {
					t.Fatalf("level %d is %dx%d, want %dx%d", L, lv.w, lv.h, (s.W+n-1)/n, (s.H+n-1)/n)
				}
				for y := 0; y < lv.h; y++ {
					for x := 0; x < lv.w; x++ {
						var sum [3]int
						cnt := 0
						for sy := y * n; sy < min((y+1)*n, s.H); sy++ {
							for sx := x * n; sx < min((x+1)*n, s.W); sx++ {
								for c := range sum {
									sum[c] += int(img[3*(sy*s.W+sx)+c])
								}
								cnt++
							}
						}
						for c := range sum {
							want := float64(sum[c]) / float64(cnt)
							got := lv.pix[3*(y*lv.w+x)+c]
							if math.Abs(float64(got)-want) > 0.5*float64(L)+1e-9 {
								t.Fatalf("level %d pixel (%d, %d) channel %d: got %d, want %.2f (±%.1f)", L, x, y, c, got, want, 0.5*float64(L))
							}
						}
					}
				}
			}
		})
	}
}

// Rounding half up at every level would make the coarse levels brighter
// (1/8 a level on average); Fill's levels must stay as bright as the image.
func TestReducedLevelsUnbiased(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 256, 128))
	rng := rand.New(rand.NewSource(7))
	var mean float64
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Intn(256))
		mean += float64(img.Pix[i])
	}
	mean /= float64(len(img.Pix))
	s := NewSource(img)
	for L := 1; L <= 4; L++ {
		var sum float64
		pix := s.level(L).pix
		for _, v := range pix {
			sum += float64(v)
		}
		if d := sum/float64(len(pix)) - mean; math.Abs(d) > 0.05 {
			t.Errorf("level %d: mean %.3f, image %.3f: off by %.3f, want ≤ 0.05", L, sum/float64(len(pix)), mean, d)
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

// BenchmarkFill times the detector's two kinds of pass on a 1920x1280 photo:
// the full-frame letterbox into 256 (a 7.5x shrink) and a 256-px tile at
// scale 1. The full frame is the first pass on an image, so it gets a fresh
// Source each time and pays for any per-Source preparation; tiles come
// later from the same Source, so they reuse one.
func BenchmarkFill(b *testing.B) {
	const w, h, size = 1920, 1280, 256
	src := photoLike(w, h, 5)
	rgba := image.NewRGBA(src.Bounds())
	draw.Draw(rgba, rgba.Bounds(), src, image.Point{}, draw.Src)
	images := []struct {
		name string
		img  image.Image
		half []uint8 // as the JPEG decoder hands it over (picture.Photo.Half)
	}{
		{"YCbCr420", toYCbCr(src, image.YCbCrSubsampleRatio420, src.Bounds()), nil},
		{"RGBA", rgba, nil},
		{"RGBA+half", rgba, NewSource(rgba).level(1).pix},
	}
	windows := []struct {
		name  string
		win   Window
		fresh bool // a new Source for every Fill
	}{
		{"letterbox", Letterbox(w, h), true},
		{"tile", Window{700.5, 400.25, size}, false},
	}
	dst := make([]float32, size*size*3)
	for _, im := range images {
		for _, wt := range windows {
			b.Run(im.name+"/"+wt.name, func(b *testing.B) {
				s := NewSourceHalf(im.img, im.half)
				for b.Loop() {
					if wt.fresh {
						s = NewSourceHalf(im.img, im.half) // an even size: the half is only read
					}
					if err := s.Fill(dst, wt.win, size); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
