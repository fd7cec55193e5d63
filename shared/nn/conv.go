package nn

// convKernel is a 2-D convolution in NCHW, with the Add of a residual of
// the output's shape and a Relu optionally fused in (in that order, after
// the bias).
type convKernel struct {
	batch, cin, cout, group int
	g                       geom
	w                       []float32 // [cout][cin/group][kh][kw]
	bias                    []float32 // nil: none
	residual, relu          bool

	path int
	zero []float32 // a row of zeros standing for the padding (depthwise)
	// pre is the depthwise convolution computed first, band by band, in
	// the fused path (pathDepthwisePointwise; the kernel itself is then the
	// pointwise one).
	pre *convKernel
	// wp holds the weights of each block of 4 output channels interleaved,
	// input by input (pointwise: wp[(cb*cin+ci)*4+r] = w[cb*4+r][ci];
	// generic: likewise tap by tap), as pointwise4 reads them. biases is the
	// bias, zeros when there is none.
	wp, biases []float32
	// taps are the generic path's offsets of every weight's input in the
	// padded input, relative to the window's corner.
	taps []int
}

const (
	pathGeneric = iota
	pathPointwise
	pathDepthwise
	pathDepthwisePointwise
)

func (k *convKernel) prepare() {
	g := k.g
	switch {
	case k.group == 1 && g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 &&
		g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w:
		k.path = pathPointwise
		k.wp = make([]float32, k.cout/4*4*k.cin)
		for cb := range k.cout / 4 {
			for ci := range k.cin {
				for r := range 4 {
					k.wp[(cb*k.cin+ci)*4+r] = k.w[(cb*4+r)*k.cin+ci]
				}
			}
		}
		k.biases = make([]float32, k.cout)
		copy(k.biases, k.bias)
	case k.group == k.cin && k.cout == k.cin:
		k.path = pathDepthwise
		k.zero = make([]float32, g.w)
	default:
		k.path = pathGeneric
		hp, wp := k.paddedSize()
		for ci := range k.cin / k.group {
			for ky := range g.kh {
				for kx := range g.kw {
					k.taps = append(k.taps, (ci*hp+ky*g.dh)*wp+kx*g.dw)
				}
			}
		}
		if opg := k.cout / k.group; opg%4 == 0 {
			// Blocks of 4 output channels (of one group), their weights
			// interleaved tap by tap, as pointwise4 has them.
			nt := len(k.taps)
			k.wp = make([]float32, k.cout*nt)
			for cb := range k.cout / 4 {
				for t := range nt {
					for r := range 4 {
						k.wp[(cb*nt+t)*4+r] = k.w[(cb*4+r)*nt+t]
					}
				}
			}
		}
		k.biases = make([]float32, k.cout)
		copy(k.biases, k.bias)
	}
}

// band is the fused path's number of depthwise output rows per band: the
// band's cin rows of depthwise output (the pointwise input) fill about 32
// KB, within L1.
func (k *convKernel) band() int {
	return max(1, 8192/k.cin/k.g.ow)
}

func (k *convKernel) scratchSize() int {
	switch k.path {
	case pathDepthwisePointwise:
		return k.cin * min(k.band(), k.g.oh) * k.g.ow
	case pathPointwise, pathDepthwise:
		return 0
	}
	hp, wp := k.paddedSize()
	return k.cin*hp*wp + len(k.taps)*k.g.ow
}

// paddedSize is the zero-padded input's size for the generic path: enough
// for every window the output reads.
func (k *convKernel) paddedSize() (hp, wp int) {
	g := k.g
	hp = max(g.h+g.pt, (g.oh-1)*g.sh+(g.kh-1)*g.dh+1)
	wp = max(g.w+g.pl, (g.ow-1)*g.sw+(g.kw-1)*g.dw+1)
	return hp, wp
}

