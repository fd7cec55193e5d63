package tfjs

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// Fixed model header fields: no timestamps, no paths, so that the same
// weights always give byte-identical models.
const (
	opsetVersion    = 13
	irVersion       = 7 // the IR version that goes with opset 13
	producerName    = "igemoji-tfjs"
	producerVersion = "1"
)

// value is a tensor of the ONNX graph being built, with its static shape. A
// 4-D activation is always held in NCHW layout.
type value struct {
	name  string
	shape []int64
}

// builder accumulates an ONNX graph in the order its nodes are added.
type builder struct {
	nodes  []*onnx.NodeProto
	inits  []*onnx.TensorProto
	input  *onnx.ValueInfoProto
	used   map[string]bool
	consts map[string]value // initializers by name, for reuse
}

func newBuilder() *builder {
	// The model's input and output names are reserved up front, so that no
	// node converted before them can take them.
	return &builder{used: map[string]bool{inputName: true, outputName: true}, consts: make(map[string]value)}
}

// unique returns name, or name with the smallest "_N" suffix that makes it
// unused, and marks it used.
func (b *builder) unique(name string) string {
	n := name
	for i := 1; b.used[n]; i++ {
		n = name + "_" + strconv.Itoa(i)
	}
	b.used[n] = true
	return n
}

// graphInput declares the model's float32 input, named "input".
func (b *builder) graphInput(dims []int64) value {
	b.input = valueInfo(inputName, dims)
	return value{name: inputName, shape: slices.Clone(dims)}
}

// floatConst adds a float32 initializer (or returns the one already added
// under this name).
func (b *builder) floatConst(name string, dims []int64, data []float32) value {
	if v, ok := b.consts[name]; ok {
		return v
	}
	raw := make([]byte, 4*len(data))
	for i, f := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	unique := b.unique(name)
	b.inits = append(b.inits, &onnx.TensorProto{
		Name: unique, Dims: slices.Clone(dims), DataType: int32(onnx.TensorProto_FLOAT), RawData: raw,
	})
	v := value{name: unique, shape: slices.Clone(dims)}
	b.consts[name] = v
	return v
}

// op adds one node with a single output named after the node.
func (b *builder) op(opType, name string, inputs []value, outShape []int64, attrs ...*onnx.AttributeProto) value {
	name = b.unique(name)
	in := make([]string, len(inputs))
	for i, v := range inputs {
		in[i] = v.name
	}
	b.nodes = append(b.nodes, &onnx.NodeProto{
		Name: name, OpType: opType, Input: in, Output: []string{name}, Attribute: attrs,
	})
	return value{name: name, shape: slices.Clone(outShape)}
}

func attrInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func attrInts(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func valueInfo(name string, dims []int64) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{
			Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d},
		})
	}
	return &onnx.ValueInfoProto{
		Name: name,
		Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
			ElemType: int32(onnx.TensorProto_FLOAT), Shape: shape,
		}}},
	}
}

// toNCHW transposes an NHWC input to NCHW.
func (b *builder) toNCHW(name string, x value) (value, error) {
	if len(x.shape) != 4 {
		return value{}, fmt.Errorf("%s: want a 4-D NHWC tensor, got shape %v", name, x.shape)
	}
	s := x.shape
	return b.op("Transpose", name, []value{x}, []int64{s[0], s[3], s[1], s[2]}, attrInts("perm", 0, 3, 1, 2)), nil
}

// toNHWC transposes an NCHW activation back to NHWC.
func (b *builder) toNHWC(name string, x value) value {
	s := x.shape
	return b.op("Transpose", name, []value{x}, []int64{s[0], s[2], s[3], s[1]}, attrInts("perm", 0, 2, 3, 1))
}

// spatial2D is the geometry of a 2-D window op: kernel, strides, dilations
// (each [H, W]) and TensorFlow's padding ("SAME" or "VALID").
type spatial2D struct {
	kernel, strides, dilations [2]int
	padding                    string
}

// geometry returns the output height and width and ONNX's pads attribute
// ([top, left, bottom, right]) for an NCHW input.
func (g spatial2D) geometry(in []int64) (oh, ow int64, pads []int64, err error) {
	if len(in) != 4 {
		return 0, 0, nil, fmt.Errorf("want a 4-D input, got shape %v", in)
	}
	var out [2]int
	var before, after [2]int
	for i := range 2 {
		out[i], before[i], after[i], err = window(g.padding, int(in[2+i]), g.kernel[i], g.strides[i], g.dilations[i])
		if err != nil {
			return 0, 0, nil, err
		}
	}
	return int64(out[0]), int64(out[1]), []int64{int64(before[0]), int64(before[1]), int64(after[0]), int64(after[1])}, nil
}

