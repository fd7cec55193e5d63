package builtin

import (
	"image"
	"image/color"
	"strings"
	"testing"
)

// tinySet is a hand-written Iconify JSON icon set: a red circle, a blue
// 2:1 bar, aliases (including bad ones) and an icon oksvg cannot draw.
const tinySet = `{
  "prefix": "tiny",
  "icons": {
    "dot":  {"body": "<circle cx=\"8\" cy=\"8\" r=\"6\" fill=\"#f00\"/>"},
    "bar":  {"body": "<rect width=\"32\" height=\"16\" fill=\"#00f\"/>", "width": 32},
    "big":  {"body": "<circle cx=\"50\" cy=\"50\" r=\"40\" fill=\"#0f0\"/>", "width": 100, "height": 100},
    "turned": {"body": "<path d=\"M0 0h8v8z\"/>", "rotate": 1},
    "clipped": {"body": "<clipPath id=\"c\"><rect width=\"4\" height=\"4\"/></clipPath><circle clip-path=\"url(#c)\" cx=\"8\" cy=\"8\" r=\"6\"/>"}
  },
  "aliases": {
    "spot":   {"parent": "dot"},
    "spot2":  {"parent": "spot"},
    "widespot": {"parent": "dot", "width": 32},
    "loop":   {"parent": "loop2"},
    "loop2":  {"parent": "loop"},
    "orphan": {"parent": "nowhere"},
    "flipped": {"parent": "dot", "hFlip": true}
  }
}`

func mustParse(t *testing.T, data string) *iconSet {
	t.Helper()
	s, err := parseIconSet([]byte(data))
	if err != nil {
		t.Fatalf("parseIconSet: %v", err)
	}
	return s
}

func TestParseIconSetErrors(t *testing.T) {
	tests := []struct {
		name, data, wantErr string
	}{
		{"not JSON", `<svg/>`, "not an Iconify JSON icon set"},
		{"no icons", `{"prefix":"x","icons":{}}`, "no icons"},
		{"wrong type", `{"prefix":"x","icons":[]}`, "not an Iconify JSON icon set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseIconSet([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestIconSetSVG(t *testing.T) {
	s := mustParse(t, tinySet)
	// A set-level default overrides Iconify's 16 for icons without their own.
	s32 := mustParse(t, strings.Replace(tinySet, `"prefix": "tiny",`, `"prefix": "tiny", "width": 24, "height": 20,`, 1))
	tests := []struct {
		name        string
		set         *iconSet
		icon        string
		wantViewBox string // empty when an error is expected
		wantErr     string
	}{
		{"plain icon", s, "dot", `viewBox="0 0 16 16"`, ""},
		{"icon width", s, "bar", `viewBox="0 0 32 16"`, ""},
		{"icon width and height", s, "big", `viewBox="0 0 100 100"`, ""},
		{"alias", s, "spot", `viewBox="0 0 16 16"`, ""},
		{"alias of alias", s, "spot2", `viewBox="0 0 16 16"`, ""},
		{"alias width overrides", s, "widespot", `viewBox="0 0 32 16"`, ""},
		{"set defaults", s32, "dot", `viewBox="0 0 24 20"`, ""},
		{"icon overrides set", s32, "bar", `viewBox="0 0 32 20"`, ""},
		{"missing", s, "nothing", "", `icon "nothing" not in set "tiny"`},
		{"alias to missing", s, "orphan", "", `alias target "nowhere"`},
		{"alias cycle", s, "loop", "", "alias chain"},
		{"rotated icon", s, "turned", "", "not supported"},
		{"flipped alias", s, "flipped", "", "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.set.svg(tt.icon)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !strings.HasPrefix(got, `<svg xmlns="http://www.w3.org/2000/svg" `+tt.wantViewBox+`>`) {
				t.Errorf("got %q, want an <svg> with %s", got, tt.wantViewBox)
			}
			if !strings.HasSuffix(got, `</svg>`) {
				t.Errorf("got %q, want it to end with </svg>", got)
			}
		})
	}
}

func renderIcon(t *testing.T, s *iconSet, name string, size int) *image.NRGBA {
	t.Helper()
	svg, err := s.svg(name)
	if err != nil {
		t.Fatalf("svg(%q): %v", name, err)
	}
	img, err := render(svg, size)
	if err != nil {
		t.Fatalf("render(%q): %v", name, err)
	}
	if got, want := img.Bounds(), image.Rect(0, 0, size, size); got != want {
		t.Fatalf("%s: got bounds %v, want %v", name, got, want)
	}
	return img
}

