package picture

import (
	"errors"
	"image"
	"math"

	"github.com/disintegration/imaging"

	"github.com/igemoji/igemoji/shared/moji"
)

const (
	// alphaVisible is the alpha above which a pixel counts as content when
	// trimming; fainter pixels are usually resampling or compression residue.
	alphaVisible = 8

	// bgTolerance is the Euclidean RGB distance (0..441) within which a
	// pixel is taken for the background. JPEG noise on a flat colour stays
	// well under it; a drawn outline is far beyond it.
	bgTolerance = 32
	// edgeHigh is where the fallback alpha ramp for edge pixels reaches
	// opaque: distance bgTolerance maps to alpha 0, edgeHigh to alpha 255.
	edgeHigh = 128
	// plainPercent is the share of border pixels that must match the
	// dominant border colour for the background to be called plain. A
	// photo's border is far more varied; a drawing touching the edge in a
	// few places still passes.
	plainPercent = 85
)

// Emoji turns a decoded image into a template image. An image without any
// transparency has its plain background removed (see removeBackground); the
// result is trimmed to its visible pixels, padded with transparency to a
// centred square and scaled down (never up) so that its side is at most
// size. The result has straight alpha, and fully transparent pixels are
// zeroed so that nothing hides under them.
//
// An image with no visible pixels is EINVALID.
func Emoji(img image.Image, size int) (*image.NRGBA, error) {
	if size <= 0 {
		return nil, errors.New("picture: Emoji: size must be positive")
	}
	if img == nil || img.Bounds().Empty() {
		return nil, errEmpty()
	}
	m := imaging.Clone(img) // straight alpha, origin at (0, 0)
	if m.Opaque() {
		removeBackground(m)
	}

	box := visibleBounds(m)
	if box.Empty() {
		return nil, errEmpty()
	}
	side := max(box.Dx(), box.Dy())
	sq := image.NewNRGBA(image.Rect(0, 0, side, side))
	offX, offY := (side-box.Dx())/2, (side-box.Dy())/2
	rowBytes := 4 * box.Dx()
	for y := box.Min.Y; y < box.Max.Y; y++ {
		src := m.PixOffset(box.Min.X, y)
		dst := sq.PixOffset(offX, offY+y-box.Min.Y)
		copy(sq.Pix[dst:dst+rowBytes], m.Pix[src:src+rowBytes])
	}
	if side > size {
		// imaging weights by alpha, so transparent padding does not bleed
		// dark fringes into the edges.
		sq = imaging.Resize(sq, size, size, imaging.Lanczos)
	}
	clearTransparent(sq)
	return sq, nil
}

func errEmpty() error {
	return moji.Errorf(moji.EINVALID, "image is empty (fully transparent)")
}

// visibleBounds is the bounding box of the pixels with alpha above
// alphaVisible.
func visibleBounds(m *image.NRGBA) image.Rectangle {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	minX, minY, maxX, maxY := w, h, -1, -1
	for y := 0; y < h; y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := 0; x < w; x++ {
			if row[4*x+3] > alphaVisible {
				minX, maxX = min(minX, x), max(maxX, x)
				minY, maxY = min(minY, y), max(maxY, y)
			}
		}
	}
	if maxX < 0 {
		return image.Rectangle{}
	}
	return image.Rect(minX, minY, maxX+1, maxY+1)
}

// clearTransparent zeroes the colour of fully transparent pixels: it may
// hold what the user thought they had erased, and zeros compress better.
func clearTransparent(m *image.NRGBA) {
	for i := 0; i+3 < len(m.Pix); i += 4 {
		if m.Pix[i+3] == 0 {
			m.Pix[i], m.Pix[i+1], m.Pix[i+2] = 0, 0, 0
		}
	}
}

type rgb struct{ r, g, b int }

func (m *pixels) at(i int) rgb {
	p := m.pix[4*i : 4*i+3 : 4*i+3]
	return rgb{int(p[0]), int(p[1]), int(p[2])}
}