// conv adds an ONNX Conv. w is OIHW (I = input channels / group); bias may
// be nil.
func (b *builder) conv(name string, x, w value, bias *value, g spatial2D, group int64) (value, error) {
	if len(w.shape) != 4 {
		return value{}, fmt.Errorf("%s: want a 4-D filter, got shape %v", name, w.shape)
	}
	g.kernel = [2]int{int(w.shape[2]), int(w.shape[3])}
	oh, ow, pads, err := g.geometry(x.shape)
	if err != nil {
		return value{}, fmt.Errorf("%s: %w", name, err)
	}
	if x.shape[1] != w.shape[1]*group || w.shape[0]%group != 0 {
		return value{}, fmt.Errorf("%s: filter %v with group %d does not fit input %v", name, w.shape, group, x.shape)
	}
	inputs := []value{x, w}
	if bias != nil {
		if len(bias.shape) != 1 || bias.shape[0] != w.shape[0] {
			return value{}, fmt.Errorf("%s: bias shape %v does not fit filter %v", name, bias.shape, w.shape)
		}
		inputs = append(inputs, *bias)
	}
	return b.op("Conv", name, inputs, []int64{x.shape[0], w.shape[0], oh, ow},
		attrInts("kernel_shape", w.shape[2], w.shape[3]),
		attrInts("strides", int64(g.strides[0]), int64(g.strides[1])),
		attrInts("dilations", int64(g.dilations[0]), int64(g.dilations[1])),
		attrInts("pads", pads...),
		attrInt("group", group),
	), nil
}

// pool adds an ONNX MaxPool or AveragePool. TensorFlow's pooling never
// counts padded cells, which is ONNX's default for both.
func (b *builder) pool(opType, name string, x value, g spatial2D) (value, error) {
	g.dilations = [2]int{1, 1}
	oh, ow, pads, err := g.geometry(x.shape)
	if err != nil {
		return value{}, fmt.Errorf("%s: %w", name, err)
	}
	return b.op(opType, name, []value{x}, []int64{x.shape[0], x.shape[1], oh, ow},
		attrInts("kernel_shape", int64(g.kernel[0]), int64(g.kernel[1])),
		attrInts("strides", int64(g.strides[0]), int64(g.strides[1])),
		attrInts("pads", pads...),
	), nil
}

// add adds two tensors of the same shape.
func (b *builder) add(name string, x, y value) (value, error) {
	if !slices.Equal(x.shape, y.shape) {
		return value{}, fmt.Errorf("%s: adding shapes %v and %v (broadcasting is not supported)", name, x.shape, y.shape)
	}
	return b.op("Add", name, []value{x, y}, x.shape), nil
}

func (b *builder) relu(name string, x value) value {
	return b.op("Relu", name, []value{x}, x.shape)
}

// marshal assembles the model with out as its only output, renamed "probs"
// through an Identity node, and serializes it deterministically.
func (b *builder) marshal(graphName, doc string, out value) ([]byte, error) {
	if b.input == nil {
		return nil, fmt.Errorf("model has no input")
	}
	// outputName was reserved by newBuilder, so no other tensor has it.
	b.nodes = append(b.nodes, &onnx.NodeProto{
		Name: outputName, OpType: "Identity", Input: []string{out.name}, Output: []string{outputName},
	})
	out = value{name: outputName, shape: out.shape}
	m := &onnx.ModelProto{
		IrVersion:       irVersion,
		OpsetImport:     []*onnx.OperatorSetIdProto{{Domain: "", Version: opsetVersion}},
		ProducerName:    producerName,
		ProducerVersion: producerVersion,
		DocString:       doc,
		Graph: &onnx.GraphProto{
			Name:        graphName,
			Node:        b.nodes,
			Initializer: b.inits,
			Input:       []*onnx.ValueInfoProto{b.input},
			Output:      []*onnx.ValueInfoProto{valueInfo(out.name, out.shape)},
		},
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// Names of the converted models' input and output.
const (
	inputName  = "input"
	outputName = "probs"
)

// hwioToOIHW converts a TensorFlow conv filter [H, W, I, O] to ONNX's
// [O, I, H, W].
func hwioToOIHW(t *tensor) ([]int64, []float32, error) {
	if len(t.Shape) != 4 || t.F32 == nil {
		return nil, nil, fmt.Errorf("filter %q: want a 4-D float32 tensor, got %s %v", t.Name, t.Dtype, t.Shape)
	}
	kh, kw, ci, co := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	out := make([]float32, len(t.F32))
	for h := range kh {
		for w := range kw {
			for i := range ci {
				for o := range co {
					out[((o*ci+i)*kh+h)*kw+w] = t.F32[((h*kw+w)*ci+i)*co+o]
				}
			}
		}
	}
	return []int64{int64(co), int64(ci), int64(kh), int64(kw)}, out, nil
}

// depthwiseToOIHW converts a TensorFlow depthwise filter [H, W, C, M]
// (channel multiplier M) to ONNX's grouped-conv filter [C*M, 1, H, W]; output
// channel c*M+m reads input channel c, as in TensorFlow.
func depthwiseToOIHW(t *tensor) ([]int64, []float32, error) {
	if len(t.Shape) != 4 || t.F32 == nil {
		return nil, nil, fmt.Errorf("depthwise filter %q: want a 4-D float32 tensor, got %s %v", t.Name, t.Dtype, t.Shape)
	}
	kh, kw, c, m := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	out := make([]float32, len(t.F32))
	for h := range kh {
		for w := range kw {
			for ci := range c {
				for mi := range m {
					out[((ci*m+mi)*kh+h)*kw+w] = t.F32[((h*kw+w)*c+ci)*m+mi]
				}
			}
		}
	}
	return []int64{int64(c * m), 1, int64(kh), int64(kw)}, out, nil
}

// dims64 converts a shape to int64s.
func dims64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}
