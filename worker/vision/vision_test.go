package vision

import (
	"context"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// openPipeline loads the real models from the repository's assets folder,
// or skips (fails under CI) when `make assets` has not run.
func openPipeline(tb testing.TB) *Pipeline {
	tb.Helper()
	dir, _ := filepath.Abs("../../.cache")
	p, err := Open(DefaultConfig(dir))
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