// pixels views a tightly packed *image.NRGBA by pixel index.
type pixels struct {
	pix  []uint8
	w, h int
}

func dist2(a, b rgb) int {
	dr, dg, db := a.r-b.r, a.g-b.g, a.b-b.b
	return dr*dr + dg*dg + db*db
}

// Mask states for removeBackground.
const (
	keep    = 0 // foreground
	removed = 1 // background, becomes transparent
	edge    = 2 // foreground touching the background, gets a soft alpha
)

// removeBackground makes the plain background of an opaque image
// transparent, in the spirit of the rembg tool the product used before but
// classical and O(pixels): if the border is mostly one colour, flood-fill
// from the matching border pixels through 4-connected pixels within
// bgTolerance of it. Flooding from the border keeps enclosed regions of the
// background colour, such as white eyes in a face drawn on white. Pixels
// bordering the removed region get a partial alpha with the background
// un-mixed from their colour, so anti-aliased edges stay smooth.
//
// An image that is all background is left as it is: a solid square is a
// more useful result than nothing.
func removeBackground(m *image.NRGBA) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if w*h > math.MaxInt32 || m.Stride != 4*w {
		return // not from imaging.Clone of a sane image; leave it be
	}
	px := &pixels{pix: m.Pix, w: w, h: h}
	bg, ok := plainBorder(px)
	if !ok {
		return
	}

	const tol2 = bgTolerance * bgTolerance
	mask := make([]uint8, w*h)
	// A FIFO keeps the queue as small as the flood front, which for a
	// plain background is about the image's perimeter.
	queue := make([]int32, 0, 2*(w+h))
	push := func(i int) {
		if mask[i] == keep && dist2(px.at(i), bg) <= tol2 {
			mask[i] = removed
			queue = append(queue, int32(i))
		}
	}
	forBorder(w, h, push)
	for head := 0; head < len(queue); {
		i := int(queue[head])
		head++
		x, y := i%w, i/w
		if x > 0 {
			push(i - 1)
		}
		if x+1 < w {
			push(i + 1)
		}
		if y > 0 {
			push(i - w)
		}
		if y+1 < h {
			push(i + w)
		}
		// Drop the consumed half now and then so memory tracks the front.
		if head > 4096 && head*2 > len(queue) {
			queue = queue[:copy(queue, queue[head:])]
			head = 0
		}
	}

	nRemoved := 0
	for _, s := range mask {
		if s == removed {
			nRemoved++
		}
	}
	if nRemoved == 0 || nRemoved == w*h {
		return
	}

	// Mark the edge first, then soften it, so that every edge pixel picks
	// its foreground reference from untouched interior pixels.
	for i, s := range mask {
		if s == keep && touches(mask, w, h, i, removed) {
			mask[i] = edge
		}
	}
	for i, s := range mask {
		if s == edge {
			soften(px, mask, i, bg)
		}
	}
	for i, s := range mask {
		if s == removed {
			clear(m.Pix[4*i : 4*i+4])
		}
	}
}

// forBorder calls f with the index of every border pixel once.
func forBorder(w, h int, f func(i int)) {
	for x := 0; x < w; x++ {
		f(x)
		if h > 1 {
			f((h-1)*w + x)
		}
	}
	for y := 1; y < h-1; y++ {
		f(y * w)
		if w > 1 {
			f(y*w + w - 1)
		}
	}
}

