package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/igemoji/igemoji/shared/moji"
)

// Fixtures are built here rather than committed as binary files, so each
// one says what it is.

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("png.Encode: %v", err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatalf("jpeg.Encode: %v", err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatalf("gif.Encode: %v", err)
	}
	return buf.Bytes()
}

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

// noise is a photo stand-in: every pixel a random opaque colour.
func noise(w, h int) *image.NRGBA {
	r := rand.New(rand.NewPCG(1, 2))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255
	}
	return m
}

// pngChunk frames a PNG chunk with its length and CRC.
func pngChunk(typ string, data []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	crc := crc32.ChecksumIEEE(append([]byte(typ), data...))
	return binary.BigEndian.AppendUint32(b, crc)
}

// pngHeaderOnly is a PNG signature and a valid IHDR claiming w x h RGBA
// pixels, followed by a tiny IDAT and IEND: a decompression bomb's header.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, deflate, no filter, no interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// bitWriter writes the LSB-first bit stream of VP8L.
type bitWriter struct {
	buf   []byte
	nbits uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := uint(0); i < n; i++ {
		if w.nbits%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		w.buf[len(w.buf)-1] |= byte(v>>i&1) << (w.nbits % 8)
		w.nbits++
	}
}

// webpSolid is a lossless WebP of w x h pixels of colour c, built by hand:
// every prefix code is a "simple" code with a single symbol, so each pixel
// takes zero bits and the whole image is a header.
func webpSolid(w, h int, c color.NRGBA) []byte {
	var bw bitWriter
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(1, 1) // alpha is used
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	// Green, red, blue, alpha, distance: one 8-bit symbol each.
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} {
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // 8-bit symbol
		bw.write(uint32(sym), 8)
	}
	vp8l := bw.buf
	var b []byte
	b = append(b, "RIFF"...)
	size := 4 + 8 + len(vp8l) + len(vp8l)%2
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vp8l)))
	b = append(b, vp8l...)
	if len(vp8l)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// exifTIFF is an EXIF (TIFF) block holding orientation o.
func exifTIFF(o uint16) []byte {
	tiff := []byte("MM\x00*")
	tiff = binary.BigEndian.AppendUint32(tiff, 8) // IFD0 offset
	tiff = binary.BigEndian.AppendUint16(tiff, 1) // one entry
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112)
	tiff = binary.BigEndian.AppendUint16(tiff, 3) // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1) // count
	tiff = binary.BigEndian.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0)                     // value padding
	return binary.BigEndian.AppendUint32(tiff, 0) // no next IFD
}

// withOrientation inserts an EXIF APP1 segment holding orientation o right
// after the SOI marker of a JPEG.
func withOrientation(jpg []byte, o uint16) []byte {
	payload := append([]byte("Exif\x00\x00"), exifTIFF(o)...)
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+len(payload)))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *moji.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want a *moji.Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%q), want %s", e.Code, e.Message, code)
	}
}

var testLimits = Limits{MaxBytes: 1 << 20, MaxSide: 4096, MaxPixels: 4096 * 4096}

func TestDecodeAccepts(t *testing.T) {
	src := solid(6, 4, color.NRGBA{200, 40, 20, 255})
	tests := []struct {
		name       string
		data       []byte
		wantFormat string
		wantW      int
		wantH      int
		wantColour color.NRGBA
		tolerance  int
	}{
		{"png", encodePNG(t, src), "png", 6, 4, color.NRGBA{200, 40, 20, 255}, 0},
		{"jpeg", encodeJPEG(t, src), "jpeg", 6, 4, color.NRGBA{200, 40, 20, 255}, 12},
		{"webp", webpSolid(5, 3, color.NRGBA{10, 200, 30, 128}), "webp", 5, 3, color.NRGBA{10, 200, 30, 128}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, format, err := Decode(bytes.NewReader(tt.data), testLimits)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if format != tt.wantFormat {
				t.Errorf("got format %q, want %q", format, tt.wantFormat)
			}
			b := img.Bounds()
			if b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("got %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			got := color.NRGBAModel.Convert(img.At(b.Min.X+1, b.Min.Y+1)).(color.NRGBA)
			if !near(got, tt.wantColour, tt.tolerance) {
				t.Errorf("got colour %v, want %v (±%d)", got, tt.wantColour, tt.tolerance)
			}
		})
	}
}

