package picture

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"io"
)

// What a photo's metadata says about its pixels: the EXIF orientation (every
// format can carry it, and browsers honour it in each) and the colour
// profile (a phone's Display P3 or a camera's Adobe RGB: without it the same
// numbers show as duller sRGB). Nothing else of the upload's metadata is read
// or kept; every offset is checked, since the bytes come from the upload.

// maxICC bounds a colour profile that is kept: display profiles are a few
// KB; a larger one (a printer's) is not worth carrying into a result.
const maxICC = 1 << 20

// orientation returns the EXIF orientation (1..8) of data in format, or 0
// when it has none or the EXIF data is malformed.
func orientation(format string, data []byte) int {
	switch format {
	case FormatJPEG:
		return jpegOrientation(data)
	case FormatPNG:
		var o int
		pngChunks(data, func(typ string, body []byte) bool {
			if typ == "eXIf" {
				o = tiffOrientation(body)
				return false
			}
			return typ != "IDAT" // eXIf comes before the image data
		})
		return o
	case FormatWebP:
		var o int
		webpChunks(data, func(typ string, body []byte) bool {
			if typ == "EXIF" {
				// Some writers keep JPEG's "Exif\0\0" prefix.
				o = tiffOrientation(bytes.TrimPrefix(body, []byte("Exif\x00\x00")))
				return false
			}
			return true
		})
		return o
	}
	return 0
}

// jpegOrientation is orientation for a JPEG: from its APP1 EXIF segment.
func jpegOrientation(data []byte) int {
	o := 0
	jpegSegments(data, func(marker byte, seg []byte) bool {
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			o = tiffOrientation(seg[6:])
			return false
		}
		return true
	})
	return o
}

// tiffOrientation reads the orientation tag of an EXIF (TIFF) block's first
// IFD, or 0.
func tiffOrientation(tiff []byte) int {
	const (
		tagOrient = 0x0112
		typeShort = 3
	)
	if len(tiff) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 0
	}
	count := int64(bo.Uint16(tiff[ifd:]))
	for i := int64(0); i < count; i++ {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			return 0
		}
		entry := tiff[e : e+12]
		if bo.Uint16(entry) != tagOrient {
			continue
		}
		if bo.Uint16(entry[2:]) != typeShort || bo.Uint32(entry[4:]) != 1 {
			return 0
		}
		o := int(bo.Uint16(entry[8:]))
		if o < 1 || o > 8 {
			return 0
		}
		return o
	}
	return 0
}

// colourProfile returns data's embedded ICC profile when it describes RGB
// data (what a result is), or nil.
func colourProfile(format string, data []byte) []byte {
	var p []byte
	switch format {
	case FormatJPEG:
		p = jpegICC(data)
	case FormatPNG:
		pngChunks(data, func(typ string, body []byte) bool {
			if typ == "iCCP" {
				p = inflatePNGProfile(body)
				return false
			}
			return typ != "IDAT"
		})
	case FormatWebP:
		webpChunks(data, func(typ string, body []byte) bool {
			if typ == "ICCP" {
				p = bytes.Clone(body)
				return false
			}
			return true
		})
	}
	if !rgbProfile(p) {
		return nil
	}
	return p
}

// rgbProfile checks an ICC profile's header: its declared size, its
// signature, and an RGB data colour space (a CMYK or gray profile would
// misdescribe the RGB result).
func rgbProfile(p []byte) bool {
	return len(p) >= 132 && len(p) <= maxICC &&
		int(binary.BigEndian.Uint32(p)) == len(p) &&
		string(p[36:40]) == "acsp" && string(p[16:20]) == "RGB "
}

