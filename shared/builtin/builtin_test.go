package builtin

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/igemoji/igemoji/shared/moji"
)

// cacheDir returns the npm cache that fetch.sh fills (IGEMOJI_NPM_CACHE, or
// .cache/npm at the repository root), or skips the test if it is not there.
func cacheDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IGEMOJI_NPM_CACHE")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "npm")
	}
	for _, src := range sources {
		file := filepath.Join(dir, filepath.FromSlash(src.pkg), "icons.json")
		if _, err := os.Stat(file); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("built-in emoji sets not fetched (%v); CI runs `make assets` first", err)
			}
			t.Skipf("SKIPPED: built-in emoji sets not fetched (%v); run `make assets` (or set IGEMOJI_NPM_CACHE) to test them", err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := cacheDir(t)
	const size = 64
	sets, err := Load(dir, size)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []struct{ name, attribution string }{
		{"Fluent Flat", "Fluent Emoji by Microsoft, MIT licence"},
		{"Noto Color", "Noto Emoji by Google, Apache-2.0 licence"},
	}
	if got := len(sets); got != len(want) {
		t.Fatalf("got %d sets, want %d", got, len(want))
	}
	for i, s := range sets {
		if s.Name != want[i].name || s.Attribution != want[i].attribution {
			t.Errorf("set %d: got %q (%q), want %q (%q)", i, s.Name, s.Attribution, want[i].name, want[i].attribution)
		}
		if got := len(s.Images); got != len(moji.Expressions) {
			t.Errorf("%s: got %d images, want %d", s.Name, got, len(moji.Expressions))
		}
		for _, e := range moji.Expressions {
			img := s.Images[e]
			if img == nil {
				t.Errorf("%s: no image for %s", s.Name, e)
				continue
			}
			checkFace(t, s.Name+"/"+string(e), img, size)
		}
		for a, ea := range moji.Expressions {
			for _, eb := range moji.Expressions[a+1:] {
				ia, ib := s.Images[ea], s.Images[eb]
				if ia == nil || ib == nil {
					continue
				}
				if got, min := differentPixels(ia, ib), size*size/50; got < min {
					t.Errorf("%s: %s and %s: got %d different pixels, want at least %d", s.Name, ea, eb, got, min)
				}
			}
		}
	}
}

// checkFace checks that img is size x size with transparent corners and a
// mostly opaque centre, as a round emoji face should be.
func checkFace(t *testing.T, name string, img *image.NRGBA, size int) {
	t.Helper()
	if got, want := img.Bounds(), image.Rect(0, 0, size, size); got != want {
		t.Errorf("%s: got bounds %v, want %v", name, got, want)
		return
	}
	for _, p := range []image.Point{{0, 0}, {size - 1, 0}, {0, size - 1}, {size - 1, size - 1}} {
		if got := img.NRGBAAt(p.X, p.Y).A; got != 0 {
			t.Errorf("%s: corner %v: got alpha %d, want 0", name, p, got)
		}
	}
	opaque, total := 0, 0
	for y := size / 4; y < size*3/4; y++ {
		for x := size / 4; x < size*3/4; x++ {
			total++
			if img.NRGBAAt(x, y).A == 0xff {
				opaque++
			}
		}
	}
	if got, want := float64(opaque)/float64(total), 0.9; got < want {
		t.Errorf("%s: centre: got %.0f%% opaque pixels, want at least %.0f%%", name, 100*got, 100*want)
	}
}

func differentPixels(a, b *image.NRGBA) int {
	n := 0
	for i := 0; i+3 < len(a.Pix) && i+3 < len(b.Pix); i += 4 {
		if !slices.Equal(a.Pix[i:i+4], b.Pix[i:i+4]) {
			n++
		}
	}
	return n
}

func TestLoadMissingCache(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir, 32)
	if err == nil {
		t.Fatal("got no error, want one for the missing cache")
	}
	wantFile := filepath.Join(dir, filepath.FromSlash(sources[0].pkg), "icons.json")
	for _, want := range []string{wantFile, "make assets"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got error %v, want one that is fs.ErrNotExist", err)
	}
}

func TestLoadBadSize(t *testing.T) {
	for _, size := range []int{0, -1, maxSize + 1} {
		if _, err := Load(t.TempDir(), size); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("size %d: got error %v, want one containing %q", size, err, "out of range")
		}
	}
}

func TestLoadCorruptSet(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, filepath.FromSlash(sources[0].pkg), "icons.json")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(`{"prefix": "x", "icons": {"neutral-face": {"body": ""}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, 32)
	if err == nil || !strings.Contains(err.Error(), `icon "grinning-face-with-smiling-eyes" not in set`) {
		t.Errorf("got error %v, want one naming the missing icon", err)
	}
}

// TestSourcesMatchLock keeps the packages read here in step with the lock
// file that fetch.sh fetches.
func TestSourcesMatchLock(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "assets", "npm.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	locked := map[string][]string{} // name@version -> paths
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 4 {
			t.Fatalf("npm.lock: got line %q, want name version integrity path...", sc.Text())
		}
		locked[fields[0]+"@"+fields[1]] = fields[3:]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, src := range sources {
		paths, ok := locked[src.pkg]
		if !ok {
			t.Errorf("%s: got no line for %s in npm.lock, want one", src.name, src.pkg)
			continue
		}
		if !slices.Contains(paths, "icons.json") {
			t.Errorf("%s: got paths %v in npm.lock, want them to include icons.json", src.name, paths)
		}
	}
}

func TestRenderAndReadBack(t *testing.T) {
	npm := cacheDir(t)
	out := t.TempDir()
	if err := Render(npm, out, 48); err != nil {
		t.Fatal(err)
	}
	sets, err := ReadRendered(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != len(Keys()) {
		t.Fatalf("got %d sets, want %d", len(sets), len(Keys()))
	}
	for i, s := range sets {
		if s.Key != Keys()[i] || s.Name == "" || s.Attribution == "" {
			t.Errorf("set %d: got %q %q %q", i, s.Key, s.Name, s.Attribution)
		}
		for _, e := range moji.Expressions {
			img, err := png.Decode(bytes.NewReader(s.PNG[e]))
			if err != nil {
				t.Fatalf("%s/%s: %v", s.Key, e, err)
			}
			if b := img.Bounds(); b.Dx() != 48 || b.Dy() != 48 {
				t.Errorf("%s/%s: got %v, want 48x48", s.Key, e, b)
			}
		}
	}
	if _, err := ReadRendered(t.TempDir()); err == nil || !strings.Contains(err.Error(), "make assets") {
		t.Fatalf("empty folder: got %v, want an error saying to run make assets", err)
	}
}
