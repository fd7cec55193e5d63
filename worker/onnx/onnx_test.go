package onnx

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igemoji/igemoji/shared/assets"
	"github.com/igemoji/igemoji/shared/assets/assetstest"
)

// childEnv carries the library path to the child process of
// TestStartLongCommandLine, and tells it that it is the child.
const childEnv = "IGEMOJI_ONNX_TEST_CHILD"

// onnxruntime reads the process's own command line (/proc/self/cmdline)
// when it starts, so the check needs a process started with a long one:
// the test binary runs itself.
func TestStartLongCommandLine(t *testing.T) {
	if lib := os.Getenv(childEnv); lib != "" {
		if err := Start(lib); err != nil {
			t.Fatal(err)
		}
		return
	}
	lib, err := assets.ONNXRuntime(filepath.Dir(assetstest.NPMDir()))
	if err == nil {
		_, err = os.Stat(lib)
	}
	if err != nil {
		assetstest.Missing(t, "onnxruntime library", err)
	}
	// What `igemoji analyze` gets from a shell glob over 1,000 photos.
	args := []string{"-test.run=^TestStartLongCommandLine$", "--"}
	for range 1000 {
		args = append(args, "photos/"+strings.Repeat("x", 92)+".jpg")
	}
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, telemetryEnv+"=") { // Start must set it
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"="+lib)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s := string(out)
		if len(s) > 2000 {
			s = s[:2000]
		}
		t.Fatalf("starting onnxruntime in a process with a %d-argument command line: got %v, want success; output:\n%s", len(args), err, s)
	}
}

func TestStartMissingLibrary(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child of TestStartLongCommandLine")
	}
	// Start works once per process, so this runs in a child as well.
	if os.Getenv(childEnv+"_MISSING") != "" {
		err := Start(filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
		if err == nil || !strings.Contains(err.Error(), "start onnxruntime from") {
			t.Fatalf("got %v, want an error naming the library", err)
		}
		if again := Start(""); again != err {
			t.Fatalf("second Start: got %v, want the first error %v", again, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartMissingLibrary$")
	cmd.Env = append(os.Environ(), childEnv+"_MISSING=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
