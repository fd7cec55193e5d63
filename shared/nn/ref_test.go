package nn

import (
	"fmt"
	"math"
	"slices"
)

// A naive reference interpreter, written straight from the ONNX operator
// definitions with float64 accumulation and no fusion, buffer reuse or
// fast paths, to check Model against.

type refTensor struct {
	shape []int
	f     []float64
	ints  []int64
}

func refStrides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}

// refRun runs g on input and returns every value by name.
func refRun(g *Graph, input []float32) (map[string]*refTensor, error) {
	vals := map[string]*refTensor{}
	in := &refTensor{shape: intDims(g.Inputs[0].Shape)}
	if in.shape[0] < 0 {
		in.shape[0] = 1
	}
	for _, v := range input {
		in.f = append(in.f, float64(v))
	}
	vals[g.Inputs[0].Name] = in
	for _, t := range g.Initializers {
		r := &refTensor{shape: intDims(t.Dims), ints: t.Int}
		for _, v := range t.Float {
			r.f = append(r.f, float64(v))
		}
		vals[t.Name] = r
	}
	for _, n := range g.Nodes {
		x := make([]*refTensor, len(n.Inputs))
		for i, s := range n.Inputs {
			if s == "" {
				continue
			}
			if x[i] = vals[s]; x[i] == nil {
				return nil, fmt.Errorf("ref: %s: no input %s", n.Name, s)
			}
		}
		out, err := refNode(n, x)
		if err != nil {
			return nil, fmt.Errorf("ref: %s (%s): %w", n.Name, n.OpType, err)
		}
		vals[n.Outputs[0]] = out
	}
	return vals, nil
}

// refPads resolves a Conv or MaxPool's padding: top, left, bottom, right.
func refPads(n *Node, h, w, ekh, ekw, sh, sw int) [4]int {
	var p [4]int
	switch string(attrString(n, "auto_pad", "NOTSET")) {
	case "SAME_UPPER", "SAME_LOWER":
		for i, d := range [][3]int{{h, ekh, sh}, {w, ekw, sw}} {
			out := int(math.Ceil(float64(d[0]) / float64(d[2])))
			total := max(0, (out-1)*d[2]+d[1]-d[0])
			small, big := total/2, total-total/2
			if attrString(n, "auto_pad", "") == "SAME_UPPER" {
				p[i], p[i+2] = small, big
			} else {
				p[i], p[i+2] = big, small
			}
		}
	case "VALID":
	default:
		if a := attrInts(n, "pads", nil); a != nil {
			copy(p[:], a)
		}
	}
	return p
}

