//go:build cgo && !purejpeg

package picture

// JPEG through libjpeg-turbo (Debian: libjpeg62-turbo-dev): about three
// times faster than image/jpeg at decoding and seven times at encoding,
// which is most of a photo's time in the worker. Builds without cgo (the
// browser module) or with -tags purejpeg use the standard library.

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdint.h>
#include <jpeglib.h>
#include <jerror.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct igm_err {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	int warnings;
};

// libjpeg's default error_exit calls exit(); ours jumps back instead.
static void igm_error_exit(j_common_ptr c) {
	longjmp(((struct igm_err *)c->err)->jump, 1);
}

// Warnings (level -1) are how libjpeg reports corrupt or truncated data it
// went on decoding; counted so that such a file is refused, as image/jpeg
// refuses it. Oddities that leave the pixels whole (junk between segments,
// an unknown JFIF revision or Adobe transform code, a bad ICC marker) are
// not counted: image/jpeg takes them too, and sending such a photo there
// would cost it several times the memory.
static void igm_emit(j_common_ptr c, int level) {
	if (level >= 0) return;
	switch (c->err->msg_code) {
	case JWRN_EXTRANEOUS_DATA: case JWRN_JFIF_MAJOR: case JWRN_ADOBE_XFORM: case JWRN_BOGUS_ICC:
		return;
	}
	((struct igm_err *)c->err)->warnings++;
}

static void igm_output(j_common_ptr c) {}

static void igm_errors(struct igm_err *e) {
	jpeg_std_error(&e->pub);
	e->pub.error_exit = igm_error_exit;
	e->pub.emit_message = igm_emit;
	e->pub.output_message = igm_output;
	e->warnings = 0;
}

enum { IGM_OK, IGM_CORRUPT, IGM_OTHER, IGM_SIZE, IGM_WARN };

// igm_halve writes n pixels of the photo halved (3 bytes, RGB), each the
// mean of a 2x2 block of RGBA rows a and b, rounding by r in {1, 2}
// alternately: the same bytes as face.halveRGBA, the face detector's first
// reduced level, which reading the photo again would cost a pass over
// memory. Here the two rows are still in cache.
static void igm_halve(const unsigned char *a, const unsigned char *b, unsigned char *out, int n, unsigned r) {
	int i = 0;
#ifdef __SSE2__
	// Two output pixels from 16 bytes of each row, in 16-bit lanes; the
	// rounding alternates per pixel, so it is the same for every pair.
	// Each pixel is stored as 4 bytes, the fourth overwritten by the next
	// pixel, so the last pair is left to the plain loop.
	const __m128i zero = _mm_setzero_si128();
	const __m128i round = _mm_set_epi16(3 - r, 3 - r, 3 - r, 3 - r, r, r, r, r);
	for (; i + 3 <= n; i += 2, a += 16, b += 16, out += 6) {
		__m128i va = _mm_loadu_si128((const __m128i *)a), vb = _mm_loadu_si128((const __m128i *)b);
		__m128i lo = _mm_add_epi16(_mm_unpacklo_epi8(va, zero), _mm_unpacklo_epi8(vb, zero));
		__m128i hi = _mm_add_epi16(_mm_unpackhi_epi8(va, zero), _mm_unpackhi_epi8(vb, zero));
		lo = _mm_add_epi16(lo, _mm_srli_si128(lo, 8)); // lanes 0-3: pixel 0 + pixel 1
		hi = _mm_add_epi16(hi, _mm_srli_si128(hi, 8));
		__m128i v = _mm_srli_epi16(_mm_add_epi16(_mm_unpacklo_epi64(lo, hi), round), 2);
		v = _mm_packus_epi16(v, v);
		uint32_t p0 = (uint32_t)_mm_cvtsi128_si32(v), p1 = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(v, 4));
		memcpy(out, &p0, 4);
		memcpy(out + 3, &p1, 4);
	}
#endif
	for (; i < n; i++, a += 8, b += 8, out += 3) {
		out[0] = (unsigned char)((a[0] + a[4] + b[0] + b[4] + r) >> 2);
		out[1] = (unsigned char)((a[1] + a[5] + b[1] + b[5] + r) >> 2);
		out[2] = (unsigned char)((a[2] + a[6] + b[2] + b[6] + r) >> 2);
		r = 3 - r;
	}
}

