// Package picture is the intake for user-supplied images: it decodes PNG,
// JPEG and WebP uploads under strict limits, turns a decoded picture into an
// emoji template image (background removed, trimmed, squared, scaled down)
// and encodes the result as a metadata-free PNG.
//
// Uploads are hostile input. Decode bounds the bytes it reads, checks the
// dimensions from the header before the decoder allocates any pixels, and
// reports every problem with the upload as a *moji.Error.
package picture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"

	"github.com/igemoji/igemoji/shared/moji"
)

// Limits bound an upload. A zero or negative field takes its value from
// DefaultLimits, so a forgotten field never means "unlimited".
type Limits struct {
	MaxBytes  int64 // bytes read from r; more is ETOOLARGE
	MaxSide   int   // max width or height in pixels, from the header, before decoding
	MaxPixels int   // max width*height, from the header, before decoding
}

// DefaultLimits fills the fields of a Limits that are left zero.
var DefaultLimits = Limits{
	MaxBytes:  10 << 20,
	MaxSide:   4096,
	MaxPixels: 4096 * 4096,
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultLimits.MaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

// Format names returned by Decode.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatWebP = "webp"
)

// maxJPEGScans bounds the scans of a progressive JPEG. Each scan walks every
// block of the image, and a scan can be encoded in a few bytes, so without a
// bound a small file could cost minutes of CPU. Encoders write about 10.
const maxJPEGScans = 100

// maxProgressiveCMYK bounds a progressive CMYK (print) JPEG, which only
// image/jpeg decodes, at about 24 bytes a pixel: 400 MB.
const maxProgressiveCMYK = 16_000_000

// Decode reads at most lim.MaxBytes bytes from r and decodes them as a PNG,
// JPEG or WebP image, returning the image and its format name ("png", "jpeg"
// or "webp"). EXIF orientation is applied, so the image is upright.
//
// Errors about the upload are *moji.Error: ETOOLARGE for too many bytes,
// EUNSUPPORTED for anything that is not one of the three formats, EINVALID
// for dimensions over the limits and for corrupt or truncated data. An error
// from r itself is returned wrapped, so that the caller can recognise its own
// reader's errors (an *http.MaxBytesError, say) with errors.As.
func Decode(r io.Reader, lim Limits) (image.Image, string, error) {
	return DecodeCapped(r, lim, 0)
}

// DecodeCapped is Decode followed by Cap(img, maxSide) (0: no cap), except
// that a JPEG at least twice as large as maxSide is decoded at 1/2, 1/4 or
// 1/8 scale first where libjpeg is built in: the DCT shrinks it for much
// less time and memory than decoding it in full would take.
func DecodeCapped(r io.Reader, lim Limits, maxSide int) (image.Image, string, error) {
	ph, err := decodePhoto(r, lim, maxSide, false)
	return ph.Image, ph.Format, err
}

// Photo is a decoded photo and what its decoder could add on the way.
type Photo struct {
	Image  image.Image
	Format string // "png", "jpeg" or "webp"
	// Half, where not nil, is Image (an *image.RGBA) shrunk twice: a
	// HalfSize(w, h) image of 3-byte RGB pixels whose first h/2 rows and
	// w/2 columns hold the rounded means of Image's 2x2 blocks, rounding
	// .5 up and down in a checkerboard (see face.NewSourceHalf, which the
	// bytes must match); the last column and row of an odd size are left
	// unspecified (a recycled buffer keeps an earlier photo's bytes
	// there). libjpeg builds it while each pair of rows is still in
	// cache, for the face detector, which would otherwise read the whole
	// photo again. Only a colour JPEG that libjpeg decoded at full size,
	// not turned and not capped, has one.
	Half []uint8
	// Full is the photo's size upright, before any scaling down to
	// maxSide: Image's coordinates times Full.X/Image's width are the
	// file's.
	Full image.Point
	// ICC is the photo's own RGB colour profile, or nil (sRGB): give it
	// to EncodeWithProfile so that the result's colours show as the
	// photo's did.
	ICC []byte
}

