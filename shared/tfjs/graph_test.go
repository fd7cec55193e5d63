package tfjs

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// This file tests ConvertGraphModel on small graph models it writes itself,
// against a plain NHWC forward pass in float64.

// Attribute values in tfjs's JSON form.
func aS(s string) map[string]any { return map[string]any{"s": []byte(s)} } // []byte marshals as base64
func aB(b bool) map[string]any   { return map[string]any{"b": b} }
func aInts(v ...int) map[string]any {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return map[string]any{"list": map[string]any{"i": s}}
}
func aStrings(v ...string) map[string]any {
	b := make([][]byte, len(v))
	for i, x := range v {
		b[i] = []byte(x)
	}
	return map[string]any{"list": map[string]any{"s": b}}
}
func aShape(dims ...int) map[string]any {
	d := make([]map[string]any, len(dims))
	for i, x := range dims {
		d[i] = map[string]any{"size": strconv.Itoa(x)}
	}
	return map[string]any{"shape": map[string]any{"dim": d}}
}

var aFloat = map[string]any{"type": "DT_FLOAT"}

type jsNode struct {
	Name  string         `json:"name"`
	Op    string         `json:"op"`
	Input []string       `json:"input,omitempty"`
	Attr  map[string]any `json:"attr,omitempty"`
}

// testModel is a graph model under construction: its nodes, and its weights
// as manifest specs and bytes.
type testModel struct {
	format string
	nodes  []jsNode
	specs  []manifestSpec
	data   []byte
}

func newTestModel(h, w, c int) *testModel {
	m := &testModel{format: "graph-model"}
	m.nodes = append(m.nodes, jsNode{Name: "x", Op: "Placeholder", Attr: map[string]any{
		"dtype": aFloat, "shape": aShape(-1, h, w, c)}})
	return m
}

func (m *testModel) node(name, op string, inputs []string, attr map[string]any) string {
	m.nodes = append(m.nodes, jsNode{Name: name, Op: op, Input: inputs, Attr: attr})
	return name
}

// float32Const adds a float32 weight.
func (m *testModel) float32Const(name string, shape []int, v []float64) string {
	for _, f := range v {
		m.data = append(m.data, le32(math.Float32bits(float32(f)))...)
	}
	m.specs = append(m.specs, manifestSpec{Name: name, Shape: shape, Dtype: "float32"})
	return m.node(name, "Const", nil, map[string]any{"dtype": aFloat})
}

// float16Const adds a float16-quantized weight; v must be exact halves.
func (m *testModel) float16Const(name string, shape []int, v []float64) string {
	for _, f := range v {
		m.data = append(m.data, le16(float32ToHalf(float32(f)))...)
	}
	m.specs = append(m.specs, manifestSpec{Name: name, Shape: shape, Dtype: "float32", Quantization: &quantization{Dtype: "float16"}})
	return m.node(name, "Const", nil, map[string]any{"dtype": aFloat})
}

// uint8Const adds a uint8-quantized weight with values q*scale+min.
func (m *testModel) uint8Const(name string, shape []int, q []byte, scale, min float64) string {
	m.data = append(m.data, q...)
	m.specs = append(m.specs, manifestSpec{Name: name, Shape: shape, Dtype: "float32",
		Quantization: &quantization{Dtype: "uint8", Scale: &scale, Min: &min}})
	return m.node(name, "Const", nil, map[string]any{"dtype": aFloat})
}

func (m *testModel) int32Const(name string, v ...int32) string {
	for _, x := range v {
		m.data = append(m.data, le32(uint32(x))...)
	}
	m.specs = append(m.specs, manifestSpec{Name: name, Shape: []int{len(v)}, Dtype: "int32"})
	return m.node(name, "Const", nil, map[string]any{"dtype": map[string]any{"type": "DT_INT32"}})
}

