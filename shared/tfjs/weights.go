package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// manifestGroup is one entry of a tfjs weights manifest: the weights stored,
// in order, in the concatenation of the files named by Paths.
type manifestGroup struct {
	Paths   []string       `json:"paths"`
	Weights []manifestSpec `json:"weights"`
}

// manifestSpec describes one weight tensor in a manifest.
type manifestSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	Dtype        string        `json:"dtype"`
	Quantization *quantization `json:"quantization,omitempty"`
}

// quantization is tfjs's weight quantization: uint8/uint16 values q stand for
// q*Scale+Min; float16 values are IEEE half floats.
type quantization struct {
	Dtype string   `json:"dtype"`
	Scale *float64 `json:"scale,omitempty"`
	Min   *float64 `json:"min,omitempty"`
}

// tensor is a decoded weight: exactly one of F32 or I32 is set, by Dtype.
type tensor struct {
	Name  string
	Dtype string // "float32" or "int32"
	Shape []int
	F32   []float32
	I32   []int32
}

// numElements returns the product of shape (1 for a scalar) or an error if a
// dimension is negative or the product overflows.
func numElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt32/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

// loadWeights reads the weight files of a manifest (paths relative to dir)
// and decodes every weight, as tfjs's io.decodeWeights does. It returns the
// weights by name, and their names in manifest order.
func loadWeights(dir string, groups []manifestGroup) (map[string]*tensor, []string, error) {
	out := make(map[string]*tensor)
	var order []string
	for gi, g := range groups {
		var data []byte
		for _, p := range g.Paths {
			local := filepath.FromSlash(p)
			if !filepath.IsLocal(local) {
				return nil, nil, fmt.Errorf("weights manifest group %d: path %q leaves the model's folder", gi, p)
			}
			b, err := os.ReadFile(filepath.Join(dir, local))
			if err != nil {
				return nil, nil, fmt.Errorf("weights manifest group %d: %w", gi, err)
			}
			data = append(data, b...)
		}
		off := 0
		for _, spec := range g.Weights {
			if _, dup := out[spec.Name]; dup {
				return nil, nil, fmt.Errorf("weight %q is listed twice", spec.Name)
			}
			t, n, err := decodeWeight(spec, data[off:])
			if err != nil {
				return nil, nil, err
			}
			off += n
			out[spec.Name] = t
			order = append(order, spec.Name)
		}
		if off != len(data) {
			return nil, nil, fmt.Errorf("weights manifest group %d: its weights take %d bytes, its files hold %d", gi, off, len(data))
		}
	}
	return out, order, nil
}

// decodeWeight decodes one weight from the start of data and returns it with
// the number of bytes it took.
func decodeWeight(spec manifestSpec, data []byte) (*tensor, int, error) {
	n, err := numElements(spec.Shape)
	if err != nil {
		return nil, 0, fmt.Errorf("weight %q: %w", spec.Name, err)
	}
	t := &tensor{Name: spec.Name, Dtype: spec.Dtype, Shape: append([]int(nil), spec.Shape...)}
	if spec.Dtype != "float32" && spec.Dtype != "int32" {
		return nil, 0, fmt.Errorf("weight %q: dtype %q is not supported (want float32 or int32)", spec.Name, spec.Dtype)
	}
	need := func(size int) error {
		if len(data) < n*size {
			return fmt.Errorf("weight %q: needs %d bytes, only %d left in its weight files", spec.Name, n*size, len(data))
		}
		return nil
	}
	q := spec.Quantization
	if q == nil {
		if err := need(4); err != nil {
			return nil, 0, err
		}
		if spec.Dtype == "float32" {
			t.F32 = make([]float32, n)
			for i := range t.F32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
		} else {
			t.I32 = make([]int32, n)
			for i := range t.I32 {
				t.I32[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
			}
		}
		return t, 4 * n, nil
	}
	switch q.Dtype {
	case "uint8", "uint16":
		if q.Scale == nil || q.Min == nil {
			return nil, 0, fmt.Errorf("weight %q: %s quantization without scale and min", spec.Name, q.Dtype)
		}
		size := 1
		if q.Dtype == "uint16" {
			size = 2
		}
		if err := need(size); err != nil {
			return nil, 0, err
		}
		raw := make([]uint16, n)
		for i := range raw {
			if size == 1 {
				raw[i] = uint16(data[i])
			} else {
				raw[i] = binary.LittleEndian.Uint16(data[2*i:])
			}
		}
		if spec.Dtype == "float32" {
			t.F32 = dequantizeAffine(raw, *q.Scale, *q.Min)
		} else {
			t.I32 = make([]int32, n)
			for i, v := range raw {
				// JavaScript's Math.round: halves round up.
				t.I32[i] = int32(math.Floor(float64(float64(v)**q.Scale) + *q.Min + 0.5))
			}
		}
		return t, size * n, nil
	case "float16":
		if spec.Dtype != "float32" {
			return nil, 0, fmt.Errorf("weight %q: float16 quantization of a %s weight is not supported", spec.Name, spec.Dtype)
		}
		if err := need(2); err != nil {
			return nil, 0, err
		}
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = halfToFloat32(binary.LittleEndian.Uint16(data[2*i:]))
		}
		return t, 2 * n, nil
	default:
		return nil, 0, fmt.Errorf("weight %q: quantization dtype %q is not supported (want uint8, uint16 or float16)", spec.Name, q.Dtype)
	}
}

// dequantizeAffine returns q*scale+min for each value, computed in float64
// and rounded to float32, exactly as tfjs does (JavaScript numbers stored
// into a Float32Array).
func dequantizeAffine(q []uint16, scale, min float64) []float32 {
	out := make([]float32, len(q))
	for i, v := range q {
		// The explicit float64 conversion keeps the compiler from fusing the
		// multiply and add (FMA), which would round differently from tfjs.
		out[i] = float32(float64(float64(v)*scale) + min)
	}
	return out
}

// halfToFloat32 converts IEEE 754 binary16 bits to a float32 (exactly;
// subnormals, infinities and NaNs included).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// Subnormal: normalize the mantissa.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// flexInt is an integer that JSON may carry as a number or as a string (as
// TensorFlow's JSON protobuf encoding does for int64).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*f = flexInt(v)
	return nil
}

// readManifestFile parses a weights manifest file (a JSON array of groups).
func readManifestFile(path string) ([]manifestGroup, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var groups []manifestGroup
	if err := json.Unmarshal(b, &groups); err != nil {
		return nil, fmt.Errorf("%s: not a tfjs weights manifest: %w", path, err)
	}
	return groups, nil
}
