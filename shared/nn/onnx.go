package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX TensorProto data types this package reads.
const (
	TypeFloat = 1
	TypeInt32 = 6
	TypeInt64 = 7
)

// ONNX AttributeProto types.
const (
	AttrFloat   = 1
	AttrInt     = 2
	AttrString  = 3
	AttrTensor  = 4
	AttrFloats  = 6
	AttrInts    = 7
	AttrStrings = 8
)

// Tensor is a constant tensor (an initializer or a tensor attribute).
// Float tensors fill Float, integer ones (int32, int64) fill Int.
type Tensor struct {
	Name     string
	Dims     []int64
	DataType int32
	Float    []float32
	Int      []int64
}

// Size is the number of elements the dims describe.
func (t *Tensor) Size() int {
	n := 1
	for _, d := range t.Dims {
		n *= int(d)
	}
	return n
}

// Attribute is one node attribute.
type Attribute struct {
	Name   string
	Type   int32
	F      float32
	I      int64
	S      []byte
	T      *Tensor
	Floats []float32
	Ints   []int64
}

// Node is one graph node.
type Node struct {
	Name, OpType, Domain string
	Inputs, Outputs      []string
	Attrs                map[string]*Attribute
}

// ValueInfo names a graph input or output with its element type and shape;
// a dimension that is symbolic or unknown is -1.
type ValueInfo struct {
	Name     string
	ElemType int32
	Shape    []int64
}

// Graph is the part of an ONNX ModelProto that this package runs.
type Graph struct {
	Name         string
	Opset        int64 // the default domain's opset version
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo // graph inputs, initializers excluded
	Outputs      []ValueInfo
}

var errTruncated = errors.New("nn: truncated protobuf")

// fields walks the protobuf message b, calling f for every field; for
// bytes fields v is the payload, for varints n the value, for fixed32 and
// fixed64 n holds the bits.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return errTruncated
		}
		b = b[l:]
		var (
			v []byte
			n uint64
		)
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, l = protowire.ConsumeFixed32(b)
			n = uint64(x)
		case protowire.Fixed64Type:
			n, l = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return errTruncated
		}
		b = b[l:]
		if err := f(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}

// appendInts reads a repeated int64 (or int32) field, packed or not.
func appendInts(dst []int64, typ protowire.Type, v []byte, n uint64) ([]int64, error) {
	if typ == protowire.VarintType {
		return append(dst, int64(n)), nil
	}
	if typ != protowire.BytesType {
		return dst, fmt.Errorf("nn: integer field of wire type %d", typ)
	}
	for len(v) > 0 {
		x, l := protowire.ConsumeVarint(v)
		if l < 0 {
			return dst, errTruncated
		}
		dst = append(dst, int64(x))
		v = v[l:]
	}
	return dst, nil
}

// appendFloats reads a repeated float field, packed or not.
func appendFloats(dst []float32, typ protowire.Type, v []byte, n uint64) ([]float32, error) {
	if typ == protowire.Fixed32Type {
		return append(dst, math.Float32frombits(uint32(n))), nil
	}
	if typ != protowire.BytesType || len(v)%4 != 0 {
		return dst, fmt.Errorf("nn: float field of wire type %d, %d bytes", typ, len(v))
	}
	for i := 0; i < len(v); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(v[i:])))
	}
	return dst, nil
}

