package tfjs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// graphModelJSON is the part of a tfjs model.json this package reads.
type graphModelJSON struct {
	Format        string `json:"format"`
	ModelTopology struct {
		Node []tfNode `json:"node"`
	} `json:"modelTopology"`
	WeightsManifest     []manifestGroup `json:"weightsManifest"`
	Signature           *tfSignature    `json:"signature"`
	UserDefinedMetadata struct {
		Signature *tfSignature `json:"signature"`
	} `json:"userDefinedMetadata"`
}

type tfSignature struct {
	Outputs map[string]struct {
		Name string `json:"name"`
	} `json:"outputs"`
}

// tfNode is a TensorFlow NodeDef in its JSON form.
type tfNode struct {
	Name  string            `json:"name"`
	Op    string            `json:"op"`
	Input []string          `json:"input"`
	Attr  map[string]tfAttr `json:"attr"`
}

// tfAttr is an AttrValue in its JSON form; bytes fields are base64, which
// encoding/json decodes into []byte.
type tfAttr struct {
	S    []byte `json:"s"`
	B    *bool  `json:"b"`
	Type string `json:"type"`
	List *struct {
		S [][]byte  `json:"s"`
		I []flexInt `json:"i"`
	} `json:"list"`
	Shape *struct {
		Dim []struct {
			Size flexInt `json:"size"`
		} `json:"dim"`
		UnknownRank bool `json:"unknownRank"`
	} `json:"shape"`
}

// ConvertGraphModel converts a tfjs graph model (model.json path; weights next to it) into a serialized ONNX model (bytes), NHWC input [1,H,W,C] named "input", output [1,7] named "probs" in the model's own class order. Deterministic: same input → byte-identical output (fixed producer name/version, no timestamps, stable node order/names).
//
// The model must have one float32 input with a static shape (but for the
// batch, which becomes 1) and one output. Its weights may be float32 or
// quantized (uint8, uint16, float16); they are stored dequantized, as
// float32. The TensorFlow ops handled are Const, Placeholder, Identity,
// _FusedConv2D (BiasAdd, optionally followed by Relu), DepthwiseConv2dNative,
// MaxPool, AddV2/Add, Relu, Mean over height and width, and Softmax, all in
// NHWC; the ONNX graph (opset 13) transposes the input to NCHW once and
// works in NCHW throughout. Any other op is refused with an error naming it.
func ConvertGraphModel(modelJSON string) ([]byte, error) {
	raw, err := os.ReadFile(modelJSON)
	if err != nil {
		return nil, err
	}
	var m graphModelJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: not a tfjs model.json: %w", modelJSON, err)
	}
	if m.Format != "graph-model" {
		return nil, fmt.Errorf("%s: format %q is not supported (want graph-model)", modelJSON, m.Format)
	}
	weights, _, err := loadWeights(filepath.Dir(modelJSON), m.WeightsManifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelJSON, err)
	}
	c := &converter{b: newBuilder(), weights: weights, nodes: make(map[string]*tfNode), values: make(map[string]tfValue)}
	out, err := c.convert(&m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelJSON, err)
	}
	base := filepath.Base(modelJSON)
	return c.b.marshal(strings.TrimSuffix(base, filepath.Ext(base)),
		"converted from the tfjs graph model "+base+" by igemoji's shared/tfjs", out)
}

// tfValue is what a TensorFlow node evaluates to: an ONNX tensor (a 4-D one
// in NCHW layout) or a constant weight.
type tfValue struct {
	v     value
	konst *tensor
}

type converter struct {
	b       *builder
	weights map[string]*tensor
	nodes   map[string]*tfNode
	values  map[string]tfValue
	input   string // the Placeholder converted, if any
}

