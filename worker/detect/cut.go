package detect

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/advancedclimatesystems/gonnx/onnx"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/igemoji/igemoji/shared/face"
)

// A photo's full frame is letterboxed into the back model's square input:
// a 3:2 photo leaves a third of it black, and the model spends a third of
// its time there. BlazeFace is convolutional up to its last reshapes, so a
// copy of it cut to the rows (or columns) that hold the photo, rounded out
// to its coarsest grid, reads the same photo for less: anchors outside the
// cut see only padding, and the cut's outputs are put back in their
// places in the square's anchor order, the others scored as no face.

// cutGrid is the back model's coarsest stride: a cut starts and ends on it
// so that its anchors fall where the square's do.
const cutGrid = 32

// cutMargin is how many rows (or columns) of the letterbox's black a cut
// keeps beside the photo, at least. Past a cut's edge the model's layers
// pad with zeros, not with what black rows would give them (shiftInput
// mends only the first layer), and that moves weak detections near the
// photo's edges: with no margin the 20-32 px crowd of TestSmallFacesCrowd
// lost two faces and gained a false one, the 40-80 px crowd's full frame
// found 5 faces instead of 12; with 8 every crowd gives what the square
// gives. The price: of the demo photos only sample1 (3:2) is cut; 16:9
// and panoramas are too, 4:3 never (its padding is under one grid row).
const cutMargin = 8

// cut is the part of the square input a pass needs, in input pixels.
type cut struct{ x0, y0, cols, rows int }

// cutFor is the cut of a size×size input filled from win over a w×h image:
// the rows and columns that hold any of the image, widened by cutMargin,
// out to the grid. ok is false when that is the whole square.
func cutFor(win face.Window, w, h, size int) (c cut, ok bool) {
	if size%cutGrid != 0 || !(win.Side > 0) {
		return cut{}, false
	}
	span := func(origin float64, n int) (lo, hi int) {
		k := float64(size) / win.Side
		a := math.Max(0, -origin*k)
		b := math.Min(float64(size), (float64(n)-origin)*k)
		if !(a < b) {
			return 0, size
		}
		if a > 0 {
			a = math.Max(0, a-cutMargin)
		}
		if b < float64(size) {
			b = math.Min(float64(size), b+cutMargin)
		}
		lo = int(math.Floor(a/cutGrid)) * cutGrid
		hi = min(size, int(math.Ceil(b/cutGrid))*cutGrid)
		return lo, hi
	}
	x0, x1 := span(win.X, w)
	y0, y1 := span(win.Y, h)
	c = cut{x0: x0, y0: y0, cols: x1 - x0, rows: y1 - y0}
	return c, c.cols < size || c.rows < size
}

