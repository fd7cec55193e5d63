package preview

import (
	"encoding/json"
	"image"
	"image/draw"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/igemoji/igemoji/shared/assets"
	"github.com/igemoji/igemoji/shared/assets/assetstest"
	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/nn"
)

func load(t *testing.T) (*Preview, string) {
	t.Helper()
	path := assetstest.NPMFile(t, filepath.ToSlash(filepath.Clean(assets.BlazeFace[len("npm/"):])))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	return p, path
}

// photo decodes a face-api demo photo, scaled to at most side pixels, as
// the page's canvas would hand it over.
func photo(t *testing.T, n string, side int) *image.RGBA {
	t.Helper()
	img, err := imaging.Open(assetstest.NPMFile(t, "@vladmandic/face-api@1.7.15/demo/sample"+n+".jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img = imaging.Fit(img, side, side, imaging.Lanczos)
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}

func TestDetectFindsTheFaces(t *testing.T) {
	p, _ := load(t)
	tests := []struct {
		photo string
		min   int
	}{{"1", 3}, {"2", 3}, {"6", 2}}
	for _, tt := range tests {
		t.Run("sample"+tt.photo, func(t *testing.T) {
			faces, err := p.Detect(photo(t, tt.photo, 1280))
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) < tt.min {
				t.Errorf("got %d faces, want at least %d", len(faces), tt.min)
			}
		})
	}
}

// The module built for the browser, run under Node, finds exactly what the
// same code finds natively.
func TestWASMUnderNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm module")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		assetstest.Missing(t, "node", err)
	}
	p, model := load(t)
	img := photo(t, "2", 1920)
	want, err := p.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wasm := filepath.Join(dir, "igemoji.wasm")
	build := exec.Command("go", "build", "-o", wasm, "..")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build wasm: %v\n%s", err, out)
	}
	st, _ := os.Stat(wasm)
	t.Logf("wasm module: %.2f MB", float64(st.Size())/(1<<20))
	if st.Size() > 6<<20 {
		t.Errorf("wasm module: got %d bytes, want at most 6 MB", st.Size())
	}
	rgba := filepath.Join(dir, "photo.rgba")
	if err := os.WriteFile(rgba, img.Pix, 0o600); err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	out, err := exec.Command(node, "../testdata/run.mjs", wasm, model, rgba, itoa(b.Dx()), itoa(b.Dy())).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Faces []struct {
			Box   [4]float64
			Score float64
		}
		MS      float64
		Preview struct {
			Faces, Changed, Length int
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	t.Logf("detect under Node: %.0f ms for %dx%d", got.MS, b.Dx(), b.Dy())
	if len(got.Faces) != len(want) {
		t.Fatalf("faces under Node: got %d, want %d (native)", len(got.Faces), len(want))
	}
	for i, f := range got.Faces {
		if !sameBox(f.Box, want[i]) {
			t.Errorf("face %d: got %v, want %v", i, f.Box, want[i].Box)
		}
	}
	// preview() pastes the emoji over every face: it changes pixels, about
	// as many as the faces' boxes cover, and returns the whole picture.
	if got.Preview.Faces != len(want) || got.Preview.Length != len(img.Pix) {
		t.Errorf("preview: got %d faces and %d bytes, want %d and %d", got.Preview.Faces, got.Preview.Length, len(want), len(img.Pix))
	}
	boxes := 0.0
	for _, f := range want {
		boxes += f.Box[2] * f.Box[3]
	}
	if c := float64(got.Preview.Changed); c < boxes/2 || c > 8*boxes {
		t.Errorf("preview: got %d pixels changed, want about the %.0f the face boxes cover", got.Preview.Changed, boxes)
	}
}

func sameBox(a [4]float64, d face.Detection) bool {
	for i := range a {
		if math.Abs(a[i]-d.Box[i]) > 1e-6 {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
