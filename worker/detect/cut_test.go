package detect

import (
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/igemoji/igemoji/shared/assets/assetstest"
	"github.com/igemoji/igemoji/shared/face"
)

func TestCutFor(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		want cut
		ok   bool
	}{
		// 1280/1920 of 256 is 170.7 rows, from 42.7 to 213.3; with 8 rows
		// of black on either side, from 34.7 to 221.3: rows 32-224.
		{"3:2", 1920, 1280, cut{0, 32, 256, 192}, true},
		{"2:3", 1280, 1920, cut{32, 0, 192, 256}, true},
		{"16:9", 1920, 1080, cut{0, 32, 256, 192}, true},
		{"crowd 2048x922", 2048, 922, cut{0, 32, 256, 192}, true},
		{"panorama 4000x500", 4000, 500, cut{0, 96, 256, 64}, true},
		// 182 rows from 37: the margin reaches past the grid line at 32.
		{"sample2 1920x1367", 1920, 1367, cut{0, 0, 256, 256}, false},
		// 1448/1920 of 256 is 193 rows from 31.5: the grid lines at 0 and
		// 256 are the nearest outside them, so nothing is cut.
		{"4:3 (sample4)", 1920, 1448, cut{0, 0, 256, 256}, false},
		{"square", 640, 640, cut{0, 0, 256, 256}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cutFor(face.Letterbox(tt.w, tt.h), tt.w, tt.h, 256)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	// A tile inside the image is the whole square.
	if c, ok := cutFor(face.Window{X: 100, Y: 100, Side: 300}, 1920, 1280, 256); ok {
		t.Errorf("a tile inside the image: got cut %+v, want none", c)
	}
}

// The model cut to a photo's shape finds the faces the square finds, in
// the same places: the demo photos (sample1 is cut, and a 2:3 part of
// it), a crowd (a quarter of the square cut away) and, where present, the
// development photos.
func TestCutAgrees(t *testing.T) {
	cutting := detector(t)
	square, err := New(assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel),
		Options{Confirm: assetstest.NPMFile(t, frontModel), NoCuts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer square.Close()
	photos := agreementPhotos(t, cutting)
	// A 2:3 part of sample1, three faces: the cut takes columns.
	photos = append(photos, photo{"sample1, a 2:3 part", imaging.Crop(sample(t, 1), image.Rect(300, 0, 1153, 1280))})
	cut, worst := 0, 1.0
	for _, p := range photos {
		b := p.img.Bounds()
		if _, ok := cutFor(face.Letterbox(b.Dx(), b.Dy()), b.Dx(), b.Dy(), 256); ok {
			cut++
		}
		got, err := cutting.Detect(context.Background(), p.img)
		if err != nil {
			t.Fatal(err)
		}
		want, err := square.Detect(context.Background(), p.img)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: got %d faces with the cut model, want %d as with the square", p.name, len(got), len(want))
			continue
		}
		for _, w := range want {
			best := 0.0
			for _, g := range got {
				best = max(best, face.IoU(g.Box, w.Box))
			}
			worst = min(worst, best)
			if best < 0.9 {
				t.Errorf("%s: face at %v: best IoU %.3f with the cut model's, want ≥ 0.9", p.name, w.Box, best)
			}
		}
	}
	made := 0
	for _, s := range cutting.all {
		made += len(s.cuts)
	}
	if made == 0 {
		t.Errorf("got no cut sessions made, want the cut photos' full frames to run on them")
	}
	t.Logf("%d photos, %d cut; worst IoU %.3f", len(photos), cut, worst)
	if cut < 3 {
		t.Errorf("got %d photos with a cut, want at least 3 (sample1 both ways and the crowd)", cut)
	}
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "data", "photos-dev")); err != nil {
		t.Logf("development photos absent: compared %d photos", len(photos))
	}
}

// cutModel refuses a graph it does not know how to cut.
func TestCutModelErrors(t *testing.T) {
	back, err := os.ReadFile(assetstest.NPMFile(t, backModel))
	if err != nil {
		t.Fatal(err)
	}
	front, err := os.ReadFile(assetstest.NPMFile(t, frontModel))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		model []byte
		c     cut
	}{
		{"not ONNX", []byte("hello"), cut{0, 32, 256, 192}},
		{"front model as a back one", front, cut{0, 32, 256, 192}},
		{"off the grid", back, cut{0, 32, 256, 200}},
		{"off the grid at 16", back, cut{0, 16, 256, 192}},
		{"past the square", back, cut{0, 96, 256, 192}},
		{"empty", back, cut{0, 0, 256, 0}},
	}
	for _, tt := range tests {
		if _, err := cutModel(tt.model, 256, tt.c); err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
		}
	}
	for _, c := range []cut{{0, 32, 256, 192}, {0, 0, 256, 32}, {224, 0, 32, 256}} {
		if _, err := cutModel(back, 256, c); err != nil {
			t.Errorf("the back model, %+v: %v", c, err)
		}
	}
}