func TestRenderPixels(t *testing.T) {
	s := mustParse(t, tinySet)
	var (
		clear = color.NRGBA{}
		red   = color.NRGBA{0xff, 0, 0, 0xff}
		blue  = color.NRGBA{0, 0, 0xff, 0xff}
	)
	// At 32 px the 16-unit dot becomes a circle of radius 12 around (16, 16);
	// the 32x16 bar becomes a 32x16 band centred vertically (rows 8..23).
	tests := []struct {
		icon string
		x, y int
		want color.NRGBA
	}{
		{"dot", 16, 16, red},
		{"dot", 0, 0, clear},
		{"dot", 31, 31, clear},
		{"dot", 16, 2, clear},
		{"dot", 16, 6, red},
		{"spot", 16, 16, red},
		{"spot2", 0, 0, clear},
		{"bar", 16, 16, blue},
		{"bar", 0, 8, blue},
		{"bar", 31, 23, blue},
		{"bar", 16, 4, clear},
		{"bar", 16, 28, clear},
	}
	for _, tt := range tests {
		img := renderIcon(t, s, tt.icon, 32)
		if got := img.NRGBAAt(tt.x, tt.y); got != tt.want {
			t.Errorf("%s at (%d,%d): got %v, want %v", tt.icon, tt.x, tt.y, got, tt.want)
		}
	}
}

// TestRenderStraightAlpha checks that the anti-aliased rim of the red dot
// keeps its colour: straight alpha, so red stays red however transparent.
func TestRenderStraightAlpha(t *testing.T) {
	img := renderIcon(t, mustParse(t, tinySet), "dot", 32)
	partial := 0
	for y := range 32 {
		for x := range 32 {
			c := img.NRGBAAt(x, y)
			if c.A == 0 || c.A == 0xff {
				continue
			}
			partial++
			if c.A >= 16 && (c.R < 0xfd || c.G > 2 || c.B > 2) {
				t.Errorf("rim pixel (%d,%d): got %v, want red with alpha %d", x, y, c, c.A)
			}
		}
	}
	if partial < 20 {
		t.Errorf("got %d partly transparent pixels, want an anti-aliased rim (>= 20)", partial)
	}
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name, svg string
		size      int
		wantErr   string
	}{
		{"size zero", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"/>`, 0, "out of range"},
		{"size too big", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"/>`, maxSize + 1, "out of range"},
		{"clip path", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><clipPath id="c"/></svg>`, 16, "<clipPath>"},
		{"clip-path attribute", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><g clip-path="url(#c)"/></svg>`, 16, "clip-path"},
		{"gradient href", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 16 16"><linearGradient id="b" xlink:href="#a"/></svg>`, 16, "href"},
		{"even-odd", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path fill-rule="evenodd" d="M0 0h4v4z"/></svg>`, 16, "evenodd"},
		{"broken XML", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path`, 16, "bad SVG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(tt.svg, tt.size)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestUnpremultiply(t *testing.T) {
	tests := []struct {
		name string
		in   color.RGBA // premultiplied
		want color.NRGBA
	}{
		{"transparent", color.RGBA{}, color.NRGBA{}},
		{"opaque", color.RGBA{10, 20, 30, 255}, color.NRGBA{10, 20, 30, 255}},
		{"half red", color.RGBA{128, 0, 0, 128}, color.NRGBA{255, 0, 0, 128}},
		{"half grey", color.RGBA{64, 64, 64, 128}, color.NRGBA{128, 128, 128, 128}},
		{"faint white", color.RGBA{3, 3, 3, 3}, color.NRGBA{255, 255, 255, 3}},
		{"rounds to nearest", color.RGBA{1, 2, 0, 4}, color.NRGBA{64, 128, 0, 4}},
		{"invalid premultiplied clamps", color.RGBA{200, 0, 0, 100}, color.NRGBA{255, 0, 0, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := image.NewRGBA(image.Rect(0, 0, 2, 1))
			src.SetRGBA(1, 0, tt.in)
			got := unpremultiply(src)
			if c := got.NRGBAAt(1, 0); c != tt.want {
				t.Errorf("got %v, want %v", c, tt.want)
			}
			if c := got.NRGBAAt(0, 0); c != (color.NRGBA{}) {
				t.Errorf("untouched pixel: got %v, want %v", c, color.NRGBA{})
			}
		})
	}
}

// A user-space radial gradient must scale with the icon: oksvg drew it at
// viewBox size, leaving a 512 px face in its outer colour.
func TestRadialGradientScales(t *testing.T) {
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><defs>` +
		`<radialGradient id="g" cx="8" cy="8" r="8" fx="8" fy="8" gradientUnits="userSpaceOnUse">` +
		`<stop offset="0" stop-color="#ffff00"/><stop offset="1" stop-color="#ff0000"/></radialGradient></defs>` +
		`<rect width="16" height="16" fill="url(#g)"/></svg>`
	for _, size := range []int{16, 128, 512} {
		img, err := render(svg, size)
		if err != nil {
			t.Fatal(err)
		}
		// A quarter of the radius from the centre: a quarter of the way from yellow to red.
		c := img.NRGBAAt(size/2+size/8, size/2)
		if c.R < 240 || c.G < 170 || c.G > 215 {
			t.Errorf("size %d: got %v at a quarter radius, want about (255, 191, 0)", size, c)
		}
	}
}