// convert walks the graph from its output and returns the output's value.
func (c *converter) convert(m *graphModelJSON) (value, error) {
	consumed := make(map[string]bool)
	for i := range m.ModelTopology.Node {
		n := &m.ModelTopology.Node[i]
		if _, dup := c.nodes[n.Name]; dup {
			return value{}, fmt.Errorf("node %q is defined twice", n.Name)
		}
		c.nodes[n.Name] = n
		for _, in := range n.Input {
			name, _, _ := inputRef(in)
			consumed[name] = true
		}
	}
	outName, err := c.outputNode(m, consumed)
	if err != nil {
		return value{}, err
	}
	order, err := c.topoSort(outName)
	if err != nil {
		return value{}, err
	}
	for _, n := range order {
		if err := c.node(n); err != nil {
			return value{}, fmt.Errorf("node %q (%s): %w", n.Name, n.Op, err)
		}
	}
	if c.input == "" {
		return value{}, fmt.Errorf("the output does not depend on any Placeholder")
	}
	out := c.values[outName]
	if out.konst != nil {
		return value{}, fmt.Errorf("output %q is a constant", outName)
	}
	if len(out.v.shape) == 4 {
		return c.b.toNHWC(outName+"/nhwc", out.v), nil
	}
	return out.v, nil
}

// outputNode names the node whose output 0 is the model's output: the
// signature's only output or, without a signature, the only op node that
// nothing consumes.
func (c *converter) outputNode(m *graphModelJSON, consumed map[string]bool) (string, error) {
	sig := m.Signature
	if sig == nil {
		sig = m.UserDefinedMetadata.Signature
	}
	var names []string
	if sig != nil && len(sig.Outputs) > 0 {
		for key, o := range sig.Outputs {
			name := o.Name
			if name == "" {
				name = key
			}
			names = append(names, name)
		}
	} else {
		for _, n := range m.ModelTopology.Node {
			if !consumed[n.Name] && n.Op != "Const" && n.Op != "Placeholder" {
				names = append(names, n.Name)
			}
		}
	}
	slices.Sort(names)
	if len(names) != 1 {
		return "", fmt.Errorf("want exactly one output, found %d: %v", len(names), names)
	}
	name, idx, _ := inputRef(names[0])
	if idx != 0 {
		return "", fmt.Errorf("output %q: only a node's first output is supported", names[0])
	}
	if c.nodes[name] == nil {
		return "", fmt.Errorf("output node %q is not in the graph", name)
	}
	return name, nil
}

// inputRef splits a TensorFlow input reference "name:index" (or "^name" for
// a control dependency).
func inputRef(ref string) (name string, index int, control bool) {
	if strings.HasPrefix(ref, "^") {
		return ref[1:], 0, true
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 {
		var n int
		if _, err := fmt.Sscanf(ref[i+1:], "%d", &n); err == nil {
			return ref[:i], n, false
		}
	}
	return ref, 0, false
}

// topoSort lists the nodes the output depends on, each after its inputs, in
// a deterministic order (depth first, inputs in their listed order).
func (c *converter) topoSort(out string) ([]*tfNode, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int)
	var order []*tfNode
	type frame struct {
		n    *tfNode
		next int
	}
	stack := []frame{{n: c.nodes[out]}}
	state[out] = visiting
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(top.n.Input) {
			state[top.n.Name] = done
			order = append(order, top.n)
			stack = stack[:len(stack)-1]
			continue
		}
		ref := top.n.Input[top.next]
		top.next++
		name, _, control := inputRef(ref)
		if control {
			continue
		}
		switch state[name] {
		case done:
			continue
		case visiting:
			return nil, fmt.Errorf("the graph has a cycle through %q", name)
		}
		n := c.nodes[name]
		if n == nil {
			return nil, fmt.Errorf("node %q reads %q, which is not in the graph", top.n.Name, name)
		}
		state[name] = visiting
		stack = append(stack, frame{n: n})
	}
	return order, nil
}

