package builtin

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"
)

// iconSet is the part of an Iconify JSON icon set
// (https://iconify.design/docs/types/iconify-json.html) that we use.
// Field names match JSON keys case-insensitively, as encoding/json does.
type iconSet struct {
	Prefix  string
	Icons   map[string]iconEntry
	Aliases map[string]aliasEntry
	dims    // the set's defaults
}

// dims are optional viewBox values; nil means "inherit".
type dims struct {
	Left, Top, Width, Height *float64
}

// transform is an Iconify icon or alias transformation. We support none, but
// read them so that an icon that needs one is refused rather than drawn
// wrongly.
type transform struct {
	Rotate       int
	HFlip, VFlip bool
}

func (t transform) none() bool { return t.Rotate%4 == 0 && !t.HFlip && !t.VFlip }

// iconEntry is one icon: SVG inner markup and optional dimensions that
// override the set's defaults.
type iconEntry struct {
	Body string
	dims
	transform
}

// aliasEntry names another icon, optionally overriding its dimensions.
type aliasEntry struct {
	Parent string
	dims
	transform
}

// maxAliasDepth bounds alias chains so that a cycle cannot loop forever.
const maxAliasDepth = 32

// parseIconSet decodes an Iconify JSON icon set.
func parseIconSet(data []byte) (*iconSet, error) {
	var s iconSet
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("not an Iconify JSON icon set: %w", err)
	}
	if len(s.Icons) == 0 {
		return nil, errors.New("not an Iconify JSON icon set: no icons")
	}
	return &s, nil
}

// viewBox is an SVG viewBox: origin and size in user units.
type viewBox struct{ Left, Top, Width, Height float64 }

// svg returns icon name as a standalone SVG document, resolving aliases.
// Dimensions come from, in order of precedence: the aliases (nearest first),
// the icon, the set, and Iconify's defaults (0, 0, 16, 16).
func (s *iconSet) svg(name string) (string, error) {
	var overrides []dims // nearest alias first
	seen := name
	for depth := 0; ; depth++ {
		if depth > maxAliasDepth {
			return "", fmt.Errorf("icon %q: alias chain longer than %d (a cycle?)", seen, maxAliasDepth)
		}
		if icon, ok := s.Icons[name]; ok {
			if !icon.none() {
				return "", fmt.Errorf("icon %q: rotated or flipped icons are not supported", seen)
			}
			vb := viewBox{0, 0, 16, 16}
			layers := []dims{s.dims, icon.dims}
			for i := len(overrides) - 1; i >= 0; i-- {
				layers = append(layers, overrides[i])
			}
			for _, l := range layers {
				override(&vb.Left, l.Left)
				override(&vb.Top, l.Top)
				override(&vb.Width, l.Width)
				override(&vb.Height, l.Height)
			}
			if !(vb.Width > 0 && vb.Height > 0) || math.IsInf(vb.Width, 0) || math.IsInf(vb.Height, 0) {
				return "", fmt.Errorf("icon %q: bad size %gx%g", seen, vb.Width, vb.Height)
			}
			return wrapSVG(vb, icon.Body), nil
		}
		alias, ok := s.Aliases[name]
		if !ok {
			if depth == 0 {
				return "", fmt.Errorf("icon %q not in set %q", seen, s.Prefix)
			}
			return "", fmt.Errorf("icon %q: alias target %q not in set %q", seen, name, s.Prefix)
		}
		if !alias.none() {
			return "", fmt.Errorf("icon %q: rotated or flipped aliases are not supported", seen)
		}
		overrides = append(overrides, alias.dims)
		name = alias.Parent
	}
}

func override(dst *float64, v *float64) {
	if v != nil {
		*dst = *v
	}
}

func wrapSVG(vb viewBox, body string) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="` +
		f(vb.Left) + " " + f(vb.Top) + " " + f(vb.Width) + " " + f(vb.Height) + `">` +
		body + `</svg>`
}

// drawable lists the SVG elements oksvg draws correctly enough for us.
var drawable = map[string]bool{
	"svg": true, "g": true, "defs": true, "title": true, "desc": true,
	"path": true, "circle": true, "ellipse": true, "rect": true,
	"line": true, "polyline": true, "polygon": true,
	"linearGradient": true, "radialGradient": true, "stop": true,
}

