// Package face turns the raw outputs of MediaPipe's BlazeFace detectors into
// face detections in image coordinates: SSD anchor generation, box and
// keypoint decoding, MediaPipe's weighted non-maximum suppression, a tiling
// planner for small faces and a resampler that fills the model's input
// tensor.
//
// It is pure Go (standard library only) because the same code runs in the
// worker, next to onnxruntime, and in the browser, compiled to WASM, next to
// a pure-Go forward pass.
package face

import "math"

// Point is a position in pixels, X to the right and Y down.
type Point struct{ X, Y float64 }

// Keypoint indices, in BlazeFace's output order. "Right" and "left" are the
// subject's: in a photo that is not mirrored the right eye is on the image's
// left.
const (
	RightEye = iota
	LeftEye
	NoseTip
	MouthCenter
	RightEarTragion
	LeftEarTragion
	NumKeypoints
)

// Detection is one face.
type Detection struct {
	// Box is x, y, width, height in pixels (the top-left corner first).
	Box [4]float64
	// Score is the detector's confidence in [0, 1].
	Score float64
	// Keypoints are indexed by RightEye ... LeftEarTragion.
	Keypoints [NumKeypoints]Point
	// Roll is the head's in-plane rotation in radians, from the eyes: the
	// angle of the line from the right eye to the left eye (steadied by the
	// eyes-to-mouth axis, see rollFromEyes). 0 for an upright face, positive
	// when the face turns clockwise as seen on screen (image coordinates, Y
	// down), in (-π, π]. Rotating an emoji by Roll with the usual Y-down
	// rotation matrix [cos -sin; sin cos] lines it up with the face.
	Roll float64
}

// Center is the middle of the box.
func (d Detection) Center() Point {
	return Point{d.Box[0] + d.Box[2]/2, d.Box[1] + d.Box[3]/2}
}

// rollFromEyes sets Roll from the keypoints: the direction of the eye line
// (right eye to left eye), steadied by the face's vertical axis (from
// between the eyes to the mouth, turned a quarter to lie along the eye
// line). Each counts by its length, so a frontal face's roll is mostly its
// eye line, while a face in profile, whose eyes nearly coincide in the
// picture, gets its roll from the nose-to-mouth direction instead of from a
// few pixels of noise.
func (d *Detection) rollFromEyes() {
	r, l, m := d.Keypoints[RightEye], d.Keypoints[LeftEye], d.Keypoints[MouthCenter]
	ex, ey := l.X-r.X, l.Y-r.Y
	vx, vy := m.X-(r.X+l.X)/2, m.Y-(r.Y+l.Y)/2
	// (vx, vy) points down the face; (vy, -vx) is it turned to point from
	// the right eye towards the left.
	d.Roll = math.Atan2(ey-vx, ex+vy)
}

// Plausible reports whether the keypoints are laid out like a face's: along
// the face's vertical axis the nose tip lies below the eye line, by at
// least a sixth of the eye distance, and the mouth lies below the nose.
// Real faces in every pose seen in development measured a nose drop of 0.28
// eye distances or more; face-like patterns (a badge, a knot in wood) that
// fool the detector at one scale rarely get this right.
func (d Detection) Plausible() bool {
	r, l := d.Keypoints[RightEye], d.Keypoints[LeftEye]
	mx, my := (r.X+l.X)/2, (r.Y+l.Y)/2
	eyes := math.Hypot(l.X-r.X, l.Y-r.Y)
	if eyes == 0 {
		return false
	}
	sin, cos := math.Sincos(d.Roll)
	down := func(p Point) float64 { return (-(p.X-mx)*sin + (p.Y-my)*cos) / eyes }
	nose, mouth := down(d.Keypoints[NoseTip]), down(d.Keypoints[MouthCenter])
	return nose >= 1.0/6 && mouth > nose
}

// Transform maps model-input pixels to image pixels: image = model*Scale +
// (DX, DY). Letterboxing and square crops are both a uniform scale plus a
// shift, so this one form covers every pass.
type Transform struct{ Scale, DX, DY float64 }

// Apply returns d in image coordinates.
func (t Transform) Apply(d Detection) Detection {
	d.Box[0] = d.Box[0]*t.Scale + t.DX
	d.Box[1] = d.Box[1]*t.Scale + t.DY
	d.Box[2] *= t.Scale
	d.Box[3] *= t.Scale
	for i := range d.Keypoints {
		d.Keypoints[i].X = d.Keypoints[i].X*t.Scale + t.DX
		d.Keypoints[i].Y = d.Keypoints[i].Y*t.Scale + t.DY
	}
	d.rollFromEyes()
	return d
}

// Clip limits d's box to a w×h image, so that boxes of faces at the border
// never point outside the picture. Keypoints are left alone: an ear outside
// the frame is still where the ear is.
func Clip(d Detection, w, h int) Detection {
	x0 := math.Max(d.Box[0], 0)
	y0 := math.Max(d.Box[1], 0)
	x1 := math.Min(d.Box[0]+d.Box[2], float64(w))
	y1 := math.Min(d.Box[1]+d.Box[3], float64(h))
	d.Box = [4]float64{x0, y0, math.Max(x1-x0, 0), math.Max(y1-y0, 0)}
	return d
}
