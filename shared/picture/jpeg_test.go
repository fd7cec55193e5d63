package picture

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"testing"

	facepkg "github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/moji"
)

// gradient is a smooth photo stand-in: JPEG decoders differ most on noise
// (in rounding and chroma upsampling), which photos rarely are.
func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) * 127 / (w + h)), 255})
		}
	}
	return m
}

// meanDiff is the mean absolute difference per channel of two same-sized
// images, compared through RGBA.
func meanDiff(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("got size %v, want %v", a.Bounds().Size(), b.Bounds().Size())
	}
	ra := image.NewRGBA(image.Rect(0, 0, a.Bounds().Dx(), a.Bounds().Dy()))
	rb := image.NewRGBA(ra.Rect)
	draw.Draw(ra, ra.Rect, a, a.Bounds().Min, draw.Src)
	draw.Draw(rb, rb.Rect, b, b.Bounds().Min, draw.Src)
	var sum float64
	for i := range ra.Pix {
		if i%4 != 3 {
			sum += math.Abs(float64(ra.Pix[i]) - float64(rb.Pix[i]))
		}
	}
	return sum / float64(len(ra.Pix)/4*3)
}

// TestJPEGMatchesStandardLibrary holds the built-in codec (libjpeg-turbo
// under cgo) to image/jpeg's reading of the same files.
func TestJPEGMatchesStandardLibrary(t *testing.T) {
	t.Logf("JPEG codec: %s", JPEGCodec)
	gray := image.NewGray(image.Rect(0, 0, 97, 61))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	for _, tc := range []struct {
		name        string
		img         image.Image
		progressive bool // written by libjpeg: image/jpeg writes only baseline
	}{
		{"colour 4:2:0, odd size", gradient(301, 199), false},
		{"grayscale", gray, false},
		{"progressive", gradient(301, 199), true},
		{"progressive grayscale", gray, true},
		{"adobe cmyk", cmykImage(40, 30), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := encodeJPEG(t, tc.img)
			if _, cmyk := tc.img.(*image.CMYK); tc.progressive || cmyk {
				var err error
				if data, err = testJPEG(tc.img, tc.progressive); err != nil {
					t.Skipf("no fixture: %v", err)
				}
				if tc.progressive && !bytes.Contains(data, []byte{0xff, 0xc2}) {
					t.Fatal("fixture has no progressive frame header (SOF2)")
				}
			}
			if _, cmyk := tc.img.(*image.CMYK); cmyk {
				if cfg, _ := jpeg.DecodeConfig(bytes.NewReader(data)); cfg.ColorModel != color.CMYKModel {
					t.Fatalf("fixture colour model %v, want CMYK", cfg.ColorModel)
				}
			}
			// Cut short, every kind is refused as corrupt, never decoded
			// half grey.
			_, _, err := Decode(bytes.NewReader(data[:len(data)*2/3]), Limits{})
			wantCode(t, err, moji.EINVALID)
			got, format, err := Decode(bytes.NewReader(data), Limits{})
			if err != nil || format != FormatJPEG {
				t.Fatalf("got %q, %v; want jpeg and no error", format, err)
			}
			want, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if d := meanDiff(t, got, want); d > 1.5 {
				t.Errorf("got a mean difference of %.2f levels from image/jpeg, want at most 1.5", d)
			}
		})
	}
}

func cmykImage(w, h int) *image.CMYK {
	m := image.NewCMYK(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetCMYK(x, y, color.CMYK{uint8(x * 6), 40, uint8(y * 8), 10})
		}
	}
	return m
}

func TestDecodeCapped(t *testing.T) {
	data := encodeJPEG(t, gradient(1700, 900))
	for _, tc := range []struct {
		maxSide      int
		wantW, wantH int
	}{
		{0, 1700, 900},
		{2000, 1700, 900},
		{1700, 1700, 900},
		{800, 800, 424}, // decoded at 1/2 (850x450), then shrunk
		{400, 400, 212}, // 1/4
		{100, 100, 53},  // 1/8 (213x113), the most libjpeg shrinks
	} {
		got, _, err := DecodeCapped(bytes.NewReader(data), Limits{}, tc.maxSide)
		if err != nil {
			t.Fatalf("max side %d: %v", tc.maxSide, err)
		}
		if b := got.Bounds(); b.Dx() != tc.wantW || b.Dy() != tc.wantH {
			t.Errorf("max side %d: got %dx%d, want %dx%d", tc.maxSide, b.Dx(), b.Dy(), tc.wantW, tc.wantH)
		}
		if tc.maxSide == 0 {
			continue
		}
		full, _, _ := Decode(bytes.NewReader(data), Limits{})
		if d := meanDiff(t, got, Cap(full, tc.maxSide)); d > 2 {
			t.Errorf("max side %d: got a mean difference of %.2f levels from decoding in full and shrinking, want at most 2", tc.maxSide, d)
		}
	}
}

