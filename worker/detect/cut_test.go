package detect

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
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
// the same places: the demo photos (sample1 is cut, also turned to
// portrait), a crowd (a quarter of the square cut away) and, where present,
// the development photos.
func TestCutAgrees(t *testing.T) {
	cutting := detector(t)
	square, err := New(assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel),
		Options{Confirm: assetstest.NPMFile(t, frontModel), NoCuts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer square.Close()
	type photo struct {
		name string
		img  image.Image
	}
	var photos []photo
	for i := 1; i <= 6; i++ {
		photos = append(photos, photo{fmt.Sprint("sample", i), sample(t, i)})
	}
	// sample1 turned to portrait: the cut takes columns.
	photos = append(photos, photo{"sample1 portrait", imaging.Rotate90(sample(t, 1))})
	img, _ := crowd(t, cutting, 30, 24, 120)
	photos = append(photos, photo{"crowd", img})
	for _, set := range []string{"dlib-faces/examples/faces", "faceapi", "face-recognition"} {
		dir := filepath.Join("..", "..", "..", "shared", "data", "photos-dev", filepath.FromSlash(set))
		files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		for _, f := range files {
			photos = append(photos, photo{filepath.Base(f), load(t, f)})
		}
	}
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
		name       string
		model      []byte
		size, r, c int
	}{
		{"not ONNX", []byte("hello"), 256, 192, 256},
		{"front model as a back one", front, 256, 192, 256},
		{"off the grid", back, 256, 200, 256},
	}
	for _, tt := range tests {
		if _, err := cutModel(tt.model, tt.size, tt.r, tt.c); err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
		}
	}
	if _, err := cutModel(back, 256, 192, 256); err != nil {
		t.Errorf("the back model, 192x256: %v", err)
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
	shapes := []image.Point{{1920, 1280}, {1920, 1080}, {4000, 500}, {1280, 1920}, {1080, 1920}, {1920, 1280}}
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
	if got, want := d.all[0].cuts[0].c, (cut{0, 32, 256, 192}); got != want {
		t.Errorf("most recent cut: got %+v, want %+v (the last photo's, 3:2)", got, want)
	}
}