// plainBorder finds the dominant border colour and reports whether at least
// plainPercent of the border is within bgTolerance of it.
func plainBorder(px *pixels) (rgb, bool) {
	// Vote with 4 bits a channel; coarse buckets make JPEG noise agree.
	var votes [1 << 12]int32
	bucket := func(c rgb) int { return c.r>>4<<8 | c.g>>4<<4 | c.b>>4 }
	forBorder(px.w, px.h, func(i int) { votes[bucket(px.at(i))]++ })
	best := 0
	for b, v := range votes {
		if v > votes[best] {
			best = b
		}
	}

	// The mean of the winning bucket, then the mean of everything near it,
	// so a colour on a bucket boundary is not split in two.
	var sum rgb
	n := 0
	forBorder(px.w, px.h, func(i int) {
		if c := px.at(i); bucket(c) == best {
			sum.r, sum.g, sum.b = sum.r+c.r, sum.g+c.g, sum.b+c.b
			n++
		}
	})
	bg := rgb{sum.r / n, sum.g / n, sum.b / n}
	const tol2 = bgTolerance * bgTolerance
	sum, n = rgb{}, 0
	total := 0
	forBorder(px.w, px.h, func(i int) {
		total++
		if c := px.at(i); dist2(c, bg) <= tol2 {
			sum.r, sum.g, sum.b = sum.r+c.r, sum.g+c.g, sum.b+c.b
			n++
		}
	})
	if n*100 < total*plainPercent {
		return rgb{}, false
	}
	return rgb{(sum.r + n/2) / n, (sum.g + n/2) / n, (sum.b + n/2) / n}, true
}

// touches reports whether any 8-connected neighbour of pixel i has state s.
func touches(mask []uint8, w, h, i int, s uint8) bool {
	x, y := i%w, i/w
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			nx, ny := x+dx, y+dy
			if (dx != 0 || dy != 0) && nx >= 0 && nx < w && ny >= 0 && ny < h && mask[ny*w+nx] == s {
				return true
			}
		}
	}
	return false
}

// soften gives edge pixel i an alpha and un-mixes the background from its
// colour. An anti-aliased edge pixel is c = a*f + (1-a)*bg, where f is the
// foreground colour: f is estimated by the interior neighbour least like
// the background, and a by projecting c onto the line from bg to f. When no
// interior neighbour exists (a one-pixel line) or c is not near that line,
// a falls back to a ramp on c's distance from the background.
func soften(px *pixels, mask []uint8, i int, bg rgb) {
	c := px.at(i)
	w, h := px.w, px.h
	x, y := i%w, i/w
	fg, fgDist := rgb{}, -1
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			nx, ny := x+dx, y+dy
			if nx < 0 || nx >= w || ny < 0 || ny >= h || mask[ny*w+nx] != keep {
				continue
			}
			if f := px.at(ny*w + nx); dist2(f, bg) > fgDist {
				fg, fgDist = f, dist2(f, bg)
			}
		}
	}

	const tol2 = bgTolerance * bgTolerance
	d2 := dist2(c, bg)
	a := -1.0
	if fgDist > tol2 {
		cr, cg, cb := c.r-bg.r, c.g-bg.g, c.b-bg.b
		fr, fg2, fb := fg.r-bg.r, fg.g-bg.g, fg.b-bg.b
		dot := float64(cr*fr + cg*fg2 + cb*fb)
		perp2 := float64(d2) - dot*dot/float64(fgDist)
		if perp2 <= tol2 {
			a = dot / float64(fgDist)
		}
	}
	if a < 0 {
		a = (math.Sqrt(float64(d2)) - bgTolerance) / (edgeHigh - bgTolerance)
	}
	a = min(max(a, 0), 1)

	p := px.pix[4*i : 4*i+4 : 4*i+4]
	alpha := uint8(math.Round(a * 255))
	if alpha == 0 {
		p[0], p[1], p[2], p[3] = 0, 0, 0, 0
		return
	}
	unmix := func(cv, bv int) uint8 {
		v := (float64(cv) - (1-a)*float64(bv)) / a
		return uint8(math.Round(min(max(v, 0), 255)))
	}
	p[0], p[1], p[2], p[3] = unmix(c.r, bg.r), unmix(c.g, bg.g), unmix(c.b, bg.b), alpha
}