func TestEncodeJPEG(t *testing.T) {
	src := gradient(257, 129)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"rgba", src},
		{"sub-image", src.SubImage(image.Rect(10, 20, 110, 90))},
		{"nrgba", func() image.Image {
			m := image.NewNRGBA(src.Rect)
			draw.Draw(m, m.Rect, src, image.Point{}, draw.Src)
			return m
		}()},
		{"ycbcr", func() image.Image {
			m, _ := jpeg.Decode(bytes.NewReader(encodeJPEG(t, src)))
			return m
		}()},
		{"gray", image.NewGray(image.Rect(0, 0, 33, 17))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			format, err := Encode(&buf, tc.img, false)
			if err != nil || format != "jpeg" {
				t.Fatalf("got %q, %v; want jpeg and no error", format, err)
			}
			back, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("image/jpeg cannot read the result: %v", err)
			}
			if d := meanDiff(t, back, tc.img); d > 2 {
				t.Errorf("got a mean difference of %.2f levels after a round trip at quality 90, want at most 2", d)
			}
			// Nothing beyond JFIF's APP0: no EXIF, no comment.
			for _, marker := range [][]byte{{0xff, 0xe1}, {0xff, 0xfe}} {
				if i := bytes.Index(buf.Bytes(), marker); i >= 0 && i < bytes.Index(buf.Bytes(), []byte{0xff, 0xda}) {
					t.Errorf("got marker %x at %d, want no metadata", marker, i)
				}
			}
		})
	}
}

// BenchmarkJPEG is the codec's cost on a 1920x1280 photo-like image:
// go test -run '^$' -bench JPEG ./shared/picture (-tags purejpeg: image/jpeg).
func BenchmarkJPEG(b *testing.B) {
	img := gradient(1920, 1280)
	data := encodeJPEG(b, img)
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := Decode(bytes.NewReader(data), PhotoLimits); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			if _, err := Encode(&buf, img, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestJPEGOddities: files image/jpeg reads though libjpeg warns about them
// (some cameras and editors write such) still decode, through libjpeg.
func TestJPEGOddities(t *testing.T) {
	var buf bytes.Buffer
	if _, err := Encode(&buf, gradient(64, 48), false); err != nil {
		t.Fatal(err)
	}
	base := buf.Bytes()
	if !bytes.Equal(base[2:4], []byte{0xff, 0xe0}) || string(base[6:10]) != "JFIF" {
		t.Skip("the encoder wrote no JFIF header first")
	}
	app0End := 4 + (int(base[4])<<8 | int(base[5]))
	with := func(f func(d []byte) []byte) []byte { return f(append([]byte(nil), base...)) }
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"JFIF version 2", with(func(d []byte) []byte { d[11] = 2; return d })},
		{"junk between segments", with(func(d []byte) []byte {
			return append(append(d[:app0End:app0End], 0x00, 0x17, 0x42), base[app0End:]...)
		})},
		{"junk before the end marker", with(func(d []byte) []byte {
			return append(append(d[:len(d)-2:len(d)-2], bytes.Repeat([]byte{0x5a}, 40)...), 0xff, 0xd9)
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jpeg.Decode(bytes.NewReader(tc.data)); err != nil {
				t.Skipf("image/jpeg refuses it too (%v)", err)
			}
			img, _, err := Decode(bytes.NewReader(tc.data), Limits{})
			if err != nil {
				t.Fatalf("got %v, want it decoded as image/jpeg decodes it", err)
			}
			if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
				t.Errorf("got %v, want 64x48", b)
			}
			// Not handed to image/jpeg, which takes several times the
			// memory (a *image.YCbCr is its output).
			if _, ok := img.(*image.RGBA); JPEGCodec == "libjpeg-turbo" && !ok {
				t.Errorf("got a %T, want libjpeg's *image.RGBA", img)
			}
		})
	}
}

