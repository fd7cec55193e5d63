package vision

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/igemoji/igemoji/shared/expr"
	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
)

// openPipeline loads the real models from the repository's assets folder,
// or skips (fails under CI) when `make assets` has not run.
func openPipeline(tb testing.TB) *Pipeline {
	tb.Helper()
	return openPipelineWith(tb, func(*Config) {})
}

// openPipelineWith is openPipeline with the default config changed by edit.
func openPipelineWith(tb testing.TB, edit func(*Config)) *Pipeline {
	tb.Helper()
	dir, _ := filepath.Abs("../../.cache")
	cfg := DefaultConfig(dir)
	edit(&cfg)
	p, err := Open(cfg)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("open pipeline: %v", err)
		}
		tb.Skipf("!!! SKIPPED: %v !!!", err)
	}
	tb.Cleanup(p.Close)
	return p
}

func sample(tb testing.TB, n string) image.Image {
	tb.Helper()
	img, err := imaging.Open("../../.cache/npm/@vladmandic/face-api@1.7.15/demo/sample" + n + ".jpg")
	if err != nil {
		tb.Skipf("sample photo: %v", err)
	}
	return img
}

func TestNoFacesIsAResult(t *testing.T) {
	p := openPipeline(t)
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x / 4), 100, uint8(y / 3), 255})
		}
	}
	faces, err := p.Analyze(context.Background(), img)
	if err != nil || len(faces) != 0 {
		t.Fatalf("got %d faces, %v; want none and no error", len(faces), err)
	}
	out := Emojify(img, faces, nil)
	if out.Bounds().Dx() != 800 || out.RGBAAt(10, 10) != img.RGBAAt(10, 10) {
		t.Fatal("emojify without faces must return the photo unchanged")
	}
}

func TestCancelled(t *testing.T) {
	p := openPipeline(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Analyze(ctx, sample(t, "1")); err == nil {
		t.Fatal("got nil error for a cancelled context")
	}
}

// BenchmarkAnalyze is the per-photo cost of detection and reading every
// face of a 1920x1280 group photo: go test -bench Analyze ./worker/vision
func BenchmarkAnalyze(b *testing.B) {
	p := openPipeline(b)
	img := sample(b, "1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Analyze(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEmojifyOwned: drawing in place gives what drawing on a copy gives,
// and only an *image.RGBA at the origin is drawn on.
func TestEmojifyOwned(t *testing.T) {
	photo := func() *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, 120, 90))
		for i := range m.Pix {
			m.Pix[i] = uint8(i)
			if i%4 == 3 {
				m.Pix[i] = 255
			}
		}
		return m
	}
	emoji := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range emoji.Pix {
		emoji.Pix[i] = 200
	}
	set := map[moji.Expression]image.Image{moji.Happy: emoji}
	f := Face{Box: [4]float64{30, 20, 40, 40}, Expression: moji.Happy}
	f.Keypoints[face.RightEye] = face.Point{X: 42, Y: 32}
	f.Keypoints[face.LeftEye] = face.Point{X: 58, Y: 32}
	f.Keypoints[face.NoseTip] = face.Point{X: 50, Y: 42}
	f.Keypoints[face.MouthCenter] = face.Point{X: 50, Y: 50}
	want := Emojify(photo(), []Face{f}, set)
	own := photo()
	got := EmojifyOwned(own, []Face{f}, set)
	if got != own {
		t.Error("an *image.RGBA was copied, want it drawn on")
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		t.Error("drawing in place differs from drawing on a copy")
	}
	if bytes.Equal(want.Pix, photo().Pix) {
		t.Error("the emoji changed nothing")
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 120, 90))
	if out := EmojifyOwned(nrgba, []Face{f}, set); out.Bounds() != nrgba.Bounds() || out.Pix[0] != 0 && &out.Pix[0] == &nrgba.Pix[0] {
		t.Error("an NRGBA photo must be copied")
	}
}

