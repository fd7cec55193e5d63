package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Manifests as other datasets and spreadsheets write them.
func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "elsewhere", "c.png")
	in := func(f string) string { return filepath.Join(dir, f) }
	tests := []struct {
		name, csv string
		want      [][2]string // nil: an error
		wantShort int         // rows without a label
	}{
		{"header", "path,label\na.jpg,happy\nb.jpg,sad\n", [][2]string{{in("a.jpg"), "happy"}, {in("b.jpg"), "sad"}}, 0},
		{"no header", "a.jpg,happy\n", [][2]string{{in("a.jpg"), "happy"}}, 0},
		{"first row with another label is data", "a.jpg,pride\nb.jpg,sad\n", [][2]string{{in("a.jpg"), "pride"}, {in("b.jpg"), "sad"}}, 0},
		{"first row contempt is data", "a.jpg,contempt\nb.jpg,Sad\n", [][2]string{{in("a.jpg"), "contempt"}, {in("b.jpg"), "Sad"}}, 0},
		{"other header names, more columns", "file,expression,source\nimg/a.jpg,Happiness,x\n", [][2]string{{in("img/a.jpg"), "Happiness"}}, 0},
		{"BOM, CRLF, blanks", "\uFEFFpath,label\r\n a.jpg , happy \r\n\r\nb.jpg,fear\r\n", [][2]string{{in("a.jpg"), "happy"}, {in("b.jpg"), "fear"}}, 0},
		{"absolute path", "path,label\n" + abs + ",angry\n", [][2]string{{abs, "angry"}}, 0},
		{"short rows skipped", "path,label\nlonely\na.jpg,neutral\n", [][2]string{{in("a.jpg"), "neutral"}}, 1},
		{"empty", "", nil, 0},
		{"header only", "path,label\n", nil, 0},
		{"bad quoting", "path,label\n\"a.jpg,happy\n", nil, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "m"+string(rune('a'+i))+".csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			got, short, err := readManifest(path)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) || short != tt.wantShort {
				t.Fatalf("got %v, %d short, %v; want %v, %d short", got, short, err, tt.want, tt.wantShort)
			}
		})
	}
	if _, _, err := readManifest(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("missing manifest: got no error, want one")
	}
}
