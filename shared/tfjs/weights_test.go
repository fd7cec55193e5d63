package tfjs

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHalfToFloat32(t *testing.T) {
	tests := []struct {
		name string
		bits uint16
		want float32
	}{
		{"zero", 0x0000, 0},
		{"one", 0x3c00, 1},
		{"minus two", 0xc000, -2},
		{"one third", 0x3555, 0.333251953125},
		{"largest", 0x7bff, 65504},
		{"smallest normal", 0x0400, 1.0 / (1 << 14)},
		{"smallest subnormal", 0x0001, 1.0 / (1 << 24)},
		{"largest subnormal", 0x03ff, 1023.0 / (1 << 24)},
		{"negative subnormal", 0x8200, -512.0 / (1 << 24)},
		{"infinity", 0x7c00, float32(math.Inf(1))},
		{"minus infinity", 0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := halfToFloat32(tt.bits); got != tt.want {
				t.Errorf("halfToFloat32(%#04x): got %g, want %g", tt.bits, got, tt.want)
			}
		})
	}
	if got := halfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("halfToFloat32(0x8000): got %g, want -0", got)
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("halfToFloat32(0x7e00): got %g, want NaN", got)
	}
	// Every finite half converts exactly: converting back by rounding gives
	// the same bits.
	for h := range 1 << 16 {
		f := halfToFloat32(uint16(h))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		if back := float32ToHalf(f); back != uint16(h) {
			t.Fatalf("halfToFloat32(%#04x) = %g, which is half %#04x", h, f, back)
		}
	}
}

// float32ToHalf converts a float32 that a half represents exactly back to
// its bits (for the round-trip test only).
func float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	a := math.Abs(float64(f))
	if a == 0 {
		return sign
	}
	if a < 1.0/(1<<14) { // subnormal: a multiple of 2^-24
		return sign | uint16(a*(1<<24))
	}
	exp := int(b>>23&0xff) - 127 + 15
	return sign | uint16(exp)<<10 | uint16(b>>13&0x3ff)
}

func TestDequantizeAffine(t *testing.T) {
	tests := []struct {
		name       string
		q          []uint16
		scale, min float64
		want       []float32
	}{
		{"exact", []uint16{0, 1, 2, 255}, 0.25, -2, []float32{-2, -1.75, -1.5, 61.75}},
		// face-api's dense0/conv0/filters quantization; the float32 bits
		// are what tfjs (JavaScript: v * scale + min into a Float32Array)
		// gives.
		{"face-api", []uint16{0, 123, 255, 77}, 0.0057930146946626555, -0.7125408074435067,
			bitsToFloats(0xbf366913, 0x0, 0x3f43c1ef, 0xbe886fe5)},
		{"uint16", []uint16{0, 65535}, 1.0 / 65535, 0, []float32{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dequantizeAffine(tt.q, tt.scale, tt.min); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func bitsToFloats(bits ...uint32) []float32 {
	out := make([]float32, len(bits))
	for i, b := range bits {
		out[i] = math.Float32frombits(b)
	}
	return out
}

// le16 encodes little-endian uint16s.
func le16(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

// le32 encodes little-endian uint32s.
func le32(v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}

func ptr(f float64) *float64 { return &f }

func TestLoadWeights(t *testing.T) {
	dir := t.TempDir()
	// Two groups; the first spans two files.
	files := map[string][]byte{
		"a1.bin": le32(math.Float32bits(1.5), math.Float32bits(-2)),
		"a2.bin": append(le32(0xffffffff, 7), le16(0x3c00, 0xc000, 0x3555)...),
		"b.bin":  append([]byte{0, 4, 255}, le16(2, 3)...),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	groups := []manifestGroup{
		{Paths: []string{"a1.bin", "a2.bin"}, Weights: []manifestSpec{
			{Name: "f32", Shape: []int{2}, Dtype: "float32"},
			{Name: "i32", Shape: []int{2}, Dtype: "int32"},
			{Name: "f16", Shape: []int{3}, Dtype: "float32", Quantization: &quantization{Dtype: "float16"}},
		}},
		{Paths: []string{"b.bin"}, Weights: []manifestSpec{
			{Name: "u8", Shape: []int{3, 1}, Dtype: "float32", Quantization: &quantization{Dtype: "uint8", Scale: ptr(0.5), Min: ptr(-1)}},
			{Name: "u16int", Shape: []int{2}, Dtype: "int32", Quantization: &quantization{Dtype: "uint16", Scale: ptr(1.25), Min: ptr(0)}},
		}},
	}
	got, order, err := loadWeights(dir, groups)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if want := []string{"f32", "i32", "f16", "u8", "u16int"}; !slices.Equal(order, want) {
		t.Errorf("order: got %v, want %v", order, want)
	}
	floats := []struct {
		name  string
		shape []int
		want  []float32
	}{
		{"f32", []int{2}, []float32{1.5, -2}},
		{"f16", []int{3}, []float32{1, -2, 0.333251953125}},
		{"u8", []int{3, 1}, []float32{-1, 1, 126.5}},
	}
	for _, w := range floats {
		g := got[w.name]
		if g == nil || !slices.Equal(g.F32, w.want) || !slices.Equal(g.Shape, w.shape) {
			t.Errorf("%s: got %+v, want shape %v values %v", w.name, g, w.shape, w.want)
		}
	}
	ints := []struct {
		name string
		want []int32
	}{
		{"i32", []int32{-1, 7}},
		{"u16int", []int32{3, 4}}, // Math.round(2.5) = 3, Math.round(3.75) = 4
	}
	for _, w := range ints {
		if g := got[w.name]; g == nil || !slices.Equal(g.I32, w.want) {
			t.Errorf("%s: got %+v, want values %v", w.name, g, w.want)
		}
	}
}

func TestLoadWeightsErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 8), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := func(dtype string, n int, q *quantization) []manifestGroup {
		return []manifestGroup{{Paths: []string{"w.bin"}, Weights: []manifestSpec{{Name: "w", Shape: []int{n}, Dtype: dtype, Quantization: q}}}}
	}
	tests := []struct {
		name   string
		groups []manifestGroup
		want   string
	}{
		{"too few bytes", spec("float32", 3, nil), "needs 12 bytes"},
		{"bytes left over", spec("float32", 1, nil), "its weights take 4 bytes, its files hold 8"},
		{"unknown quantization", spec("float32", 8, &quantization{Dtype: "int4"}), `quantization dtype "int4"`},
		{"uint8 without scale", spec("float32", 8, &quantization{Dtype: "uint8"}), "without scale and min"},
		{"float16 int32", spec("int32", 4, &quantization{Dtype: "float16"}), "float16 quantization of a int32"},
		{"string dtype", spec("string", 1, nil), `dtype "string"`},
		{"missing file", []manifestGroup{{Paths: []string{"nope.bin"}}}, "nope.bin"},
		{"path outside", []manifestGroup{{Paths: []string{"../w.bin"}}}, "leaves the model's folder"},
		{"duplicate", []manifestGroup{{Paths: []string{"w.bin"}, Weights: []manifestSpec{
			{Name: "w", Shape: []int{1}, Dtype: "float32"}, {Name: "w", Shape: []int{1}, Dtype: "float32"}}}}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := loadWeights(dir, tt.groups)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