// TestAnalyzePhotoHalf: the decoder's half-size copy changes nothing but
// the time: the same faces, to the bit, as from the image alone.
func TestAnalyzePhotoHalf(t *testing.T) {
	p := openPipeline(t)
	for _, n := range []string{"1", "2", "5"} {
		data, err := os.ReadFile("../../.cache/npm/@vladmandic/face-api@1.7.15/demo/sample" + n + ".jpg")
		if err != nil {
			t.Skipf("sample photo: %v", err)
		}
		ph, err := picture.DecodePhoto(bytes.NewReader(data), picture.PhotoLimits, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ph.Half == nil && picture.JPEGCodec == "libjpeg-turbo" {
			t.Fatalf("sample%s: got no half from libjpeg, want one", n)
		}
		want, err := p.Analyze(context.Background(), ph.Image)
		if err != nil {
			t.Fatal(err)
		}
		half := slices.Clone(ph.Half)
		got, st, err := p.AnalyzePhoto(context.Background(), ph, nil)
		if err != nil {
			t.Fatal(err)
		}
		// and the half is what the full frame reads: a black one finds
		// no face there, which sends the detector to the tiles.
		if half != nil {
			clear(half)
			_, black, err := p.AnalyzePhoto(context.Background(), picture.Photo{Image: ph.Image, Half: half}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if black.Detect.Passes <= st.Detect.Passes {
				t.Errorf("sample%s: got %d model runs with a black half, want more than the %d with the real one", n, black.Detect.Passes, st.Detect.Passes)
			}
		}
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("sample%s: got %d faces with the half, want %d (and some)", n, len(got), len(want))
		}
		for i := range got {
			if got[i].Box != want[i].Box || got[i].Probs != want[i].Probs {
				t.Errorf("sample%s face %d: got box %v probs %v with the half, want %v %v", n, i, got[i].Box, got[i].Probs, want[i].Box, want[i].Probs)
			}
		}
	}
}

// The landmark model (converted by shared/tfjs) puts the eyes of faces
// seen from the front where the detector does, and the aligned reading
// finds the same faces.
func TestAlignLandmarks(t *testing.T) {
	p := openPipelineWith(t, func(c *Config) { c.Align = true })
	plain := openPipeline(t)
	faces, aligned, changed := 0, 0, 0
	for _, n := range []string{"1", "2", "3", "4", "5", "6"} {
		img := sample(t, n)
		dets, err := p.det.Detect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range dets {
			r, l := d.Keypoints[face.RightEye], d.Keypoints[face.LeftEye]
			if d.Box[2] < 40 || math.Hypot(l.X-r.X, l.Y-r.Y) < 0.25*d.Box[2] {
				continue // too small for the eyes to say much, or in profile (alignedSquares checks those)
			}
			faces++
			pts, err := p.landmarks(img, d)
			if err != nil {
				t.Fatal(err)
			}
			eye := func(from int) face.Point {
				var x, y float64
				for k := from; k < from+6; k++ {
					x, y = x+float64(pts[2*k]), y+float64(pts[2*k+1])
				}
				x, y = x/6, y/6
				sin, cos := math.Sincos(d.Roll)
				c := d.Center()
				return face.Point{X: c.X + x*cos - y*sin, Y: c.Y + x*sin + y*cos}
			}
			for _, e := range []struct {
				name string
				got  face.Point
				want face.Point
			}{{"right eye", eye(36), d.Keypoints[face.RightEye]}, {"left eye", eye(42), d.Keypoints[face.LeftEye]}} {
				if dist := math.Hypot(e.got.X-e.want.X, e.got.Y-e.want.Y); dist > 0.12*d.Box[2] {
					t.Errorf("sample%s face %d (%.0f px): %s at %.0f,%.0f, want near the detector's %.0f,%.0f",
						n, i, d.Box[2], e.name, e.got.X, e.got.Y, e.want.X, e.want.Y)
				}
			}
			f, ok := trusted(pts, d)
			if math.Abs(f.Roll) > 0.2 || f.Side < 0.6*d.Box[2] || f.Side > 1.6*d.Box[2] {
				t.Errorf("sample%s face %d: landmark frame %+v, want a small turn and a side near the box's %.0f px", n, i, f, d.Box[2])
			}
			if ok {
				aligned++
			}
		}
		got, err := p.Analyze(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Analyze(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("sample%s: got %d faces aligned, want %d", n, len(got), len(want))
		}
		for i := range got {
			sum := 0.0
			for _, v := range got[i].Probs {
				sum += v
			}
			if got[i].Box != want[i].Box || math.Abs(sum-1) > 1e-3 {
				t.Errorf("sample%s face %d: got box %v, probabilities summing to %.4f, want box %v and 1", n, i, got[i].Box, sum, want[i].Box)
			}
			if got[i].Probs != want[i].Probs {
				changed++
			}
		}
	}
	// Every frontal face of 40 px or more is cropped by its landmarks, and
	// the crops change readings.
	if faces < 10 || aligned != faces || changed < aligned {
		t.Errorf("got %d frontal faces of 40 px or more, %d of them trusted for alignment, %d readings changed; want at least 10, all, and at least as many",
			faces, aligned, changed)
	}
}

// trusted refuses landmarks that disagree with the detector.
func TestTrusted(t *testing.T) {
	d := face.Detection{Box: [4]float64{100, 100, 100, 100}}
	// A face's landmarks: a box of side s (in the crop's frame, centred
	// at cx, cy), turned by roll; the eyes level within it.
	points := func(s, cx, cy, roll float64) []float32 {
		pts := make([]float32, 2*expr.NumLandmarks)
		sin, cos := math.Sincos(roll)
		for i := range expr.NumLandmarks {
			x, y := s*(float64(i%5)/4-0.5), s*(float64(i%7)/6-0.5)
			switch {
			case i >= 36 && i < 42:
				x, y = -s/4, -s/6
			case i >= 42 && i < 48:
				x, y = s/4, -s/6
			}
			pts[2*i], pts[2*i+1] = float32(cx+x*cos-y*sin), float32(cy+x*sin+y*cos)
		}
		return pts
	}
	tests := []struct {
		name string
		pts  []float32
		want bool
	}{
		{"agrees", points(90, 5, 10, 0.1), true},
		{"turned 30 degrees", points(90, 0, 0, 0.52), false},
		{"a third of the box", points(33, 0, 0, 0), false},
		{"three boxes wide", points(300, 0, 0, 0), false},
		{"beside the box", points(90, 60, 0, 0), false},
		{"no points", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, got := trusted(tt.pts, d); got != tt.want {
				t.Errorf("got trusted %v (frame %+v), want %v", got, f, tt.want)
			}
		})
	}
}
