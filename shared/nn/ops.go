package nn

import (
	"fmt"
	"math"
)

// copyKernel copies its input (an output that is the graph input or a
// constant, or a Reshape of the graph input).
type copyKernel struct{}

func (copyKernel) run(out []float32, in [][]float32, _ []float32) { copy(out, in[0]) }
func (copyKernel) scratchSize() int                               { return 0 }

// rectify is max(v, 0) without the builtin max, which Go's WebAssembly port
// compiles to a call (16 ns a value under Node against 1 for this); -0 and
// NaN pass through unchanged.
func rectify(v float32) float32 {
	if v < 0 {
		return 0
	}
	return v
}

// fmax is the larger of a and b (a if either is NaN), for the same reason.
func fmax(a, b float32) float32 {
	if b > a {
		return b
	}
	return a
}

type reluKernel struct{}

func (reluKernel) run(out []float32, in [][]float32, _ []float32) {
	x := in[0][:len(out)]
	for i, v := range x {
		out[i] = rectify(v)
	}
}
func (reluKernel) scratchSize() int { return 0 }

// addKernel adds with numpy broadcasting. With equal shapes it is a plain
// loop; otherwise it walks the output with each input's strides (0 along
// broadcast axes).
type addKernel struct {
	same   bool
	shape  []int // output shape
	sa, sb []int // strides of a and b in output axes
}

func newAdd(a, b []int) (*addKernel, []int, error) {
	r := max(len(a), len(b))
	shape := make([]int, r)
	sa, sb := make([]int, r), make([]int, r)
	strides := func(s []int, st []int) {
		acc := 1
		for i := len(s) - 1; i >= 0; i-- {
			j := i + r - len(s)
			if s[i] != 1 {
				st[j] = acc
			}
			acc *= s[i]
		}
	}
	for i := range r {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			shape[i] = da
		case da == 1:
			shape[i] = db
		default:
			return nil, nil, fmt.Errorf("cannot broadcast %v and %v", a, b)
		}
	}
	strides(a, sa)
	strides(b, sb)
	same := len(a) == len(b)
	for i := range a {
		same = same && a[i] == b[i]
	}
	return &addKernel{same: same, shape: shape, sa: sa, sb: sb}, shape, nil
}

func (k *addKernel) run(out []float32, in [][]float32, _ []float32) {
	a, b := in[0], in[1]
	if k.same {
		a, b = a[:len(out)], b[:len(out)]
		for i := range out {
			out[i] = a[i] + b[i]
		}
		return
	}
	r := len(k.shape)
	if r == 0 {
		out[0] = a[0] + b[0]
		return
	}
	var idx [8]int
	if r > len(idx) {
		panic("nn: Add of more than 8 dimensions")
	}
	inner := k.shape[r-1]
	ia, ib := 0, 0
	for o := 0; o < len(out); o += inner {
		sa, sb := k.sa[r-1], k.sb[r-1]
		for i := range inner {
			out[o+i] = a[ia+i*sa] + b[ib+i*sb]
		}
		// Advance the odometer over the outer axes.
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			ia += k.sa[d]
			ib += k.sb[d]
			if idx[d] < k.shape[d] {
				break
			}
			ia -= idx[d] * k.sa[d]
			ib -= idx[d] * k.sb[d]
			idx[d] = 0
		}
	}
}
func (k *addKernel) scratchSize() int { return 0 }

// transposeKernel permutes axes: the output is walked in order, the input
// with the permuted strides.
type transposeKernel struct {
	shape   []int // output shape
	strides []int // input stride of each output axis
}

func newTranspose(in []int, perm []int) *transposeKernel {
	r := len(in)
	st := make([]int, r)
	acc := 1
	for i := r - 1; i >= 0; i-- {
		st[i] = acc
		acc *= in[i]
	}
	k := &transposeKernel{shape: make([]int, r), strides: make([]int, r)}
	for i, p := range perm {
		k.shape[i] = in[p]
		k.strides[i] = st[p]
	}
	return k
}

func (k *transposeKernel) run(out []float32, in [][]float32, _ []float32) {
	x := in[0]
	r := len(k.shape)
	if r == 0 || len(out) == 0 {
		copy(out, x)
		return
	}
	var idx [8]int
	if r > len(idx) {
		panic("nn: Transpose of more than 8 dimensions")
	}
	inner, is := k.shape[r-1], k.strides[r-1]
	base := 0
	for o := 0; o < len(out); o += inner {
		row := out[o : o+inner]
		j := base
		for i := range row {
			row[i] = x[j]
			j += is
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			base += k.strides[d]
			if idx[d] < k.shape[d] {
				break
			}
			base -= idx[d] * k.strides[d]
			idx[d] = 0
		}
	}
}
func (k *transposeKernel) scratchSize() int { return 0 }

// concatKernel joins its inputs along an axis: outer blocks, each made of
// every input's block in turn.
type concatKernel struct {
	outer, inner int
	blocks       []int // each input's block length (its axis length * inner)
}

func (k *concatKernel) run(out []float32, in [][]float32, _ []float32) {
	o := 0
	for i := range k.outer {
		for j, x := range in {
			n := k.blocks[j]
			copy(out[o:o+n], x[i*n:(i+1)*n])
			o += n
		}
	}
}
func (k *concatKernel) scratchSize() int { return 0 }

// maxPoolKernel is 2-D max pooling over c planes; padding never wins.
type maxPoolKernel struct {
	c int // batch * channels
	g geom
}

func (k *maxPoolKernel) run(out []float32, in [][]float32, _ []float32) {
	g := k.g
	x := in[0]
	negInf := float32(math.Inf(-1))
	fast := g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 &&
		g.pt == 0 && g.pl == 0 && 2*g.oh <= g.h && 2*g.ow <= g.w
	for c := range k.c {
		plane := x[c*g.h*g.w : (c+1)*g.h*g.w]
		op := out[c*g.oh*g.ow : (c+1)*g.oh*g.ow]
		for oy := range g.oh {
			orow := op[oy*g.ow : (oy+1)*g.ow]
			if fast {
				r0 := plane[2*oy*g.w : 2*oy*g.w+2*g.ow]
				r1 := plane[(2*oy+1)*g.w : (2*oy+1)*g.w+2*g.ow]
				for ox := range orow {
					orow[ox] = fmax(fmax(r0[2*ox], r0[2*ox+1]), fmax(r1[2*ox], r1[2*ox+1]))
				}
				continue
			}
			for ox := range orow {
				m := negInf
				for ky := range g.kh {
					iy := oy*g.sh - g.pt + ky*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					row := plane[iy*g.w : (iy+1)*g.w]
					for kx := range g.kw {
						ix := ox*g.sw - g.pl + kx*g.dw
						if ix >= 0 && ix < g.w {
							m = fmax(m, row[ix])
						}
					}
				}
				orow[ox] = m
			}
		}
	}
}
func (k *maxPoolKernel) scratchSize() int { return 0 }