// cutModel rewrites keijiro's BlazeFace back model (input [1,256,256,3])
// for an input of rows×cols: the input's shape, the zero blocks that pad
// channels (ConstantOfShape, sized by the grid they pad), the reshapes to
// anchors (to -1 anchors) and the outputs' shapes; the shapes recorded for
// intermediate values are dropped for onnxruntime to infer.
func cutModel(model []byte, size, rows, cols int) ([]byte, error) {
	var m onnx.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("detect: cut model: %w", err)
	}
	g := m.GetGraph()
	if g == nil || len(g.Input) != 1 || len(g.Output) != 4 {
		return nil, fmt.Errorf("detect: cut model: not the BlazeFace graph")
	}
	in := g.Input[0].GetType().GetTensorType().GetShape().GetDim()
	if len(in) != 4 || in[1].GetDimValue() != int64(size) || in[2].GetDimValue() != int64(size) {
		return nil, fmt.Errorf("detect: cut model: input is not %dx%d", size, size)
	}
	in[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(rows)}
	in[2].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(cols)}
	inits := map[string]*onnx.TensorProto{}
	for _, t := range g.Initializer {
		inits[t.GetName()] = t
	}
	padded, reshaped, first := 0, 0, 0
	for _, n := range g.Node {
		switch n.GetOpType() {
		case "Conv":
			if first++; first == 1 {
				if err := shiftInput(inits, n); err != nil {
					return nil, err
				}
			}
		case "ConstantOfShape":
			t := inits[n.Input[0]]
			dims, err := int64s(t)
			if err != nil || len(dims) != 4 || dims[2] <= 0 || int64(size)%dims[2] != 0 || dims[2] != dims[3] {
				return nil, fmt.Errorf("detect: cut model: padding %s is not a square grid", n.Input[0])
			}
			stride := int64(size) / dims[2]
			if int64(rows)%stride != 0 || int64(cols)%stride != 0 {
				return nil, fmt.Errorf("detect: cut model: %dx%d is not on the %d grid", rows, cols, stride)
			}
			setInt64s(t, []int64{dims[0], dims[1], int64(rows) / stride, int64(cols) / stride})
			padded++
		case "Reshape":
			t := inits[n.Input[1]]
			dims, err := int64s(t)
			if err != nil || len(dims) != 3 {
				return nil, fmt.Errorf("detect: cut model: reshape %s is not to [1 anchors coords]", n.Input[1])
			}
			setInt64s(t, []int64{dims[0], -1, dims[2]})
			reshaped++
		}
	}
	if padded != 2 || reshaped != 4 {
		return nil, fmt.Errorf("detect: cut model: %d channel pads and %d reshapes, want 2 and 4", padded, reshaped)
	}
	for i, o := range g.Output {
		d := o.GetType().GetTensorType().GetShape().GetDim()
		if len(d) != 3 {
			return nil, fmt.Errorf("detect: cut model: output %s is not [1 anchors coords]", o.GetName())
		}
		stride, per := 16, 2 // outputs 0 and 2: the stride-16 grid; 1 and 3: stride 32
		if i%2 == 1 {
			stride, per = 32, 6
		}
		d[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(rows / stride * cols / stride * per)}
	}
	g.ValueInfo = nil
	return proto.MarshalOptions{Deterministic: true}.Marshal(&m)
}

// shiftInput makes the first convolution take its input plus one, so that
// its zero padding past the cut's edges reads as black (-1), as the
// square's letterbox rows would: with bias b - sum(W) per output channel,
// W*(x+1) + b - sum(W) = W*x + b wherever the kernel is inside the cut.
func shiftInput(inits map[string]*onnx.TensorProto, n *onnx.NodeProto) error {
	if len(n.Input) != 3 {
		return fmt.Errorf("detect: cut model: the first convolution has no bias")
	}
	w, b := inits[n.Input[1]], inits[n.Input[2]]
	wv, err := float32s(w)
	if err != nil {
		return fmt.Errorf("detect: cut model: first convolution's weights: %w", err)
	}
	bv, err := float32s(b)
	if err != nil || len(bv) == 0 || len(wv)%len(bv) != 0 {
		return fmt.Errorf("detect: cut model: first convolution's bias")
	}
	per := len(wv) / len(bv)
	for o := range bv {
		var sum float64
		for _, v := range wv[o*per : (o+1)*per] {
			sum += float64(v)
		}
		bv[o] -= float32(sum)
	}
	b.RawData, b.FloatData = nil, bv
	return nil
}

