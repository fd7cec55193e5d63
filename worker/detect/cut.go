package detect

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/igemoji/igemoji/shared/face"
)

// A photo's full frame is letterboxed into the back model's square input:
// a 3:2 photo leaves a third of it black, and the model spends a third of
// its time there. BlazeFace is convolutional up to its last reshapes, so a
// copy of it cut to the rows (or columns) that hold the photo, rounded out
// to its coarsest grid, reads the same photo for less: anchors outside the
// cut see only padding, and the cut's outputs are put back in their
// places in the square's anchor order, the others scored as no face. The
// first convolution reads the rows beside the cut that it would read in
// the square (see cut.input), so it is exact; deeper layers pad the cut's
// edges with zeros where the square has what its black rows give them.

// cutGrid is the back model's coarsest stride: a cut starts and ends on it
// so that its anchors fall where the square's do.
const cutGrid = 32

// cutMargin is how many rows (or columns) of the letterbox's black a cut
// keeps beside the photo, at least. Past a cut's edge the deeper layers
// pad with zeros, not with what black rows would give them, and that
// moves weak detections near the photo's edges: with no margin the 20-32
// px crowd of TestSmallFacesCrowd lost two faces and gained a false one,
// the 40-80 px crowd's full frame found 5 faces instead of 12; with 8
// every crowd gives what the square gives. The price: of the demo photos
// only sample1 (3:2) is cut; 16:9 and panoramas are too, 4:3 never (its
// padding is under one grid row).
const cutMargin = 8

// cut is the part of the square input a pass needs, in input pixels: the
// model's grid cells [x0, x0+cols) × [y0, y0+rows).
type cut struct{ x0, y0, cols, rows int }

// The first convolution (5×5, stride 2) pads its input by 1 before and 2
// after along each axis: output cell i reads input 2i-1 to 2i+3.
const padBefore, padAfter = 1, 2

// input is the part of the square the cut's first convolution reads along
// one axis (origin o, length n, in a square of size): the cut and the
// rows beside it that the square's first convolution would read there,
// as far as the square goes. before and after are the padding the
// convolution still needs past them (the square's own edge).
func input(o, n, size int) (lo, hi, before, after int) {
	lo, hi = max(0, o-padBefore), min(size, o+n+padAfter)
	return lo, hi, padBefore - (o - lo), padAfter - (hi - (o + n))
}

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
// for cut c: the input's shape (the cut and the rows and columns beside
// it that the first convolution reads, see input), that convolution's
// padding, the zero blocks that pad channels (ConstantOfShape, sized by
// the grid they pad), the reshapes to anchors (to -1 anchors) and the
// outputs' shapes; the shapes recorded for intermediate values are dropped
// for onnxruntime to infer.
func cutModel(model []byte, size int, c cut) ([]byte, error) {
	rows, cols := c.rows, c.cols
	if rows <= 0 || cols <= 0 || rows%cutGrid != 0 || cols%cutGrid != 0 || c.x0%cutGrid != 0 || c.y0%cutGrid != 0 ||
		c.x0 < 0 || c.y0 < 0 || c.x0+cols > size || c.y0+rows > size {
		return nil, fmt.Errorf("detect: cut model: %+v is not on the %d grid of %d", c, cutGrid, size)
	}
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
	y0, y1, top, bottom := input(c.y0, rows, size)
	x0, x1, left, right := input(c.x0, cols, size)
	in[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(y1 - y0)}
	in[2].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(x1 - x0)}
	inits := map[string]*onnx.TensorProto{}
	for _, t := range g.Initializer {
		inits[t.GetName()] = t
	}
	padded, reshaped, first := 0, 0, 0
	for _, n := range g.Node {
		switch n.GetOpType() {
		case "Conv":
			if first++; first == 1 {
				if err := setPads(n, []int64{padBefore, padBefore, padAfter, padAfter}, []int64{int64(top), int64(left), int64(bottom), int64(right)}); err != nil {
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
	if first == 0 || padded != 2 || reshaped != 4 {
		return nil, fmt.Errorf("detect: cut model: %d convolutions, %d channel pads and %d reshapes, want some, 2 and 4", first, padded, reshaped)
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

// setPads gives the first convolution the padding pads, checking that it
// is the 5×5, stride-2 one padded as was that input expects.
func setPads(n *onnx.NodeProto, was, pads []int64) error {
	var kernel, strides, old []int64
	var attr *onnx.AttributeProto
	for _, a := range n.Attribute {
		switch a.GetName() {
		case "kernel_shape":
			kernel = a.Ints
		case "strides":
			strides = a.Ints
		case "pads":
			old, attr = a.Ints, a
		}
	}
	if attr == nil || !slices.Equal(kernel, []int64{5, 5}) || !slices.Equal(strides, []int64{2, 2}) || !slices.Equal(old, was) {
		return fmt.Errorf("detect: cut model: the first convolution is not 5x5, stride 2, padded %v", was)
	}
	attr.Ints = pads
	return nil
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

var errCutFailed = errors.New("the model could not be cut so")

// cutSession runs one cut of the model and puts its outputs back in the
// square's anchor order.
type cutSession struct {
	bound
	c            cut
	size, coords int
	full         [4][]float32 // the square's four outputs
}

// noFace is the score logit of the anchors a cut leaves out: sigmoid ~0.
const noFace = -100

// newCutSession loads cut c, rewriting the model once per Detector and
// cut; a cut that failed once is not tried again.
func (d *Detector) newCutSession(c cut) (cs *cutSession, err error) {
	size := d.spec.Size
	d.cutMu.Lock()
	data, seen := d.cutModels[c]
	if !seen {
		if data, err = cutModel(d.model, size, c); err != nil {
			data = nil
		}
		d.cutModels[c] = data
	}
	d.cutMu.Unlock()
	if data == nil {
		return nil, fmt.Errorf("detect: cut %+v: %w", c, errCutFailed)
	}
	defer func() {
		if err != nil {
			d.cutMu.Lock()
			d.cutModels[c] = nil
			d.cutMu.Unlock()
		}
	}()
	y0, y1, _, _ := input(c.y0, c.rows, size)
	x0, x1, _, _ := input(c.x0, c.cols, size)
	b, err := d.bind(data, y1-y0, x1-x0, int64(c.rows/16*c.cols/16*2), int64(c.rows/32*c.cols/32*6))
	if err != nil {
		return nil, fmt.Errorf("detect: cut %+v: %w", c, err)
	}
	x := &cutSession{bound: b, c: c, size: size, coords: d.spec.NumCoords}
	g16, g32 := size/16, size/32
	x.full = [4][]float32{
		make([]float32, g16*g16*2), make([]float32, g32*g32*6),
		make([]float32, g16*g16*2*d.spec.NumCoords), make([]float32, g32*g32*6*d.spec.NumCoords),
	}
	return x, nil
}

// run is the cut as a face.Model over the square's input.
func (cs *cutSession) run(square []float32) ([][]float32, error) {
	c, size := cs.c, cs.size
	y0, y1, _, _ := input(c.y0, c.rows, size)
	x0, x1, _, _ := input(c.x0, c.cols, size)
	dst, n := cs.in.GetData(), (x1-x0)*3
	for y := y0; y < y1; y++ {
		copy(dst[(y-y0)*n:(y-y0+1)*n], square[(y*size+x0)*3:])
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