func (k *convKernel) run(out []float32, in [][]float32, scratch []float32) {
	g := k.g
	isz, osz := k.cin*g.h*g.w, k.cout*g.oh*g.ow
	if k.pre != nil {
		isz = k.pre.cin * k.pre.g.h * k.pre.g.w
	}
	for b := range k.batch {
		x := in[0][b*isz : (b+1)*isz]
		o := out[b*osz : (b+1)*osz]
		var res []float32
		if k.residual {
			res = in[1][b*osz : (b+1)*osz]
		}
		switch k.path {
		case pathPointwise:
			k.pointwise(o, x, res)
		case pathDepthwise:
			k.depthwise(o, x, res)
		case pathDepthwisePointwise:
			k.depthwisePointwise(o, x, res, scratch)
		default:
			k.generic(o, x, res, scratch)
		}
	}
}

// epilogue applies the fused residual and Relu to a finished stretch of
// output (res is the residual's matching stretch, or nil).
func (k *convKernel) epilogue(o, res []float32) {
	if res != nil {
		res = res[:len(o)]
		for i := range o {
			o[i] += res[i]
		}
	}
	if k.relu {
		for i, v := range o {
			o[i] = rectify(v)
		}
	}
}

// pointwise is a 1x1 convolution: out[co][p] = bias[co] + sum over ci of
// w[co][ci] * x[ci][p], a (cout x cin) by (cin x P) matrix product whose
// rows of P pixels are contiguous. The pixels go in chunks small enough
// that the chunk's cin input rows stay in L1 while every output channel is
// computed from them.
func (k *convKernel) pointwise(out, x, res []float32) {
	const chunk = 240 // pixels: 1 KB per row
	P := k.g.h * k.g.w
	for c0 := 0; c0 < P; c0 += chunk {
		c1 := min(P, c0+chunk)
		k.pointwiseSpan(out, P, c0, x[c0:(k.cin-1)*P+c1], P, c1-c0, res)
	}
}

// pointwiseSpan computes pixels [off, off+n) of every output plane (out and
// res are cout planes ostride apart) from x[ci*xstride+i], i < n: blocks of
// 4 output channels by pointwise4, the few left by pointwiseRow.
func (k *convKernel) pointwiseSpan(out []float32, ostride, off int, x []float32, xstride, n int, res []float32) {
	cin := k.cin
	var r []float32
	for cb := range k.cout / 4 {
		o := cb * 4 * ostride
		if res != nil {
			r = res[o+off : o+3*ostride+off+n]
		}
		pointwise4(out[o+off:o+3*ostride+off+n], ostride, x, xstride, n,
			k.wp[cb*4*cin:(cb+1)*4*cin], (*[4]float32)(k.biases[cb*4:cb*4+4]), r, k.relu)
	}
	for co := k.cout / 4 * 4; co < k.cout; co++ {
		o := co*ostride + off
		if res != nil {
			r = res[o : o+n]
		}
		pointwiseRow(out[o:o+n], x, xstride, k.w[co*cin:(co+1)*cin], k.biases[co], r, k.relu)
	}
}

