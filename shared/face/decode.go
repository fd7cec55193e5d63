package face

import (
	"fmt"
	"math"
)

// Decode turns one pass's raw outputs into detections in model-input pixels
// (0..spec.Size), before suppression. scores holds one logit per anchor and
// regressors spec.NumCoords values per anchor, both in anchor order (for
// the ONNX models: the stride-16 output then the stride-32 one,
// concatenated). Anchors whose score is below minScore are skipped.
//
// Per anchor the regressors are cx, cy, w, h offsets in input pixels, then
// the keypoints' x, y offsets, all relative to the anchor's centre
// (MediaPipe's reverse_output_order: x before y; anchors of fixed size 1, so
// sizes are not scaled by the anchor).
func Decode(scores, regressors []float32, spec Spec, minScore float64) ([]Detection, error) {
	n := len(spec.Anchors)
	if len(scores) != n {
		return nil, fmt.Errorf("face: %d scores for %d anchors", len(scores), n)
	}
	if len(regressors) != n*spec.NumCoords {
		return nil, fmt.Errorf("face: %d regressors for %d anchors of %d values", len(regressors), n, spec.NumCoords)
	}
	if spec.NumCoords < 4+2*NumKeypoints {
		return nil, fmt.Errorf("face: %d values per anchor, want at least %d", spec.NumCoords, 4+2*NumKeypoints)
	}
	// Comparing logits instead of scores skips the exp for the many anchors
	// that see no face; the sigmoid is monotonic so the test is the same.
	minLogit := math.Inf(-1)
	if minScore > 0 && minScore < 1 {
		minLogit = math.Log(minScore / (1 - minScore))
	} else if minScore >= 1 {
		minLogit = math.Inf(1)
	}
	size := float64(spec.Size)
	var out []Detection
	for i, a := range spec.Anchors {
		logit := float64(scores[i])
		if math.IsNaN(logit) || logit < minLogit {
			continue
		}
		if spec.ScoreClip > 0 {
			logit = math.Max(-spec.ScoreClip, math.Min(spec.ScoreClip, logit))
		}
		r := regressors[i*spec.NumCoords : (i+1)*spec.NumCoords]
		ax, ay := a.CX*size, a.CY*size
		cx := float64(r[0])*a.W + ax
		cy := float64(r[1])*a.H + ay
		w := float64(r[2]) * a.W
		h := float64(r[3]) * a.H
		d := Detection{
			Box:   [4]float64{cx - w/2, cy - h/2, w, h},
			Score: 1 / (1 + math.Exp(-logit)),
		}
		for k := 0; k < NumKeypoints; k++ {
			d.Keypoints[k] = Point{
				X: float64(r[4+2*k])*a.W + ax,
				Y: float64(r[5+2*k])*a.H + ay,
			}
		}
		d.rollFromEyes()
		out = append(out, d)
	}
	return out, nil
}