// DecodePhoto is DecodeCapped that also asks for Photo.Half.
func DecodePhoto(r io.Reader, lim Limits, maxSide int) (Photo, error) {
	return decodePhoto(r, lim, maxSide, true)
}

// Recycle gives the photo's buffers to later decodes (see Recycle). Call
// it once, when nothing reads the photo any more: recycling the same
// buffers twice would hand them to two later photos at once.
func (p Photo) Recycle() {
	Recycle(p.Image)
	recycleHalf(p.Half)
}

func decodePhoto(r io.Reader, lim Limits, maxSide int, wantHalf bool) (Photo, error) {
	lim = lim.withDefaults()
	if r == nil {
		return Photo{}, errNotImage()
	}
	// One byte beyond the limit tells "exactly at the limit" from "over it"
	// without reading the rest of an oversized body.
	n := lim.MaxBytes
	if n < math.MaxInt64 {
		n++
	}
	data, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return Photo{}, fmt.Errorf("picture: reading image: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return Photo{}, moji.Errorf(moji.ETOOLARGE, "image is larger than %s", formatBytes(lim.MaxBytes))
	}
	ph, err := decodeSafely(data, lim, maxSide, wantHalf)
	if err != nil {
		return Photo{}, err
	}
	ph.ICC = colourProfile(ph.Format, data)
	if capped := Cap(ph.Image, maxSide); capped != ph.Image {
		ph.Image = turned(ph.Image, capped)
		recycleHalf(ph.Half)
		ph.Half = nil
	}
	return ph, nil
}

// Header is what Probe reads of an image before decoding it.
type Header struct {
	Format        string
	Width, Height int
	// DecodeBytes estimates the most memory decoding it takes: 4 bytes a
	// pixel for a plain 8-bit image, more for 16-bit channels, progressive
	// JPEG (its coefficients), CMYK JPEG and interlaced PNG.
	DecodeBytes int64
}

// Probe reads only the header of data: its format, dimensions and depth,
// checked against lim, so that a caller can budget memory before decoding.
func Probe(data []byte, lim Limits) (h Header, err error) {
	defer func() {
		if recover() != nil {
			h, err = Header{}, errCorrupt()
		}
	}()
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return Header{}, moji.Errorf(moji.ETOOLARGE, "image is larger than %s", formatBytes(lim.MaxBytes))
	}
	format, cfg, err := header(data, lim)
	if err != nil {
		return Header{}, err
	}
	px := float64(cfg.Width) * float64(cfg.Height)
	return Header{Format: format, Width: cfg.Width, Height: cfg.Height,
		DecodeBytes: int64(px * decodeBytesPerPixel(format, cfg, data))}, nil
}

// decodeSafely turns a panic in a decoder into EINVALID. The standard and
// x/image decoders are fuzzed upstream, but a panic in a request goroutine
// must not be the way a bad upload is reported. The fuzz test calls
// decodeBytes directly so that such panics are still found.
func decodeSafely(data []byte, lim Limits, maxSide int, wantHalf bool) (ph Photo, err error) {
	defer func() {
		if recover() != nil {
			ph, err = Photo{}, errCorrupt()
		}
	}()
	return decodeBytes(data, lim, maxSide, wantHalf)
}