func float32s(t *onnx.TensorProto) ([]float32, error) {
	if t == nil || t.GetDataType() != int32(onnx.TensorProto_FLOAT) {
		return nil, fmt.Errorf("not a float tensor")
	}
	if len(t.FloatData) > 0 {
		return slices.Clone(t.FloatData), nil
	}
	raw := t.GetRawData()
	if len(raw)%4 != 0 {
		return nil, fmt.Errorf("raw data of %d bytes", len(raw))
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}

func int64s(t *onnx.TensorProto) ([]int64, error) {
	if t == nil || t.GetDataType() != int32(onnx.TensorProto_INT64) {
		return nil, fmt.Errorf("not an int64 tensor")
	}
	if len(t.Int64Data) > 0 {
		return t.Int64Data, nil
	}
	raw := t.GetRawData()
	if len(raw)%8 != 0 {
		return nil, fmt.Errorf("raw data of %d bytes", len(raw))
	}
	out := make([]int64, len(raw)/8)
	for i := range out {
		var v uint64
		for b := 7; b >= 0; b-- {
			v = v<<8 | uint64(raw[8*i+b])
		}
		out[i] = int64(v)
	}
	return out, nil
}

func setInt64s(t *onnx.TensorProto, v []int64) {
	t.RawData = nil
	t.Int64Data = v
	t.Dims = []int64{int64(len(v))}
}

// cutSession runs one cut of the model and puts its outputs back in the
// square's anchor order.
type cutSession struct {
	c            cut
	size, coords int
	s            *ort.AdvancedSession
	in           *ort.Tensor[float32]
	outs         [4]*ort.Tensor[float32]
	full         [4][]float32 // the square's four outputs
}

// noFace is the score logit of the anchors a cut leaves out: sigmoid ~0.
const noFace = -100

func (d *Detector) newCutSession(c cut) (*cutSession, error) {
	size := d.spec.Size
	data, err := cutModel(d.model, size, c.rows, c.cols)
	if err != nil {
		return nil, err
	}
	cs := &cutSession{c: c, size: size, coords: d.spec.NumCoords}
	ok := false
	defer func() {
		if !ok {
			cs.destroy()
		}
	}()
	if cs.in, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(c.rows), int64(c.cols), 3)); err != nil {
		return nil, fmt.Errorf("detect: input tensor: %w", err)
	}
	coords := int64(d.spec.NumCoords)
	n16, n32 := int64(c.rows/16*c.cols/16*2), int64(c.rows/32*c.cols/32*6)
	shapes := []ort.Shape{ort.NewShape(1, n16, 1), ort.NewShape(1, n32, 1), ort.NewShape(1, n16, coords), ort.NewShape(1, n32, coords)}
	vals := make([]ort.Value, 4)
	for i, sh := range shapes {
		if cs.outs[i], err = ort.NewEmptyTensor[float32](sh); err != nil {
			return nil, fmt.Errorf("detect: output tensor: %w", err)
		}
		vals[i] = cs.outs[i]
	}
	so, err := d.sessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if cs.s, err = ort.NewAdvancedSessionWithONNXData(data, inputNames, outputNames, []ort.Value{cs.in}, vals, so); err != nil {
		return nil, fmt.Errorf("detect: load cut %dx%d: %w", c.rows, c.cols, err)
	}
	g16, g32 := size/16, size/32
	cs.full = [4][]float32{
		make([]float32, g16*g16*2), make([]float32, g32*g32*6),
		make([]float32, g16*g16*2*d.spec.NumCoords), make([]float32, g32*g32*6*d.spec.NumCoords),
	}
	ok = true
	return cs, nil
}

func (cs *cutSession) destroy() {
	if cs.s != nil {
		cs.s.Destroy()
	}
	if cs.in != nil {
		cs.in.Destroy()
	}
	for _, o := range cs.outs {
		if o != nil {
			o.Destroy()
		}
	}
}

// run is the cut as a face.Model over the square's input.
func (cs *cutSession) run(input []float32) ([][]float32, error) {
	c, size := cs.c, cs.size
	dst := cs.in.GetData()
	for y := range c.rows {
		row := input[((c.y0+y)*size+c.x0)*3:][:c.cols*3]
		out := dst[y*c.cols*3 : (y+1)*c.cols*3]
		for i, v := range row {
			out[i] = v + 1 // see shiftInput
		}
	}
	if err := cs.s.Run(); err != nil {
		return nil, fmt.Errorf("detect: run model: %w", err)
	}
	for i, full := range cs.full {
		stride, width := 16, 2 // values per grid cell: anchors, times coords for regressors
		if i%2 == 1 {
			stride, width = 32, 6
		}
		var fill float32 = noFace
		if i >= 2 {
			width *= cs.coords
			fill = 0
		}
		for j := range full {
			full[j] = fill
		}
		g, cg, rg := size/stride, c.cols/stride, c.rows/stride
		ox, oy := c.x0/stride, c.y0/stride
		src := cs.outs[i].GetData()
		for y := range rg {
			to := ((oy+y)*g + ox) * width
			from := y * cg * width
			copy(full[to:to+cg*width], src[from:from+cg*width])
		}
	}
	return cs.full[:], nil
}