func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestDecodeRejects(t *testing.T) {
	validPNG := encodePNG(t, noise(64, 64))
	validJPEG := encodeJPEG(t, noise(64, 64))
	// A VP8X header with the animation flag set, 2x2, and no frames.
	animated := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00"), 1, 0, 0, 1, 0, 0)
	tests := []struct {
		name     string
		data     []byte
		lim      Limits
		wantCode string
		wantMsg  string
	}{
		{"empty", nil, testLimits, moji.EUNSUPPORTED, "not a PNG, JPEG or WebP image"},
		{"text", []byte("hello, I am not an image\n"), testLimits, moji.EUNSUPPORTED, "not a PNG, JPEG or WebP image"},
		{"gif", encodeGIF(t, solid(4, 4, color.NRGBA{255, 0, 0, 255})), testLimits, moji.EUNSUPPORTED, "not a PNG, JPEG or WebP image"},
		{"bmp", append([]byte("BM"), make([]byte, 60)...), testLimits, moji.EUNSUPPORTED, "not a PNG, JPEG or WebP image"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), testLimits, moji.EUNSUPPORTED, "not a PNG, JPEG or WebP image"},
		{"truncated png", validPNG[:len(validPNG)/2], testLimits, moji.EINVALID, "image data is corrupt or truncated"},
		{"truncated jpeg", validJPEG[:len(validJPEG)/2], testLimits, moji.EINVALID, "image data is corrupt or truncated"},
		{"png signature only", validPNG[:8], testLimits, moji.EINVALID, "image data is corrupt or truncated"},
		{"webp junk", []byte("RIFF\x10\x00\x00\x00WEBPjunkjunkjunk"), testLimits, moji.EINVALID, "image data is corrupt or truncated"},
		{"webp animated", animated, testLimits, moji.EUNSUPPORTED, "animated WebP images are not supported"},
		{"huge png", pngHeaderOnly(30000, 30000), testLimits, moji.EINVALID, "image is 30000x30000 pixels; the limit is 4096x4096"},
		{"zero-width png", pngHeaderOnly(0, 10), testLimits, moji.EINVALID, ""},
		{"wide png", pngHeaderOnly(5000, 1), testLimits, moji.EINVALID, "image is 5000x1 pixels; the limit is 4096x4096"},
		{"too many pixels", encodePNG(t, noise(64, 64)), Limits{MaxBytes: 1 << 20, MaxSide: 100, MaxPixels: 1000}, moji.EINVALID, "the limit is 1000 pixels in all"},
		{"huge webp", webpSolid(16000, 16000, color.NRGBA{0, 0, 0, 255}), testLimits, moji.EINVALID, "image is 16000x16000 pixels; the limit is 4096x4096"},
		{"zero limits mean defaults", pngHeaderOnly(5000, 5000), Limits{}, moji.EINVALID, "the limit is 4096x4096"},
		{"too many jpeg scans", append(append([]byte{}, validJPEG...), bytes.Repeat([]byte{0xff, 0xda}, maxJPEGScans)...), testLimits, moji.EUNSUPPORTED, "too many progressive scans"},
		{"too many bytes", validPNG, Limits{MaxBytes: 100}, moji.ETOOLARGE, "image is larger than 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, format, err := Decode(bytes.NewReader(tt.data), tt.lim)
			wantCode(t, err, tt.wantCode)
			if img != nil || format != "" {
				t.Errorf("got image %T and format %q with an error, want nil and \"\"", img, format)
			}
			if msg := moji.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("got message %q, want it to contain %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestDecodeExactlyMaxBytes(t *testing.T) {
	data := encodePNG(t, solid(3, 3, color.NRGBA{1, 2, 3, 255}))
	if _, _, err := Decode(bytes.NewReader(data), Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Fatalf("got error %v for a file of exactly MaxBytes, want none", err)
	}
}

// countingReader is an endless stream that counts what is read from it.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += int64(len(p))
	return len(p), nil
}

func TestDecodeStopsReadingAtLimit(t *testing.T) {
	r := &countingReader{}
	_, _, err := Decode(r, Limits{MaxBytes: 1000})
	wantCode(t, err, moji.ETOOLARGE)
	if r.n > 1001 {
		t.Errorf("got %d bytes read, want at most 1001", r.n)
	}
}

type failingReader struct{}

var errBoom = errors.New("boom")

func (failingReader) Read([]byte) (int, error) { return 0, errBoom }

func TestDecodeReaderErrorIsWrapped(t *testing.T) {
	_, _, err := Decode(failingReader{}, testLimits)
	if !errors.Is(err, errBoom) {
		t.Errorf("got %v, want an error wrapping %v", err, errBoom)
	}
}

func TestDecodeHugeHeaderIsCheap(t *testing.T) {
	data := pngHeaderOnly(30000, 30000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const runs = 10
	for i := 0; i < runs; i++ {
		if _, _, err := Decode(bytes.NewReader(data), testLimits); err == nil {
			t.Fatal("got no error, want EINVALID")
		}
	}
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / runs
	if perRun > 1<<20 {
		t.Errorf("got %d bytes allocated per Decode, want under 1 MiB (decoding 30000x30000 RGBA would need 3.6 GB)", perRun)
	}
}

func TestDecodeJPEGOrientation(t *testing.T) {
	// 8x4, left half red and right half blue, so rotation is visible.
	src := solid(8, 4, color.NRGBA{0, 0, 255, 255})
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			src.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
		}
	}
	plain := encodeJPEG(t, src)
	red := color.NRGBA{255, 0, 0, 255}
	tests := []struct {
		name         string
		orientation  uint16
		wantW, wantH int
		redAt        image.Point // a pixel that must be red once upright
	}{
		{"none", 0, 8, 4, image.Pt(0, 0)},
		{"normal", 1, 8, 4, image.Pt(0, 0)},
		{"mirrored", 2, 8, 4, image.Pt(7, 0)},
		{"upside down", 3, 8, 4, image.Pt(7, 3)},
		// 6: stored rotated 90° counter-clockwise; turning it clockwise
		// puts the left (red) half on top.
		{"rotate 90 cw", 6, 4, 8, image.Pt(0, 0)},
		{"rotate 90 ccw", 8, 4, 8, image.Pt(0, 7)},
		{"bogus value", 42, 8, 4, image.Pt(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := plain
			if tt.orientation != 0 {
				data = withOrientation(plain, tt.orientation)
			}
			img, format, err := Decode(bytes.NewReader(data), testLimits)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if format != "jpeg" {
				t.Errorf("got format %q, want jpeg", format)
			}
			b := img.Bounds()
			if b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Fatalf("got %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			got := color.NRGBAModel.Convert(img.At(b.Min.X+tt.redAt.X, b.Min.Y+tt.redAt.Y)).(color.NRGBA)
			if !near(got, red, 40) {
				t.Errorf("got %v at %v, want about %v", got, tt.redAt, red)
			}
			// Read scaled down, the photo still knows its upright size.
			ph, err := DecodePhoto(bytes.NewReader(data), testLimits, 2)
			if err != nil || ph.Full != image.Pt(tt.wantW, tt.wantH) || max(ph.Image.Bounds().Dx(), ph.Image.Bounds().Dy()) != 2 {
				t.Errorf("capped to 2 px: got full size %v, image %v, %v; want %dx%d, a 2-px image", ph.Full, ph.Image.Bounds(), err, tt.wantW, tt.wantH)
			}
		})
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	base := withOrientation(encodeJPEG(t, solid(2, 2, color.NRGBA{A: 255})), 6)
	tests := []struct {
		name string
		data []byte
	}{
		{"cut in the segment", base[:20]},
		{"only SOI", base[:2]},
		{"bad byte order", bytes.Replace(base, []byte("MM\x00*"), []byte("XX\x00*"), 1)},
		{"ifd offset past the end", bytes.Replace(base, []byte("MM\x00*\x00\x00\x00\x08"), []byte("MM\x00*\x7f\xff\xff\xff"), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jpegOrientation(tt.data); got != 0 {
				t.Errorf("got orientation %d, want 0", got)
			}
		})
	}
}

func TestEncodePNG(t *testing.T) {
	for _, enc := range []func(io.Writer, image.Image) error{EncodePNG, EncodePhotoPNG} {
		testEncodePNG(t, enc)
	}
}

func testEncodePNG(t *testing.T, enc func(io.Writer, image.Image) error) {
	t.Helper()
	src := solid(3, 2, color.NRGBA{9, 8, 7, 100})
	var buf bytes.Buffer
	if err := enc(&buf, src); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	// Only the chunks needed to draw the image: no text, time or EXIF.
	data := buf.Bytes()[8:]
	for len(data) >= 12 {
		n := binary.BigEndian.Uint32(data)
		typ := string(data[4:8])
		switch typ {
		case "IHDR", "IDAT", "IEND":
		default:
			t.Errorf("got chunk %q, want only IHDR, IDAT and IEND", typ)
		}
		data = data[12+n:]
	}
	img, format, err := Decode(&buf, testLimits)
	if err != nil || format != "png" {
		t.Fatalf("got %q, %v decoding the output, want png, nil", format, err)
	}
	if got := color.NRGBAModel.Convert(img.At(1, 1)); got != src.At(1, 1) {
		t.Errorf("got %v, want %v", got, src.At(1, 1))
	}
	if err := enc(io.Discard, nil); err == nil {
		t.Error("got no error for a nil image, want one")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodePNG(f, noise(8, 8)))
	f.Add(encodePNG(f, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})))
	f.Add(encodeJPEG(f, noise(16, 16)))
	f.Add(withOrientation(encodeJPEG(f, noise(8, 8)), 6))
	f.Add(webpSolid(3, 3, color.NRGBA{1, 2, 3, 4}))
	f.Add(webpWith(webpSolid(3, 3, color.NRGBA{1, 2, 3, 4}), 3, 3, 0x28, webpChunk("ICCP", iccProfile(140, "RGB ")), webpChunk("EXIF", exifTIFF(6))))
	f.Add(pngWith(encodePNG(f, noise(4, 4)), pngICCP(iccProfile(140, "RGB ")), pngChunk("eXIf", exifTIFF(5))))
	f.Add(jpegWithICC(encodeJPEG(f, noise(8, 8)), iccProfile(300, "RGB "), 100))
	f.Add(encodeGIF(f, noise(4, 4)))
	f.Add(pngHeaderOnly(30000, 30000))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte{})
	for _, img := range []image.Image{noise(24, 16), image.NewCMYK(image.Rect(0, 0, 9, 9))} {
		if data, err := testJPEG(img, true); err == nil {
			f.Add(data)
		}
	}
	lim := Limits{MaxBytes: 1 << 16, MaxSide: 256, MaxPixels: 128 * 128}
	f.Fuzz(func(t *testing.T, data []byte) {
		if int64(len(data)) > lim.MaxBytes {
			_, _, err := Decode(bytes.NewReader(data), lim)
			wantCode(t, err, moji.ETOOLARGE)
			return
		}
		// decodeBytes is Decode without its recover, so that a decoder
		// panic fails the fuzz instead of hiding as EINVALID.
		maxSide := 0
		if len(data)%2 == 1 {
			maxSide = 16 // the scaled JPEG decoding too
		}
		ph, err := decodeBytes(data, lim, maxSide, len(data)%3 == 0)
		img, format := ph.Image, ph.Format
		if err != nil {
			var e *moji.Error
			if !errors.As(err, &e) {
				t.Fatalf("got error %T %v, want a *moji.Error", err, err)
			}
			if img != nil || format != "" {
				t.Fatalf("got image %T and format %q with an error, want nil and \"\"", img, format)
			}
			return
		}
		switch format {
		case "png", "jpeg", "webp":
		default:
			t.Fatalf("got format %q, want png, jpeg or webp", format)
		}
		if icc := colourProfile(format, data); icc != nil && !rgbProfile(icc) {
			t.Fatalf("got a profile of %d bytes that is not a valid RGB one", len(icc))
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > lim.MaxSide || b.Dy() > lim.MaxSide || b.Dx()*b.Dy() > lim.MaxPixels {
			t.Fatalf("got a %dx%d image, want one within %+v", b.Dx(), b.Dy(), lim)
		}
		if ph.Half != nil {
			hw, hh := HalfSize(b.Dx(), b.Dy())
			if _, ok := img.(*image.RGBA); !ok || len(ph.Half) != 3*hw*hh {
				t.Fatalf("got a %d-byte half of a %T, want %d bytes of an *image.RGBA", len(ph.Half), img, 3*hw*hh)
			}
		}
		// Whatever decodes must survive the rest of the pipeline.
		if _, err := Emoji(img, 64); err != nil {
			wantCode(t, err, moji.EINVALID)
		}
	})
}

