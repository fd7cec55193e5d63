package picture

import (
	"image"
	"sync"
)

// Decoded photos are large (10 MB for 1920x1280) and a worker decodes one
// after another. A fresh buffer that size is zeroed by the allocator, or
// faulted in page by page by the kernel, before the decoder overwrites
// every byte: about 2 ms a photo on the development machine. Recycle hands
// a finished photo's pixels back for the next decode instead.
var recycled sync.Pool // of *[]uint8

// newRGBA is image.NewRGBA(image.Rect(0, 0, w, h)) for a decoder that
// writes every pixel: the pixels may be a recycled photo's.
func newRGBA(w, h int) *image.RGBA {
	n := 4 * w * h
	if p, ok := recycled.Get().(*[]uint8); ok && cap(*p) >= n && cap(*p) <= 2*n {
		return &image.RGBA{Pix: (*p)[:n], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	}
	return image.NewRGBA(image.Rect(0, 0, w, h))
}

// Recycle gives the pixels of a photo that nothing will read again (and
// that shares them with nothing still in use) to later decodes. Only large
// *image.RGBA images are kept; anything else is left to the collector.
func Recycle(img image.Image) {
	if m, ok := img.(*image.RGBA); ok && cap(m.Pix) >= 1<<20 {
		pix := m.Pix[:0]
		recycled.Put(&pix)
	}
}

// halves recycles Photo.Half buffers as recycled does photos' pixels.
var halves sync.Pool // of *[]uint8

// HalfSize is the size of a w×h photo's Photo.Half: (w+1)/2 × (h+1)/2
// pixels of 3 bytes.
func HalfSize(w, h int) (hw, hh int) { return (w + 1) / 2, (h + 1) / 2 }

func newHalf(w, h int) []uint8 {
	hw, hh := HalfSize(w, h)
	n := 3 * hw * hh
	if p, ok := halves.Get().(*[]uint8); ok && cap(*p) >= n && cap(*p) <= 2*n {
		return (*p)[:n]
	}
	return make([]uint8, n)
}

func recycleHalf(half []uint8) {
	if cap(half) >= 1<<18 {
		half = half[:0]
		halves.Put(&half)
	}
}