// pointwise4 computes 4 output channels (rows of o, ostride apart) for n
// pixels: o[r*ostride+i] = b[r] + sum over ci of wp[ci*4+r] * x[ci*xstride+i]
// (plus the residual's same element, then the Relu). The register tile is 4
// channels by 2 pixels, 8 accumulators, with the input channels unrolled by
// 4: of the shapes tried, the fastest in WebAssembly (under Node 20, 1.6
// times as fast as 1 channel by 6 pixels, whose loads it shares among 4
// channels), and natively about as fast (scalar either way: about one
// multiply-add a cycle). Each output sums in input-channel order.
func pointwise4(o []float32, ostride int, x []float32, xstride, n int, wp []float32, b *[4]float32, res []float32, relu bool) {
	cin := len(wp) / 4
	unrolled := cin / 4 * 16 // weights taken 16 at a time
	p := 0
	for ; p+2 <= n; p += 2 {
		a0, a1, a2, a3 := b[0], b[1], b[2], b[3]
		b0, b1, b2, b3 := a0, a1, a2, a3
		off := p
		i := 0
		for ; i < unrolled; i += 16 {
			ws := (*[16]float32)(wp[i : i+16])
			xs := (*[2]float32)(x[off : off+2])
			x0, x1 := xs[0], xs[1]
			a0 += ws[0] * x0
			a1 += ws[1] * x0
			a2 += ws[2] * x0
			a3 += ws[3] * x0
			b0 += ws[0] * x1
			b1 += ws[1] * x1
			b2 += ws[2] * x1
			b3 += ws[3] * x1
			xs = (*[2]float32)(x[off+xstride : off+xstride+2])
			x0, x1 = xs[0], xs[1]
			a0 += ws[4] * x0
			a1 += ws[5] * x0
			a2 += ws[6] * x0
			a3 += ws[7] * x0
			b0 += ws[4] * x1
			b1 += ws[5] * x1
			b2 += ws[6] * x1
			b3 += ws[7] * x1
			xs = (*[2]float32)(x[off+2*xstride : off+2*xstride+2])
			x0, x1 = xs[0], xs[1]
			a0 += ws[8] * x0
			a1 += ws[9] * x0
			a2 += ws[10] * x0
			a3 += ws[11] * x0
			b0 += ws[8] * x1
			b1 += ws[9] * x1
			b2 += ws[10] * x1
			b3 += ws[11] * x1
			xs = (*[2]float32)(x[off+3*xstride : off+3*xstride+2])
			x0, x1 = xs[0], xs[1]
			a0 += ws[12] * x0
			a1 += ws[13] * x0
			a2 += ws[14] * x0
			a3 += ws[15] * x0
			b0 += ws[12] * x1
			b1 += ws[13] * x1
			b2 += ws[14] * x1
			b3 += ws[15] * x1
			off += 4 * xstride
		}
		for ; i < len(wp); i += 4 {
			ws := (*[4]float32)(wp[i : i+4])
			xs := (*[2]float32)(x[off : off+2])
			x0, x1 := xs[0], xs[1]
			a0 += ws[0] * x0
			a1 += ws[1] * x0
			a2 += ws[2] * x0
			a3 += ws[3] * x0
			b0 += ws[0] * x1
			b1 += ws[1] * x1
			b2 += ws[2] * x1
			b3 += ws[3] * x1
			off += xstride
		}
		if res != nil {
			a0, b0 = a0+res[p], b0+res[p+1]
			a1, b1 = a1+res[ostride+p], b1+res[ostride+p+1]
			a2, b2 = a2+res[2*ostride+p], b2+res[2*ostride+p+1]
			a3, b3 = a3+res[3*ostride+p], b3+res[3*ostride+p+1]
		}
		if relu {
			a0, a1, a2, a3 = rectify(a0), rectify(a1), rectify(a2), rectify(a3)
			b0, b1, b2, b3 = rectify(b0), rectify(b1), rectify(b2), rectify(b3)
		}
		o[p], o[p+1] = a0, b0
		o[ostride+p], o[ostride+p+1] = a1, b1
		o[2*ostride+p], o[2*ostride+p+1] = a2, b2
		o[3*ostride+p], o[3*ostride+p+1] = a3, b3
	}
	if p < n { // an odd last pixel
		for r := range 4 {
			a := b[r]
			off := p
			for ci := range cin {
				a += wp[ci*4+r] * x[off]
				off += xstride
			}
			if res != nil {
				a += res[r*ostride+p]
			}
			if relu {
				a = rectify(a)
			}
			o[r*ostride+p] = a
		}
	}
}