// igm_decode decodes a JPEG at 1/denom scale into dst, w*h pixels of 4
// bytes (RGBA) or 1 (gray), as the caller sized it from the header. With
// half (RGBA only), it also writes the photo halved: rows 0..h/2-1 and
// columns 0..w/2-1 of a (w+1)/2-wide image of 3-byte pixels (igm_halve).
// IGM_OTHER: a colour space this path does not handle (CMYK, YCCK), for the
// caller's fallback. IGM_WARN: decoded, but libjpeg warned of damage
// (also what a truncated file gives), for the caller to judge.
static int igm_decode(const unsigned char *buf, unsigned long n, unsigned char *dst, unsigned char *half, int w, int h, int gray, int denom) {
	struct jpeg_decompress_struct d;
	struct igm_err e;
	// The jump is set before create, which can fail too; a zeroed struct
	// is safe to destroy at any point.
	memset(&d, 0, sizeof d);
	d.err = &e.pub;
	igm_errors(&e);
	if (setjmp(e.jump)) {
		jpeg_destroy_decompress(&d);
		return IGM_CORRUPT;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, buf, n);
	jpeg_read_header(&d, TRUE);
	if (d.jpeg_color_space == JCS_GRAYSCALE) {
		if (!gray) { jpeg_destroy_decompress(&d); return IGM_OTHER; }
		d.out_color_space = JCS_GRAYSCALE;
	} else if (d.jpeg_color_space == JCS_YCbCr || d.jpeg_color_space == JCS_RGB) {
		if (gray) { jpeg_destroy_decompress(&d); return IGM_OTHER; }
		d.out_color_space = JCS_EXT_RGBA;
	} else {
		jpeg_destroy_decompress(&d);
		return IGM_OTHER;
	}
	d.scale_num = 1;
	d.scale_denom = denom;
	jpeg_start_decompress(&d);
	if ((int)d.output_width != w || (int)d.output_height != h) {
		jpeg_destroy_decompress(&d);
		return IGM_SIZE;
	}
	int stride = w * (gray ? 1 : 4);
	while (d.output_scanline < d.output_height) {
		JDIMENSION y = d.output_scanline;
		JSAMPROW row = dst + (size_t)y * stride;
		if (jpeg_read_scanlines(&d, &row, 1) != 1) break;
		if (half && (y & 1)) igm_halve(row - stride, row, half + (size_t)(y / 2) * 3 * ((w + 1) / 2), w / 2, 1 + (y / 2 & 1));
	}
	if (d.output_scanline < d.output_height) e.warnings++;
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return e.warnings ? IGM_WARN : IGM_OK;
}

enum { IGM_PROGRESSIVE = 1, IGM_CMYK = 2 };

// igm_encode compresses w*h pixels of ch bytes (4: RGBA, alpha ignored, or
// CMYK with IGM_CMYK; 1: gray) at quality q into a buffer the caller frees.
// The buffer is ours, sized for the worst case, so libjpeg never moves it
// and the error path knows what to free. The flags make the tests' fixtures.
static int igm_encode(const unsigned char *src, int w, int h, int stride, int ch, int q, int flags, unsigned char **out, unsigned long *n) {
	struct jpeg_compress_struct c;
	struct igm_err e;
	// libjpeg-turbo's tjBufSize bound (4:4:4, every MCU padded) plus room
	// for headers and progressive scans.
	unsigned long size = (unsigned long)((w + 15) & ~15) * (unsigned long)((h + 15) & ~15) * 6 + 65536;
	unsigned char *orig = malloc(size), *buf = orig;
	*out = NULL;
	*n = 0;
	if (!orig) return IGM_OTHER;
	memset(&c, 0, sizeof c);
	c.err = &e.pub;
	igm_errors(&e);
	if (setjmp(e.jump)) {
		jpeg_destroy_compress(&c);
		free(orig);
		return IGM_OTHER;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &buf, &size);
	c.image_width = w;
	c.image_height = h;
	c.input_components = ch;
	c.in_color_space = ch == 1 ? JCS_GRAYSCALE : (flags & IGM_CMYK) ? JCS_CMYK : JCS_EXT_RGBA;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, q, TRUE);
	if (flags & IGM_PROGRESSIVE) jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(src + (size_t)c.next_scanline * stride);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	if (buf != orig) free(orig); // grown after all: libjpeg copied it
	*out = buf;
	*n = size;
	return IGM_OK;
}
*/
import "C"

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
	"unsafe"
)