// jpegICC joins a JPEG's ICC_PROFILE APP2 chunks (a profile over 64 KB is
// split across several, numbered), or returns nil when one is missing.
func jpegICC(data []byte) []byte {
	var parts [][]byte
	total := 0
	size := 0
	ok := true
	jpegSegments(data, func(marker byte, seg []byte) bool {
		if marker != 0xe2 || !bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")) || len(seg) < 14 {
			return true
		}
		seq, n := int(seg[12]), int(seg[13])
		if total == 0 {
			total = n
			parts = make([][]byte, n)
		}
		if n != total || seq < 1 || seq > n || parts[seq-1] != nil {
			ok = false
			return false
		}
		parts[seq-1] = seg[14:]
		size += len(seg) - 14
		if size > maxICC {
			ok = false
			return false
		}
		return true
	})
	if !ok || total == 0 {
		return nil
	}
	p := make([]byte, 0, size)
	for _, part := range parts {
		if part == nil {
			return nil
		}
		p = append(p, part...)
	}
	return p
}

// inflatePNGProfile unpacks an iCCP chunk: a name, a NUL, the compression
// method (0, zlib) and the compressed profile, read to at most maxICC.
func inflatePNGProfile(body []byte) []byte {
	nul := bytes.IndexByte(body, 0)
	if nul < 1 || nul > 79 || nul+2 > len(body) || body[nul+1] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(body[nul+2:]))
	if err != nil {
		return nil
	}
	defer zr.Close()
	p, err := io.ReadAll(io.LimitReader(zr, maxICC+1))
	if err != nil || len(p) > maxICC {
		return nil
	}
	return p
}

// jpegSegments calls fn with each marker segment before the image data
// until fn returns false.
func jpegSegments(data []byte, fn func(marker byte, seg []byte) bool) {
	const markerSOS = 0xda
	p := 2 // past SOI
	for p+4 <= len(data) {
		if data[p] != 0xff {
			p++ // junk between segments, which the decoders skip too
			continue
		}
		marker := data[p+1]
		if marker == 0xff { // fill byte
			p++
			continue
		}
		if marker == markerSOS || (marker >= 0xd0 && marker <= 0xd9) {
			return // metadata comes before the image data
		}
		segLen := int(binary.BigEndian.Uint16(data[p+2:]))
		if segLen < 2 || p+2+segLen > len(data) {
			return
		}
		if !fn(marker, data[p+4:p+2+segLen]) {
			return
		}
		p += 2 + segLen
	}
}

// pngChunks calls fn with each chunk's type and data until fn returns
// false or the chunks end. CRCs are not checked: the decoder does that.
func pngChunks(data []byte, fn func(typ string, body []byte) bool) {
	p := 8 // past the signature
	for p+12 <= len(data) {
		n := int64(binary.BigEndian.Uint32(data[p:]))
		end := int64(p) + 12 + n
		if end > int64(len(data)) {
			return
		}
		if !fn(string(data[p+4:p+8]), data[p+8:p+8+int(n)]) {
			return
		}
		p = int(end)
	}
}

// webpChunks calls fn with each chunk of a RIFF WebP file until fn returns
// false or the chunks end.
func webpChunks(data []byte, fn func(typ string, body []byte) bool) {
	p := 12 // past "RIFF", the size and "WEBP"
	for p+8 <= len(data) {
		n := int64(binary.LittleEndian.Uint32(data[p+4:]))
		if int64(p)+8+n > int64(len(data)) {
			return
		}
		if !fn(string(data[p:p+4]), data[p+8:p+8+int(n)]) {
			return
		}
		p += 8 + int(n) + int(n&1) // chunks are padded to even sizes
	}
}