// args returns the values of a node's data inputs (control inputs dropped).
func (c *converter) args(n *tfNode) ([]tfValue, error) {
	var out []tfValue
	for _, ref := range n.Input {
		name, idx, control := inputRef(ref)
		if control {
			continue
		}
		if idx != 0 {
			return nil, fmt.Errorf("input %q: only a node's first output is supported", ref)
		}
		out = append(out, c.values[name])
	}
	return out, nil
}

// supportedOps lists the TensorFlow ops ConvertGraphModel handles.
var supportedOps = []string{
	"Add", "AddV2", "Const", "DepthwiseConv2dNative", "Identity", "MaxPool",
	"Mean", "Placeholder", "Relu", "Softmax", "_FusedConv2D",
}

func (c *converter) node(n *tfNode) error {
	if t, ok := n.Attr["T"]; ok && t.Type != "" && t.Type != "DT_FLOAT" {
		return fmt.Errorf("element type %s is not supported (want DT_FLOAT)", t.Type)
	}
	args, err := c.args(n)
	if err != nil {
		return err
	}
	var out tfValue
	switch n.Op {
	case "Const":
		w := c.weights[n.Name]
		if w == nil {
			return fmt.Errorf("no weight named %q in the weights manifest (inline constant values are not supported)", n.Name)
		}
		out = tfValue{konst: w}
	case "Placeholder":
		out.v, err = c.placeholder(n)
	case "Identity":
		if len(args) != 1 {
			return fmt.Errorf("want 1 input, got %d", len(args))
		}
		out = args[0]
	case "_FusedConv2D":
		out.v, err = c.fusedConv(n, args)
	case "DepthwiseConv2dNative":
		out.v, err = c.depthwise(n, args)
	case "MaxPool":
		out.v, err = c.maxPool(n, args)
	case "Add", "AddV2":
		var xs []value
		if xs, err = activations(args, 2); err == nil {
			out.v, err = c.b.add(n.Name, xs[0], xs[1])
		}
	case "Relu":
		var xs []value
		if xs, err = activations(args, 1); err == nil {
			out.v = c.b.relu(n.Name, xs[0])
		}
	case "Mean":
		out.v, err = c.mean(n, args)
	case "Softmax":
		out.v, err = c.softmax(n, args)
	default:
		return fmt.Errorf("unsupported op %q (supported: %s)", n.Op, strings.Join(supportedOps, ", "))
	}
	if err != nil {
		return err
	}
	c.values[n.Name] = out
	return nil
}

// activations checks that args are want non-constant tensors.
func activations(args []tfValue, want int) ([]value, error) {
	if len(args) != want {
		return nil, fmt.Errorf("want %d inputs, got %d", want, len(args))
	}
	out := make([]value, want)
	for i, a := range args {
		if a.konst != nil {
			return nil, fmt.Errorf("input %d is a constant (%q), which is not supported here", i, a.konst.Name)
		}
		out[i] = a.v
	}
	return out, nil
}

func (c *converter) placeholder(n *tfNode) (value, error) {
	if c.input != "" {
		return value{}, fmt.Errorf("a second Placeholder (the first is %q): only one input is supported", c.input)
	}
	if d, ok := n.Attr["dtype"]; ok && d.Type != "DT_FLOAT" {
		return value{}, fmt.Errorf("input type %s is not supported (want DT_FLOAT)", d.Type)
	}
	a, ok := n.Attr["shape"]
	if !ok || a.Shape == nil || a.Shape.UnknownRank || len(a.Shape.Dim) != 4 {
		return value{}, fmt.Errorf("the input needs a static 4-D NHWC shape")
	}
	dims := make([]int64, 4)
	for i, d := range a.Shape.Dim {
		dims[i] = int64(d.Size)
		if i == 0 && dims[i] == -1 {
			dims[i] = 1
		}
		if dims[i] <= 0 {
			return value{}, fmt.Errorf("input dimension %d is %d: the height, width and channels must be static", i, d.Size)
		}
	}
	if dims[0] != 1 {
		return value{}, fmt.Errorf("input batch size %d: want 1 (or -1)", dims[0])
	}
	c.input = n.Name
	in := c.b.graphInput(dims)
	return c.b.toNCHW(n.Name, in)
}