// Parse reads an ONNX model's graph. Only what Model needs is kept: nodes,
// initializers (float32, int32 and int64; raw_data or typed fields), graph
// inputs and outputs, and the default domain's opset. Sub-graphs, external
// data and sparse initializers are rejected.
func Parse(data []byte) (*Graph, error) {
	g := &Graph{}
	var graph []byte
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case 7: // graph
			graph = v
		case 8: // opset_import
			var domain string
			var version int64
			if err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				switch num {
				case 1:
					domain = string(v)
				case 2:
					version = int64(n)
				}
				return nil
			}); err != nil {
				return err
			}
			if domain == "" || domain == "ai.onnx" {
				g.Opset = version
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, errors.New("nn: model has no graph")
	}
	var inputs []ValueInfo
	err = fields(graph, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case 1:
			nd, err := parseNode(v)
			if err != nil {
				return err
			}
			g.Nodes = append(g.Nodes, nd)
		case 2:
			g.Name = string(v)
		case 5:
			t, err := parseTensor(v)
			if err != nil {
				return err
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12:
			vi, err := parseValueInfo(v)
			if err != nil {
				return err
			}
			if num == 11 {
				inputs = append(inputs, vi)
			} else {
				g.Outputs = append(g.Outputs, vi)
			}
		case 15:
			return errors.New("nn: sparse initializers are not supported")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Older exporters list the initializers among the inputs too.
	inits := map[string]bool{}
	for _, t := range g.Initializers {
		inits[t.Name] = true
	}
	for _, in := range inputs {
		if !inits[in.Name] {
			g.Inputs = append(g.Inputs, in)
		}
	}
	return g, nil
}

func parseNode(b []byte) (*Node, error) {
	nd := &Node{Attrs: map[string]*Attribute{}}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case 1:
			nd.Inputs = append(nd.Inputs, string(v))
		case 2:
			nd.Outputs = append(nd.Outputs, string(v))
		case 3:
			nd.Name = string(v)
		case 4:
			nd.OpType = string(v)
		case 5:
			a, err := parseAttribute(v)
			if err != nil {
				return err
			}
			nd.Attrs[a.Name] = a
		case 7:
			nd.Domain = string(v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nn: node: %w", err)
	}
	return nd, nil
}

func parseAttribute(b []byte) (*Attribute, error) {
	a := &Attribute{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		var err error
		switch num {
		case 1:
			a.Name = string(v)
		case 2:
			a.F = math.Float32frombits(uint32(n))
		case 3:
			a.I = int64(n)
		case 4:
			a.S = v
		case 5:
			a.T, err = parseTensor(v)
		case 6, 11:
			return errors.New("sub-graphs are not supported")
		case 7:
			a.Floats, err = appendFloats(a.Floats, typ, v, n)
		case 8:
			a.Ints, err = appendInts(a.Ints, typ, v, n)
		case 20:
			a.Type = int32(n)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
	}
	return a, nil
}

func parseTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	var raw []byte
	hasRaw := false
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		var err error
		switch num {
		case 1:
			t.Dims, err = appendInts(t.Dims, typ, v, n)
		case 2:
			t.DataType = int32(n)
		case 4:
			t.Float, err = appendFloats(t.Float, typ, v, n)
		case 5, 7:
			t.Int, err = appendInts(t.Int, typ, v, n)
			if num == 5 {
				for i, x := range t.Int { // int32 values are sign-extended varints
					t.Int[i] = int64(int32(x))
				}
			}
		case 8:
			t.Name = string(v)
		case 9:
			raw, hasRaw = v, true
		case 13, 14:
			if num == 13 || n != 0 {
				return errors.New("external data is not supported")
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nn: tensor %q: %w", t.Name, err)
	}
	size := t.Size()
	if hasRaw {
		switch t.DataType {
		case TypeFloat:
			if len(raw) != 4*size {
				return nil, fmt.Errorf("nn: tensor %q: %d raw bytes for %d floats", t.Name, len(raw), size)
			}
			t.Float = make([]float32, size)
			for i := range t.Float {
				t.Float[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case TypeInt32:
			if len(raw) != 4*size {
				return nil, fmt.Errorf("nn: tensor %q: %d raw bytes for %d int32s", t.Name, len(raw), size)
			}
			t.Int = make([]int64, size)
			for i := range t.Int {
				t.Int[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		case TypeInt64:
			if len(raw) != 8*size {
				return nil, fmt.Errorf("nn: tensor %q: %d raw bytes for %d int64s", t.Name, len(raw), size)
			}
			t.Int = make([]int64, size)
			for i := range t.Int {
				t.Int[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		default:
			return nil, fmt.Errorf("nn: tensor %q: data type %d is not supported", t.Name, t.DataType)
		}
	}
	switch t.DataType {
	case TypeFloat:
		if len(t.Float) != size {
			return nil, fmt.Errorf("nn: tensor %q: %d floats for dims %v", t.Name, len(t.Float), t.Dims)
		}
	case TypeInt32, TypeInt64:
		if len(t.Int) != size {
			return nil, fmt.Errorf("nn: tensor %q: %d ints for dims %v", t.Name, len(t.Int), t.Dims)
		}
	default:
		return nil, fmt.Errorf("nn: tensor %q: data type %d is not supported", t.Name, t.DataType)
	}
	return t, nil
}

func parseValueInfo(b []byte) (ValueInfo, error) {
	vi := ValueInfo{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case 1:
			vi.Name = string(v)
		case 2: // TypeProto
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				if num != 1 { // tensor_type only
					return nil
				}
				return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
					switch num {
					case 1:
						vi.ElemType = int32(n)
					case 2: // TensorShapeProto
						vi.Shape = []int64{}
						return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
							if num != 1 {
								return nil
							}
							d := int64(-1)
							if err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
								if num == 1 {
									d = int64(n)
								}
								return nil
							}); err != nil {
								return err
							}
							vi.Shape = append(vi.Shape, d)
							return nil
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return vi, fmt.Errorf("nn: value info %q: %w", vi.Name, err)
	}
	return vi, nil
}
