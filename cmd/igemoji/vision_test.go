package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/igemoji/igemoji/shared/moji"
)

// visionAssets returns the assets folder with the models, or skips (fails
// under CI) when `make assets` has not run.
func visionAssets(t *testing.T) string {
	t.Helper()
	dir := assetsDir(t)
	if _, err := os.Stat(filepath.Join(dir, "models", "emotion.onnx")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("models missing (%v); CI runs make assets first", err)
		}
		t.Skipf("!!! SKIPPED: models not converted (%v); run `make assets` !!!", err)
	}
	return dir
}

func samplePhoto(t *testing.T, dir string, n int) string {
	t.Helper()
	return filepath.Join(dir, "npm/@vladmandic/face-api@1.7.15/demo", "sample"+string(rune('0'+n))+".jpg")
}

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errb)
	return out.String(), errb.String(), err
}

func TestAnalyzeJSON(t *testing.T) {
	dir := visionAssets(t)
	tmp := t.TempDir()
	text := filepath.Join(tmp, "notes.jpg")
	os.WriteFile(text, []byte("not an image"), 0o644)
	blank := filepath.Join(tmp, "blank.jpg")
	writeJPEG(t, blank, 640, 480)

	args := []string{"analyze", "--json", "--assets", dir}
	for i := 1; i <= 6; i++ {
		args = append(args, samplePhoto(t, dir, i))
	}
	args = append(args, text, blank, tmp)
	out, _, err := runCLI(t, args...)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("got %v (exit %d), want exit 1 because one file failed", err, exitCode(err))
	}
	var lines []imageJSON
	var keys [][]string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l imageJSON
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		json.Unmarshal(sc.Bytes(), &m)
		lines = append(lines, l)
		keys = append(keys, slices.Sorted(maps.Keys(m)))
	}
	if len(lines) != 9 {
		t.Fatalf("got %d lines, want 9", len(lines))
	}
	if e := lines[8].Error; e == nil || e.Code != moji.EINVALID {
		t.Errorf("a directory: got %+v, want an invalid error", lines[8])
	}
	total := 0
	for _, l := range lines[:6] {
		if l.Error != nil || l.Width == 0 || len(l.Faces) == 0 {
			t.Errorf("%s: got %+v, want faces", l.File, l)
		}
		for _, f := range l.Faces {
			total++
			if _, ok := moji.ParseExpression(string(f.Expression)); !ok || len(f.Probs) != 7 || f.Box[2] <= 0 {
				t.Errorf("%s: face %+v is incomplete", l.File, f)
			}
			sum := 0.0
			for _, p := range f.Probs {
				sum += p
			}
			if sum < 0.98 || sum > 1.02 {
				t.Errorf("%s: probabilities sum to %.3f, want 1", l.File, sum)
			}
		}
	}
	if total < 12 {
		t.Errorf("faces in the six sample photos: got %d, want at least 12", total)
	}
	if e := lines[6].Error; e == nil || e.Code != moji.EUNSUPPORTED {
		t.Errorf("text file: got %+v, want an unsupported_media error", lines[6])
	}
	for _, i := range []int{6, 8} { // the failed files: {"file","error"} and no more
		if !slices.Equal(keys[i], []string{"error", "file"}) {
			t.Errorf("%s: got keys %q, want only file and error", lines[i].File, keys[i])
		}
	}
	if !slices.Equal(keys[7], []string{"faces", "file", "height", "width"}) {
		t.Errorf("blank photo: got keys %q, want file, width, height and faces", keys[7])
	}
	if l := lines[7]; l.Error != nil || len(l.Faces) != 0 || l.Width != 640 {
		t.Errorf("blank photo: got %+v, want no faces and no error", l)
	}
}

