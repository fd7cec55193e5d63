// Package classify runs an expression model (ONNX, converted by
// shared/tfjs) through onnxruntime and maps its output onto the seven
// classes.
package classify

import (
	"errors"
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/igemoji/igemoji/shared/expr"
)

// Model is one expression model with its bound tensors; Predict calls are
// serialized (a face takes about a millisecond).
type Model struct {
	order expr.Order
	n     int // input side
	ch    int // input channels

	mu     sync.Mutex
	s      *ort.AdvancedSession
	in     *ort.Tensor[float32]
	out    *ort.Tensor[float32]
	closed bool
}

// Start starts onnxruntime from libPath unless something in the process
// already has.
func Start(libPath string) error {
	startOnce.Do(func() {
		if ort.IsInitialized() {
			return
		}
		ort.SetSharedLibraryPath(libPath)
		if err := ort.InitializeEnvironment(); err != nil {
			startErr = fmt.Errorf("start onnxruntime from %s: %w", libPath, err)
		}
	})
	return startErr
}

var (
	startOnce sync.Once
	startErr  error
)

// New loads a model from its ONNX bytes: input "input" [1,n,n,ch], output
// "probs" [1,7] in order.
func New(onnx []byte, n, ch int, order expr.Order, threads int) (*Model, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("classify: onnxruntime is not started")
	}
	m := &Model{order: order, n: n, ch: ch}
	var err error
	if m.in, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(n), int64(n), int64(ch))); err != nil {
		return nil, err
	}
	if m.out, err = ort.NewEmptyTensor[float32](ort.NewShape(1, 7)); err != nil {
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

// Predict runs one prepared input (see expr.GrayInput, expr.RGBInput).
func (m *Model) Predict(input []float32) (expr.Probs, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return expr.Probs{}, errors.New("classify: model closed")
	}
	dst := m.in.GetData()
	if len(input) != len(dst) {
		return expr.Probs{}, fmt.Errorf("classify: input has %d values, want %d", len(input), len(dst))
	}
	copy(dst, input)
	if err := m.s.Run(); err != nil {
		return expr.Probs{}, fmt.Errorf("classify: %w", err)
	}
	return expr.FromModel(m.out.GetData(), m.order), nil
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
