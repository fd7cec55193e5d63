// Package classify runs a face model (ONNX, converted by shared/tfjs)
// through onnxruntime: an expression model, whose output it maps onto the
// seven classes, or the landmark model.
package classify

import (
	"errors"
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/igemoji/igemoji/shared/expr"
)

// Model is one model with its bound tensors; Predict and Run calls are
// serialized (a face takes about a millisecond).
type Model struct {
	order expr.Order
	n     int // input side
	ch    int // input channels
	outs  int // output values

	mu     sync.Mutex
	s      *ort.AdvancedSession
	in     *ort.Tensor[float32]
	out    *ort.Tensor[float32]
	closed bool
}

// New loads an expression model from its ONNX bytes: input "input"
// [1,n,n,ch], output "probs" [1,7] in order. onnxruntime must have been
// started (onnx.Start).
func New(onnx []byte, n, ch int, order expr.Order, threads int) (*Model, error) {
	m, err := load(onnx, n, ch, 7, threads)
	if err != nil {
		return nil, err
	}
	m.order = order
	return m, nil
}

// NewRaw loads a model whose output "probs" [1,outs] Run returns as is
// (the landmark model).
func NewRaw(onnx []byte, n, ch, outs int, threads int) (*Model, error) {
	return load(onnx, n, ch, outs, threads)
}

func load(onnx []byte, n, ch, outs int, threads int) (*Model, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("classify: onnxruntime is not started")
	}
	m := &Model{n: n, ch: ch, outs: outs}
	var err error
	if m.in, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(n), int64(n), int64(ch))); err != nil {
		return nil, err
	}
	if m.out, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(outs))); err != nil {
		m.in.Destroy()
		return nil, err
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		m.destroy()
		return nil, err
	}
	defer opts.Destroy()
	if threads > 0 {
		opts.SetIntraOpNumThreads(threads)
		opts.SetInterOpNumThreads(1)
	}
	m.s, err = ort.NewAdvancedSessionWithONNXData(onnx, []string{"input"}, []string{"probs"},
		[]ort.Value{m.in}, []ort.Value{m.out}, opts)
	if err != nil {
		m.destroy()
		return nil, fmt.Errorf("classify: load model: %w", err)
	}
	return m, nil
}

// Size is the input side in pixels.
func (m *Model) Size() int { return m.n }

// Predict runs one prepared input (see expr.GrayInput, expr.RGBInput)
// through an expression model.
func (m *Model) Predict(input []float32) (expr.Probs, error) {
	if m.outs != 7 {
		return expr.Probs{}, errors.New("classify: not an expression model (see Run)")
	}
	var p expr.Probs
	err := m.run(input, func(out []float32) { p = expr.FromModel(out, m.order) })
	return p, err
}

// Run runs one prepared input and returns a copy of the raw output.
func (m *Model) Run(input []float32) ([]float32, error) {
	var got []float32
	err := m.run(input, func(out []float32) { got = append([]float32(nil), out...) })
	return got, err
}

// run runs input and hands the output to read while it is still valid.
func (m *Model) run(input []float32, read func([]float32)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("classify: model closed")
	}
	dst := m.in.GetData()
	if len(input) != len(dst) {
		return fmt.Errorf("classify: input has %d values, want %d", len(input), len(dst))
	}
	copy(dst, input)
	if err := m.s.Run(); err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	read(m.out.GetData())
	return nil
}

// Close frees the session.
func (m *Model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.destroy()
	}
}

func (m *Model) destroy() {
	if m.s != nil {
		m.s.Destroy()
	}
	if m.in != nil {
		m.in.Destroy()
	}
	if m.out != nil {
		m.out.Destroy()
	}
}
