package detect

import (
	"context"
	"fmt"
	"github.com/igemoji/igemoji/shared/assets/assetstest"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/igemoji/igemoji/shared/face"
)

// devData returns a folder of the development data beside the repository
// (../shared/data), or skips: a fresh clone has none, and the data may
// never be copied into the repository.
func devData(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("IGEMOJI_DEV_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("SKIPPED: development data not here (%v); it lives in ../shared/data beside the repository", err)
	}
	return p
}

// TestEvaluateDlib measures recall and precision at IoU 0.4 against the
// boxes of dlib's labelled photos (run with -v for the figures). The dlib
// boxes are tight eye-to-chin squares, BlazeFace's a little larger, so 0.4
// rather than 0.5. These photos are about 500 pixels wide with faces of
// 37-109 pixels, where the full frame already sees most faces at a
// reliable size: the tiles add the ones it misses.
func TestEvaluateDlib(t *testing.T) {
	dir := devData(t, "photos-dev/dlib-faces/examples/faces")
	var photos []Labelled
	for _, f := range []string{"training.xml", "testing.xml"} {
		p, err := LoadImglab(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		photos = append(photos, p...)
	}
	if len(photos) != 9 {
		t.Fatalf("got %d labelled photos, want 9", len(photos))
	}
	d := detector(t)
	fullOnly := func(ctx context.Context, img image.Image) ([]face.Detection, error) {
		b := img.Bounds()
		return d.DetectPasses(ctx, img, face.PlanPasses(b.Dx(), b.Dy(), d.Spec(), face.PlanOptions{})[:1])
	}
	tests := []struct {
		name                  string
		detect                func(context.Context, image.Image) ([]face.Detection, error)
		minRecall, minPrecise float64
	}{
		{"full frame only", fullOnly, 0.95, 0.95},
		{"full frame + tiles where called for (default)", d.Detect, 0.97, 0.95},
		{"full frame + every tile", func(ctx context.Context, img image.Image) ([]face.Detection, error) {
			b := img.Bounds()
			return d.DetectPasses(ctx, img, face.PlanPasses(b.Dx(), b.Dy(), d.Spec(), face.PlanOptions{}))
		}, 0.97, 0.95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A first run warms onnxruntime up, so the reported time is the
			// steady state.
			if _, err := Evaluate(context.Background(), photos[:1], 0.4, tt.detect); err != nil {
				t.Fatal(err)
			}
			r, err := Evaluate(context.Background(), photos, 0.4, tt.detect)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("dlib faces, %s: %v", tt.name, r)
			if r.Recall() < tt.minRecall {
				t.Errorf("got recall %.3f, want ≥ %.2f", r.Recall(), tt.minRecall)
			}
			if r.Precision() < tt.minPrecise {
				t.Errorf("got precision %.3f, want ≥ %.2f", r.Precision(), tt.minPrecise)
			}
		})
	}
}

func TestLoadImglab(t *testing.T) {
	xml := `<?xml version='1.0' encoding='ISO-8859-1'?>
<dataset><images>
  <image file='a.jpg'>
    <box top='10' left='20' width='30' height='40'/>
    <box top='1' left='2' width='3' height='4' ignore='1'/>
  </image>
  <image file='sub/b.jpg'/>
</images></dataset>`
	p := filepath.Join(t.TempDir(), "set.xml")
	if err := os.WriteFile(p, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadImglab(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d photos, want 2", len(got))
	}
	if want := filepath.Join(filepath.Dir(p), "a.jpg"); got[0].Path != want {
		t.Errorf("got path %q, want %q", got[0].Path, want)
	}
	if len(got[0].Boxes) != 1 || got[0].Boxes[0] != [4]float64{20, 10, 30, 40} {
		t.Errorf("got boxes %v, want [[20 10 30 40]] (x, y, w, h; ignored box left out)", got[0].Boxes)
	}
	if len(got[1].Boxes) != 0 {
		t.Errorf("got %d boxes for b.jpg, want 0", len(got[1].Boxes))
	}
}

func BenchmarkDetect(b *testing.B) {
	d := detector(b)
	img := sample(b, 1)
	bounds := img.Bounds()
	passes := face.PlanPasses(bounds.Dx(), bounds.Dy(), d.Spec(), face.PlanOptions{})
	ctx := context.Background()
	b.Run("full+tiles", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.Detect(ctx, img); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(passes)), "passes")
	})
	b.Run("full-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.DetectPasses(ctx, img, passes[:1]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDetectSessions splits the machine's cores between sessions that
// share one photo's passes (sessions x threads each).
func BenchmarkDetectSessions(b *testing.B) {
	lib, model := assetstest.NPMFile(b, ortLibrary()), assetstest.NPMFile(b, backModel)
	img := sample(b, 1)
	cpus := runtime.NumCPU()
	for n := 1; n <= cpus; n *= 2 {
		b.Run(fmt.Sprintf("%dx%d", n, cpus/n), func(b *testing.B) {
			d, err := New(lib, model, Options{Sessions: n, Threads: cpus})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			for b.Loop() {
				if _, err := d.Detect(context.Background(), img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
