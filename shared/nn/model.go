package nn

import (
	"errors"
	"fmt"
	"slices"
)

// value kinds.
const (
	kindStored = iota // an intermediate tensor in one of the Model's buffers
	kindInput         // the graph input: the caller's slice during Run
	kindConst         // an initializer or a folded constant
)

// value is one tensor of the compiled graph.
type value struct {
	name  string
	shape []int
	size  int
	kind  int
	data  []float32 // kindConst
	ints  []int64   // kindConst integer tensors (shapes)
	// alias is the value whose storage this one shares (Reshape), or -1.
	alias int
	// store is the buffer index of a stored value (set by allocation).
	store int
}

// step is one kernel invocation. Inputs and outputs are value indices.
type step struct {
	name string
	op   kernel
	in   []int
	out  int
}

// kernel computes a step's output from its inputs (in the step's order).
// scratch is the Model's shared scratch buffer (at least scratchSize()).
type kernel interface {
	run(out []float32, in [][]float32, scratch []float32)
	scratchSize() int
}

// weights is what Clone shares: everything but the buffers.
type weights struct {
	vals        []value
	steps       []step
	nstores     int
	storeSize   []int
	scratch     int
	input       int
	outputs     []int
	inputName   string
	outputNames []string
	maxIn       int // most inputs of any step
}

// Model is a compiled ONNX graph with its buffers. It is not safe for
// concurrent use (see Clone).
type Model struct {
	w       *weights
	stores  [][]float32
	scratch []float32
	ins     [][]float32 // a step's inputs, reused
	outs    [][]float32 // Run's result, reused
	input   []float32   // the caller's input during Run
}

// Load parses and compiles an ONNX model with one float32 input of fixed
// shape (a symbolic leading batch dimension is taken as 1).
func Load(data []byte) (*Model, error) {
	g, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Compile(g)
}

// Compile compiles a parsed graph (see Load).
func Compile(g *Graph) (*Model, error) {
	if g.Opset > 13 {
		return nil, fmt.Errorf("nn: opset %d is newer than the 13 this package implements", g.Opset)
	}
	if len(g.Inputs) != 1 {
		return nil, fmt.Errorf("nn: the graph has %d inputs, want 1", len(g.Inputs))
	}
	if len(g.Outputs) == 0 {
		return nil, errors.New("nn: the graph has no outputs")
	}
	c := &compiler{ids: map[string]int{}}
	w := &weights{inputName: g.Inputs[0].Name}

	in := g.Inputs[0]
	if in.ElemType != TypeFloat {
		return nil, fmt.Errorf("nn: input %q has element type %d, want float32", in.Name, in.ElemType)
	}
	if len(in.Shape) == 0 {
		return nil, fmt.Errorf("nn: input %q has no static shape", in.Name)
	}
	shape := make([]int, len(in.Shape))
	for i, d := range in.Shape {
		switch {
		case d > 0:
			shape[i] = int(d)
		case i == 0 && d < 0:
			shape[i] = 1 // the batch
		default:
			return nil, fmt.Errorf("nn: input %q has shape %v; only the batch may be symbolic", in.Name, in.Shape)
		}
	}
	w.input = c.add(value{name: in.Name, shape: shape, kind: kindInput})

	for _, t := range g.Initializers {
		v := value{name: t.Name, shape: intDims(t.Dims), kind: kindConst}
		switch t.DataType {
		case TypeFloat:
			v.data = t.Float
		default:
			v.ints = t.Int
		}
		c.add(v)
	}

	// Graph outputs and the number of readers of every value, for fusion.
	readers := map[string]int{}
	for _, n := range g.Nodes {
		for _, s := range n.Inputs {
			readers[s]++
		}
	}
	isOutput := map[string]bool{}
	for _, o := range g.Outputs {
		isOutput[o.Name] = true
		readers[o.Name]++
	}
	// A node consumed by a fused Conv is skipped when its turn comes.
	fused := map[*Node]bool{}
	// soleReader returns the only node reading s, if s is read by exactly
	// one node and is no graph output.
	soleReader := func(s string) *Node {
		if readers[s] != 1 || isOutput[s] {
			return nil
		}
		for _, n := range g.Nodes {
			if slices.Contains(n.Inputs, s) {
				return n
			}
		}
		return nil
	}

	for _, n := range g.Nodes {
		if fused[n] {
			continue
		}
		if n.Domain != "" && n.Domain != "ai.onnx" {
			return nil, fmt.Errorf("nn: node %q: domain %q is not supported", n.Name, n.Domain)
		}
		var err error
		if n.OpType == "Conv" {
			err = c.conv(n, soleReader, fused)
		} else {
			err = c.node(n)
		}
		if err != nil {
			return nil, err
		}
	}

	for _, o := range g.Outputs {
		id, ok := c.ids[o.Name]
		if !ok {
			return nil, fmt.Errorf("nn: output %q is computed by no node", o.Name)
		}
		if want := o.Shape; len(want) > 0 {
			got := c.vals[id].shape
			ok := len(want) == len(got)
			for i := 0; ok && i < len(want); i++ {
				ok = want[i] < 0 || int(want[i]) == got[i]
			}
			if !ok {
				return nil, fmt.Errorf("nn: output %q has shape %v, the graph declares %v", o.Name, got, want)
			}
		}
		// An output must own its buffer: copy the input or a constant.
		if c.vals[id].kind != kindStored {
			v := c.vals[id]
			id = c.emit(o.Name+"/copy", copyKernel{}, []int{id}, value{name: o.Name, shape: slices.Clone(v.shape)})
		}
		w.outputs = append(w.outputs, id)
		w.outputNames = append(w.outputNames, o.Name)
	}
	w.vals, w.steps = c.vals, c.steps
	if err := w.allocate(); err != nil {
		return nil, err
	}
	for _, s := range w.steps {
		w.maxIn = max(w.maxIn, len(s.in))
		w.scratch = max(w.scratch, s.op.scratchSize())
	}
	return w.newModel(), nil
}