// checkDrawable rejects SVG features that oksvg would silently ignore or
// mis-draw (clipping, masks, filters, gradient inheritance, even-odd fill),
// so that a bad icon choice fails loudly instead of seeding a wrong image.
func checkDrawable(svg string) error {
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bad SVG: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !drawable[se.Name.Local] {
			return fmt.Errorf("SVG element <%s> is not supported by the rasterizer", se.Name.Local)
		}
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "clip-path", "mask", "filter", "href":
				return fmt.Errorf("SVG attribute %s on <%s> is not supported by the rasterizer", a.Name.Local, se.Name.Local)
			case "fill-rule", "clip-rule":
				if strings.TrimSpace(a.Value) == "evenodd" {
					return fmt.Errorf("SVG attribute %s=evenodd on <%s> is not supported by the rasterizer", a.Name.Local, se.Name.Local)
				}
			}
		}
	}
}

// gradientTag finds the opening tag of a gradient element.
var gradientTag = regexp.MustCompile(`<(linear|radial)Gradient\b[^>]*>`)

// maxSize bounds the rendered size; built-in images are small.
const maxSize = 4096

// render rasterizes svg into a size x size image with straight
// (non-premultiplied) alpha. A non-square viewBox is scaled to fit and
// centred.
func render(svg string, size int) (*image.NRGBA, error) {
	if size <= 0 || size > maxSize {
		return nil, fmt.Errorf("image size %d out of range 1..%d", size, maxSize)
	}
	if err := checkDrawable(svg); err != nil {
		return nil, err
	}
	icon, err := oksvg.ReadIconStream(strings.NewReader(svg), oksvg.StrictErrorMode)
	if err != nil {
		return nil, fmt.Errorf("bad SVG: %w", err)
	}
	vw, vh := icon.ViewBox.W, icon.ViewBox.H
	if !(vw > 0 && vh > 0) {
		return nil, fmt.Errorf("bad SVG: viewBox %gx%g", vw, vh)
	}
	// oksvg does not carry the viewBox-to-target scale into gradients in
	// user space (Noto's radial shading came out flat at 512 px), so the
	// scale goes into a group transform, which gradients do follow, and the
	// target maps one to one.
	scale := float64(size) / math.Max(vw, vh)
	tx := (float64(size)-vw*scale)/2 - icon.ViewBox.X*scale
	ty := (float64(size)-vh*scale)/2 - icon.ViewBox.Y*scale
	open := strings.Index(svg, ">")
	end := strings.LastIndex(svg, "</svg>")
	if open < 0 || end < open {
		return nil, fmt.Errorf("bad SVG: no <svg> element")
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	// oksvg applies the group transform to a gradient only when the
	// gradient has a gradientTransform of its own, so give every gradient
	// one (the identity where it had none).
	body := gradientTag.ReplaceAllStringFunc(svg[open+1:end], func(tag string) string {
		if strings.Contains(tag, "gradientTransform=") {
			return tag
		}
		return strings.Replace(tag, "Gradient", `Gradient gradientTransform="matrix(1 0 0 1 0 0)"`, 1)
	})
	scaled := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d"><g transform="matrix(%s 0 0 %s %s %s)">%s</g></svg>`,
		size, size, f(scale), f(scale), f(tx), f(ty), body)
	if icon, err = oksvg.ReadIconStream(strings.NewReader(scaled), oksvg.StrictErrorMode); err != nil {
		return nil, fmt.Errorf("bad SVG: %w", err)
	}
	icon.SetTarget(0, 0, float64(size), float64(size))

	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	scanner := rasterx.NewScannerGV(size, size, dst, dst.Bounds())
	icon.Draw(rasterx.NewDasher(size, size, scanner), 1)
	return unpremultiply(dst), nil
}

// unpremultiply converts premultiplied RGBA to straight-alpha NRGBA,
// rounding to nearest.
func unpremultiply(src *image.RGBA) *image.NRGBA {
	b := src.Bounds()
	dst := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		s := src.Pix[src.PixOffset(b.Min.X, y):src.PixOffset(b.Max.X, y)]
		d := dst.Pix[dst.PixOffset(b.Min.X, y):dst.PixOffset(b.Max.X, y)]
		for i := 0; i+3 < len(s); i += 4 {
			a := uint32(s[i+3])
			switch a {
			case 0:
				// Fully transparent: colour is meaningless, store zero.
				d[i], d[i+1], d[i+2], d[i+3] = 0, 0, 0, 0
			case 0xff:
				copy(d[i:i+4], s[i:i+4])
			default:
				for c := range 3 {
					v := (uint32(s[i+c])*0xff + a/2) / a
					d[i+c] = uint8(min(v, 0xff))
				}
				d[i+3] = uint8(a)
			}
		}
	}
	return dst
}