// A detector keeps at most maxCuts cut sessions per session, whatever
// shapes of photo come.
func TestCutSessionsBounded(t *testing.T) {
	d, err := New(assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel), Options{Threads: 1, Sessions: 1, FullFrameOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Four cuts: 192 rows, 64 rows, 128 rows, 192 columns; then the first
	// again, which was evicted.
	shapes := []image.Point{{1920, 1280}, {4000, 500}, {4000, 1000}, {1280, 1920}, {1920, 1080}}
	for _, sh := range shapes {
		dets, err := d.Detect(context.Background(), image.NewGray(image.Rect(0, 0, sh.X, sh.Y)))
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) != 0 {
			t.Errorf("%v black: got %d faces, want 0", sh, len(dets))
		}
		if n := len(d.all[0].cuts); n > maxCuts {
			t.Fatalf("after %v: got %d cut sessions, want at most %d", sh, n, maxCuts)
		}
	}
	var got []cut
	for _, x := range d.all[0].cuts {
		got = append(got, x.c)
	}
	want := []cut{{0, 32, 256, 192}, {32, 0, 192, 256}, {0, 64, 256, 128}}
	if !slices.Equal(got, want) {
		t.Errorf("cuts kept, most recent first: got %+v, want %+v", got, want)
	}
}

// The cut model's raw detections (before suppression) are the square's:
// each of the square's that scores 0.75 or more has one in the cut at IoU
// ≥ 0.9 scoring within 0.1 (0.055 at worst here), and the other way round, for small faces
// (sample1, on the stride-16 grid) and a large one (a crop of it, on the
// stride-32 grid), cut by rows and by columns. (Weaker ones, near the 0.5
// threshold, come and go: see cutMargin.)
func TestCutScores(t *testing.T) {
	d, err := New(assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel), Options{Threads: 1, Sessions: 1, FullFrameOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s := d.all[0]
	whole := sample(t, 1)
	crop := imaging.Crop(whole, image.Rect(300, 330, 786, 654))
	large := false
	for _, tt := range []struct {
		name string
		img  image.Image
	}{
		{"sample1", whole}, {"sample1, a 2:3 part", imaging.Crop(whole, image.Rect(300, 0, 1153, 1280))},
		{"face crop", crop}, {"face crop, 2:3", imaging.Crop(whole, image.Rect(315, 200, 715, 800))},
	} {
		b := tt.img.Bounds()
		win := face.Letterbox(b.Dx(), b.Dy())
		c, ok := cutFor(win, b.Dx(), b.Dy(), 256)
		if !ok {
			t.Fatalf("%s: no cut", tt.name)
		}
		cs, err := d.newCutSession(c)
		if err != nil {
			t.Fatal(err)
		}
		src := face.NewSource(tt.img)
		want, err := face.RunPass(s.run, src, win, d.spec, 0.5, s.in.GetData(), s.scores, s.regs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := face.RunPass(cs.run, src, win, d.spec, 0.5, s.in.GetData(), s.scores, s.regs)
		cs.destroy()
		if err != nil {
			t.Fatal(err)
		}
		check := func(from, to []face.Detection, what string) {
			n := 0
			for _, w := range from {
				if w.Score < 0.75 {
					continue
				}
				n++
				large = large || w.Box[2]/win.Side*256 > 64
				best, iou := 0.0, 0.0
				for _, g := range to {
					if x := face.IoU(g.Box, w.Box); x > iou {
						iou, best = x, math.Abs(g.Score-w.Score)
					}
				}
				if iou < 0.9 || best > 0.1 {
					t.Errorf("%s: %s detection at %v (score %.3f): nearest at IoU %.3f, score %.3f off", tt.name, what, w.Box, w.Score, iou, best)
				}
			}
			if n == 0 {
				t.Errorf("%s: no %s detection scores 0.75", tt.name, what)
			}
		}
		check(want, got, "square's")
		check(got, want, "cut's")
	}
	if !large {
		t.Errorf("no detection over 64 input px: the stride-32 grid was not checked")
	}
}