func intDims(d []int64) []int {
	s := make([]int, len(d))
	for i, x := range d {
		s[i] = int(x)
	}
	return s
}

func product(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

type compiler struct {
	vals  []value
	ids   map[string]int
	steps []step
}

func (c *compiler) add(v value) int {
	v.size = product(v.shape)
	v.alias = -1
	v.store = -1
	c.vals = append(c.vals, v)
	id := len(c.vals) - 1
	c.ids[v.name] = id
	return id
}

// emit adds a step computing a new stored value.
func (c *compiler) emit(name string, k kernel, in []int, out value) int {
	out.kind = kindStored
	id := c.add(out)
	c.steps = append(c.steps, step{name: name, op: k, in: in, out: id})
	return id
}

// get returns the value named s.
func (c *compiler) get(n *Node, s string) (int, *value, error) {
	id, ok := c.ids[s]
	if !ok {
		return 0, nil, fmt.Errorf("nn: node %q (%s): input %q is not computed before it (the graph must be topologically sorted)", n.Name, n.OpType, s)
	}
	return id, &c.vals[id], nil
}

// floatConst returns the float constant named s.
func (c *compiler) floatConst(n *Node, s string) (*value, error) {
	_, v, err := c.get(n, s)
	if err != nil {
		return nil, err
	}
	if v.kind != kindConst || v.data == nil && v.size > 0 {
		return nil, fmt.Errorf("nn: node %q (%s): input %q must be a float32 initializer", n.Name, n.OpType, s)
	}
	return v, nil
}

func nodeErr(n *Node, format string, args ...any) error {
	return fmt.Errorf("nn: node %q (%s): %s", n.Name, n.OpType, fmt.Sprintf(format, args...))
}

func attrInts(n *Node, name string, def []int) []int {
	a, ok := n.Attrs[name]
	if !ok {
		return def
	}
	return intDims(a.Ints)
}

func attrInt(n *Node, name string, def int) int {
	a, ok := n.Attrs[name]
	if !ok {
		return def
	}
	return int(a.I)
}

func attrString(n *Node, name, def string) string {
	a, ok := n.Attrs[name]
	if !ok {
		return def
	}
	return string(a.S)
}

// checkAttrs rejects attributes the implementation does not know.
func checkAttrs(n *Node, known ...string) error {
	for name := range n.Attrs {
		if !slices.Contains(known, name) {
			return nodeErr(n, "attribute %q is not supported", name)
		}
	}
	return nil
}

// node compiles every operator but Conv.
func (c *compiler) node(n *Node) error {
	if len(n.Outputs) != 1 {
		return nodeErr(n, "%d outputs, want 1", len(n.Outputs))
	}
	outName := n.Outputs[0]
	inputs := make([]int, len(n.Inputs))
	for i, s := range n.Inputs {
		id, _, err := c.get(n, s)
		if err != nil {
			return err
		}
		inputs[i] = id
	}
	in := func(i int) *value { return &c.vals[inputs[i]] }
	if n.OpType != "Reshape" && n.OpType != "ConstantOfShape" {
		for i := range inputs {
			if v := in(i); v.kind == kindConst && v.data == nil && v.size > 0 {
				return nodeErr(n, "input %q is an integer tensor; only float32 is computed", v.name)
			}
		}
	}
	want := func(k int) error {
		if len(inputs) != k {
			return nodeErr(n, "%d inputs, want %d", len(inputs), k)
		}
		return nil
	}
	switch n.OpType {
	case "Relu":
		if err := want(1); err != nil {
			return err
		}
		if err := checkAttrs(n); err != nil {
			return err
		}
		c.emit(n.Name, reluKernel{}, inputs, value{name: outName, shape: slices.Clone(in(0).shape)})

	case "Add":
		if err := want(2); err != nil {
			return err
		}
		if err := checkAttrs(n); err != nil {
			return err
		}
		a, b := in(0), in(1)
		k, shape, err := newAdd(a.shape, b.shape)
		if err != nil {
			return nodeErr(n, "%v", err)
		}
		c.emit(n.Name, k, inputs, value{name: outName, shape: shape})

	case "MaxPool":
		if err := want(1); err != nil {
			return err
		}
		if err := checkAttrs(n, "kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad", "storage_order"); err != nil {
			return err
		}
		x := in(0)
		if len(x.shape) != 4 {
			return nodeErr(n, "input of shape %v; only 2-D pooling (NCHW) is supported", x.shape)
		}
		kern := attrInts(n, "kernel_shape", nil)
		if len(kern) != 2 {
			return nodeErr(n, "kernel_shape %v, want 2 values", kern)
		}
		g, err := geometry2D(n, x.shape[2], x.shape[3], kern[0], kern[1], attrInt(n, "ceil_mode", 0) != 0)
		if err != nil {
			return err
		}
		k := &maxPoolKernel{c: x.shape[0] * x.shape[1], g: g}
		c.emit(n.Name, k, inputs, value{name: outName, shape: []int{x.shape[0], x.shape[1], g.oh, g.ow}})

	case "Transpose":
		if err := want(1); err != nil {
			return err
		}
		if err := checkAttrs(n, "perm"); err != nil {
			return err
		}
		x := in(0)
		r := len(x.shape)
		perm := attrInts(n, "perm", nil)
		if perm == nil {
			for i := r - 1; i >= 0; i-- {
				perm = append(perm, i)
			}
		}
		if len(perm) != r {
			return nodeErr(n, "perm %v for a %d-D input", perm, r)
		}
		seen := make([]bool, r)
		shape := make([]int, r)
		for i, p := range perm {
			if p < 0 || p >= r || seen[p] {
				return nodeErr(n, "perm %v is not a permutation", perm)
			}
			seen[p] = true
			shape[i] = x.shape[p]
		}
		c.emit(n.Name, newTranspose(x.shape, perm), inputs, value{name: outName, shape: shape})

	case "Reshape":
		if err := want(2); err != nil {
			return err
		}
		if err := checkAttrs(n, "allowzero"); err != nil {
			return err
		}
		if attrInt(n, "allowzero", 0) != 0 {
			return nodeErr(n, "allowzero=1 is not supported")
		}
		x, s := in(0), in(1)
		if s.kind != kindConst || s.ints == nil && s.size > 0 {
			return nodeErr(n, "the shape must be an integer initializer")
		}
		shape := make([]int, len(s.ints))
		infer := -1
		known := 1
		for i, d := range s.ints {
			switch {
			case d == 0:
				if i >= len(x.shape) {
					return nodeErr(n, "shape %v copies dimension %d of a %d-D input", s.ints, i, len(x.shape))
				}
				shape[i] = x.shape[i]
			case d == -1:
				if infer >= 0 {
					return nodeErr(n, "shape %v has more than one -1", s.ints)
				}
				infer = i
				continue
			case d < -1:
				return nodeErr(n, "shape %v has a negative dimension", s.ints)
			default:
				shape[i] = int(d)
			}
			known *= shape[i]
		}
		if infer >= 0 {
			if known == 0 || x.size%known != 0 {
				return nodeErr(n, "cannot reshape %v to %v", x.shape, s.ints)
			}
			shape[infer] = x.size / known
		}
		if product(shape) != x.size {
			return nodeErr(n, "cannot reshape %v (%d values) to %v", x.shape, x.size, shape)
		}
		switch x.kind {
		case kindConst:
			c.add(value{name: outName, shape: shape, kind: kindConst, data: x.data, ints: x.ints})
		case kindInput:
			c.emit(n.Name, copyKernel{}, inputs[:1], value{name: outName, shape: shape})
		default:
			// Free: the output is the input's buffer under another shape.
			root := inputs[0]
			if x.alias >= 0 {
				root = x.alias
			}
			id := c.add(value{name: outName, shape: shape, kind: kindStored})
			c.vals[id].alias = root
		}

	case "Concat":
		if len(inputs) == 0 {
			return nodeErr(n, "no inputs")
		}
		if err := checkAttrs(n, "axis"); err != nil {
			return err
		}
		r := len(in(0).shape)
		axis := attrInt(n, "axis", 0)
		if axis < 0 {
			axis += r
		}
		if axis < 0 || axis >= r {
			return nodeErr(n, "axis %d for %d-D inputs", attrInt(n, "axis", 0), r)
		}
		shape := slices.Clone(in(0).shape)
		shape[axis] = 0
		k := &concatKernel{outer: product(shape[:axis]), inner: product(shape[axis+1:])}
		for i := range inputs {
			s := in(i).shape
			if len(s) != r {
				return nodeErr(n, "inputs of shapes %v and %v", in(0).shape, s)
			}
			for d := range s {
				if d != axis && s[d] != in(0).shape[d] {
					return nodeErr(n, "inputs of shapes %v and %v", in(0).shape, s)
				}
			}
			shape[axis] += s[axis]
			k.blocks = append(k.blocks, s[axis]*k.inner)
		}
		c.emit(n.Name, k, inputs, value{name: outName, shape: shape})

	case "ConstantOfShape":
		if err := want(1); err != nil {
			return err
		}
		if err := checkAttrs(n, "value"); err != nil {
			return err
		}
		s := in(0)
		if s.kind != kindConst || s.ints == nil && s.size > 0 {
			return nodeErr(n, "the shape must be an integer initializer")
		}
		fill := float32(0)
		if a, ok := n.Attrs["value"]; ok {
			if a.T == nil || a.T.DataType != TypeFloat || len(a.T.Float) != 1 {
				return nodeErr(n, "only a one-value float32 fill is supported")
			}
			fill = a.T.Float[0]
		}
		shape := make([]int, len(s.ints))
		for i, d := range s.ints {
			if d < 0 {
				return nodeErr(n, "negative dimension in %v", s.ints)
			}
			shape[i] = int(d)
		}
		data := make([]float32, product(shape))
		if fill != 0 {
			for i := range data {
				data[i] = fill
			}
		}
		c.add(value{name: outName, shape: shape, kind: kindConst, data: data})

	default:
		return nodeErr(n, "operator not supported")
	}
	return nil
}

// fuseDepthwisePointwise enables the depthwise + pointwise fusion (tests
// turn it off to time the two apart).
var fuseDepthwisePointwise = true

// convKernelOf builds the kernel of Conv node n for an input of shape x.
func (c *compiler) convKernelOf(n *Node, x []int) (*convKernel, error) {
	if err := checkAttrs(n, "kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"); err != nil {
		return nil, err
	}
	if len(n.Outputs) != 1 || len(n.Inputs) < 2 || len(n.Inputs) > 3 {
		return nil, nodeErr(n, "%d inputs and %d outputs, want 2 or 3 and 1", len(n.Inputs), len(n.Outputs))
	}
	if len(x) != 4 {
		return nil, nodeErr(n, "input of shape %v; only 2-D convolutions (NCHW) are supported", x)
	}
	wt, err := c.floatConst(n, n.Inputs[1])
	if err != nil {
		return nil, err
	}
	var bias []float32
	if len(n.Inputs) == 3 && n.Inputs[2] != "" {
		b, err := c.floatConst(n, n.Inputs[2])
		if err != nil {
			return nil, err
		}
		bias = b.data
	}
	if len(wt.shape) != 4 {
		return nil, nodeErr(n, "weights of shape %v, want 4-D", wt.shape)
	}
	batch, cin, h, w := x[0], x[1], x[2], x[3]
	cout := wt.shape[0]
	group := attrInt(n, "group", 1)
	if group <= 0 || cin%group != 0 || cout%group != 0 || wt.shape[1] != cin/group {
		return nil, nodeErr(n, "input channels %d, weights %v and group %d do not fit", cin, wt.shape, group)
	}
	if bias != nil && len(bias) != cout {
		return nil, nodeErr(n, "%d biases for %d output channels", len(bias), cout)
	}
	if ks := attrInts(n, "kernel_shape", nil); ks != nil && (len(ks) != 2 || ks[0] != wt.shape[2] || ks[1] != wt.shape[3]) {
		return nil, nodeErr(n, "kernel_shape %v does not match weights %v", ks, wt.shape)
	}
	g, err := geometry2D(n, h, w, wt.shape[2], wt.shape[3], false)
	if err != nil {
		return nil, err
	}
	k := &convKernel{batch: batch, cin: cin, cout: cout, group: group, g: g, w: wt.data, bias: bias}
	k.prepare()
	return k, nil
}

// conv compiles a Conv node, fusing into one step what follows it when the
// values in between have no other reader:
//
//   - a depthwise Conv feeding a 1x1 Conv: computed band of rows by band
//     of rows, the depthwise output only ever in a small scratch buffer;
//   - then an Add of a residual of the output's shape;
//   - then a Relu.
func (c *compiler) conv(n *Node, soleReader func(string) *Node, fused map[*Node]bool) error {
	xid, x, err := c.get(n, n.Inputs[0])
	if err != nil {
		return err
	}
	k, err := c.convKernelOf(n, x.shape)
	if err != nil {
		return err
	}
	outName := n.Outputs[0]
	if pw := soleReader(outName); fuseDepthwisePointwise && k.path == pathDepthwise && pw != nil && pw.OpType == "Conv" && len(pw.Inputs) > 0 && pw.Inputs[0] == outName {
		dwOut := []int{k.batch, k.cout, k.g.oh, k.g.ow}
		if kp, err := c.convKernelOf(pw, dwOut); err == nil && kp.path == pathPointwise {
			kp.pre = k
			kp.path = pathDepthwisePointwise
			k = kp
			fused[pw] = true
			outName = pw.Outputs[0]
		}
	}
	outShape := []int{k.batch, k.cout, k.g.oh, k.g.ow}
	inputs := []int{xid}
	// Conv -> Add(residual of the same shape) -> Relu.
	if add := soleReader(outName); add != nil && add.OpType == "Add" && len(add.Inputs) == 2 && len(add.Outputs) == 1 && len(add.Attrs) == 0 {
		other := add.Inputs[0]
		if other == outName {
			other = add.Inputs[1]
		}
		// The fused step runs where the Conv stood, so the residual must be
		// computed by then (in BlazeFace it always is); otherwise the Add
		// stays a step of its own.
		if rid, ok := c.ids[other]; ok && other != outName && slices.Equal(c.vals[rid].shape, outShape) {
			k.residual = true
			inputs = append(inputs, rid)
			fused[add] = true
			outName = add.Outputs[0]
		}
	}
	if relu := soleReader(outName); relu != nil && relu.OpType == "Relu" && len(relu.Inputs) == 1 && len(relu.Outputs) == 1 && len(relu.Attrs) == 0 {
		k.relu = true
		fused[relu] = true
		outName = relu.Outputs[0]
	}
	c.emit(n.Name, k, inputs, value{name: outName, shape: outShape})
	return nil
}

// geom is a 2-D window geometry (convolution or pooling).
type geom struct {
	h, w, oh, ow   int
	kh, kw         int
	sh, sw, dh, dw int
	pt, pl         int // top and left padding (bottom and right follow)
}

func geometry2D(n *Node, h, w, kh, kw int, ceil bool) (geom, error) {
	g := geom{h: h, w: w, kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1}
	if s := attrInts(n, "strides", nil); s != nil {
		if len(s) != 2 || s[0] <= 0 || s[1] <= 0 {
			return g, nodeErr(n, "strides %v", s)
		}
		g.sh, g.sw = s[0], s[1]
	}
	if d := attrInts(n, "dilations", nil); d != nil {
		if len(d) != 2 || d[0] <= 0 || d[1] <= 0 {
			return g, nodeErr(n, "dilations %v", d)
		}
		g.dh, g.dw = d[0], d[1]
	}
	if kh <= 0 || kw <= 0 {
		return g, nodeErr(n, "kernel %dx%d", kh, kw)
	}
	if n.OpType == "MaxPool" && attrInt(n, "storage_order", 0) != 0 {
		return g, nodeErr(n, "storage_order=1 is not supported")
	}
	ekh, ekw := (kh-1)*g.dh+1, (kw-1)*g.dw+1 // the dilated kernel
	var pt, pl, pb, pr int
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET":
		if p := attrInts(n, "pads", nil); p != nil {
			if len(p) != 4 || slices.Min(p) < 0 {
				return g, nodeErr(n, "pads %v", p)
			}
			pt, pl, pb, pr = p[0], p[1], p[2], p[3]
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		if ceil {
			return g, nodeErr(n, "auto_pad %s with ceil_mode", ap)
		}
		padH := max(0, ((h+g.sh-1)/g.sh-1)*g.sh+ekh-h)
		padW := max(0, ((w+g.sw-1)/g.sw-1)*g.sw+ekw-w)
		pt, pl = padH/2, padW/2
		if ap == "SAME_LOWER" {
			pt, pl = padH-padH/2, padW-padW/2
		}
		pb, pr = padH-pt, padW-pl
	default:
		return g, nodeErr(n, "auto_pad %q", ap)
	}
	if n.OpType == "MaxPool" && (pt >= ekh || pb >= ekh || pl >= ekw || pr >= ekw) {
		// A window entirely in the padding: the maximum of nothing.
		return g, nodeErr(n, "pads %d,%d,%d,%d not smaller than the kernel", pt, pl, pb, pr)
	}
	g.pt, g.pl = pt, pl
	span := func(in, pa, pb, ek, s int) int {
		num := in + pa + pb - ek
		if num < 0 {
			return 0
		}
		if ceil {
			o := (num+s-1)/s + 1
			if (o-1)*s >= in+pa { // the last window must start inside
				o--
			}
			return o
		}
		return num/s + 1
	}
	g.oh = span(h, pt, pb, ekh, g.sh)
	g.ow = span(w, pl, pr, ekw, g.sw)
	if g.oh <= 0 || g.ow <= 0 {
		return g, nodeErr(n, "%dx%d input smaller than the %dx%d kernel", h, w, ekh, ekw)
	}
	return g, nil
}

// allocate assigns stored values to buffers, reusing a buffer once every
// value in it has been read for the last time. Graph outputs keep theirs.
func (w *weights) allocate() error {
	root := func(id int) int {
		if a := w.vals[id].alias; a >= 0 {
			return a
		}
		return id
	}
	last := make([]int, len(w.vals)) // last step reading a root
	for i := range last {
		last[i] = -1
	}
	for i, s := range w.steps {
		for _, id := range s.in {
			last[root(id)] = max(last[root(id)], i)
		}
	}
	for _, id := range w.outputs {
		last[root(id)] = len(w.steps)
	}
	var free []int // buffer indices
	for i, s := range w.steps {
		v := &w.vals[s.out]
		// The smallest free buffer that holds v, else the largest (grown).
		best := -1
		for j, b := range free {
			switch {
			case best < 0:
				best = j
			case w.storeSize[b] >= v.size && (w.storeSize[free[best]] < v.size || w.storeSize[b] < w.storeSize[free[best]]):
				best = j
			case w.storeSize[free[best]] < v.size && w.storeSize[b] > w.storeSize[free[best]]:
				best = j
			}
		}
		if best >= 0 {
			v.store = free[best]
			free = slices.Delete(free, best, best+1)
			w.storeSize[v.store] = max(w.storeSize[v.store], v.size)
		} else {
			v.store = w.nstores
			w.nstores++
			w.storeSize = append(w.storeSize, v.size)
		}
		if last[s.out] < 0 {
			// Read by nothing: free at once.
			free = append(free, v.store)
		}
		for _, id := range s.in {
			r := root(id)
			if last[r] == i && w.vals[r].kind == kindStored && !slices.Contains(free, w.vals[r].store) {
				free = append(free, w.vals[r].store)
			}
		}
	}
	for id := range w.vals {
		if a := w.vals[id].alias; a >= 0 {
			w.vals[id].store = w.vals[a].store
		}
	}
	for _, id := range w.outputs {
		if w.vals[id].store < 0 {
			return fmt.Errorf("nn: output %q has no buffer", w.vals[id].name)
		}
	}
	return nil
}

func (w *weights) newModel() *Model {
	m := &Model{w: w, ins: make([][]float32, w.maxIn), outs: make([][]float32, len(w.outputs))}
	m.stores = make([][]float32, w.nstores)
	for i, n := range w.storeSize {
		m.stores[i] = make([]float32, n)
	}
	m.scratch = make([]float32, w.scratch)
	return m
}

// Clone returns a Model sharing m's weights with buffers of its own, for
// use on another goroutine.
func (m *Model) Clone() *Model { return m.w.newModel() }

// InputName is the graph input's name.
func (m *Model) InputName() string { return m.w.inputName }

// InputShape is the input's shape (a symbolic batch taken as 1).
func (m *Model) InputShape() []int { return slices.Clone(m.w.vals[m.w.input].shape) }

// OutputNames are the graph outputs' names, in Run's order.
func (m *Model) OutputNames() []string { return slices.Clone(m.w.outputNames) }

// OutputShapes are the outputs' shapes, in Run's order.
func (m *Model) OutputShapes() [][]int {
	s := make([][]int, len(m.w.outputs))
	for i, id := range m.w.outputs {
		s[i] = slices.Clone(m.w.vals[id].shape)
	}
	return s
}

// data returns value id's elements.
func (m *Model) data(id int) []float32 {
	v := &m.w.vals[id]
	switch v.kind {
	case kindConst:
		return v.data
	case kindInput:
		return m.input
	}
	return m.stores[v.store][:v.size]
}

// Run computes the outputs for input (the input tensor's elements in its
// shape's row-major order). The returned slices, in the graph's output
// order, are the Model's buffers: valid until the next Run, not to be
// written. Run allocates nothing.
func (m *Model) Run(input []float32) ([][]float32, error) {
	in := m.w.vals[m.w.input]
	if len(input) != in.size {
		return nil, fmt.Errorf("nn: input of %d values, want %d (shape %v)", len(input), in.size, in.shape)
	}
	m.input = input
	defer func() { m.input = nil }() // hold no reference to the caller's slice
	for i := range m.w.steps {
		s := &m.w.steps[i]
		ins := m.ins[:len(s.in)]
		for j, id := range s.in {
			ins[j] = m.data(id)
		}
		s.op.run(m.data(s.out), ins, m.scratch)
	}
	clear(m.ins)
	for i, id := range m.w.outputs {
		m.outs[i] = m.data(id)
	}
	return m.outs, nil
}