func TestProbe(t *testing.T) {
	deep := image.NewNRGBA64(image.Rect(0, 0, 40, 30))
	tests := []struct {
		name     string
		data     []byte
		want     Header
		wantCode string
	}{
		{"png", encodePNG(t, noise(64, 48)), Header{FormatPNG, 64, 48, 64 * 48 * 4}, ""},
		{"16-bit png: twice the memory", encodePNG(t, deep), Header{FormatPNG, 40, 30, 40 * 30 * 8}, ""},
		// Turned upright into a second image.
		{"png to turn", pngWith(encodePNG(t, noise(64, 48)), pngChunk("eXIf", exifTIFF(6))), Header{FormatPNG, 64, 48, 64 * 48 * 8}, ""},
		// 4:2:0: RGBA, and the planes image/jpeg would add if libjpeg warned.
		{"jpeg", encodeJPEG(t, noise(30, 20)), Header{FormatJPEG, 30, 20, 30 * 20 * 5.5}, ""},
		{"text", []byte("hello"), Header{}, moji.EUNSUPPORTED},
		{"huge header, nothing decoded", pngHeaderOnly(30000, 30000), Header{}, moji.EINVALID},
		{"signature only", []byte("\x89PNG\r\n\x1a\n"), Header{}, moji.EINVALID},
	}
	if prog, err := testJPEG(noise(32, 16), true); err == nil {
		// libjpeg keeps two bytes a coefficient: 1.5 samples a pixel.
		tests = append(tests, struct {
			name     string
			data     []byte
			want     Header
			wantCode string
		}{"progressive jpeg", prog, Header{FormatJPEG, 32, 16, 32 * 16 * 7}, ""})
	}
	cmyk := image.NewCMYK(image.Rect(0, 0, 16, 16))
	if base, err := testJPEG(cmyk, false); err == nil {
		prog, _ := testJPEG(cmyk, true)
		// Claims 4096x4000 in its frame header: over the progressive
		// CMYK bound, refused before any pixel is decoded.
		big := bytes.Clone(prog)
		if i := bytes.Index(big, []byte{0xff, 0xc2}); i > 0 {
			binary.BigEndian.PutUint16(big[i+5:], 4000)
			binary.BigEndian.PutUint16(big[i+7:], 4096)
		}
		tests = append(tests, []struct {
			name     string
			data     []byte
			want     Header
			wantCode string
		}{
			{"cmyk jpeg: libjpeg's buffer and a CMYK image", base, Header{FormatJPEG, 16, 16, 16 * 16 * 8}, ""},
			{"progressive cmyk: four bytes a coefficient", prog, Header{FormatJPEG, 16, 16, 16 * 16 * 24}, ""},
			{"progressive cmyk over 16 Mpx", big, Header{}, moji.EUNSUPPORTED},
			// Junk before the frame header, which the decoders skip.
			{"progressive cmyk over 16 Mpx, junk first", append(append(bytes.Clone(big[:2]), 0x00, 0x42), big[2:]...), Header{}, moji.EUNSUPPORTED},
		}...)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Probe(tt.data, testLimits)
			if tt.wantCode == "" && err != nil {
				t.Fatalf("got %v, want no error", err)
			} else if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode)
			}
			if h != tt.want {
				t.Errorf("got %+v, want %+v", h, tt.want)
			}
		})
	}
}
