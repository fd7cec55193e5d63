//go:build cgo && !purejpeg

package picture

// JPEG through libjpeg-turbo (Debian: libjpeg62-turbo-dev): about four
// times faster than image/jpeg at decoding and five times at encoding,
// which is most of a photo's time in the worker. Builds without cgo (the
// browser module) or with -tags purejpeg use the standard library.

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

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
// refuses it.
static void igm_emit(j_common_ptr c, int level) {
	if (level < 0) ((struct igm_err *)c->err)->warnings++;
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

// igm_decode decodes a JPEG at 1/denom scale into dst, w*h pixels of 4
// bytes (RGBA) or 1 (gray), as the caller sized it from the header.
// IGM_OTHER: a colour space this path does not handle (CMYK, YCCK), for the
// caller's fallback. IGM_WARN: decoded, but libjpeg warned of damage
// (also what a truncated file gives), for the caller to judge.
static int igm_decode(const unsigned char *buf, unsigned long n, unsigned char *dst, int w, int h, int gray, int denom) {
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
		JSAMPROW row = dst + (size_t)d.output_scanline * stride;
		if (jpeg_read_scanlines(&d, &row, 1) != 1) break;
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
// (CMYK, YCCK) go to image/jpeg at full size.
func decodeJPEG(data []byte, w, h int, gray bool, denom int) (image.Image, error) {
	if len(data) == 0 {
		return nil, errCorrupt()
	}
	w, h = (w+denom-1)/denom, (h+denom-1)/denom // libjpeg rounds up
	var img image.Image
	var pix []uint8
	g := C.int(0)
	if gray {
		m := image.NewGray(image.Rect(0, 0, w, h))
		img, pix, g = m, m.Pix, 1
	} else {
		m := newRGBA(w, h)
		img, pix = m, m.Pix
	}
	switch C.igm_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(h), g, C.int(denom)) {
	case C.IGM_OK:
		return img, nil
	case C.IGM_OTHER, C.IGM_WARN:
		// libjpeg warns of oddities image/jpeg takes in its stride (junk
		// between segments, an unknown JFIF version) as well as of real
		// damage; image/jpeg then decides, and refuses truncated data.
		return jpeg.Decode(bytes.NewReader(data))
	}
	return nil, errCorrupt()
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