// nhwcOnly rejects anything but NHWC data_format.
func nhwcOnly(n *tfNode) error {
	if a, ok := n.Attr["data_format"]; ok && len(a.S) > 0 && string(a.S) != "NHWC" {
		return fmt.Errorf("data_format %q is not supported (want NHWC)", a.S)
	}
	return nil
}

// spatialAttrs reads strides, dilations (when the op has them) and padding,
// all given in NHWC order.
func spatialAttrs(n *tfNode) (spatial2D, error) {
	g := spatial2D{strides: [2]int{1, 1}, dilations: [2]int{1, 1}}
	if err := nhwcOnly(n); err != nil {
		return g, err
	}
	p, ok := n.Attr["padding"]
	if !ok {
		return g, fmt.Errorf("no padding attribute")
	}
	g.padding = string(p.S)
	if g.padding != "SAME" && g.padding != "VALID" {
		return g, fmt.Errorf("padding %q is not supported (want SAME or VALID)", g.padding)
	}
	for _, key := range []string{"strides", "dilations"} {
		a, ok := n.Attr[key]
		if !ok {
			continue
		}
		hw, err := nhwcWindow(key, a)
		if err != nil {
			return g, err
		}
		if key == "strides" {
			g.strides = hw
		} else {
			g.dilations = hw
		}
	}
	return g, nil
}

// nhwcWindow reads a [1, h, w, 1] list attribute.
func nhwcWindow(key string, a tfAttr) ([2]int, error) {
	if a.List == nil || len(a.List.I) != 4 || a.List.I[0] != 1 || a.List.I[3] != 1 || a.List.I[1] < 1 || a.List.I[2] < 1 {
		var got []flexInt
		if a.List != nil {
			got = a.List.I
		}
		return [2]int{}, fmt.Errorf("%s %v: want [1, h, w, 1] with h, w >= 1", key, got)
	}
	return [2]int{int(a.List.I[1]), int(a.List.I[2])}, nil
}

// filterArgs splits a conv's args into the activation and a constant filter.
func filterArgs(args []tfValue, min int) (value, *tensor, error) {
	if len(args) < min {
		return value{}, nil, fmt.Errorf("want at least %d inputs, got %d", min, len(args))
	}
	if args[0].konst != nil {
		return value{}, nil, fmt.Errorf("a constant input (%q) is not supported", args[0].konst.Name)
	}
	if args[1].konst == nil {
		return value{}, nil, fmt.Errorf("the filter must be a constant")
	}
	return args[0].v, args[1].konst, nil
}

func (c *converter) fusedConv(n *tfNode, args []tfValue) (value, error) {
	x, filter, err := filterArgs(args, 2)
	if err != nil {
		return value{}, err
	}
	g, err := spatialAttrs(n)
	if err != nil {
		return value{}, err
	}
	var fused []string
	if a, ok := n.Attr["fused_ops"]; ok && a.List != nil {
		for _, s := range a.List.S {
			fused = append(fused, string(s))
		}
	}
	relu := false
	switch {
	case slices.Equal(fused, []string{"BiasAdd"}):
	case slices.Equal(fused, []string{"BiasAdd", "Relu"}):
		relu = true
	default:
		return value{}, fmt.Errorf("unsupported fused ops %q (supported: [BiasAdd], [BiasAdd Relu])", fused)
	}
	if len(args) != 3 || args[2].konst == nil {
		return value{}, fmt.Errorf("BiasAdd wants one constant bias input, got %d inputs", len(args)-2)
	}
	dims, data, err := hwioToOIHW(filter)
	if err != nil {
		return value{}, err
	}
	w := c.b.floatConst(filter.Name, dims, data)
	bt := args[2].konst
	if bt.F32 == nil || len(bt.Shape) != 1 {
		return value{}, fmt.Errorf("bias %q: want a 1-D float32 tensor, got %s %v", bt.Name, bt.Dtype, bt.Shape)
	}
	bias := c.b.floatConst(bt.Name, dims64(bt.Shape), bt.F32)
	name := n.Name
	if relu {
		name += "/conv"
	}
	y, err := c.b.conv(name, x, w, &bias, g, 1)
	if err != nil || !relu {
		return y, err
	}
	return c.b.relu(n.Name, y), nil
}