// write saves model.json and its weights in a new temporary folder.
func (m *testModel) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	doc := map[string]any{
		"format":          m.format,
		"modelTopology":   map[string]any{"node": m.nodes},
		"weightsManifest": []manifestGroup{{Paths: []string{"weights.bin"}, Weights: m.specs}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), m.data, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func convAttrs(stride, dilation int, padding string, fused ...string) map[string]any {
	a := map[string]any{
		"T": aFloat, "data_format": aS("NHWC"), "padding": aS(padding),
		"strides": aInts(1, stride, stride, 1), "dilations": aInts(1, dilation, dilation, 1),
	}
	if len(fused) > 0 {
		a["fused_ops"] = aStrings(fused...)
		a["num_args"] = map[string]any{"i": "1"}
	}
	return a
}

// nhwc is a float64 NHWC tensor with batch 1.
type nhwc struct {
	h, w, c int
	v       []float64
}

func (x nhwc) at(y, i, c int) float64 { return x.v[(y*x.w+i)*x.c+c] }

// tfSame is TensorFlow's SAME padding, written out again independently of
// window: ceil(in/stride) outputs, the smaller half of the padding first.
func tfSame(in, k, stride, dilation int) (out, before int) {
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+(k-1)*dilation+1-in, 0)
	return out, total / 2
}

func tfOut(padding string, in, k, stride, dilation int) (out, before int) {
	if padding == "SAME" {
		return tfSame(in, k, stride, dilation)
	}
	return (in-(k-1)*dilation-1)/stride + 1, 0
}

// refConv is a TensorFlow conv (HWIO filter) or, with depthwise, a
// depthwise conv ([H, W, C, M] filter).
func refConv(x nhwc, f []float64, kh, kw, fo int, bias []float64, stride, dil int, padding string, depthwise bool) nhwc {
	oh, ph := tfOut(padding, x.h, kh, stride, dil)
	ow, pw := tfOut(padding, x.w, kw, stride, dil)
	co := fo
	if depthwise {
		co = x.c * fo
	}
	out := nhwc{h: oh, w: ow, c: co, v: make([]float64, oh*ow*co)}
	for y := range oh {
		for i := range ow {
			for o := range co {
				s := 0.0
				if bias != nil {
					s = bias[o]
				}
				for dy := range kh {
					for dx := range kw {
						sy, sx := y*stride+dy*dil-ph, i*stride+dx*dil-pw
						if sy < 0 || sy >= x.h || sx < 0 || sx >= x.w {
							continue
						}
						if depthwise {
							c, mm := o/fo, o%fo
							s += x.at(sy, sx, c) * f[((dy*kw+dx)*x.c+c)*fo+mm]
						} else {
							for c := range x.c {
								s += x.at(sy, sx, c) * f[((dy*kw+dx)*x.c+c)*fo+o]
							}
						}
					}
				}
				out.v[(y*ow+i)*co+o] = s
			}
		}
	}
	return out
}

func refMaxPool(x nhwc, k, stride int, padding string) nhwc {
	oh, ph := tfOut(padding, x.h, k, stride, 1)
	ow, pw := tfOut(padding, x.w, k, stride, 1)
	out := nhwc{h: oh, w: ow, c: x.c, v: make([]float64, oh*ow*x.c)}
	for y := range oh {
		for i := range ow {
			for c := range x.c {
				m := math.Inf(-1)
				for dy := range k {
					for dx := range k {
						sy, sx := y*stride+dy-ph, i*stride+dx-pw
						if sy >= 0 && sy < x.h && sx >= 0 && sx < x.w {
							m = max(m, x.at(sy, sx, c))
						}
					}
				}
				out.v[(y*ow+i)*x.c+c] = m
			}
		}
	}
	return out
}

func refRelu(x nhwc) nhwc {
	out := nhwc{h: x.h, w: x.w, c: x.c, v: make([]float64, len(x.v))}
	for i, f := range x.v {
		out.v[i] = max(f, 0)
	}
	return out
}