// A photo decoded into a recycled photo's pixels must come out exactly as
// one decoded into fresh memory: nothing of the old photo shows through.
func TestDecodeIntoRecycled(t *testing.T) {
	encode := func(m image.Image) []byte {
		t.Helper()
		var buf bytes.Buffer
		if _, err := Encode(&buf, m, false); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	old := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range old.Pix {
		old.Pix[i] = uint8(i * 13)
	}
	a, b := encode(old), encode(gradient(640, 480))
	fresh, _, err := Decode(bytes.NewReader(b), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := Decode(bytes.NewReader(a), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	Recycle(first)
	again, _, err := Decode(bytes.NewReader(b), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if d := meanDiff(t, again, fresh); d != 0 {
		t.Fatalf("decoded into recycled pixels: got a mean difference of %v from a fresh decode, want 0", d)
	}
	Recycle(image.NewGray(image.Rect(0, 0, 2000, 2000))) // not kept, no panic
}

// Photo.Half must hold exactly the bytes the face detector's first reduced
// level would (facepkg.NewSourceHalf trusts them): Fill reads them for any
// shrink of 4 or more, so equal letterboxed inputs mean equal bytes. Odd
// sizes leave the last column and row to the Source. A turned or capped
// photo, a gray one and a PNG come without a half.
func TestPhotoHalf(t *testing.T) {
	noisy := func(w, h int) *image.RGBA {
		m := gradient(w, h)
		for i := range m.Pix {
			if i%4 != 3 {
				m.Pix[i] += uint8(i * 7 % 23)
			}
		}
		return m
	}
	encode := func(m image.Image) []byte {
		t.Helper()
		var buf bytes.Buffer
		if err := writeJPEG(&buf, m, 90); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, size := range []image.Point{{301, 203}, {300, 200}, {1026, 514}, {1025, 515}, {7, 3}, {5, 3}, {2, 2}} {
		// A recycled buffer full of junk, one guard row longer than the
		// half: stale bytes must not show, nothing may be written past it.
		hw, hh := HalfSize(size.X, size.Y)
		n := 3 * hw * hh
		junk := make([]uint8, n+3*hw)
		for i := range junk {
			junk[i] = 0xab
		}
		halves.Put(&junk)
		ph, err := DecodePhoto(bytes.NewReader(encode(noisy(size.X, size.Y))), testLimits, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ph.Half != nil && &ph.Half[0] == &junk[0] {
			for i, v := range junk[n:] {
				if v != 0xab {
					t.Fatalf("%v: guard byte %d past the half: got %#x, want 0xab", size, i, v)
				}
			}
		} else {
			halves.Get() // not taken (too small, or the pool dropped it)
		}
		if JPEGCodec != "libjpeg-turbo" {
			if ph.Half != nil {
				t.Fatalf("%v: got a half from %s, want none", size, JPEGCodec)
			}
			continue
		}
		if ph.Half == nil {
			t.Fatalf("%v: got no half, want one", size)
		}
		side := max(1, max(size.X, size.Y)/5) // a shrink by 5 or so
		win := facepkg.Letterbox(size.X, size.Y)
		want, got := make([]float32, side*side*3), make([]float32, side*side*3)
		if err := facepkg.NewSource(ph.Image).Fill(want, win, side); err != nil {
			t.Fatal(err)
		}
		if err := facepkg.NewSourceHalf(ph.Image, ph.Half).Fill(got, win, side); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: input value %d: got %v through the decoder's half, want %v", size, i, got[i], want[i])
			}
		}
		ph.Recycle()
	}

	var gray bytes.Buffer
	if err := jpeg.Encode(&gray, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatal(err)
	}
	var png bytes.Buffer
	if err := EncodePNG(&png, gradient(64, 64)); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data    []byte
		maxSide int
	}{
		"gray":   {gray.Bytes(), 0},
		"png":    {png.Bytes(), 0},
		"capped": {encode(noisy(300, 200)), 200}, // decoded in full, then capped
		"turned": {withOrientation(encode(noisy(300, 200)), 6), 0},
	} {
		ph, err := DecodePhoto(bytes.NewReader(tc.data), testLimits, tc.maxSide)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ph.Half != nil {
			t.Errorf("%s: got a half, want none", name)
		}
	}
}