// withProfile returns an encoded JPEG or PNG with the ICC profile icc
// added, where the format's rules place it: in a JPEG as APP2 segments after
// SOI and any JFIF APP0, in a PNG as an iCCP chunk after IHDR.
func withProfile(format string, enc, icc []byte) []byte {
	switch format {
	case "jpeg":
		at := 2
		if len(enc) >= 6 && enc[2] == 0xff && enc[3] == 0xe0 {
			at = 4 + int(binary.BigEndian.Uint16(enc[4:]))
		}
		const chunk = 65535 - 2 - 14 // a segment's length field counts itself and the header
		n := (len(icc) + chunk - 1) / chunk
		out := make([]byte, 0, len(enc)+len(icc)+n*18)
		out = append(out, enc[:at]...)
		for i := 0; i < n; i++ {
			part := icc[i*chunk : min(len(icc), (i+1)*chunk)]
			out = append(out, 0xff, 0xe2)
			out = binary.BigEndian.AppendUint16(out, uint16(2+14+len(part)))
			out = append(out, "ICC_PROFILE\x00"...)
			out = append(out, byte(i+1), byte(n))
			out = append(out, part...)
		}
		return append(out, enc[at:]...)
	case "png":
		const afterIHDR = 8 + 12 + 13
		var body bytes.Buffer
		body.WriteString("ICC profile\x00\x00")
		zw, _ := zlib.NewWriterLevel(&body, zlib.BestCompression)
		zw.Write(icc)
		zw.Close()
		chunk := binary.BigEndian.AppendUint32(nil, uint32(body.Len()))
		chunk = append(chunk, "iCCP"...)
		chunk = append(chunk, body.Bytes()...)
		chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
		out := make([]byte, 0, len(enc)+len(chunk))
		out = append(out, enc[:afterIHDR]...)
		out = append(out, chunk...)
		return append(out, enc[afterIHDR:]...)
	}
	return enc
}

// jpegFrame is what a JPEG's frame header says about the memory its
// decoding takes.
type jpegFrame struct {
	progressive bool
	components  int
	// samples is the bytes a pixel takes across the component planes at
	// one byte a sample: 3 for 4:4:4 colour, 1.5 for 4:2:0, 1 for gray.
	samples float64
}

// jpegFrameOf reads the first SOF segment; a zero jpegFrame when there is
// none (the decoder will refuse the file).
func jpegFrameOf(data []byte) jpegFrame {
	var f jpegFrame
	jpegSegments(data, func(marker byte, seg []byte) bool {
		if marker < 0xc0 || marker > 0xcf || marker == 0xc4 || marker == 0xc8 || marker == 0xcc {
			return true
		}
		// P, Y, X, Nf, then Nf times (C, HV, Tq).
		if len(seg) < 6 {
			return false
		}
		n := int(seg[5])
		if n < 1 || len(seg) < 6+3*n {
			return false
		}
		hmax, vmax := 1, 1
		for i := 0; i < n; i++ {
			hv := seg[6+3*i+1]
			hmax, vmax = max(hmax, int(hv>>4)), max(vmax, int(hv&15))
		}
		for i := 0; i < n; i++ {
			hv := seg[6+3*i+1]
			f.samples += float64(int(hv>>4)*int(hv&15)) / float64(hmax*vmax)
		}
		f.components = n
		// SOF2, SOF6, SOF10, SOF14: progressive.
		f.progressive = marker&3 == 2
		return false
	})
	return f
}

// decodeBytesPerPixel estimates the most memory decoding an image takes, per
// pixel, from what its header says: the pixels decoded, and what the
// decoder keeps besides (a progressive JPEG's coefficients: two bytes a
// sample in libjpeg, four in image/jpeg).
func decodeBytesPerPixel(format string, cfg image.Config, data []byte) float64 {
	out := 4.0
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model:
		out = 8 // decoded at 16 bits a channel
	case color.GrayModel:
		if format == FormatJPEG {
			out = 1
		}
	}
	if orientation(format, data) >= 2 {
		out *= 2 // turned upright into a second image
	}
	switch format {
	case FormatJPEG:
		f := jpegFrameOf(data)
		if f.components == 0 {
			// A frame header the decoder finds and this walk does not:
			// the worst case, a progressive CMYK one.
			return out + 4 + 16
		}
		if f.components == 4 {
			// CMYK or YCCK: image/jpeg, after libjpeg's RGBA buffer was
			// taken (it stays in the pool), into a 4-byte CMYK image.
			b := out + f.samples
			if f.progressive {
				b += 4 * f.samples
			}
			return b
		}
		if f.progressive {
			return out + 2*f.samples
		}
		// A baseline JPEG that libjpeg warned about goes to image/jpeg,
		// whose planes come on top of the buffer libjpeg filled.
		return out + f.samples
	case FormatPNG:
		// An interlaced PNG is decoded pass by pass, then merged.
		if len(data) > 28 && data[28] == 1 {
			return 2 * out
		}
	}
	return out
}