func refNode(n *Node, x []*refTensor) (*refTensor, error) {
	switch n.OpType {
	case "Relu":
		out := &refTensor{shape: slices.Clone(x[0].shape), f: slices.Clone(x[0].f)}
		for i, v := range out.f {
			out.f[i] = math.Max(v, 0)
		}
		return out, nil

	case "Add":
		a, b := x[0], x[1]
		r := max(len(a.shape), len(b.shape))
		pad := func(s []int) []int {
			p := slices.Repeat([]int{1}, r-len(s))
			return append(p, s...)
		}
		as, bs := pad(a.shape), pad(b.shape)
		shape := make([]int, r)
		for i := range r {
			shape[i] = max(as[i], bs[i])
		}
		out := &refTensor{shape: shape, f: make([]float64, product(shape))}
		ast, bst, ost := refStrides(as), refStrides(bs), refStrides(shape)
		for o := range out.f {
			ia, ib := 0, 0
			for d := range r {
				i := o / ost[d] % shape[d]
				if as[d] > 1 {
					ia += i * ast[d]
				}
				if bs[d] > 1 {
					ib += i * bst[d]
				}
			}
			out.f[o] = a.f[ia] + b.f[ib]
		}
		return out, nil

	case "Conv":
		xt, wt := x[0], x[1]
		N, C, H, W := xt.shape[0], xt.shape[1], xt.shape[2], xt.shape[3]
		M, CG, KH, KW := wt.shape[0], wt.shape[1], wt.shape[2], wt.shape[3]
		group := attrInt(n, "group", 1)
		s := attrInts(n, "strides", []int{1, 1})
		d := attrInts(n, "dilations", []int{1, 1})
		p := refPads(n, H, W, (KH-1)*d[0]+1, (KW-1)*d[1]+1, s[0], s[1])
		OH := (H+p[0]+p[2]-((KH-1)*d[0]+1))/s[0] + 1
		OW := (W+p[1]+p[3]-((KW-1)*d[1]+1))/s[1] + 1
		if C != CG*group {
			return nil, fmt.Errorf("channels %d, weights %v, group %d", C, wt.shape, group)
		}
		out := &refTensor{shape: []int{N, M, OH, OW}, f: make([]float64, N*M*OH*OW)}
		for b := range N {
			for m := range M {
				g := m / (M / group)
				for oy := range OH {
					for ox := range OW {
						var acc float64
						if len(x) > 2 && x[2] != nil {
							acc = x[2].f[m]
						}
						for cg := range CG {
							c := g*CG + cg
							for ky := range KH {
								iy := oy*s[0] - p[0] + ky*d[0]
								if iy < 0 || iy >= H {
									continue
								}
								for kx := range KW {
									ix := ox*s[1] - p[1] + kx*d[1]
									if ix < 0 || ix >= W {
										continue
									}
									acc += wt.f[((m*CG+cg)*KH+ky)*KW+kx] * xt.f[((b*C+c)*H+iy)*W+ix]
								}
							}
						}
						out.f[((b*M+m)*OH+oy)*OW+ox] = acc
					}
				}
			}
		}
		return out, nil

	case "MaxPool":
		xt := x[0]
		N, C, H, W := xt.shape[0], xt.shape[1], xt.shape[2], xt.shape[3]
		k := attrInts(n, "kernel_shape", nil)
		s := attrInts(n, "strides", []int{1, 1})
		d := attrInts(n, "dilations", []int{1, 1})
		ekh, ekw := (k[0]-1)*d[0]+1, (k[1]-1)*d[1]+1
		p := refPads(n, H, W, ekh, ekw, s[0], s[1])
		span := func(in, pa, pb, ek, st int) int {
			if attrInt(n, "ceil_mode", 0) == 0 {
				return (in+pa+pb-ek)/st + 1
			}
			o := int(math.Ceil(float64(in+pa+pb-ek)/float64(st))) + 1
			if (o-1)*st >= in+pa {
				o--
			}
			return o
		}
		OH, OW := span(H, p[0], p[2], ekh, s[0]), span(W, p[1], p[3], ekw, s[1])
		out := &refTensor{shape: []int{N, C, OH, OW}, f: make([]float64, N*C*OH*OW)}
		for c := range N * C {
			for oy := range OH {
				for ox := range OW {
					m := math.Inf(-1)
					for ky := range k[0] {
						for kx := range k[1] {
							iy, ix := oy*s[0]-p[0]+ky*d[0], ox*s[1]-p[1]+kx*d[1]
							if iy >= 0 && iy < H && ix >= 0 && ix < W {
								m = math.Max(m, xt.f[(c*H+iy)*W+ix])
							}
						}
					}
					out.f[(c*OH+oy)*OW+ox] = m
				}
			}
		}
		return out, nil

	case "Transpose":
		xt := x[0]
		r := len(xt.shape)
		perm := attrInts(n, "perm", nil)
		if perm == nil {
			for i := r - 1; i >= 0; i-- {
				perm = append(perm, i)
			}
		}
		shape := make([]int, r)
		for i, p := range perm {
			shape[i] = xt.shape[p]
		}
		out := &refTensor{shape: shape, f: make([]float64, len(xt.f))}
		ist, ost := refStrides(xt.shape), refStrides(shape)
		for o := range out.f {
			j := 0
			for i, p := range perm {
				j += o / ost[i] % shape[i] * ist[p]
			}
			out.f[o] = xt.f[j]
		}
		return out, nil

	case "Reshape":
		shape := make([]int, len(x[1].ints))
		infer := -1
		for i, d := range x[1].ints {
			switch d {
			case 0:
				shape[i] = x[0].shape[i]
			case -1:
				infer = i
				shape[i] = 1
			default:
				shape[i] = int(d)
			}
		}
		if infer >= 0 {
			shape[infer] = len(x[0].f) / product(shape)
		}
		return &refTensor{shape: shape, f: x[0].f}, nil

	case "Concat":
		r := len(x[0].shape)
		axis := attrInt(n, "axis", 0)
		if axis < 0 {
			axis += r
		}
		shape := slices.Clone(x[0].shape)
		shape[axis] = 0
		for _, t := range x {
			shape[axis] += t.shape[axis]
		}
		out := &refTensor{shape: shape, f: make([]float64, product(shape))}
		ost := refStrides(shape)
		off := 0
		for _, t := range x {
			ist := refStrides(t.shape)
			for i, v := range t.f {
				o := 0
				for d := range r {
					idx := i / ist[d] % t.shape[d]
					if d == axis {
						idx += off
					}
					o += idx * ost[d]
				}
				out.f[o] = v
			}
			off += t.shape[axis]
		}
		return out, nil

	case "ConstantOfShape":
		shape := intDims(x[0].ints)
		out := &refTensor{shape: shape, f: make([]float64, product(shape))}
		if a, ok := n.Attrs["value"]; ok {
			for i := range out.f {
				out.f[i] = float64(a.T.Float[0])
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("no reference for %s", n.OpType)
}