func refSoftmax(v []float64) []float64 {
	m := math.Inf(-1)
	for _, f := range v {
		m = max(m, f)
	}
	sum := 0.0
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = math.Exp(f - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// randoms returns n values k/16 (k in -16..16), exact as float16.
func randoms(r *splitmix64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(int(r.next()%33)-16) / 16
	}
	return v
}

// TestConvertSmallGraph converts a small graph model that uses every
// supported op (odd sizes, so SAME padding is asymmetric; stride 2;
// dilation 2; a channel multiplier of 2; float32, float16 and uint8
// weights) and compares onnxruntime's output with a float64 forward pass.
func TestConvertSmallGraph(t *testing.T) {
	for _, keepDims := range []bool{false, true} {
		t.Run("keep_dims="+strconv.FormatBool(keepDims), func(t *testing.T) {
			const h, w, c = 7, 6, 2
			r := splitmix64(42)
			m := newTestModel(h, w, c)

			w1 := randoms(&r, 3*3*c*4)
			b1 := randoms(&r, 4)
			m.float16Const("w1", []int{3, 3, c, 4}, w1)
			m.float32Const("b1", []int{4}, b1)
			c1 := m.node("c1", "_FusedConv2D", []string{"x", "w1", "b1"}, convAttrs(2, 1, "SAME", "BiasAdd", "Relu"))

			q := make([]byte, 3*3*4*2)
			d1 := make([]float64, len(q))
			for i := range q {
				q[i] = byte(r.next())
				d1[i] = float64(q[i])*0.03125 - 4
			}
			m.uint8Const("d1w", []int{3, 3, 4, 2}, q, 0.03125, -4)
			dw := m.node("d1", "DepthwiseConv2dNative", []string{c1, "d1w"}, convAttrs(1, 2, "SAME"))

			w2, b2 := randoms(&r, 8*4), randoms(&r, 4)
			m.float32Const("w2", []int{1, 1, 8, 4}, w2)
			m.float32Const("b2", []int{4}, b2)
			c2 := m.node("c2", "_FusedConv2D", []string{dw, "w2", "b2:0"}, convAttrs(1, 1, "VALID", "BiasAdd"))
			p := m.node("p", "MaxPool", []string{c2}, map[string]any{
				"T": aFloat, "data_format": aS("NHWC"), "padding": aS("SAME"),
				"ksize": aInts(1, 3, 3, 1), "strides": aInts(1, 2, 2, 1)})

			w3, b3 := randoms(&r, 4*4), randoms(&r, 4)
			m.float32Const("w3", []int{1, 1, 4, 4}, w3)
			m.float32Const("b3", []int{4}, b3)
			c3 := m.node("c3", "_FusedConv2D", []string{c1, "w3", "b3", "^p"}, convAttrs(2, 1, "SAME", "BiasAdd"))
			sum := m.node("sum", "AddV2", []string{p, c3}, map[string]any{"T": aFloat})
			relu := m.node("relu", "Relu", []string{sum}, map[string]any{"T": aFloat})
			id := m.node("id", "Identity", []string{relu}, map[string]any{"T": aFloat})
			m.int32Const("axes", 2, -3)
			mean := m.node("mean", "Mean", []string{id, "axes"}, map[string]any{"T": aFloat, "keep_dims": aB(keepDims)})
			sm := m.node("sm", "Softmax", []string{mean}, map[string]any{"T": aFloat})
			m.node("out", "Identity", []string{sm}, nil)

			model, err := ConvertGraphModel(m.write(t))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}

			x := nhwc{h: h, w: w, c: c, v: make([]float64, h*w*c)}
			in := make([]float32, len(x.v))
			for i := range in {
				in[i] = float32(int(r.next()%201)-100) / 64
				x.v[i] = float64(in[i])
			}
			y1 := refRelu(refConv(x, w1, 3, 3, 4, b1, 2, 1, "SAME", false))
			y2 := refConv(refConv(y1, d1, 3, 3, 2, nil, 1, 2, "SAME", true), w2, 1, 1, 4, b2, 1, 1, "VALID", false)
			y3 := refMaxPool(y2, 3, 2, "SAME")
			y4 := refConv(y1, w3, 1, 1, 4, b3, 2, 1, "SAME", false)
			for i := range y3.v {
				y3.v[i] += y4.v[i]
			}
			y5 := refRelu(y3)
			means := make([]float64, y5.c)
			for i, f := range y5.v {
				means[i%y5.c] += f / float64(y5.h*y5.w)
			}
			want := refSoftmax(means)

			shape := []int64{1, h, w, c}
			got := runONNX(t, model, shape, in)
			if d := maxAbsDiff(got, want); d > 1e-5 {
				t.Errorf("got %v, want %v (max abs difference %.3g)", got, want, d)
			}
			wantShape := "[probs [1 4]]"
			if keepDims {
				wantShape = "[probs [1 1 1 4]]" // transposed back to NHWC
			}
			if got := ioString(parseModel(t, model).Graph.Output); got != wantShape {
				t.Errorf("output: got %s, want %s", got, wantShape)
			}
		})
	}
}

