//go:build !cgo || purejpeg

package picture

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"io"
)

// JPEGCodec names the JPEG implementation built in, for logs and benchmarks.
const JPEGCodec = "image/jpeg"

// decodeJPEG ignores denom: image/jpeg has no scaled decoding, so the
// caller's Cap does all the shrinking.
func decodeJPEG(data []byte, _, _ int, _ bool, _ int, _ bool) (image.Image, []uint8, error) {
	img, err := jpeg.Decode(bytes.NewReader(data))
	return img, nil, err
}

func writeJPEG(w io.Writer, img image.Image, q int) error {
	return jpeg.Encode(w, img, &jpeg.Options{Quality: q})
}

// testJPEG needs libjpeg; the tests that use it skip without.
func testJPEG(image.Image, bool) ([]byte, error) {
	return nil, errors.New("picture: progressive and CMYK fixtures need libjpeg (cgo)")
}
