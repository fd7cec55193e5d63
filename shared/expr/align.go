package expr

import "math"

// NumLandmarks is the number of points of face-api's landmark model, in
// the iBUG 68-point order: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47
// (the face's right eye first, as the photo shows it on the left), mouth
// 48-67.
const NumLandmarks = 68

// Frame is a crop's centre, turn and side.
type Frame struct {
	CX, CY float64 // centre
	Roll   float64 // radians, clockwise on screen, as Crop takes it
	Side   float64 // the side of the landmarks' box (its longer one)
}

// LandmarkFrame finds a face's frame from its 68 landmarks (x0, y0, x1,
// y1, ... in a crop's upright frame: source pixels from the crop's
// centre): the turn that levels the eyes (the line between the eyes'
// centres), and the centre and longer side of the landmarks' box in the
// levelled frame. Roll is relative to the crop's own, the centre in its
// frame. The box is like the one face-api reads expressions from (its
// FaceLandmarks.align, before padding), but levelled, and square where
// face-api pads the shorter side with black. Nonsense in gives a zero
// Side.
func LandmarkFrame(pts []float32) Frame {
	if len(pts) != 2*NumLandmarks {
		return Frame{}
	}
	mean := func(from, to int) (x, y float64) {
		for i := from; i < to; i++ {
			x, y = x+float64(pts[2*i]), y+float64(pts[2*i+1])
		}
		n := float64(to - from)
		return x / n, y / n
	}
	rx, ry := mean(36, 42)
	lx, ly := mean(42, 48)
	roll := math.Atan2(ly-ry, lx-rx)
	sin, cos := math.Sincos(-roll)
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range NumLandmarks {
		px, py := float64(pts[2*i]), float64(pts[2*i+1])
		x, y := px*cos-py*sin, px*sin+py*cos
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	side := max(x1-x0, y1-y0)
	if !(side > 0) || math.IsInf(side, 0) {
		return Frame{}
	}
	// The box's centre, turned back into the crop's frame.
	mx, my := (x0+x1)/2, (y0+y1)/2
	sin, cos = math.Sincos(roll)
	return Frame{CX: mx*cos - my*sin, CY: mx*sin + my*cos, Roll: roll, Side: side}
}