func (c *converter) depthwise(n *tfNode, args []tfValue) (value, error) {
	x, filter, err := filterArgs(args, 2)
	if err != nil {
		return value{}, err
	}
	if len(args) != 2 {
		return value{}, fmt.Errorf("want 2 inputs, got %d", len(args))
	}
	g, err := spatialAttrs(n)
	if err != nil {
		return value{}, err
	}
	dims, data, err := depthwiseToOIHW(filter)
	if err != nil {
		return value{}, err
	}
	w := c.b.floatConst(filter.Name, dims, data)
	return c.b.conv(n.Name, x, w, nil, g, int64(filter.Shape[2]))
}

func (c *converter) maxPool(n *tfNode, args []tfValue) (value, error) {
	xs, err := activations(args, 1)
	if err != nil {
		return value{}, err
	}
	g, err := spatialAttrs(n)
	if err != nil {
		return value{}, err
	}
	k, ok := n.Attr["ksize"]
	if !ok {
		return value{}, fmt.Errorf("no ksize attribute")
	}
	if g.kernel, err = nhwcWindow("ksize", k); err != nil {
		return value{}, err
	}
	return c.b.pool("MaxPool", n.Name, xs[0], g)
}

// mean handles Mean over the height and width of an NHWC tensor (global
// average pooling).
func (c *converter) mean(n *tfNode, args []tfValue) (value, error) {
	if len(args) != 2 || args[0].konst != nil || args[1].konst == nil || args[1].konst.I32 == nil {
		return value{}, fmt.Errorf("want a tensor and constant int32 axes")
	}
	x := args[0].v
	if len(x.shape) != 4 {
		return value{}, fmt.Errorf("want a 4-D input, got shape %v", x.shape)
	}
	axes := slices.Clone(args[1].konst.I32)
	for i := range axes {
		if axes[i] < 0 {
			axes[i] += 4
		}
	}
	slices.Sort(axes)
	if !slices.Equal(axes, []int32{1, 2}) {
		return value{}, fmt.Errorf("mean over axes %v is not supported (want the height and width, [1 2])", args[1].konst.I32)
	}
	keep := false
	if a, ok := n.Attr["keep_dims"]; ok && a.B != nil {
		keep = *a.B
	}
	s := x.shape
	if keep {
		return c.b.op("ReduceMean", n.Name, []value{x}, []int64{s[0], s[1], 1, 1},
			attrInts("axes", 2, 3), attrInt("keepdims", 1)), nil
	}
	return c.b.op("ReduceMean", n.Name, []value{x}, []int64{s[0], s[1]},
		attrInts("axes", 2, 3), attrInt("keepdims", 0)), nil
}

// softmax handles Softmax over the last (channel) axis.
func (c *converter) softmax(n *tfNode, args []tfValue) (value, error) {
	xs, err := activations(args, 1)
	if err != nil {
		return value{}, err
	}
	x := xs[0]
	switch len(x.shape) {
	case 2:
		return c.b.op("Softmax", n.Name, []value{x}, x.shape, attrInt("axis", 1)), nil
	case 4: // NHWC's last axis is NCHW's axis 1.
		return c.b.op("Softmax", n.Name, []value{x}, x.shape, attrInt("axis", 1)), nil
	default:
		return value{}, fmt.Errorf("softmax of a %d-D tensor is not supported", len(x.shape))
	}
}
