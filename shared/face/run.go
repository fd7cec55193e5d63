package face

import (
	"fmt"
	"image"
)

// Model runs a BlazeFace model on one filled input: its four outputs in the
// model's order (scores of the 16x16 and 8x8 grids, then their regressors).
// The worker runs onnxruntime; the browser preview runs shared/nn.
type Model func(input []float32) ([][]float32, error)

// RunPass fills input from win of src, runs m and decodes the outputs into
// image pixels (before suppression). scores and regs are scratch buffers of
// len(spec.Anchors) and len(spec.Anchors)*spec.NumCoords.
func RunPass(m Model, src *Source, win Window, spec Spec, minScore float64, input, scores, regs []float32) ([]Detection, error) {
	if err := src.Fill(input, win, spec.Size); err != nil {
		return nil, err
	}
	outs, err := m(input)
	if err != nil {
		return nil, err
	}
	if len(outs) != 4 {
		return nil, fmt.Errorf("face: model gave %d outputs, want 4", len(outs))
	}
	n := copy(scores, outs[0])
	copy(scores[n:], outs[1])
	n = copy(regs, outs[2])
	copy(regs[n:], outs[3])
	dets, err := Decode(scores, regs, spec, minScore)
	if err != nil {
		return nil, err
	}
	t := win.Transform(spec.Size)
	for i := range dets {
		dets[i] = t.Apply(dets[i])
	}
	return dets, nil
}

// Detect runs every pass on img one after another and merges them: the
// single-threaded detector of the browser preview. (The worker spreads the
// passes over a pool of sessions.) Without secondLook, doubtful detections
// are kept rather than checked by one more model run each (see Merge):
// faster, for a preview, at some cost in precision.
func Detect(m Model, img image.Image, spec Spec, minScore float64, passes []Pass, secondLook bool) ([]Detection, error) {
	src := NewSource(img)
	input := make([]float32, spec.Size*spec.Size*3)
	scores := make([]float32, len(spec.Anchors))
	regs := make([]float32, len(spec.Anchors)*spec.NumCoords)
	per := make([][]Detection, len(passes))
	for i, p := range passes {
		d, err := RunPass(m, src, p.Window, spec, minScore, input, scores, regs)
		if err != nil {
			return nil, err
		}
		per[i] = d
	}
	var check Check
	if secondLook {
		check = func(_ Detection, win Window) ([]Detection, error) {
			return RunPass(m, src, win, spec, minScore, input, scores, regs)
		}
	}
	out, err := Merge(passes, per, src.W, src.H, spec, check)
	if out == nil && err == nil {
		out = []Detection{}
	}
	return out, err
}