// TestConvertRefuses checks that what ConvertGraphModel does not handle is
// refused with an error that names it.
func TestConvertRefuses(t *testing.T) {
	conv := func(m *testModel, attr map[string]any) {
		m.float32Const("w", []int{1, 1, 1, 2}, []float64{1, 2})
		m.float32Const("b", []int{2}, []float64{0, 0})
		m.node("c", "_FusedConv2D", []string{"x", "w", "b"}, attr)
	}
	tests := []struct {
		name  string
		build func(m *testModel)
		want  string
	}{
		{"unsupported op", func(m *testModel) {
			m.node("s", "Sigmoid", []string{"x"}, map[string]any{"T": aFloat})
		}, `unsupported op "Sigmoid"`},
		{"unsupported fused op", func(m *testModel) {
			conv(m, convAttrs(1, 1, "SAME", "BiasAdd", "Relu6"))
		}, "Relu6"},
		{"NCHW", func(m *testModel) {
			a := convAttrs(1, 1, "SAME", "BiasAdd")
			a["data_format"] = aS("NCHW")
			conv(m, a)
		}, `data_format "NCHW"`},
		{"explicit padding", func(m *testModel) {
			conv(m, convAttrs(1, 1, "EXPLICIT", "BiasAdd"))
		}, `padding "EXPLICIT"`},
		{"layers model", func(m *testModel) {
			m.format = "layers-model"
		}, `format "layers-model"`},
		{"dynamic input", func(m *testModel) {
			m.nodes[0].Attr["shape"] = aShape(-1, -1, -1, 1)
			m.node("r", "Relu", []string{"x"}, nil)
		}, "must be static"},
		{"mean over channels", func(m *testModel) {
			m.int32Const("axes", 3)
			m.node("mean", "Mean", []string{"x", "axes"}, nil)
		}, "mean over axes [3]"},
		{"int input", func(m *testModel) {
			m.nodes[0].Attr["dtype"] = map[string]any{"type": "DT_INT32"}
			m.node("r", "Relu", []string{"x"}, nil)
		}, "DT_INT32"},
		{"missing weight", func(m *testModel) {
			m.node("k", "Const", nil, nil)
			m.node("a", "AddV2", []string{"x", "k"}, nil)
		}, `no weight named "k"`},
		{"dangling input", func(m *testModel) {
			m.node("r", "Relu", []string{"nope"}, nil)
		}, `reads "nope"`},
		{"two outputs", func(m *testModel) {
			m.node("r1", "Relu", []string{"x"}, nil)
			m.node("r2", "Relu", []string{"x"}, nil)
		}, "want exactly one output, found 2"},
		{"second output of a node", func(m *testModel) {
			m.node("r", "Relu", []string{"x:1"}, nil)
		}, "only a node's first output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(4, 4, 1)
			tt.build(m)
			_, err := ConvertGraphModel(m.write(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