// header sniffs the format and reads the dimensions, refusing what the
// limits or the format rules exclude, without decoding any pixel.
func header(data []byte, lim Limits) (string, image.Config, error) {
	format := sniff(data)
	if format == "" {
		return "", image.Config{}, errNotImage()
	}
	if format == FormatWebP && webpAnimated(data) {
		return "", image.Config{}, moji.Errorf(moji.EUNSUPPORTED, "animated WebP images are not supported")
	}
	// Decoders allocate the whole pixel buffer up front, so the size must
	// be judged before any of them runs in full.
	var cfg image.Config
	var err error
	switch format {
	case FormatPNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case FormatWebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return "", image.Config{}, decodeError(err)
	}
	if err := checkSize(cfg.Width, cfg.Height, lim); err != nil {
		return "", image.Config{}, err
	}
	if format == FormatJPEG && cfg.ColorModel == color.CMYKModel && jpegFrameOf(data).progressive &&
		int64(cfg.Width)*int64(cfg.Height) > maxProgressiveCMYK {
		// image/jpeg keeps 16 bytes of coefficients a pixel for these.
		return "", image.Config{}, moji.Errorf(moji.EUNSUPPORTED,
			"progressive CMYK JPEGs over %d megapixels are not supported; save it as a standard RGB JPEG", maxProgressiveCMYK/1_000_000)
	}
	if format == FormatJPEG && bytes.Count(data, []byte{0xff, 0xda}) > maxJPEGScans {
		// Counting raw SOS markers may overcount (an EXIF thumbnail has its
		// own), never undercount: entropy-coded data cannot contain FF DA.
		return "", image.Config{}, moji.Errorf(moji.EUNSUPPORTED, "JPEG has too many progressive scans; save it as a standard JPEG or PNG")
	}
	return format, cfg, nil
}

// decodeBytes decodes data; a JPEG may come back shrunk by a power of two
// towards maxSide (see DecodeCapped), never below it.
func decodeBytes(data []byte, lim Limits, maxSide int, wantHalf bool) (Photo, error) {
	format, cfg, err := header(data, lim)
	if err != nil {
		return Photo{}, err
	}

	var img image.Image
	var half []uint8
	denom, turn := 1, orientation(format, data)
	switch format {
	case FormatPNG:
		img, err = png.Decode(bytes.NewReader(data))
	case FormatJPEG:
		if maxSide > 0 {
			for long := max(cfg.Width, cfg.Height); denom < 8 && (long+2*denom-1)/(2*denom) >= maxSide; {
				denom *= 2
			}
		}
		// A photo to be turned or capped would drop its half: not made.
		wantHalf = wantHalf && turn <= 1 && (maxSide <= 0 || max(cfg.Width, cfg.Height) <= maxSide)
		img, half, err = decodeJPEG(data, cfg.Width, cfg.Height, cfg.ColorModel == color.GrayModel, denom, wantHalf)
	case FormatWebP:
		img, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return Photo{}, decodeError(err)
	}
	// The decoders agree with their own headers today; if one ever did not,
	// the image must still honour the limits.
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		scaledW, scaledH := (cfg.Width+denom-1)/denom, (cfg.Height+denom-1)/denom
		if b.Dx() != scaledW || b.Dy() != scaledH {
			Recycle(img)
			recycleHalf(half)
			return Photo{}, errCorrupt()
		}
	}
	if o := orient(img, turn); o != img {
		img = turned(img, o)
		recycleHalf(half)
		half = nil
	}
	full := image.Pt(cfg.Width, cfg.Height)
	if turn >= 5 && turn <= 8 { // the EXIF orientations that swap the sides
		full = image.Pt(cfg.Height, cfg.Width)
	}
	return Photo{Image: img, Format: format, Half: half, Full: full}, nil
}

// sniff names the format from the magic bytes. It deliberately ignores the
// image package's registry: another package linked into the binary (image/gif,
// say) must not widen what uploads are accepted.
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return FormatJPEG
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		// Only the RIFF form type, not the first chunk: a broken WebP is
		// reported as corrupt rather than as some unknown format.
		return FormatWebP
	}
	return ""
}

// webpAnimated reports whether an extended WebP sets its animation flag. The
// decoder would skip the frames and then call the file corrupt, which would
// mislead the user.
func webpAnimated(data []byte) bool {
	const animationBit = 1 << 1
	return len(data) > 20 && string(data[12:16]) == "VP8X" && data[20]&animationBit != 0
}

func checkSize(w, h int, lim Limits) error {
	if w <= 0 || h <= 0 {
		return moji.Errorf(moji.EINVALID, "image has no pixels (%dx%d)", w, h)
	}
	if w > lim.MaxSide || h > lim.MaxSide {
		return moji.Errorf(moji.EINVALID, "image is %dx%d pixels; the limit is %dx%d", w, h, lim.MaxSide, lim.MaxSide)
	}
	// int64: w*h can overflow a 32-bit int.
	if int64(w)*int64(h) > int64(lim.MaxPixels) {
		return moji.Errorf(moji.EINVALID, "image is %dx%d pixels (%d in all); the limit is %d pixels in all",
			w, h, int64(w)*int64(h), lim.MaxPixels)
	}
	return nil
}

