package face

import "math"

// Check runs the model over one window and returns its detections in image
// pixels, before suppression. Merge uses it to take a second look at the
// doubtful detection d through win (its CheckWindow); the worker backs it
// with onnxruntime (and may look with a cheaper model first, knowing d),
// the browser with its own forward pass.
type Check func(d Detection, win Window) ([]Detection, error)

// Merge combines the detections of all passes (already in image pixels,
// perPass[i] from passes[i]) into the final list, sorted by descending
// score:
//
//  1. each pass drops what lies outside its band of sizes or touches a
//     tile's inner edge (Pass.Cut);
//  2. the full frame's detections are merged by weighted NMS, and so are
//     the tiles' (neighbouring tiles overlap, so one face often appears in
//     several);
//  3. a detection that scores below spec.CheckBelow and that the other
//     kind of pass does not confirm (a full-frame detection no tile sees,
//     a tile detection the full frame does not see) gets a second look
//     through check: the model runs once more on a window centred on it,
//     where the face is spec.CheckContext times smaller than the window (at
//     most at the image's native resolution), and the detection stays only
//     if that view finds it too with a score of at least
//     spec.CheckMinScore, and its keypoints are laid out like a face's
//     (Detection.Plausible). Patterns that fool the model (a badge, a fold
//     of cloth, windows in a logo) now and then look like a face from one
//     viewpoint but seldom from two, or with the nose where a nose goes;
//     real faces do. With check nil this step keeps every detection;
//  4. everything left goes through weighted NMS together, so a face seen
//     by the full frame and by tiles becomes one blended detection;
//  5. a detection lying mostly inside a better-scored one goes (see
//     SuppressContained), so does a doubtful tiny one on a big face's
//     body (see SuppressOnBodies), and boxes are clipped to the image.
func Merge(passes []Pass, perPass [][]Detection, w, h int, spec Spec, check Check) ([]Detection, error) {
	var full, tiles []Detection
	for i, dets := range perPass {
		if i >= len(passes) {
			break
		}
		for _, d := range dets {
			if passes[i].Cut(d, w, h) {
				continue
			}
			if passes[i].Level == 0 {
				full = append(full, d)
			} else {
				tiles = append(tiles, d)
			}
		}
	}
	full = WeightedNMS(full, spec.MinSuppressionIoU)
	tiles = WeightedNMS(tiles, spec.MinSuppressionIoU)
	var all []Detection
	for _, group := range [2]struct{ dets, others []Detection }{{full, tiles}, {tiles, full}} {
		for _, d := range group.dets {
			if check != nil && d.Score < spec.CheckBelow && !overlapsAny(d, group.others, spec.MinSuppressionIoU) {
				ok, err := secondLook(d, spec, check)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			all = append(all, d)
		}
	}
	out := SuppressContained(WeightedNMS(all, spec.MinSuppressionIoU), containedCover)
	out = SuppressOnBodies(out, spec.CheckBelow)
	for i := range out {
		out[i] = Clip(out[i], w, h)
	}
	return out, nil
}

// secondLook runs check on d's CheckWindow and reports whether d holds up.
func secondLook(d Detection, spec Spec, check Check) (bool, error) {
	if !d.Plausible() {
		return false, nil
	}
	again, err := check(d, CheckWindow(d, spec))
	if err != nil {
		return false, err
	}
	for _, a := range again {
		if a.Score >= spec.CheckMinScore && IoU(a.Box, d.Box) > spec.MinSuppressionIoU {
			return true, nil
		}
	}
	return false, nil
}

func overlapsAny(d Detection, others []Detection, minIoU float64) bool {
	for _, o := range others {
		if IoU(d.Box, o.Box) > minIoU {
			return true
		}
	}
	return false
}

// CheckWindow is the window Merge's second look uses for d: centred on d,
// spec.CheckContext times d's size, but never smaller than the model's
// input in image pixels (enlarging past native resolution adds no detail).
func CheckWindow(d Detection, spec Spec) Window {
	c := d.Center()
	side := math.Max(spec.CheckContext*math.Max(d.Box[2], d.Box[3]), float64(spec.Size))
	return Window{X: c.X - side/2, Y: c.Y - side/2, Side: side}
}

// containedCover is how much of a detection's box must lie inside a better
// one's for SuppressContained to drop it.
const containedCover = 0.6

// SuppressContained drops every detection whose box lies, for at least
// minCover of its area, inside the box of a detection with a higher score,
// or holds such a detection for that share of the other's area. Passes at
// different scales disagree in size where IoU cannot see it: a tile's
// magnified view of a big face may find a "face" in one cheek, and a
// coarse pass may put a box twice too big around a face that a tile found
// properly. Either way the two boxes nest, their IoU stays under the NMS
// threshold, and the better-scored one is the face. dets must be sorted by
// descending score, as WeightedNMS returns them.
func SuppressContained(dets []Detection, minCover float64) []Detection {
	out := dets[:0:0]
	for _, d := range dets {
		area := d.Box[2] * d.Box[3]
		keep := true
		for _, k := range out {
			small := math.Min(area, k.Box[2]*k.Box[3])
			if small > 0 && intersection(d.Box, k.Box)/small >= minCover {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	return out
}

// Body geometry, in units of the big face's box: a torso spans about 1.2
// face widths either side of the face's axis and reaches 5 face heights
// below its centre; a "face" under 0.3 of the big face's width there is
// something on the body (a belt buckle, a badge, a printed T-shirt).
const (
	bodyRatio  = 0.3
	bodyHalf   = 1.2
	bodyTop    = 0.5
	bodyBottom = 5
)

// SuppressOnBodies drops detections scoring below maxScore that are far
// smaller than another detection and lie on that face's body, below it
// along its own vertical axis. The body hides whatever stands behind it,
// and a real face in front of it (a child held in the arms) is not a tenth
// of an adult's face: what the detector finds there at a small scale is a
// pattern on the clothes. On the development portraits this removed belt
// buckles that looked like 25-pixel faces below 270-pixel ones. Confident
// detections stay, for the rare big face that has no body below it (a
// poster above a crowd).
func SuppressOnBodies(dets []Detection, maxScore float64) []Detection {
	out := dets[:0:0]
	for i, d := range dets {
		c := d.Center()
		keep := true
		for j, b := range dets {
			if i == j || d.Score >= maxScore || math.Max(d.Box[2], d.Box[3]) > bodyRatio*math.Max(b.Box[2], b.Box[3]) {
				continue
			}
			// d's centre in b's face frame: x along the eye line, y down
			// the face, in units of b's box.
			bc := b.Center()
			sin, cos := math.Sincos(b.Roll)
			dx, dy := c.X-bc.X, c.Y-bc.Y
			x := (dx*cos + dy*sin) / b.Box[2]
			y := (-dx*sin + dy*cos) / b.Box[3]
			if math.Abs(x) <= bodyHalf && y >= bodyTop && y <= bodyBottom {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	return out
}