// pointwiseRow computes o[i] = b + sum over ci of w[ci] * x[ci*stride+i]
// (plus res[i], then the Relu), 6 pixels at a time in 6 independent
// accumulators: with the weight, as many float registers as amd64 keeps
// without spilling. A function of its own so that the loop's integers stay
// in registers too.
func pointwiseRow(o, x []float32, stride int, w []float32, b float32, res []float32, relu bool) {
	i := 0
	for ; i+6 <= len(o); i += 6 {
		a0, a1, a2, a3, a4, a5 := b, b, b, b, b, b
		off := i
		for _, wv := range w {
			xs := (*[6]float32)(x[off : off+6])
			a0 += wv * xs[0]
			a1 += wv * xs[1]
			a2 += wv * xs[2]
			a3 += wv * xs[3]
			a4 += wv * xs[4]
			a5 += wv * xs[5]
			off += stride
		}
		if res != nil {
			r := (*[6]float32)(res[i : i+6])
			a0 += r[0]
			a1 += r[1]
			a2 += r[2]
			a3 += r[3]
			a4 += r[4]
			a5 += r[5]
		}
		if relu {
			a0, a1, a2 = rectify(a0), rectify(a1), rectify(a2)
			a3, a4, a5 = rectify(a3), rectify(a4), rectify(a5)
		}
		os := (*[6]float32)(o[i : i+6])
		os[0], os[1], os[2], os[3], os[4], os[5] = a0, a1, a2, a3, a4, a5
	}
	for ; i < len(o); i++ { // the last few pixels
		a := b
		off := i
		for _, wv := range w {
			a += wv * x[off]
			off += stride
		}
		if res != nil {
			a += res[i]
		}
		if relu {
			a = rectify(a)
		}
		o[i] = a
	}
}

// depthwisePointwise is a depthwise convolution (k.pre) followed by a 1x1
// one (k), computed a band of rows at a time: the depthwise output rows of
// every channel go to scratch, still in L1 when the pointwise product reads
// them, and never to memory.
func (k *convKernel) depthwisePointwise(out, x, res, scratch []float32) {
	d := k.pre
	g := d.g
	P := g.oh * g.ow
	band := k.band()
	plane := g.h * g.w
	for oy0 := 0; oy0 < g.oh; oy0 += band {
		oy1 := min(g.oh, oy0+band)
		n := (oy1 - oy0) * g.ow
		tmp := scratch[:d.cout*n]
		for c := range d.cout {
			d.depthwiseRows(tmp[c*n:(c+1)*n], x[c*plane:(c+1)*plane], c, oy0, oy1)
		}
		k.pointwiseSpan(out, P, oy0*g.ow, tmp, n, n, res)
	}
}

// depthwise is a convolution with one filter per channel (group == cin ==
// cout), straight from the input (depthwiseRows).
func (k *convKernel) depthwise(out, x, res []float32) {
	g := k.g
	n := g.oh * g.ow
	for c := range k.cin {
		o := out[c*n : (c+1)*n]
		k.depthwiseRows(o, x[c*g.h*g.w:(c+1)*g.h*g.w], c, 0, g.oh)
		if res != nil {
			k.epilogue(o, res[c*n:(c+1)*n])
		} else if k.relu {
			k.epilogue(o, nil)
		}
	}
}

// depthwiseRows computes output rows [oy0, oy1) of channel c from its input
// plane into dst. Rows above or below the image read a row of zeros; the
// outputs whose window crosses the left or right edge are computed apart
// from the interior ones, which for 3x3 kernels run an unrolled loop.
func (k *convKernel) depthwiseRows(dst, plane []float32, c, oy0, oy1 int) {
	g := k.g
	kk := g.kh * g.kw
	// Interior outputs [lo, hi): every tap inside the row.
	lo := min(g.ow, (g.pl+g.sw-1)/g.sw)
	hi := 0
	if n := g.w - 1 - (g.kw-1)*g.dw + g.pl; n >= 0 {
		hi = min(g.ow, n/g.sw+1)
	}
	hi = max(hi, lo)
	var rowsBuf [16][]float32
	var rows [][]float32
	if g.kh <= len(rowsBuf) {
		rows = rowsBuf[:g.kh]
	} else {
		rows = make([][]float32, g.kh)
	}
	wc := k.w[c*kk : (c+1)*kk]
	var b float32
	if k.bias != nil {
		b = k.bias[c]
	}
	for oy := oy0; oy < oy1; oy++ {
		for ky := range rows {
			iy := oy*g.sh - g.pt + ky*g.dh
			if iy < 0 || iy >= g.h {
				rows[ky] = k.zero
			} else {
				rows[ky] = plane[iy*g.w : (iy+1)*g.w]
			}
		}
		orow := dst[(oy-oy0)*g.ow : (oy-oy0+1)*g.ow]
		// The edges: outputs [0, lo) and [hi, ow).
		for ox := 0; ox < g.ow; ox++ {
			if ox == lo && lo < hi {
				ox = hi - 1
				continue
			}
			a := b
			for ky, r := range rows {
				for kx := range g.kw {
					ix := ox*g.sw - g.pl + kx*g.dw
					if ix >= 0 && ix < g.w {
						a += wc[ky*g.kw+kx] * r[ix]
					}
				}
			}
			orow[ox] = a
		}
		if lo >= hi {
			continue
		}
		if g.kh == 3 && g.kw == 3 && g.dw == 1 {
			dw3x3(orow[lo:hi], rows[0], rows[1], rows[2], (*[9]float32)(wc), b, lo*g.sw-g.pl, g.sw)
			continue
		}
		for ox := lo; ox < hi; ox++ {
			a := b
			x0 := ox*g.sw - g.pl
			for ky, r := range rows {
				for kx := range g.kw {
					a += wc[ky*g.kw+kx] * r[x0+kx*g.dw]
				}
			}
			orow[ox] = a
		}
	}
}