// A photo read scaled down to --max-side is still reported in its own
// pixels: its size, and boxes and keypoints in its coordinates.
func TestAnalyzeReportsTheFilesCoordinates(t *testing.T) {
	dir := visionAssets(t)
	photo := samplePhoto(t, dir, 1)
	read := func(args ...string) imageJSON {
		t.Helper()
		out, _, err := runCLI(t, append([]string{"analyze", "--json", "--assets", dir}, append(args, photo)...)...)
		if err != nil {
			t.Fatal(err)
		}
		var l imageJSON
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	full, half := read(), read("--max-side", "960")
	if half.Width != full.Width || half.Height != full.Height {
		t.Errorf("size read at 960 px: got %dx%d, want the file's %dx%d", half.Width, half.Height, full.Width, full.Height)
	}
	if full.Width <= 960 || len(full.Faces) == 0 {
		t.Skipf("sample1 is %dx%d with %d faces: nothing to compare", full.Width, full.Height, len(full.Faces))
	}
	// The face nearest each face read at full size, within a few pixels
	// (a different reading, not a different frame).
	for _, f := range full.Faces {
		best := math.Inf(1)
		for _, g := range half.Faces {
			d := 0.0
			for i := range 4 {
				d = max(d, math.Abs(f.Box[i]-g.Box[i]))
			}
			best = min(best, d)
		}
		if best > 0.15*f.Box[2]+4 {
			t.Errorf("face at %v: the nearest read at 960 px is %.1f px off, want it in the file's coordinates", f.Box, best)
		}
	}
}

func TestAnalyzeFaceCrop(t *testing.T) {
	dir := visionAssets(t)
	blank := filepath.Join(t.TempDir(), "blank.jpg")
	writeJPEG(t, blank, 100, 100)
	out, _, err := runCLI(t, "analyze", "--json", "--face-crop", "--assets", dir, blank)
	if err != nil {
		t.Fatal(err)
	}
	var l imageJSON
	json.Unmarshal([]byte(out), &l)
	if len(l.Faces) != 1 {
		t.Fatalf("--face-crop: got %d faces, want exactly 1 (the picture itself)", len(l.Faces))
	}
	if f := l.Faces[0]; f.Score != 0 || f.Box != [4]float64{0, 0, 100, 100} || !strings.Contains(out, `"keypoints":[]`) {
		t.Errorf("--face-crop, no face found: got %s, want the whole picture, score 0 and keypoints []", out)
	}
}

func TestEmojify(t *testing.T) {
	dir := visionAssets(t)
	out := filepath.Join(t.TempDir(), "out.jpg")
	_, stderr, err := runCLI(t, "emojify", "--assets", dir, "--template", "Noto Color", "-o", out, samplePhoto(t, dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "face(s)") {
		t.Errorf("stderr: got %q, want the status", stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil || format != "jpeg" || cfg.Width != 1920 {
		t.Fatalf("output: got %v %s %v, want a 1920-px JPEG", cfg, format, err)
	}
	_, _, err = runCLI(t, "emojify", "--assets", dir, "--template", "nope", "-o", out, samplePhoto(t, dir, 1))
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "fluent-flat") {
		t.Fatalf("unknown template: got %v, want a usage error listing the built-ins", err)
	}
}

func writeJPEG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
}

// emojify --template ID uses a template people made in the service.
func TestEmojifyStoredTemplate(t *testing.T) {
	dir := visionAssets(t)
	data := t.TempDir()
	a := startApp(t, "sqlite", "--data", data, "--database-url", "sqlite:"+filepath.Join(data, "igemoji.db"))
	tok := a.signup("maker@example.com", "maker")
	r := a.createTemplate(tok, templateFields(t, "red dots"))
	wantStatus(t, "create", r, 201)
	id := int64(r.json(t)["id"].(float64))

	out := filepath.Join(t.TempDir(), "out.png")
	if _, _, err := runCLI(t, "emojify", "--assets", dir, "--data", data, "--template", fmt.Sprint(id), "-o", out, samplePhoto(t, dir, 1)); err != nil {
		t.Fatalf("emojify with template %d: %v", id, err)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Fatalf("output: %v", err)
	}
	_, _, err := runCLI(t, "emojify", "--assets", dir, "--data", data, "--template", "999", "-o", out, samplePhoto(t, dir, 1))
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown id: got %v, want a not-found error", err)
	}
}

func TestParseScales(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []float64
		wantErr bool
	}{
		{"", nil, false},
		{"1.3,2", []float64{1.3, 2}, false},
		{" 1.3 , 2.0 ,", []float64{1.3, 2}, false},
		{"0", nil, true},
		{"-1", nil, true},
		{"0.4", nil, true},
		{"1e300", nil, true},
		{"x", nil, true},
		{"NaN", nil, true},
		{"Inf", nil, true},
	} {
		got, err := parseScales(tc.in)
		if (err != nil) != tc.wantErr || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("parseScales(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestBenchVision(t *testing.T) {
	dir := visionAssets(t)
	stdout, _, err := runCLI(t, "bench-vision", "--assets", dir, "--runs", "1", "--size", "800", samplePhoto(t, dir, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sample2.jpg", "800x570", "expressions", "peak resident memory"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("got output %q, want it to mention %q", stdout, want)
		}
	}
	// A FIFO is refused, not waited on for ever; a CPU profile is
	// written where asked.
	tmp := t.TempDir()
	fifo := filepath.Join(tmp, "fifo.jpg")
	mkfifo(t, fifo)
	if _, _, err := runCLI(t, "bench-vision", "--assets", dir, "--runs", "1", fifo); exitCode(err) != 1 || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: got %v (exit %d), want exit 1, not a regular file", err, exitCode(err))
	}
	prof := filepath.Join(tmp, "cpu.pprof")
	if _, _, err := runCLI(t, "bench-vision", "--assets", dir, "--runs", "1", "--size", "400", "--cpuprofile", prof, samplePhoto(t, dir, 2)); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("CPU profile: got %v, %v; want a file", st, err)
	}
	for _, args := range [][]string{
		{"bench-vision", "--assets", dir},
		{"bench-vision", "--assets", dir, "--small-faces", "some", samplePhoto(t, dir, 2)},
		{"bench-vision", "--assets", dir, "--runs", "0", samplePhoto(t, dir, 2)},
		{"bench-vision", "--assets", dir, "--threads", "100000", samplePhoto(t, dir, 2)},
		{"bench-vision", "--assets", dir, "--cpuprofile", samplePhoto(t, dir, 2), samplePhoto(t, dir, 2)}, // over its input
	} {
		if _, _, err := runCLI(t, args...); exitCode(err) != 2 {
			t.Errorf("%v: got %v (exit %d), want a usage error (exit 2)", args[1:], err, exitCode(err))
		}
	}
}

