package picture

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// pngWith inserts chunks right after a PNG's IHDR.
func pngWith(png []byte, chunks ...[]byte) []byte {
	const afterIHDR = 8 + 12 + 13
	out := append([]byte{}, png[:afterIHDR]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, png[afterIHDR:]...)
}

// webpWith rewraps a simple lossless WebP (webpSolid) as an extended one
// (VP8X) with chunks before its image data.
func webpWith(simple []byte, w, h int, flags byte, chunks ...[]byte) []byte {
	vp8x := []byte{flags, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	body := []byte("WEBP")
	body = append(body, webpChunk("VP8X", vp8x)...)
	for _, c := range chunks {
		body = append(body, c...)
	}
	body = append(body, simple[12:]...) // its VP8L chunk
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

func webpChunk(typ string, data []byte) []byte {
	c := []byte(typ)
	c = binary.LittleEndian.AppendUint32(c, uint32(len(data)))
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// iccProfile is a made-up profile of n bytes with a valid header for
// colour space space ("RGB ", "CMYK", "GRAY").
func iccProfile(n int, space string) []byte {
	p := make([]byte, n)
	for i := 128; i < n; i++ {
		p[i] = byte(i * 7)
	}
	binary.BigEndian.PutUint32(p, uint32(n))
	copy(p[12:], "mntr")
	copy(p[16:], space)
	copy(p[20:], "XYZ ")
	copy(p[36:], "acsp")
	return p
}

// jpegWithICC inserts the profile as APP2 segments of at most chunk bytes.
func jpegWithICC(jpg, icc []byte, chunk int) []byte {
	n := (len(icc) + chunk - 1) / chunk
	out := append([]byte{}, jpg[:2]...)
	for i := 0; i < n; i++ {
		part := icc[i*chunk : min(len(icc), (i+1)*chunk)]
		out = append(out, 0xff, 0xe2)
		out = binary.BigEndian.AppendUint16(out, uint16(2+14+len(part)))
		out = append(out, "ICC_PROFILE\x00"...)
		out = append(out, byte(i+1), byte(n))
		out = append(out, part...)
	}
	return append(out, jpg[2:]...)
}

func pngICCP(icc []byte) []byte {
	var b bytes.Buffer
	b.WriteString("Display P3\x00\x00")
	zw := zlib.NewWriter(&b)
	zw.Write(icc)
	zw.Close()
	return pngChunk("iCCP", b.Bytes())
}

// Orientation is EXIF's, whichever format carries it: browsers show a PNG or
// WebP upright by it as they do a JPEG, and the result must match.
func TestDecodeOrientationEveryFormat(t *testing.T) {
	// 8x4, left half red and right half blue, so rotation is visible.
	src := solid(8, 4, color.NRGBA{0, 0, 255, 255})
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			src.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
		}
	}
	plain := encodePNG(t, src)
	grey := webpSolid(8, 4, color.NRGBA{90, 90, 90, 255})
	const exifFlag = 0x08
	tests := []struct {
		name         string
		data         []byte
		wantW, wantH int
		redAt        image.Point // (-1,-1): a one-colour image
	}{
		{"png, none", plain, 8, 4, image.Pt(0, 0)},
		{"png, rotate 90 cw", pngWith(plain, pngChunk("eXIf", exifTIFF(6))), 4, 8, image.Pt(0, 0)},
		{"png, upside down", pngWith(plain, pngChunk("eXIf", exifTIFF(3))), 8, 4, image.Pt(7, 3)},
		{"png, malformed exif", pngWith(plain, pngChunk("eXIf", exifTIFF(6)[:9])), 8, 4, image.Pt(0, 0)},
		{"webp, none", webpWith(grey, 8, 4, 0), 8, 4, image.Pt(-1, -1)},
		{"webp, rotate 90 ccw", webpWith(grey, 8, 4, exifFlag, webpChunk("EXIF", exifTIFF(8))), 4, 8, image.Pt(-1, -1)},
		{"webp, with Exif prefix", webpWith(grey, 8, 4, exifFlag, webpChunk("EXIF", append([]byte("Exif\x00\x00"), exifTIFF(6)...))), 4, 8, image.Pt(-1, -1)},
		{"webp, chunk cut short", webpWith(grey, 8, 4, exifFlag, webpChunk("EXIF", exifTIFF(6))[:12]), 0, 0, image.Pt(-1, -1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, _, err := Decode(bytes.NewReader(tt.data), testLimits)
			if tt.wantW == 0 {
				if err == nil {
					t.Fatalf("got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			b := img.Bounds()
			if b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Fatalf("got %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			if tt.redAt.X >= 0 {
				red := color.NRGBA{255, 0, 0, 255}
				if got := color.NRGBAModel.Convert(img.At(b.Min.X+tt.redAt.X, b.Min.Y+tt.redAt.Y)).(color.NRGBA); got != red {
					t.Errorf("got %v at %v, want %v", got, tt.redAt, red)
				}
			}
		})
	}
}

// A photo's RGB colour profile (a phone's Display P3) comes through to the
// result, in either output format; nothing else of its metadata does.
func TestColourProfileKept(t *testing.T) {
	small := iccProfile(560, "RGB ")
	big := iccProfile(150_000, "RGB ") // three APP2 segments
	img := noise(16, 12)
	jpg := withOrientation(encodeJPEG(t, img), 1)
	pngData := encodePNG(t, img)
	grey := webpSolid(16, 12, color.NRGBA{90, 90, 90, 255})
	const iccFlag = 0x20
	tests := []struct {
		name string
		data []byte
		want []byte
	}{
		{"jpeg", jpegWithICC(jpg, small, 65519), small},
		{"jpeg, split", jpegWithICC(jpg, big, 65519), big},
		{"jpeg, a segment missing", func() []byte {
			d := jpegWithICC(jpg, big, 65519)
			i := bytes.Index(d, []byte("ICC_PROFILE\x00\x02\x03"))
			n := int(binary.BigEndian.Uint16(d[i-2:]))
			return append(d[:i-4:i-4], d[i-2+n:]...)
		}(), nil},
		{"jpeg, CMYK profile", jpegWithICC(jpg, iccProfile(600, "CMYK"), 65519), nil},
		{"jpeg, size field wrong", jpegWithICC(jpg, append(iccProfile(600, "RGB "), 1, 2), 65519), nil},
		{"jpeg, none", jpg, nil},
		{"png", pngWith(pngData, pngICCP(small)), small},
		{"png, not zlib", pngWith(pngData, pngChunk("iCCP", []byte("P3\x00\x00not zlib"))), nil},
		{"webp", webpWith(grey, 16, 12, iccFlag, webpChunk("ICCP", small)), small},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph, err := DecodePhoto(bytes.NewReader(tt.data), testLimits, 0)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(ph.ICC, tt.want) {
				t.Fatalf("got a profile of %d bytes, want %d", len(ph.ICC), len(tt.want))
			}
			for _, alpha := range []bool{false, true} {
				var buf bytes.Buffer
				format, err := EncodeWithProfile(&buf, ph.Image, alpha, ph.ICC)
				if err != nil {
					t.Fatalf("encode %v: %v", alpha, err)
				}
				out := buf.Bytes()
				// The standard decoders read it as a valid file.
				if format == "jpeg" {
					_, err = jpeg.Decode(bytes.NewReader(out))
				} else {
					_, err = png.Decode(bytes.NewReader(out))
				}
				if err != nil {
					t.Fatalf("%s result does not decode: %v", format, err)
				}
				if got := colourProfile(map[string]string{"jpeg": FormatJPEG, "png": FormatPNG}[format], out); !bytes.Equal(got, tt.want) {
					t.Errorf("%s result: got a profile of %d bytes, want %d", format, len(got), len(tt.want))
				}
				if bytes.Contains(out, []byte("Exif")) {
					t.Errorf("%s result carries EXIF", format)
				}
			}
		})
	}
}