// dw3x3 computes len(o) outputs of a 3x3 depthwise filter whose first
// window starts at column x0 of rows r0, r1, r2, advancing by stride; two
// outputs at a time, which share the loads (and bounds checks) of their
// overlapping windows.
func dw3x3(o, r0, r1, r2 []float32, w *[9]float32, b float32, x0, stride int) {
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	i := 0
	switch stride {
	case 1:
		for ; i+2 <= len(o); i += 2 {
			x := x0 + i
			a := (*[4]float32)(r0[x : x+4])
			m := (*[4]float32)(r1[x : x+4])
			c := (*[4]float32)(r2[x : x+4])
			os := (*[2]float32)(o[i : i+2])
			os[0] = b + w0*a[0] + w1*a[1] + w2*a[2] + w3*m[0] + w4*m[1] + w5*m[2] + w6*c[0] + w7*c[1] + w8*c[2]
			os[1] = b + w0*a[1] + w1*a[2] + w2*a[3] + w3*m[1] + w4*m[2] + w5*m[3] + w6*c[1] + w7*c[2] + w8*c[3]
		}
	case 2:
		for ; i+2 <= len(o); i += 2 {
			x := x0 + 2*i
			a := (*[5]float32)(r0[x : x+5])
			m := (*[5]float32)(r1[x : x+5])
			c := (*[5]float32)(r2[x : x+5])
			os := (*[2]float32)(o[i : i+2])
			os[0] = b + w0*a[0] + w1*a[1] + w2*a[2] + w3*m[0] + w4*m[1] + w5*m[2] + w6*c[0] + w7*c[1] + w8*c[2]
			os[1] = b + w0*a[2] + w1*a[3] + w2*a[4] + w3*m[2] + w4*m[3] + w5*m[4] + w6*c[2] + w7*c[3] + w8*c[4]
		}
	}
	for ; i < len(o); i++ {
		x := x0 + i*stride
		a := (*[3]float32)(r0[x : x+3])
		m := (*[3]float32)(r1[x : x+3])
		c := (*[3]float32)(r2[x : x+3])
		o[i] = b + w0*a[0] + w1*a[1] + w2*a[2] + w3*m[0] + w4*m[1] + w5*m[2] + w6*c[0] + w7*c[1] + w8*c[2]
	}
}

