// Package preview is the browser preview's detector: BlazeFace through
// shared/nn, merged by the worker's code. A preview must come back in a
// few hundred milliseconds, and one 256x256 pass costs about 140 ms in
// WebAssembly, so by default it runs the full frame only: faces down to
// about a sixteenth of the photo's longer side. The worker, after upload,
// also runs the small-face tiles. Pure Go, tested natively.
package preview

import (
	"errors"
	"image"

	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/nn"
)

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

// Detect finds the faces in img with the full-frame pass alone and no
// second looks: one model run. By score.
func (p *Preview) Detect(img image.Image) ([]face.Detection, error) {
	b := img.Bounds()
	passes := face.PlanPasses(b.Dx(), b.Dy(), p.spec, face.PlanOptions{})[:1]
	return face.Detect(p.m.Run, img, p.spec, p.spec.MinScore, passes, false)
}

// DetectTiles is the worker's detection: small-face tiles down to faces of
// minFace pixels and second looks at doubtful faces. Several model runs:
// for when there is time.
func (p *Preview) DetectTiles(img image.Image, minFace float64) ([]face.Detection, error) {
	b := img.Bounds()
	passes := face.PlanPasses(b.Dx(), b.Dy(), p.spec, face.PlanOptions{MinFace: minFace})
	return face.Detect(p.m.Run, img, p.spec, p.spec.MinScore, passes, true)
}
