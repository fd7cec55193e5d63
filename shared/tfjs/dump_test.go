package tfjs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDumpReferenceInputs writes every golden case's input, as raw
// little-endian float32 NHWC values, to $TFJS_DUMP_DIR/<model>/<case>.f32
// for testdata/reference.cjs to run through tfjs. It does nothing unless
// TFJS_DUMP_DIR is set.
func TestDumpReferenceInputs(t *testing.T) {
	dir := os.Getenv("TFJS_DUMP_DIR")
	if dir == "" {
		t.Skip("set TFJS_DUMP_DIR to write the reference inputs (see testdata/reference.cjs)")
	}
	g := readGolden(t)
	for _, m := range g.Models {
		if err := os.MkdirAll(filepath.Join(dir, m.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range m.Cases {
			if err := writeFloats(filepath.Join(dir, m.Name, c.Name+".f32"), inputFor(t, m, c.Input)); err != nil {
				t.Fatal(err)
			}
		}
	}
}
