package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliExit runs the command and returns its exit status and stderr, failing
// if it takes longer than a minute (a FIFO used to hang it for ever).
func cliExit(t *testing.T, args ...string) (int, string) {
	t.Helper()
	type result struct {
		stderr string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		_, stderr, err := runCLI(t, args...)
		done <- result{stderr, err}
	}()
	select {
	case r := <-done:
		if r.err == nil {
			return 0, r.stderr
		}
		return exitCode(r.err), r.stderr + r.err.Error()
	case <-time.After(time.Minute):
		t.Fatalf("%v: still running after a minute", args)
		return 0, ""
	}
}

type exitCase struct {
	name string
	args []string
	want int // exit status
}

// wantExits runs the command (cmd, then each case's arguments) per case.
func wantExits(t *testing.T, cmd []string, cases []exitCase) {
	t.Helper()
	for _, tt := range cases {
		if got, stderr := cliExit(t, append(slices.Clone(cmd), tt.args...)...); got != tt.want {
			t.Errorf("%s: got exit %d (%s), want %d", tt.name, got, stderr, tt.want)
		}
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// emojify's output: written whole or not at all, never over an input or a
// special file, only as .jpg or .png; flags may follow the image.
func TestEmojifyOutput(t *testing.T) {
	dir := visionAssets(t)
	tmp := t.TempDir()
	photo := filepath.Join(tmp, "photo.jpg")
	orig, err := os.ReadFile(samplePhoto(t, dir, 2))
	if err != nil {
		t.Skipf("sample photo: %v", err)
	}
	os.WriteFile(photo, orig, 0o644)
	fifo := filepath.Join(tmp, "fifo.jpg")
	mkfifo(t, fifo)

	os.Symlink(photo, filepath.Join(tmp, "link.jpg"))
	wantExits(t, []string{"emojify", "--assets", dir}, []exitCase{
		{"output is the input", []string{"-o", photo, photo}, 2},
		{"output through a link to the input", []string{"-o", filepath.Join(tmp, "link.jpg"), photo}, 2},
		{"output a FIFO", []string{"-o", fifo, photo}, 2},
		{"output a directory", []string{"-o", tmp + "/", photo}, 2},
		{"output .gif", []string{"-o", filepath.Join(tmp, "out.gif"), photo}, 2},
		{"output without extension", []string{"-o", filepath.Join(tmp, "out"), photo}, 2},
		{"input a FIFO", []string{"-o", filepath.Join(tmp, "out.jpg"), fifo}, 1},
		{"max-side too small", []string{"--max-side", "16", "-o", filepath.Join(tmp, "out.jpg"), photo}, 2},
	})
	if got, _ := os.ReadFile(photo); !bytes.Equal(got, orig) {
		t.Fatal("the input photo was changed")
	}

	// Flags after the image; an existing output is replaced whole and keeps
	// its mode; the status goes to stderr; no temporary file is left.
	out := filepath.Join(tmp, "out.png")
	os.WriteFile(out, []byte("old"), 0o600)
	stdout, stderr, err := runCLI(t, "emojify", photo, "-o", out, "--assets", dir, "--template", "noto-color")
	if err != nil || stdout != "" || !strings.Contains(stderr, "face(s)") {
		t.Fatalf("emojify with flags after the image: got %v, stdout %q, stderr %q; want success, status on stderr", err, stdout, stderr)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() < 1000 {
		t.Fatalf("output: got %v %v, want a whole PNG with mode 0600", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, ".*")); len(left) != 0 {
		t.Errorf("got temporary files %v left, want none", left)
	}
}

func TestAnalyzeOddFiles(t *testing.T) {
	dir := visionAssets(t)
	tmp := t.TempDir()
	fifo := filepath.Join(tmp, "fifo.jpg")
	mkfifo(t, fifo)
	code, stderr := cliExit(t, "analyze", "--assets", dir, fifo, filepath.Join(tmp, "nosuch.jpg"))
	if code != 1 || !strings.Contains(stderr, "fifo.jpg: not a regular file") ||
		!strings.Contains(stderr, "nosuch.jpg: no such file or directory") || strings.Count(stderr, "nosuch.jpg") != 1 {
		t.Errorf("a FIFO and a missing file: got exit %d, stderr %q; want 1 and each named once with its reason", code, stderr)
	}
	// A full disk or closed pipe on stdout is an error, not a silent success.
	var errb bytes.Buffer
	err := run(context.Background(), []string{"analyze", "--assets", dir, samplePhoto(t, dir, 2)}, func(string) string { return "" }, failingWriter{}, &errb)
	if err == nil || !strings.Contains(err.Error(), "write output") {
		t.Errorf("stdout failing: got %v, want a write error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestEvalExpressionsRefuses(t *testing.T) {
	dir := visionAssets(t)
	tmp := t.TempDir()
	manifest := filepath.Join(tmp, "m.csv")
	rows := []byte("path,label\nnosuch.jpg,happy\n")
	os.WriteFile(manifest, rows, 0o644)
	fifo := filepath.Join(tmp, "fifo.csv")
	mkfifo(t, fifo)
	wantExits(t, []string{"eval-expressions", "--assets", dir}, []exitCase{
		{"predictions over the manifest", []string{"--predictions", manifest, manifest}, 2},
		{"predictions into a FIFO", []string{"--predictions", fifo, manifest}, 2},
		{"NaN crop scale", []string{"--crop-scale", "NaN", manifest}, 2},
		{"negative weight", []string{"--w-whole", "-3", manifest}, 2},
		{"both models off", []string{"--w-emotion", "0", "--w-faceapi", "0", manifest}, 2},
		{"negative limit", []string{"--limit", "-1", manifest}, 2},
		{"nothing scored", []string{manifest}, 1},
	})
	if got, _ := os.ReadFile(manifest); !bytes.Equal(got, rows) {
		t.Fatal("the manifest was changed")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", st, err)
	}
}

// A flag after "--" is an argument (a file named like a flag).
func TestParseFlagsInterspersed(t *testing.T) {
	for _, tt := range []struct {
		args []string
		json bool
		rest string
	}{
		{[]string{"a.jpg", "--json", "b.jpg"}, true, "a.jpg b.jpg"},
		{[]string{"--json", "a.jpg"}, true, "a.jpg"},
		{[]string{"a.jpg", "--", "--json"}, false, "a.jpg --json"},
		{[]string{"--", "-a.jpg"}, false, "-a.jpg"},
		{[]string{}, false, ""},
	} {
		var out bytes.Buffer
		fs := newTestFlagSet(&out)
		j := fs.Bool("json", false, "")
		if err := parseFlags(fs, tt.args, &out); err != nil || *j != tt.json || strings.Join(fs.Args(), " ") != tt.rest {
			t.Errorf("parseFlags(%q): got json=%v args=%q err=%v, want json=%v args=%q", tt.args, *j, fs.Args(), err, tt.json, tt.rest)
		}
	}
}

func newTestFlagSet(out *bytes.Buffer) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

func TestCreateOut(t *testing.T) {
	dir := t.TempDir()
	write := func(path string) error {
		t.Helper()
		o, err := createOut(path)
		if err != nil {
			return err
		}
		defer o.abort()
		o.WriteString("new")
		return o.commit()
	}
	// A new file: 0666 less the umask, as os.Create makes it.
	old := syscall.Umask(0o027)
	err := write(filepath.Join(dir, "new.txt"))
	syscall.Umask(old)
	if st, _ := os.Stat(filepath.Join(dir, "new.txt")); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("new file: got %v, %v; want mode 0640 under umask 027", st, err)
	}
	// A dangling link: its target is made, the link kept.
	link := filepath.Join(dir, "link.txt")
	os.Symlink("target.txt", link)
	if err := write(link); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "target.txt")); string(b) != "new" {
		t.Errorf("dangling link: got target %q, want it written", b)
	}
	if fi, _ := os.Lstat(link); fi == nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("dangling link: the link was replaced")
	}
	// A file its owner made read-only is not replaced behind their back.
	ro := filepath.Join(dir, "ro.txt")
	os.WriteFile(ro, []byte("keep"), 0o444)
	if os.Geteuid() != 0 { // root may write anything
		if err := write(ro); err == nil {
			t.Error("read-only file: got no error, want one")
		}
		if b, _ := os.ReadFile(ro); string(b) != "keep" {
			t.Error("read-only file: it was replaced")
		}
	}
}

// A path that cannot be written is named as given, not by the temporary
// file beside it.
func TestCreateOutNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "out.jpg")
	_, err := createOut(path)
	if err == nil || err.Error() != path+": its folder does not exist" {
		t.Fatalf("got %v, want %q", err, path+": its folder does not exist")
	}
}
