package builtin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io/fs"
	"os"
	"path/filepath"

	xdraw "golang.org/x/image/draw"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
)

// Rasterizing SVG is slow (tens of milliseconds an icon, ten times that
// under the race detector), so it happens once, at build time (`make
// assets`): Render writes PNG files that every start then seeds from.

// Rendered is a built-in template as PNG files, ready to store.
type Rendered struct {
	Key, Name, Attribution string
	PNG                    map[moji.Expression][]byte
}

type renderedMeta struct {
	Name        string `json:"name"`
	Attribution string `json:"attribution"`
}

// Render rasterizes every set from npmDir at size x size and writes
// outDir/<key>/<class>.png and outDir/<key>/template.json. Each set is
// written to a temporary folder and renamed into place, so a reader never
// sees half a set.
func Render(npmDir, outDir string, size int) error {
	sets, err := Load(npmDir, size)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if err := writePreview(filepath.Join(outDir, "preview.png"), sets); err != nil {
		return err
	}
	for _, s := range sets {
		tmp, err := os.MkdirTemp(outDir, ".tmp-"+s.Key+"-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it private
			return err
		}
		for _, e := range moji.Expressions {
			var buf bytes.Buffer
			if err := picture.EncodePNG(&buf, s.Images[e]); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(tmp, string(e)+".png"), buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
		meta, _ := json.MarshalIndent(renderedMeta{s.Name, s.Attribution}, "", "  ")
		if err := os.WriteFile(filepath.Join(tmp, "template.json"), meta, 0o644); err != nil {
			return err
		}
		dst := filepath.Join(outDir, s.Key)
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
	}
	return nil
}

// writePreview draws a contact sheet, one row per set, for the README and
// for a person checking the rendering.
func writePreview(path string, sets []Set) error {
	const cell = 96
	sheet := image.NewNRGBA(image.Rect(0, 0, cell*len(moji.Expressions), cell*len(sets)))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.NRGBA{0xee, 0xee, 0xee, 0xff}), image.Point{}, draw.Src)
	for row, s := range sets {
		for col, e := range moji.Expressions {
			r := image.Rect(col*cell, row*cell, (col+1)*cell, (row+1)*cell).Inset(8)
			xdraw.CatmullRom.Scale(sheet, r, s.Images[e], s.Images[e].Bounds(), xdraw.Over, nil)
		}
	}
	var buf bytes.Buffer
	if err := picture.EncodePNG(&buf, sheet); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// ReadRendered reads the sets Render wrote, in Keys order.
func ReadRendered(outDir string) ([]Rendered, error) {
	var out []Rendered
	for _, key := range Keys() {
		dir := filepath.Join(outDir, key)
		raw, err := os.ReadFile(filepath.Join(dir, "template.json"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("built-in template %q is not rendered in %s; run `make assets`", key, outDir)
		} else if err != nil {
			return nil, err
		}
		var meta renderedMeta
		if err := json.Unmarshal(raw, &meta); err != nil || meta.Name == "" {
			return nil, fmt.Errorf("%s: unreadable; delete it and run `make assets`", filepath.Join(dir, "template.json"))
		}
		r := Rendered{Key: key, Name: meta.Name, Attribution: meta.Attribution, PNG: map[moji.Expression][]byte{}}
		for _, e := range moji.Expressions {
			b, err := os.ReadFile(filepath.Join(dir, string(e)+".png"))
			if err != nil {
				return nil, fmt.Errorf("built-in template %q: %w; run `make assets`", key, err)
			}
			r.PNG[e] = b
		}
		out = append(out, r)
	}
	return out, nil
}