// JPEGCodec names the JPEG implementation built in, for logs and benchmarks.
const JPEGCodec = "libjpeg-turbo"

// decodeJPEG decodes data, whose header said w×h and gray (one component),
// at 1/denom scale (1, 2, 4 or 8; the DCT does the shrinking, which costs
// less than decoding in full). Colour spaces libjpeg cannot turn into RGB
// (CMYK, YCCK) go to image/jpeg at full size. With wantHalf, a colour photo
// decoded at full size by libjpeg also comes with its half-size copy (see
// Photo.Half); otherwise half is nil.
func decodeJPEG(data []byte, w, h int, gray bool, denom int, wantHalf bool) (img image.Image, half []uint8, err error) {
	if len(data) == 0 {
		return nil, nil, errCorrupt()
	}
	w, h = (w+denom-1)/denom, (h+denom-1)/denom // libjpeg rounds up
	var pix []uint8
	var hp *C.uchar
	g := C.int(0)
	if gray {
		m := image.NewGray(image.Rect(0, 0, w, h))
		img, pix, g = m, m.Pix, 1
	} else {
		m := newRGBA(w, h)
		img, pix = m, m.Pix
		if wantHalf && denom == 1 && w >= 2 && h >= 2 {
			half = newHalf(w, h)
			hp = (*C.uchar)(unsafe.Pointer(&half[0]))
		}
	}
	switch C.igm_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&pix[0])), hp, C.int(w), C.int(h), g, C.int(denom)) {
	case C.IGM_OK:
		return img, half, nil
	case C.IGM_WARN:
		if jpegFrameOf(data).progressive {
			// image/jpeg would keep four bytes a coefficient to decide
			// what libjpeg has called damaged.
			Recycle(img)
			recycleHalf(half)
			return nil, nil, errCorrupt()
		}
		// libjpeg's other warnings are damage, mostly: image/jpeg
		// decides, and refuses truncated data.
		fallthrough
	case C.IGM_OTHER:
		Recycle(img)
		recycleHalf(half)
		img, err = jpeg.Decode(bytes.NewReader(data))
		return img, nil, err
	}
	Recycle(img)
	recycleHalf(half)
	return nil, nil, errCorrupt()
}

// writeJPEG writes img at quality q. Alpha is dropped: callers keep
// transparency as PNG.
func writeJPEG(w io.Writer, img image.Image, q int) error {
	return encodeWith(w, img, q, 0)
}

// testJPEG writes the kinds of JPEG that image/jpeg cannot: progressive,
// and (for an *image.CMYK) Adobe CMYK. For the tests.
func testJPEG(img image.Image, progressive bool) ([]byte, error) {
	flags := 0
	if progressive {
		flags |= C.IGM_PROGRESSIVE
	}
	if _, ok := img.(*image.CMYK); ok {
		flags |= C.IGM_CMYK
	}
	var buf bytes.Buffer
	err := encodeWith(&buf, img, 90, flags)
	return buf.Bytes(), err
}

func encodeWith(w io.Writer, img image.Image, q, flags int) error {
	b := img.Bounds()
	if b.Empty() {
		return jpeg.Encode(w, img, &jpeg.Options{Quality: q}) // its own error
	}
	var pix []uint8
	var stride, ch int
	switch m := img.(type) {
	case *image.RGBA:
		pix, stride, ch = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
	case *image.NRGBA:
		pix, stride, ch = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
	case *image.Gray:
		pix, stride, ch = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1
	case *image.CMYK:
		if flags&C.IGM_CMYK != 0 {
			pix, stride, ch = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
			break
		}
		pix, stride, ch = toRGBA(img), 4*b.Dx(), 4
	default:
		pix, stride, ch = toRGBA(img), 4*b.Dx(), 4
	}
	var out *C.uchar
	var n C.ulong
	if C.igm_encode((*C.uchar)(unsafe.Pointer(&pix[0])), C.int(b.Dx()), C.int(b.Dy()), C.int(stride), C.int(ch), C.int(q), C.int(flags), &out, &n) != C.IGM_OK {
		return errEncode
	}
	defer C.free(unsafe.Pointer(out))
	_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(out)), int(n)))
	return err
}

func toRGBA(img image.Image) []uint8 {
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Bounds(), img, b.Min, draw.Src)
	return m.Pix
}