// generic is any other convolution (BlazeFace's first, 5x5 stride 2 from 3
// channels to 24). The input is copied zero-padded into scratch. With
// output channels in blocks of 4 (per group), each output row's windows are
// gathered tap by tap into a small matrix (taps x ow, after the padded
// input in scratch) that pointwise4 multiplies as it does a 1x1
// convolution's input: an im2col of one row at a time, a few percent of
// the work, for the 1x1 kernel's speed. Otherwise each output channel's
// rows go through genericRow.
func (k *convKernel) generic(out, x, res, scratch []float32) {
	g := k.g
	hp, wp := k.paddedSize()
	xp := scratch[:k.cin*hp*wp]
	clear(xp)
	for c := range k.cin {
		for y := range g.h {
			copy(xp[(c*hp+y+g.pt)*wp+g.pl:], x[(c*g.h+y)*g.w:(c*g.h+y+1)*g.w])
		}
	}
	cpg, opg := k.cin/k.group, k.cout/k.group
	kk := g.kh * g.kw
	n := g.oh * g.ow
	nt := len(k.taps)
	if k.wp != nil {
		// Each output row: its input windows gathered tap by tap into
		// col (nt rows of ow), then every block of 4 output channels is
		// the 1x1 kernel's product over those rows.
		col := scratch[k.cin*hp*wp : k.cin*hp*wp+nt*g.ow]
		for gr := range k.group {
			for oy := range g.oh {
				base := xp[((gr*cpg)*hp+oy*g.sh)*wp:]
				for t, off := range k.taps {
					row := col[t*g.ow : (t+1)*g.ow]
					src := base[off:]
					for ox := range row {
						row[ox] = src[ox*g.sw]
					}
				}
				for cb := gr * opg / 4; cb < (gr+1)*opg/4; cb++ {
					o := cb*4*n + oy*g.ow
					var r []float32
					if res != nil {
						r = res[o : o+3*n+g.ow]
					}
					pointwise4(out[o:o+3*n+g.ow], n, col, g.ow, g.ow, k.wp[cb*4*nt:(cb+1)*4*nt],
						(*[4]float32)(k.biases[cb*4:cb*4+4]), r, k.relu)
				}
			}
		}
		return
	}
	for co := range k.cout {
		c0 := co / opg * cpg // the group's first input channel
		wc := k.w[co*cpg*kk : (co+1)*cpg*kk]
		for oy := range g.oh {
			genericRow(out[co*n+oy*g.ow:co*n+(oy+1)*g.ow], xp[(c0*hp+oy*g.sh)*wp:], k.taps, wc, k.biases[co], g.sw)
		}
		if res != nil {
			k.epilogue(out[co*n:(co+1)*n], res[co*n:(co+1)*n])
		} else if k.relu {
			k.epilogue(out[co*n:(co+1)*n], nil)
		}
	}
}

// genericRow computes o[ox] = b + sum over taps t of w[t] * x[taps[t] +
// ox*stride], 6 outputs at a time in 6 accumulators.
func genericRow(o, x []float32, taps []int, w []float32, b float32, stride int) {
	w = w[:len(taps)]
	ox := 0
	if stride == 2 {
		for ; ox+6 <= len(o); ox += 6 {
			a0, a1, a2, a3, a4, a5 := b, b, b, b, b, b
			base := ox * 2
			for t, off := range taps {
				wv := w[t]
				r := (*[11]float32)(x[base+off : base+off+11])
				a0 += wv * r[0]
				a1 += wv * r[2]
				a2 += wv * r[4]
				a3 += wv * r[6]
				a4 += wv * r[8]
				a5 += wv * r[10]
			}
			os := (*[6]float32)(o[ox : ox+6])
			os[0], os[1], os[2], os[3], os[4], os[5] = a0, a1, a2, a3, a4, a5
		}
	} else if stride == 1 {
		for ; ox+6 <= len(o); ox += 6 {
			a0, a1, a2, a3, a4, a5 := b, b, b, b, b, b
			for t, off := range taps {
				wv := w[t]
				r := (*[6]float32)(x[ox+off : ox+off+6])
				a0 += wv * r[0]
				a1 += wv * r[1]
				a2 += wv * r[2]
				a3 += wv * r[3]
				a4 += wv * r[4]
				a5 += wv * r[5]
			}
			os := (*[6]float32)(o[ox : ox+6])
			os[0], os[1], os[2], os[3], os[4], os[5] = a0, a1, a2, a3, a4, a5
		}
	}
	for ; ox < len(o); ox++ {
		a := b
		base := ox * stride
		for t, off := range taps {
			a += w[t] * x[base+off]
		}
		o[ox] = a
	}
}
