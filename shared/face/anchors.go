package face

import (
	"math"
	"sync"
)

// Anchor is one SSD anchor in normalized input coordinates ([0,1] across the
// model's input).
type Anchor struct{ CX, CY, W, H float64 }

// AnchorOptions mirror MediaPipe's SsdAnchorsCalculatorOptions, with the
// feature map sizes derived from the strides as MediaPipe does when none are
// given.
type AnchorOptions struct {
	InputSize                    int // square input, in pixels
	MinScale, MaxScale           float64
	OffsetX, OffsetY             float64
	Strides                      []int
	AspectRatios                 []float64
	ReduceBoxesInLowestLayer     bool
	InterpolatedScaleAspectRatio float64
	FixedAnchorSize              bool
}

func anchorScale(minScale, maxScale float64, i, n int) float64 {
	if n == 1 {
		return (minScale + maxScale) / 2
	}
	return minScale + (maxScale-minScale)*float64(i)/float64(n-1)
}

// GenerateAnchors reproduces MediaPipe's SsdAnchorsCalculator: consecutive
// layers with the same stride share one feature map, each cell of it
// carrying every anchor shape of those layers, in row-major cell order. The
// order matters because the model's outputs are laid out the same way.
func GenerateAnchors(o AnchorOptions) []Anchor {
	var out []Anchor
	n := len(o.Strides)
	for layer := 0; layer < n; {
		var widths, heights, ratios, scales []float64
		last := layer
		for last < n && o.Strides[last] == o.Strides[layer] {
			scale := anchorScale(o.MinScale, o.MaxScale, last, n)
			if last == 0 && o.ReduceBoxesInLowestLayer {
				ratios = append(ratios, 1, 2, 0.5)
				scales = append(scales, 0.1, scale, scale)
			} else {
				for _, r := range o.AspectRatios {
					ratios = append(ratios, r)
					scales = append(scales, scale)
				}
				if o.InterpolatedScaleAspectRatio > 0 {
					next := 1.0
					if last < n-1 {
						next = anchorScale(o.MinScale, o.MaxScale, last+1, n)
					}
					scales = append(scales, math.Sqrt(scale*next))
					ratios = append(ratios, o.InterpolatedScaleAspectRatio)
				}
			}
			last++
		}
		for i, r := range ratios {
			s := math.Sqrt(r)
			heights = append(heights, scales[i]/s)
			widths = append(widths, scales[i]*s)
		}
		stride := o.Strides[layer]
		fm := (o.InputSize + stride - 1) / stride
		for y := 0; y < fm; y++ {
			for x := 0; x < fm; x++ {
				for i := range ratios {
					a := Anchor{
						CX: (float64(x) + o.OffsetX) / float64(fm),
						CY: (float64(y) + o.OffsetY) / float64(fm),
						W:  1, H: 1,
					}
					if !o.FixedAnchorSize {
						a.W, a.H = widths[i], heights[i]
					}
					out = append(out, a)
				}
			}
		}
		layer = last
	}
	return out
}

// Spec describes one BlazeFace model: its input, its anchors and how its
// regressors decode. The values are those of MediaPipe's graphs for the
// model (face_detection_back_desktop_live.pbtxt and
// face_detection_front_cpu.pbtxt), except the thresholds, which were
// chosen by measurement (see worker/detect's evaluation).
type Spec struct {
	Name string
	// Size is the square input's side in pixels; regressors are in these
	// pixels (MediaPipe's x_scale = y_scale = w_scale = h_scale = Size).
	Size    int
	Anchors []Anchor
	// NumCoords is the regressor width per anchor: 4 box values then 6
	// (x, y) keypoints.
	NumCoords int
	// ScoreClip bounds logits before the sigmoid, as MediaPipe's
	// score_clipping_thresh does, so exp never overflows.
	ScoreClip float64
	// MinScore is the default detection threshold.
	MinScore float64
	// MinSuppressionIoU is the IoU above which detections are blended.
	MinSuppressionIoU float64
	// ReliableFace is the smallest face width, in input pixels, that the
	// model finds reliably; the tiling planner keeps every face it must find
	// at least this big in some pass.
	ReliableFace float64
	// CheckBelow, CheckMinScore and CheckContext tune Merge's second look
	// at tile detections that the full frame does not confirm: below
	// CheckBelow a detection needs a score of CheckMinScore in a window
	// CheckContext times its size.
	CheckBelow, CheckMinScore, CheckContext float64
}

var (
	backOnce, frontOnce       sync.Once
	backAnchors, frontAnchors []Anchor
)

// BackAnchorOptions are MediaPipe's anchors for face_detection_back
// (256x256): a 16x16 grid of 2 anchors at stride 16 and an 8x8 grid of 6
// anchors at stride 32, 896 in all.
func BackAnchorOptions() AnchorOptions {
	return AnchorOptions{
		InputSize: 256, MinScale: 0.15625, MaxScale: 0.75,
		OffsetX: 0.5, OffsetY: 0.5,
		Strides:                      []int{16, 32, 32, 32},
		AspectRatios:                 []float64{1},
		InterpolatedScaleAspectRatio: 1,
		FixedAnchorSize:              true,
	}
}

// FrontAnchorOptions are MediaPipe's anchors for face_detection_front
// (128x128): 16x16x2 at stride 8 and 8x8x6 at stride 16, 896 in all.
func FrontAnchorOptions() AnchorOptions {
	return AnchorOptions{
		InputSize: 128, MinScale: 0.1484375, MaxScale: 0.75,
		OffsetX: 0.5, OffsetY: 0.5,
		Strides:                      []int{8, 16, 16, 16},
		AspectRatios:                 []float64{1},
		InterpolatedScaleAspectRatio: 1,
		FixedAnchorSize:              true,
	}
}

// Back is the back-camera model (256x256), meant for faces further away:
// group photos. The worker uses it: on the dlib development photos its full
// frame alone found 42 of 43 faces where the front model found 11.
//
// MinScore and MinSuppressionIoU are MediaPipe's usual 0.5 and 0.3.
// ReliableFace was measured by shrinking real faces inside a padded
// window: boxes of 12-14 input pixels were found 99-100% of the time at
// score 0.5, 8-10 pixels about 80%. The check thresholds separated true and
// false tile detections on the development photos (true faces scored 0.59
// or more in the second look, the texture false positives 0.49 or less,
// save one badge, which the keypoint layout rejects).
func Back() Spec {
	backOnce.Do(func() { backAnchors = GenerateAnchors(BackAnchorOptions()) })
	return Spec{
		Name: "face_detection_back", Size: 256, Anchors: backAnchors,
		NumCoords: 16, ScoreClip: 100,
		MinScore: 0.5, MinSuppressionIoU: 0.3,
		ReliableFace:  14,
		CheckBelow:    0.8,
		CheckMinScore: 0.55,
		CheckContext:  4,
	}
}

// Front is the front-camera model (128x128), meant for selfies: one big
// face close to the camera. It needs faces of about 17 input pixels (16-18
// were all found, 14-16 only 86%, 12-14 under half), an eighth of its input
// where the back model needs a twentieth.
func Front() Spec {
	frontOnce.Do(func() { frontAnchors = GenerateAnchors(FrontAnchorOptions()) })
	return Spec{
		Name: "face_detection_front", Size: 128, Anchors: frontAnchors,
		NumCoords: 16, ScoreClip: 100,
		MinScore: 0.5, MinSuppressionIoU: 0.3,
		ReliableFace:  17,
		CheckBelow:    0.8,
		CheckMinScore: 0.55,
		CheckContext:  4,
	}
}