// eval-expressions scores a manifest, skipping labels with no class and
// counting unreadable files, and writes each image's reading with
// --predictions (here through the landmark-aligned reading).
func TestEvalExpressions(t *testing.T) {
	dir := visionAssets(t)
	tmp := t.TempDir()
	writeJPEG(t, filepath.Join(tmp, "blank.jpg"), 120, 120)
	photo, err := os.ReadFile(samplePhoto(t, dir, 1))
	if err != nil {
		t.Skipf("sample photo: %v", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "group.jpg"), photo, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(tmp, "manifest.csv")
	rows := "path,label\ngroup.jpg,happy\nblank.jpg,Neutral\nblank.jpg,contempt\nmissing.jpg,sad\n"
	if err := os.WriteFile(manifest, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	preds := filepath.Join(tmp, "preds.csv")
	// A file that fails: the figures are printed, leaving it out, but the
	// run fails, and writes no predictions.
	stdout, stderr, err := runCLI(t, "eval-expressions", "--assets", dir, "--json", "--align", "--predictions", preds, manifest)
	if exitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), "1 of 3 images failed") {
		t.Errorf("with a missing file: got %v (exit %d); want exit 1 naming the failure", err, exitCode(err))
	}
	if !strings.Contains(stderr, `labels with no class: "contempt" (1)`) {
		t.Errorf("got stderr %q, want it to name the label left out", stderr)
	}
	var rep evalReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("got %q, want a JSON report: %v", stdout, err)
	}
	if rep.N != 2 || rep.Skipped != 1 || rep.Failed != 1 {
		t.Errorf("got %d scored, %d skipped, %d failed, want 2, 1, 1", rep.N, rep.Skipped, rep.Failed)
	}
	if _, err := os.Stat(preds); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("predictions of a failed run: got %v, want none written", err)
	}
	rows = strings.Replace(rows, "missing.jpg,sad\n", "lonely-row-without-a-label\n", 1)
	if err := os.WriteFile(manifest, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err = runCLI(t, "eval-expressions", "--assets", dir, "--json", "--align", "--predictions", preds, manifest); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "rows without a label: 1") {
		t.Errorf("got stderr %q, want it to count the row without a label", stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, ".preds.csv.*")); len(left) != 0 {
		t.Errorf("got temporary files %v left, want none", left)
	}
	f, err := os.Open(preds)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || len(recs[0]) != 10 || recs[0][2] != "expression" {
		t.Fatalf("got predictions %v, want a header of 10 columns and 2 rows", recs)
	}
	for _, r := range recs[1:] {
		sum := 0.0
		for _, v := range r[3:] {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("row %v: %v", r, err)
			}
			sum += p
		}
		if math.Abs(sum-1) > 0.01 || !slices.Contains(moji.Expressions[:], moji.Expression(r[2])) {
			t.Errorf("row %v: got probabilities summing to %.3f and expression %q, want 1 and a class", r, sum, r[2])
		}
	}
	if _, _, err := runCLI(t, "eval-expressions", "--assets", dir, "--predictions", filepath.Join(tmp, "no/such/dir/p.csv"), manifest); err == nil {
		t.Error("--predictions into a missing folder: got no error, want one")
	}
}
