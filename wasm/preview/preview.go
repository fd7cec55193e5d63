// Package preview is the browser preview's detector: BlazeFace through
// shared/nn on the same passes the worker plans, with a coarser smallest
// face (a preview needs the faces a person will look at, in well under a
// second). Pure Go, tested natively.
package preview

import (
	"errors"
	"image"

	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/nn"
)

// MinFace is the smallest face, in photo pixels, the preview looks for.
const MinFace = 40

// Preview runs one model; not safe for concurrent use (the page calls it
// from one thread).
type Preview struct {
	m    *nn.Model
	spec face.Spec
}

// New checks that m is a BlazeFace model the preview knows.
func New(m *nn.Model) (*Preview, error) {
	shape := m.InputShape()
	if len(shape) != 4 || shape[1] != shape[2] || shape[3] != 3 {
		return nil, errors.New("preview: not a BlazeFace model (want input [1 n n 3])")
	}
	var spec face.Spec
	switch shape[1] {
	case 256:
		spec = face.Back()
	case 128:
		spec = face.Front()
	default:
		return nil, errors.New("preview: want the 256 or 128 BlazeFace model")
	}
	return &Preview{m: m, spec: spec}, nil
}

// Detect finds the faces in img, largest first is not promised: as the
// worker returns them, by score.
func (p *Preview) Detect(img image.Image) ([]face.Detection, error) {
	b := img.Bounds()
	passes := face.PlanPasses(b.Dx(), b.Dy(), p.spec, face.PlanOptions{MinFace: MinFace})
	return face.Detect(p.m.Run, img, p.spec, p.spec.MinScore, passes)
}