func decodeError(err error) error {
	var unsupported jpeg.UnsupportedError
	if errors.As(err, &unsupported) {
		return moji.Errorf(moji.EUNSUPPORTED, "this kind of JPEG is not supported; save it as a standard JPEG or PNG")
	}
	return errCorrupt()
}

func errNotImage() error {
	return moji.Errorf(moji.EUNSUPPORTED, "not a PNG, JPEG or WebP image")
}

func errCorrupt() error {
	return moji.Errorf(moji.EINVALID, "image data is corrupt or truncated")
}

// formatBytes writes n for people: "10 MB", "512 KB", "100 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// orient turns img upright according to EXIF orientation o.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img) // imaging rotates counter-clockwise
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// EncodePNG writes img as a small PNG, for images made once and served
// often (emoji). The standard encoder writes no text, time or EXIF chunks,
// so nothing from the upload's metadata survives.
func EncodePNG(w io.Writer, img image.Image) error {
	return writePNG(w, img, png.BestCompression)
}

// EncodePhotoPNG writes a photo-sized PNG at the default compression: on a
// 1920×1280 photo 0.35 s against 2.0 s for the best, for 2.5% more bytes.
func EncodePhotoPNG(w io.Writer, img image.Image) error {
	return writePNG(w, img, png.DefaultCompression)
}

func writePNG(w io.Writer, img image.Image, level png.CompressionLevel) error {
	if img == nil {
		return errors.New("picture: EncodePNG: nil image")
	}
	enc := png.Encoder{CompressionLevel: level}
	return enc.Encode(w, img)
}

// PhotoLimits bound an uploaded photo before any pixel is decoded: 25 MB,
// 12,000 px a side, 50 megapixels (a large phone panorama).
var PhotoLimits = Limits{MaxBytes: 25 << 20, MaxSide: 12000, MaxPixels: 50_000_000}

// turned returns out, a new image made from in, and recycles in's
// pixels, which nothing else holds.
func turned(in, out image.Image) image.Image {
	if out != in {
		Recycle(in)
	}
	return out
}

// Cap scales img down, keeping its aspect ratio, so that neither side
// exceeds maxSide; smaller images come back as they are.
func Cap(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	if maxSide <= 0 || (b.Dx() <= maxSide && b.Dy() <= maxSide) {
		return img
	}
	if b.Dx() >= b.Dy() {
		return imaging.Resize(img, maxSide, 0, imaging.Lanczos)
	}
	return imaging.Resize(img, 0, maxSide, imaging.Lanczos)
}

// Encode writes a result image without metadata: PNG when keepAlpha (the
// photo had transparency), JPEG at quality 90 otherwise.
func Encode(w io.Writer, img image.Image, keepAlpha bool) (format string, err error) {
	return EncodeWithProfile(w, img, keepAlpha, nil)
}

// EncodeWithProfile is Encode that embeds icc, the photo's colour profile
// (Photo.ICC; nil for none), and no other metadata.
func EncodeWithProfile(w io.Writer, img image.Image, keepAlpha bool, icc []byte) (format string, err error) {
	format = "jpeg"
	if keepAlpha {
		format = "png"
	}
	out := w
	var buf bytes.Buffer
	if icc != nil {
		out = &buf
	}
	if keepAlpha {
		err = EncodePhotoPNG(out, img)
	} else {
		err = writeJPEG(out, img, 90)
	}
	if err != nil || icc == nil {
		return format, err
	}
	_, err = w.Write(withProfile(format, buf.Bytes(), icc))
	return format, err
}

var errEncode = errors.New("picture: JPEG encoding failed")

// HasAlpha reports whether any pixel of img is not fully opaque.
func HasAlpha(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return !o.Opaque()
	}
	return true
}
